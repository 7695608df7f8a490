//! `/console/api/manta/<path>`: the Manta API as the session's account.
//! The request goes to the API's own handlers ([`crate::manta::handle_as`])
//! with the session's account as the caller, so the console can do what a
//! signed request of that account can, and nothing more: one account's
//! session reaches another account's names only as anyone can (GET under
//! `/public`). Only the headers the handlers need are passed on; bodies
//! stream through (uploads are never held in memory).

use super::error::{Refusal, Result};
use super::{session, Console};
use crate::auth::Caller;
use crate::manta::RequestId;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Extension;

const PREFIX: &str = "/console/api/manta";

/// Request headers the Manta handlers read; nothing else is passed on
/// (no `Authorization`, no cookie).
const PASSED: [&str; 12] = [
    "host",
    "content-type",
    "content-length",
    "content-md5",
    "durability-level",
    "location",
    "range",
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "accept",
];

/// Query parameters the console passes on (listing and jobs).
const QUERY: [&str; 6] = ["limit", "marker", "sort", "state", "name", "end"];

pub(crate) async fn manta(
    State(c): State<Console>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    if !matches!(
        method,
        Method::GET | Method::HEAD | Method::PUT | Method::POST | Method::DELETE
    ) {
        return Err(Refusal::InvalidArgument(format!(
            "{method} is not served here"
        )));
    }
    let s = session::current(&c, &headers).await?;
    s.check(&c, &method, &headers)?;
    let path = uri.path().strip_prefix(PREFIX).unwrap_or("/");
    let pairs: Vec<(String, String)> = uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let download = pairs.iter().any(|(k, v)| k == "download" && v == "1");
    let q = {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs.iter().filter(|(k, _)| QUERY.contains(&k.as_str())) {
            q.append_pair(k, v);
        }
        q.finish()
    };
    let target = if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{q}")
    };
    let target: Uri = target
        .parse()
        .map_err(|_| Refusal::InvalidArgument("bad path".into()))?;
    let mut passed = HeaderMap::new();
    for name in PASSED {
        for v in headers.get_all(name) {
            passed.append(name, v.clone());
        }
    }
    let caller = Caller::Account(Box::new(s.account));
    let resp = crate::manta::handle_as(
        c.state.clone(),
        request_id,
        caller,
        method,
        target.clone(),
        passed,
        body,
    )
    .await;
    let mut resp = match resp {
        Ok(r) => r,
        Err(e) => return Ok(e.into_response()),
    };
    if download && resp.status() == StatusCode::OK {
        let name = target.path().rsplit('/').next().unwrap_or("download");
        let v = format!("attachment; filename*=UTF-8''{name}");
        if let Ok(v) = HeaderValue::from_str(&v) {
            resp.headers_mut().insert("content-disposition", v);
        }
    }
    Ok(resp)
}
