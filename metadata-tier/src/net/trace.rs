//! One request id across tiers: the frontend's id for a client request
//! rides on every internal call made while serving it (`x-request-id`, set
//! by [`super::ClusterKey::send`]), and the receiving role logs under a
//! span carrying that id and the route template. So one grep of an id
//! finds the request in the frontend's, the shards', the nodes' and the
//! agents' logs.

use std::future::Future;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// The header carrying the id.
pub const HEADER: &str = "x-request-id";
/// Longest id accepted from a caller; longer or odd ones are replaced.
const MAX_LEN: usize = 128;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Runs `fut` as part of request `id`: internal calls it makes carry it.
pub async fn scope<F: Future>(id: String, fut: F) -> F::Output {
    REQUEST_ID.scope(id, fut).await
}

/// The id of the request being served by this task, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// An id as a caller sent it, if it is one we may log and pass on.
pub fn accept(value: Option<&str>) -> Option<String> {
    value
        .filter(|v| !v.is_empty() && v.len() <= MAX_LEN)
        .filter(|v| {
            v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
        })
        .map(str::to_string)
}

/// Axum middleware of the internal roles: the caller's id (or a new one),
/// a span with it and the route template, and the id in scope for the
/// calls this role makes in turn.
pub async fn layer(req: Request, next: Next) -> Response {
    let id = accept(req.headers().get(HEADER).and_then(|v| v.to_str().ok()))
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| req.uri().path().to_string(), |m| m.as_str().to_string());
    let span = tracing::info_span!("call", id = %id, method = %req.method(), route = %route);
    let started = std::time::Instant::now();
    async move {
        let mut resp = scope(id, next.run(req)).await;
        resp.extensions_mut()
            .insert(super::metrics::RouteLabel(route.clone()));
        // The access log of internal calls: debug, since heartbeats alone
        // make several a second (`RUST_LOG=metadata_tier::net=debug`).
        tracing::debug!(
            status = resp.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "served"
        );
        resp
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_ids_are_not_passed_on() {
        assert_eq!(accept(Some("abc-1")), Some("abc-1".into()));
        for bad in ["", "a b", "a\nb", "é", &"x".repeat(200)] {
            assert_eq!(accept(Some(bad)), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn the_id_is_in_scope_only_inside() {
        assert_eq!(current(), None);
        let inner = scope("r-1".into(), async { current() }).await;
        assert_eq!(inner.as_deref(), Some("r-1"));
    }
}
