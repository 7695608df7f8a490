//! Routes for the cluster's repair and GC worker and the operator:
//! listing blobs, deleting them (also only when old enough), touching
//! them, and asking for a scrub pass.

use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::{bad_hash, error_body, error_response, AppState};
use crate::wire::{codes, BlobHash, GcDelete, ScrubRequested};
use crate::Error;

/// Page size of `GET /blobs` unless asked otherwise, and the most it gives.
const DEFAULT_LIMIT: usize = 1000;
const MAX_LIMIT: usize = 10_000;

/// `GET /blobs` query. Unknown keys are refused, as a typo must not
/// silently change an answer.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    after: Option<String>,
    limit: Option<usize>,
}

/// `DELETE /blobs/{hash}` query. Unknown keys are refused: a misspelt
/// `min_age_ms` must not turn a GC delete into an unconditional one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DeleteQuery {
    min_age_ms: Option<u64>,
}

/// `GET /blobs?after=<hash>&limit=<n>`: blobs in hash order.
pub(super) async fn list_blobs(
    State(st): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => return bad_query(&e),
    };
    let after = match q.after.as_deref().map(BlobHash::from_hex) {
        None => None,
        Some(Some(h)) => Some(h),
        Some(None) => return bad_request("after: not a blob hash".into()),
    };
    let limit = match q.limit {
        None => DEFAULT_LIMIT,
        Some(0) => return bad_request(format!("limit: must be 1 to {MAX_LIMIT}")),
        Some(n) => n.min(MAX_LIMIT),
    };
    match st.store.list(after, limit).await {
        Ok(page) => Json(page).into_response(),
        Err(e) => error_response(e),
    }
}

/// `DELETE /blobs/{hash}`, with `?min_age_ms=` a GC delete that spares a
/// blob younger than that.
pub(super) async fn delete_blob(
    State(st): State<AppState>,
    Path(hash): Path<String>,
    query: Result<Query<DeleteQuery>, QueryRejection>,
) -> Response {
    let Some(hash) = BlobHash::from_hex(&hash) else {
        return bad_hash();
    };
    let min_age = match query {
        Ok(Query(q)) => q.min_age_ms.map(Duration::from_millis),
        Err(e) => return bad_query(&e),
    };
    let Some(min_age) = min_age else {
        return match st.store.delete(&hash).await {
            Ok(true) => StatusCode::NO_CONTENT.into_response(),
            Ok(false) => error_response(Error::NotFound(hash)),
            Err(e) => error_response(e),
        };
    };
    match st.store.delete_if_older(&hash, min_age).await {
        Ok(GcDelete::Deleted) => StatusCode::NO_CONTENT.into_response(),
        Ok(GcDelete::Absent) => error_response(Error::NotFound(hash)),
        Ok(GcDelete::TooYoung) => {
            let ms = min_age.as_millis();
            let msg = format!("blob {hash} was written or touched less than {ms} ms ago");
            error_body(StatusCode::CONFLICT, codes::BLOB_TOO_YOUNG, msg)
        }
        Err(e) => error_response(e),
    }
}

/// `POST /blobs/{hash}/touch`: the blob's mtime becomes now.
pub(super) async fn touch_blob(State(st): State<AppState>, Path(hash): Path<String>) -> Response {
    let Some(hash) = BlobHash::from_hex(&hash) else {
        return bad_hash();
    };
    match st.store.touch(&hash).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => error_response(Error::NotFound(hash)),
        Err(e) => error_response(e),
    }
}

/// `POST /scrub`: starts a pass now (or right after the running one).
pub(super) async fn scrub_now(State(st): State<AppState>) -> Response {
    match st.store.request_scrub() {
        Some(pass) => (StatusCode::ACCEPTED, Json(ScrubRequested { pass })).into_response(),
        None => error_body(
            StatusCode::CONFLICT,
            codes::SCRUB_DISABLED,
            "this node runs no scrubber (scrub_rate_mb = 0)".into(),
        ),
    }
}

fn bad_query(e: &QueryRejection) -> Response {
    bad_request(format!("query: {}", e.body_text()))
}

fn bad_request(msg: String) -> Response {
    error_body(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, msg)
}
