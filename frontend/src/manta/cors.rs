//! CORS on objects and directories, as muskie does it (`lib/other.js
//! corsHandler` and the GET path): the `access-control-*` headers stored
//! with an entry decide.
//!
//! - GET/HEAD with `Origin`: when a value of the stored
//!   `access-control-allow-origin` (comma list) is the origin or `*`, and
//!   the stored `access-control-allow-methods` (if any) lists the method,
//!   the response carries `access-control-allow-origin: <origin>` and the
//!   other stored CORS headers; otherwise none of them. Without `Origin`
//!   the stored values are echoed as stored.
//! - `OPTIONS` (preflight), answered without authentication: the entry's
//!   headers decide, or its parent directory's when the method asked for
//!   is `PUT` (so a browser may create an object). Allowed: 200 with
//!   `-allow-origin`, `-allow-methods`, `-allow-headers`, `-max-age`;
//!   otherwise a plain 200.

use super::respond::{self, set};
use super::{decode, Req};
use crate::error::Result;
use crate::path::MantaPath;
use crate::records::ObjectRecord;
use crate::state::AppState;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use metadata_tier::wire::{EntryKey, Keyspace};

/// Longest stored value of one `access-control-*` header.
pub(crate) const MAX_CORS_VALUE: usize = 2048;

const ALLOW_ORIGIN: &str = "access-control-allow-origin";
const ALLOW_METHODS: &str = "access-control-allow-methods";
const ALLOW_HEADERS: &str = "access-control-allow-headers";
const MAX_AGE: &str = "access-control-max-age";

fn list(v: &str) -> impl Iterator<Item = &str> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn origin_allowed(stored: &ObjectRecord, origin: &str) -> bool {
    stored
        .headers
        .get(ALLOW_ORIGIN)
        .is_some_and(|v| list(v).any(|o| o == "*" || o == origin))
}

fn method_allowed(stored: &ObjectRecord, method: &str) -> bool {
    stored
        .headers
        .get(ALLOW_METHODS)
        .is_none_or(|v| list(v).any(|m| m.eq_ignore_ascii_case(method)))
}

/// The headers a GET/HEAD answer carries besides [`respond::entry_headers`]:
/// the role tags by name, and the CORS rules above.
pub(crate) fn entry_extras(req: &Req, h: &mut HeaderMap, rec: &ObjectRecord) {
    if let Some(tags) = crate::rbac::tags::header_value(&req.account, &rec.roles) {
        set(h, "role-tag", &tags);
    }
    let Some(origin) = req.headers.get("origin").and_then(|v| v.to_str().ok()) else {
        return;
    };
    if origin_allowed(rec, origin) && method_allowed(rec, req.method.as_str()) {
        set(h, ALLOW_ORIGIN, origin);
    } else {
        for k in rec
            .headers
            .keys()
            .filter(|k| k.starts_with("access-control-"))
        {
            h.remove(k.as_str());
        }
    }
}

/// A write answered to a request with `Origin` names that origin, as
/// muskie's answers do.
pub(crate) fn echo_origin(req: &Req, h: &mut HeaderMap) {
    if let Some(origin) = req.headers.get("origin").and_then(|v| v.to_str().ok()) {
        set(h, ALLOW_ORIGIN, origin);
    }
}

/// Answers a preflight `OPTIONS` on `path`.
///
/// # Errors
/// Metadata errors.
pub(crate) async fn preflight(
    state: &AppState,
    path: &MantaPath,
    headers: &HeaderMap,
) -> Result<Response> {
    let plain = || Ok(respond::empty(StatusCode::OK));
    let text = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let (Some(origin), Some(method)) = (text("origin"), text("access-control-request-method"))
    else {
        return plain();
    };
    let target = if method.eq_ignore_ascii_case(Method::PUT.as_str()) {
        path.parent()
    } else {
        Some(path.clone())
    };
    let Some(rec) = lookup(state, target.as_ref()).await? else {
        return plain();
    };
    if !origin_allowed(&rec, origin) || !method_allowed(&rec, method) {
        return plain();
    }
    let allowed_headers = rec.headers.get(ALLOW_HEADERS).map(String::as_str);
    let asked = text("access-control-request-headers").unwrap_or("");
    let headers_ok = list(asked).all(|a| {
        allowed_headers.is_some_and(|v| list(v).any(|x| x == "*" || x.eq_ignore_ascii_case(a)))
    });
    if !headers_ok {
        return plain();
    }
    let mut resp = respond::empty(StatusCode::OK);
    let h = resp.headers_mut();
    set(h, ALLOW_ORIGIN, origin);
    set(
        h,
        ALLOW_METHODS,
        rec.headers
            .get(ALLOW_METHODS)
            .map_or(method, String::as_str),
    );
    if let Some(v) = allowed_headers {
        set(h, ALLOW_HEADERS, v);
    }
    if let Some(v) = rec.headers.get(MAX_AGE) {
        set(h, MAX_AGE, v);
    }
    Ok(resp)
}

/// The record at `path` of its account, `None` for a root, a missing entry
/// or an unknown account (a preflight reveals no more than a 200).
async fn lookup(state: &AppState, path: Option<&MantaPath>) -> Result<Option<ObjectRecord>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let account = match state.accounts.resolve(&path.login).await {
        Ok(a) => a,
        Err(crate::store::Error::AccountNotFound { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let Some((dir, name)) = path.key(account.uuid.as_str()) else {
        return Ok(None);
    };
    let key = EntryKey::new(Keyspace::Objects, dir, name);
    match state.meta.get(&key).await? {
        None => Ok(None),
        Some(entry) => Ok(Some(decode(&entry, path)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(pairs: &[(&str, &str)]) -> ObjectRecord {
        let headers = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ObjectRecord::directory(&crate::store::AccountId("a".into()), headers, "r")
    }

    #[test]
    fn origins_and_methods() {
        let r = rec(&[
            (ALLOW_ORIGIN, "https://a.example, https://b.example"),
            (ALLOW_METHODS, "GET, PUT"),
        ]);
        assert!(origin_allowed(&r, "https://b.example"));
        assert!(!origin_allowed(&r, "https://c.example"));
        assert!(method_allowed(&r, "get") && !method_allowed(&r, "DELETE"));
        let any = rec(&[(ALLOW_ORIGIN, "*")]);
        assert!(origin_allowed(&any, "https://c.example") && method_allowed(&any, "DELETE"));
        assert!(!origin_allowed(&rec(&[]), "https://a.example"));
    }
}
