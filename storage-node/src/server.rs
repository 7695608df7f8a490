//! The node's HTTP service (axum): `PUT /blobs`, `GET|HEAD|DELETE
//! /blobs/{hash}` and `GET /status`, and the upkeep routes of `upkeep`
//! (`GET /blobs` listing, GC `DELETE /blobs/{hash}?min_age_ms=`, `POST
//! /blobs/{hash}/touch`, `POST /scrub`). Bodies are streamed both ways; no
//! request or response is held whole in memory.

mod upkeep;

use std::future::Future;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine;
use http_body_util::BodyExt;
use metadata_tier::net::{ClusterKey, Limits, Verifier};

use crate::blobstore::PutExpect;
use crate::range::{self, Resolved};
use crate::wire::{
    codes, BlobHash, ErrorBody, StatusReport, HEADER_BLOB_HASH, HEADER_CONTENT_MD5,
    HEADER_EXPECTED_SIZE,
};
use crate::{BlobStore, Error};

#[derive(Clone)]
struct AppState {
    store: BlobStore,
    node_id: Arc<str>,
}

/// The routes, ready to serve.
pub fn router(store: BlobStore, node_id: String) -> Router {
    let state = AppState {
        store,
        node_id: node_id.into(),
    };
    Router::new()
        .route("/blobs", put(put_blob))
        .route(
            "/blobs/{hash}",
            get(get_blob).head(head_blob).delete(upkeep::delete_blob),
        )
        .route("/blobs/{hash}/touch", post(upkeep::touch_blob))
        // Only blob traffic counts as load; /status, listings and the
        // scrub trigger must not.
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            track_inflight,
        ))
        .route("/blobs", get(upkeep::list_blobs))
        .route("/scrub", post(upkeep::scrub_now))
        .route("/status", get(status))
        // Blobs may be GiB: the body is streamed to disk, never buffered.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

/// Serves `router` on `listener` to callers holding the cluster `key`
/// until `shutdown` resolves, then lets in-flight requests finish.
///
/// # Errors
/// I/O errors from the listener.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: BlobStore,
    node_id: String,
    key: ClusterKey,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let routes = router(store, node_id);
    serve_router(listener, routes, key, Limits::default(), shutdown).await
}

/// Serves any router the way [`serve`] does, within `limits`: `mantad` serves the blob routes
/// merged with the job agent's on one port. Every route needs the cluster
/// credential: blob bytes are never served to an unauthenticated caller,
/// and an agent runs no container for one.
///
/// # Errors
/// I/O errors from the listener.
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    routes: Router,
    key: ClusterKey,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Blob bodies stream unhashed: the store checks them against the hash
    // they are stored under instead.
    let routes = routes
        .route_layer(middleware::from_fn(metadata_tier::net::trace::layer))
        .layer(middleware::from_fn_with_state(
            Verifier::blobs(key),
            metadata_tier::net::auth::require,
        ));
    metadata_tier::net::serve("storage", listener, routes, limits, shutdown).await
}

async fn track_inflight(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let guard = st.store.track_request();
    let resp = next.run(req).await;
    // A GET is in flight until its body is sent, not when its headers are.
    resp.map(|body| {
        Body::new(body.map_frame(move |frame| {
            let _held = &guard;
            frame
        }))
    })
}

async fn put_blob(State(st): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let expect = match expect_from(&headers) {
        Ok(e) => e,
        Err(msg) => return error_body(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, msg),
    };
    match st.store.put(body.into_data_stream(), expect).await {
        Ok(r) => {
            let hash = r.hash.to_hex();
            (StatusCode::CREATED, [(HEADER_BLOB_HASH, hash)], Json(r)).into_response()
        }
        Err(e) => error_response(e),
    }
}

async fn get_blob(
    State(st): State<AppState>,
    Path(hash): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(hash) = BlobHash::from_hex(&hash) else {
        return bad_hash();
    };
    let size = match st.store.size(&hash).await {
        Ok(s) => s,
        Err(e) => return error_response(e),
    };
    let wanted = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Resolved::Whole, |h| range::resolve(h, size));
    match wanted {
        Resolved::Whole => match st.store.open_verified(&hash).await {
            Ok((size, stream)) => {
                blob_response(StatusCode::OK, &hash, size, None, Body::from_stream(stream))
            }
            Err(e) => error_response(e),
        },
        Resolved::Part { start, end } => {
            match st.store.open_range(&hash, start, end - start + 1).await {
                Ok(stream) => {
                    let cr = format!("bytes {start}-{end}/{size}");
                    let body = Body::from_stream(stream);
                    blob_response(
                        StatusCode::PARTIAL_CONTENT,
                        &hash,
                        end - start + 1,
                        Some(cr),
                        body,
                    )
                }
                Err(e) => error_response(e),
            }
        }
        Resolved::Unsatisfiable => {
            let mut resp = error_response(Error::BadRange);
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                resp.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            resp
        }
    }
}

