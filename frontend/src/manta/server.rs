//! Serving the Manta API: a request id and a tracing span on every request,
//! and the headers muskie sends on every response.

use crate::state::AppState;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use metadata_tier::net::trace;
use std::future::Future;
use std::time::Instant;
use tracing::Instrument;

/// The request id: the client's `x-request-id` when it sent one (node-manta
/// always does) and it is plain text, else a fresh uuid. Handlers record it
/// with what they write, and internal calls carry it.
#[derive(Clone, Debug)]
pub(crate) struct RequestId(pub String);

async fn common_headers(server_name: HeaderValue, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = trace::accept(
        req.headers()
            .get(trace::HEADER)
            .and_then(|v| v.to_str().ok()),
    )
    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", id = %id, method = %req.method());
    // The id rides on every call to shards, nodes and agents made for it.
    let mut resp = trace::scope(id.clone(), next.run(req))
        .instrument(span)
        .await;
    let h = resp.headers_mut();
    h.insert("server", HeaderValue::from_static("Manta"));
    if let Ok(v) = HeaderValue::from_str(&id) {
        h.insert("x-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&started.elapsed().as_millis().to_string()) {
        h.insert("x-response-time", v);
    }
    h.insert("x-server-name", server_name);
    resp
}

pub(crate) fn app(state: AppState) -> axum::Router {
    let name = HeaderValue::from_str(&state.settings.server_name)
        .unwrap_or_else(|_| HeaderValue::from_static("mantad"));
    super::router(state).layer(middleware::from_fn(move |req, next| {
        common_headers(name.clone(), req, next)
    }))
}

/// Serves the Manta API on `listener` until `shutdown` resolves, then lets
/// requests in flight finish.
///
/// # Errors
/// I/O errors of the listener.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.settings.listener_limits;
    metadata_tier::net::serve(listener, app(state), limits, shutdown).await
}
