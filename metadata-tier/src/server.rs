//! The shard's HTTP API: JSON in, JSON out.

use crate::error::Error;
use crate::shard::Shard;
use crate::wire::{
    ApplyRequest, CountRequest, CountResponse, ErrorResponse, GetRequest, ListRequest, ScanRequest,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::future::Future;

use crate::net::{ClusterKey, Limits, Verifier};

pub fn router(shard: Shard) -> Router {
    Router::new()
        .route("/v1/get", post(get_entry))
        .route("/v1/apply", post(apply))
        .route("/v1/list", post(list))
        .route("/v1/count", post(count))
        .route("/v1/scan", post(scan))
        .route(
            "/v1/status",
            get(|| async { Json(serde_json::json!({"ok": true})) }),
        )
        .merge(crate::raft::routes::router())
        .with_state(shard)
}

/// Serves `shard` on `listener` within `limits` to callers holding the
/// cluster `key`, until `shutdown` resolves.
///
/// # Errors
/// Listener I/O errors.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shard: Shard,
    key: ClusterKey,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let closer = shard.clone();
    // Snapshots stream in unhashed: the hash is in the authenticated query.
    let snapshots = crate::raft::routes::snapshot_router()
        .with_state(shard.clone())
        .layer(axum::middleware::from_fn_with_state(
            Verifier::blobs(key.clone()),
            crate::net::auth::require,
        ));
    let routes = router(shard)
        .route_layer(axum::middleware::from_fn(crate::net::trace::layer))
        .layer(axum::middleware::from_fn_with_state(
            Verifier::json(key),
            crate::net::auth::require,
        ))
        .merge(snapshots);
    let r = crate::net::serve("metadata", listener, routes, limits, shutdown).await;
    closer.close();
    r
}

struct ApiError(Error);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self.0 {
            Error::ConditionFailed { index, current } => (
                StatusCode::CONFLICT,
                ErrorResponse {
                    code: "ConditionFailed".into(),
                    message: format!("condition of operation {index} failed"),
                    index: Some(index),
                    current: current.map(|c| *c),
                    leader: None,
                },
            ),
            Error::InvalidKey(m) => (
                StatusCode::BAD_REQUEST,
                ErrorResponse {
                    code: "InvalidKey".into(),
                    message: m,
                    index: None,
                    current: None,
                    leader: None,
                },
            ),
            Error::NotLeader { leader } => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorResponse {
                    code: "NotLeader".into(),
                    message: "this replica does not lead the shard".into(),
                    index: None,
                    current: None,
                    leader,
                },
            ),
            e @ (Error::NoQuorum(_) | Error::ShardClosed) => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorResponse {
                    code: "NoQuorum".into(),
                    message: e.to_string(),
                    index: None,
                    current: None,
                    leader: None,
                },
            ),
            e @ Error::OutcomeUnknown(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorResponse {
                    code: "OutcomeUnknown".into(),
                    message: e.to_string(),
                    index: None,
                    current: None,
                    leader: None,
                },
            ),
            other => {
                tracing::error!(error = %other, "shard request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorResponse {
                        code: "Internal".into(),
                        message: other.to_string(),
                        index: None,
                        current: None,
                        leader: None,
                    },
                )
            }
        };
        (status, Json(body)).into_response()
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

async fn get_entry(
    State(s): State<Shard>,
    Json(r): Json<GetRequest>,
) -> ApiResult<Option<crate::wire::Entry>> {
    s.get(&r.key).await.map(Json).map_err(ApiError)
}

async fn apply(
    State(s): State<Shard>,
    Json(r): Json<ApplyRequest>,
) -> ApiResult<Vec<crate::wire::OpResult>> {
    s.apply(r.ops).await.map(Json).map_err(ApiError)
}

async fn list(
    State(s): State<Shard>,
    Json(r): Json<ListRequest>,
) -> ApiResult<crate::wire::ListResult> {
    s.list(r.space, &r.dir, &r.opts)
        .await
        .map(Json)
        .map_err(ApiError)
}

async fn count(State(s): State<Shard>, Json(r): Json<CountRequest>) -> ApiResult<CountResponse> {
    s.count(r.space, &r.dir)
        .await
        .map(|count| Json(CountResponse { count }))
        .map_err(ApiError)
}

async fn scan(
    State(s): State<Shard>,
    Json(r): Json<ScanRequest>,
) -> ApiResult<crate::wire::ScanResult> {
    s.scan(r.space, r.after, r.limit)
        .await
        .map(Json)
        .map_err(ApiError)
}