async fn head_blob(State(st): State<AppState>, Path(hash): Path<String>) -> Response {
    let Some(hash) = BlobHash::from_hex(&hash) else {
        return bad_hash();
    };
    match st.store.size(&hash).await {
        Ok(size) => blob_response(StatusCode::OK, &hash, size, None, Body::empty()),
        Err(e) => error_response(e),
    }
}

async fn status(State(st): State<AppState>) -> Json<StatusReport> {
    let c = st.store.status().await;
    let u = st.store.upkeep();
    Json(StatusReport {
        id: st.node_id.to_string(),
        free_bytes: c.free_bytes,
        used_bytes: c.used_bytes,
        blob_count: c.blob_count,
        inflight: st.store.inflight(),
        quarantined: c.quarantined,
        scrubbed_bytes: u.scrubbed_bytes,
        scrubbed_blobs: u.scrubbed_blobs,
        scrub_passes: u.scrub_passes,
        scrub_corrupt: u.scrub_corrupt,
        scrub_last_pass_end_ms: u.scrub_last_pass_end_ms,
        gc_deleted_blobs: u.gc_deleted_blobs,
        gc_deleted_bytes: u.gc_deleted_bytes,
        touches: u.touches,
    })
}

fn blob_response(
    status: StatusCode,
    hash: &BlobHash,
    len: u64,
    range: Option<String>,
    body: Body,
) -> Response {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(&hash.to_hex()) {
        h.insert(HEADER_BLOB_HASH, v);
    }
    if let Some(v) = range.and_then(|r| HeaderValue::from_str(&r).ok()) {
        h.insert(header::CONTENT_RANGE, v);
    }
    resp
}

/// Reads the optional expectations of a PUT; `Err` names the bad header.
fn expect_from(headers: &HeaderMap) -> Result<PutExpect, String> {
    let text = |name: &str| -> Result<Option<&str>, String> {
        headers
            .get(name)
            .map(|v| v.to_str().map_err(|_| format!("{name}: not ASCII")))
            .transpose()
    };
    let md5 = text(HEADER_CONTENT_MD5)?
        .map(|v| {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .ok();
            raw.and_then(|r| <[u8; 16]>::try_from(r).ok())
                .ok_or_else(|| format!("{HEADER_CONTENT_MD5}: not a base64 MD5"))
        })
        .transpose()?;
    let size = text(HEADER_EXPECTED_SIZE)?
        .map(|v| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| format!("{HEADER_EXPECTED_SIZE}: not a number"))
        })
        .transpose()?;
    let hash = text(HEADER_BLOB_HASH)?
        .map(|v| {
            BlobHash::from_hex(v.trim())
                .ok_or_else(|| format!("{HEADER_BLOB_HASH}: not a blob hash"))
        })
        .transpose()?;
    Ok(PutExpect { md5, size, hash })
}

fn bad_hash() -> Response {
    error_body(
        StatusCode::BAD_REQUEST,
        codes::BAD_REQUEST,
        "not a blob hash".into(),
    )
}

/// The one place store errors become HTTP answers.
fn error_response(e: Error) -> Response {
    let (status, code) = match &e {
        Error::NotFound(_) => (StatusCode::NOT_FOUND, codes::NOT_FOUND),
        Error::Md5Mismatch { .. } => (StatusCode::BAD_REQUEST, codes::MD5_MISMATCH),
        Error::SizeMismatch { .. } => (StatusCode::BAD_REQUEST, codes::SIZE_MISMATCH),
        Error::HashMismatch { .. } => (StatusCode::BAD_REQUEST, codes::HASH_MISMATCH),
        Error::BadRange => (StatusCode::RANGE_NOT_SATISFIABLE, codes::BAD_RANGE),
        Error::Body(_) => (StatusCode::BAD_REQUEST, codes::BODY_ERROR),
        // Already logged and quarantined by the store; the caller should
        // read another copy.
        Error::Corrupt(_) => (StatusCode::INTERNAL_SERVER_ERROR, codes::CORRUPT),
        Error::Io(_) | Error::Http(_) | Error::Remote { .. } | Error::InvalidConfig { .. } => {
            tracing::error!(error = %e, "storage request failed");
            // Internal detail stays in the log.
            let msg = "internal error".to_string();
            return error_body(StatusCode::INTERNAL_SERVER_ERROR, codes::INTERNAL, msg);
        }
    };
    error_body(status, code, e.to_string())
}

fn error_body(status: StatusCode, code: &str, message: String) -> Response {
    let body = ErrorBody {
        code: code.to_string(),
        message,
    };
    (status, Json(body)).into_response()
}
