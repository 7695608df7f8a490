//! Serving the Manta API: a request id and a tracing span on every request,
//! and the headers muskie sends on every response; in TLS, in plain HTTP,
//! or as the restricted plain listener beside TLS (which job tasks' agents
//! do not use: they reach the API where clients do, in TLS when it speaks
//! it; docs/jobs.md).

use crate::state::AppState;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use metadata_tier::net::tls::TlsAcceptor;
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
    let route = route_template(req.uri().path());
    let span = tracing::info_span!("request", id = %id, method = %req.method());
    // The id rides on every call to shards, nodes and agents made for it.
    let mut resp = trace::scope(id.clone(), next.run(req))
        .instrument(span)
        .await;
    resp.extensions_mut()
        .insert(metadata_tier::net::metrics::RouteLabel(route));
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

/// The metrics' route label of a Manta path: its top directory, the rest
/// elided (`/:login/stor/...`), so the label set stays small whatever
/// names clients use.
fn route_template(path: &str) -> String {
    let mut parts = path.trim_start_matches('/').splitn(3, '/');
    let login = parts.next().unwrap_or_default();
    let area = parts.next();
    let deeper = parts.next().is_some_and(|rest| !rest.is_empty());
    let area = match area {
        None if login.is_empty() => return "/".into(),
        None => return "/:login".into(),
        Some(a @ ("stor" | "public" | "jobs" | "uploads" | "reports")) => a,
        Some(_) => "other",
    };
    if deeper {
        format!("/:login/{area}/...")
    } else {
        format!("/:login/{area}")
    }
}

/// The Manta API and, beside it on the same listener, the web console
/// (`/console/...`; `tls` makes its cookies `Secure`). What the API
/// serves is sandboxed when a browser renders it, so a user's HTML never
/// runs in the console's origin.
pub(crate) fn app(state: AppState, tls: bool) -> axum::Router {
    let api = super::router(state.clone())
        .layer(middleware::from_fn(crate::console::sandbox_user_content));
    let router = crate::console::router(state.clone(), tls).merge(api);
    with_common_headers(router, &state)
}

/// The API as the plain listener beside a TLS one serves it: what needs
/// TLS is refused before it is routed ([`crate::plain`]), with the same
/// headers as any response.
fn plain_app(state: AppState) -> axum::Router {
    let router = super::router(state.clone()).layer(middleware::from_fn(crate::plain::manta));
    with_common_headers(router, &state)
}

fn with_common_headers(router: axum::Router, state: &AppState) -> axum::Router {
    let name = HeaderValue::from_str(&state.settings.server_name)
        .unwrap_or_else(|_| HeaderValue::from_static("mantad"));
    router.layer(middleware::from_fn(move |req, next| {
        common_headers(name.clone(), req, next)
    }))
}

/// Serves the Manta API on `listener`, in TLS when `tls` is given, until
/// `shutdown` resolves, then lets requests in flight finish.
///
/// # Errors
/// I/O errors of the listener.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.settings.listener_limits;
    let app = app(state, tls.is_some());
    metadata_tier::net::serve_tls("manta", listener, app, limits, tls, shutdown).await
}

/// Serves the Manta API in plain HTTP beside a TLS listener: `/public`
/// reads and signed URLs only (docs/tls.md).
///
/// # Errors
/// I/O errors of the listener.
pub(crate) async fn serve_plain(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.settings.listener_limits;
    let app = plain_app(state);
    metadata_tier::net::serve("manta-plain", listener, app, limits, shutdown).await
}
