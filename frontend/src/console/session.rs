//! Sessions: a random 256-bit id in the `mconsole_session` cookie
//! (HttpOnly, SameSite=Strict, Path=/console, Secure over TLS) as
//! `<expiry ms>.<id>`, stored on the metadata tier under
//! `<expiry ms>.<SHA-256 of the id>` (Keyspace::Accounts, dir [`DIR`]), so
//! a copy of the metadata holds no usable cookie, and names sort by
//! expiry: each sign-in deletes a few expired sessions from the front of
//! the directory. (A cookie with its expiry changed names no record.) A session
//! names its account by login and uuid (an account deleted and made again
//! does not inherit it), expires after [`LIFETIME`], and ends at sign-out.
//! Each has its own CSRF token, which the page reads from
//! `GET /console/api/session` and sends back in `x-console-csrf`.

use super::error::{Refusal, Result};
use super::Console;
use crate::records::AccountRecord;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use metadata_tier::wire::{Condition, EntryKey, Keyspace, ListOptions};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

pub(crate) const COOKIE: &str = "mconsole_session";
pub(crate) const CSRF_HEADER: &str = "x-console-csrf";
const DIR: &str = "console-sessions";
/// How long a session lasts.
pub(crate) const LIFETIME: Duration = Duration::from_secs(12 * 3600);

#[derive(Serialize, Deserialize, Debug, Clone)]
struct SessionRecord {
    v: u32,
    login: String,
    account: String,
    csrf: String,
    created_ms: u64,
    expires_ms: u64,
}

/// A signed-in session, checked.
pub(crate) struct Session {
    pub(crate) account: AccountRecord,
    csrf: String,
    key: EntryKey,
    expires_ms: u64,
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Expired sessions deleted per sign-in.
const SWEEP: usize = 64;

fn key_of(expires_ms: u64, id: &[u8]) -> EntryKey {
    let name = format!("{expires_ms:013}.{}", hex::encode(Sha256::digest(id)));
    EntryKey::new(Keyspace::Accounts, DIR, name)
}

/// Deletes sessions that expired (their names sort first).
async fn sweep(c: &Console, now_ms: u64) {
    let opts = ListOptions {
        limit: SWEEP,
        ..ListOptions::default()
    };
    let Ok(page) = c.state.meta.list(Keyspace::Accounts, DIR, &opts).await else {
        return;
    };
    for e in page.entries {
        let expired = e
            .name
            .split_once('.')
            .and_then(|(t, _)| t.parse::<u64>().ok())
            .is_some_and(|t| t <= now_ms);
        if !expired {
            break;
        }
        let key = EntryKey::new(Keyspace::Accounts, DIR, e.name);
        let _ = c.state.meta.delete(key, Condition::None).await;
    }
}

/// Starts a session for `account`; returns the `Set-Cookie` value.
pub(crate) async fn create(c: &Console, account: &AccountRecord) -> Result<String> {
    let id: [u8; 32] = rand::random();
    let csrf: [u8; 32] = rand::random();
    let now = now_ms();
    let rec = SessionRecord {
        v: 1,
        login: account.login.clone(),
        account: account.uuid.to_string(),
        csrf: URL_SAFE_NO_PAD.encode(csrf),
        created_ms: now,
        expires_ms: now + LIFETIME.as_millis() as u64,
    };
    let value = serde_json::to_value(&rec)
        .map_err(|e| Refusal::InvalidArgument(format!("encode session: {e}")))?;
    c.state
        .meta
        .put(key_of(rec.expires_ms, &id), value, Condition::Absent)
        .await?;
    sweep(c, now).await;
    let value = format!("{}.{}", rec.expires_ms, URL_SAFE_NO_PAD.encode(id));
    Ok(cookie(c, &value, LIFETIME.as_secs()))
}

fn cookie(c: &Console, value: &str, max_age: u64) -> String {
    let secure = if c.tls { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/console; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
}

/// The session's expiry and id the request's cookie carries, if well
/// formed.
fn cookie_id(headers: &HeaderMap) -> Option<(u64, Vec<u8>)> {
    for h in headers.get_all("cookie") {
        let Ok(text) = h.to_str() else { continue };
        for pair in text.split(';') {
            let Some((k, v)) = pair.trim().split_once('=') else {
                continue;
            };
            if k != COOKIE || v.len() > 80 {
                continue;
            }
            let (expires, id) = v.split_once('.')?;
            let expires = expires.parse().ok()?;
            let id = URL_SAFE_NO_PAD.decode(id).ok().filter(|b| b.len() == 32)?;
            return Some((expires, id));
        }
    }
    None
}

/// The request's session.
///
/// # Errors
/// `NotSignedIn` without a live session; metadata errors.
pub(crate) async fn current(c: &Console, headers: &HeaderMap) -> Result<Session> {
    let (expires_ms, id) = cookie_id(headers).ok_or(Refusal::NotSignedIn)?;
    let key = key_of(expires_ms, &id);
    let entry = c.state.meta.get(&key).await?.ok_or(Refusal::NotSignedIn)?;
    let rec: SessionRecord =
        serde_json::from_value(entry.value).map_err(|_| Refusal::NotSignedIn)?;
    if rec.expires_ms <= now_ms() {
        let _ = c.state.meta.delete(key, Condition::None).await;
        return Err(Refusal::NotSignedIn);
    }
    let account = c
        .state
        .accounts
        .resolve(&rec.login)
        .await
        .map_err(|_| Refusal::NotSignedIn)?;
    if account.uuid.to_string() != rec.account {
        return Err(Refusal::NotSignedIn);
    }
    Ok(Session {
        account,
        csrf: rec.csrf,
        key,
        expires_ms: rec.expires_ms,
    })
}

/// Equal bytes, in time that does not depend on where they differ.
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A browser's request to change something must come from this server's
/// own pages: its `Origin` is ours (browsers send it on every POST, PUT
/// and DELETE, and scripts cannot forge it).
pub(crate) fn check_origin(c: &Console, headers: &HeaderMap) -> Result<()> {
    let origin = headers
        .get("origin")
        .and_then(|o| o.to_str().ok())
        .ok_or(Refusal::OriginNotAllowed)?;
    if origin == c.origin(headers) {
        Ok(())
    } else {
        Err(Refusal::OriginNotAllowed)
    }
}

/// Reads need a same-site request at most: a page elsewhere cannot
/// embed or fetch the console's data with the user's cookie (SameSite
/// already keeps the cookie back; this is belt and braces).
pub(crate) fn check_read(headers: &HeaderMap) -> Result<()> {
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("cross-site") => Err(Refusal::OriginNotAllowed),
        _ => Ok(()),
    }
}

impl Session {
    /// Checks what a change needs: our Origin and the session's token.
    ///
    /// # Errors
    /// `OriginNotAllowed`, `CsrfTokenInvalid`.
    pub(crate) fn check_change(&self, c: &Console, headers: &HeaderMap) -> Result<()> {
        check_origin(c, headers)?;
        let sent = headers
            .get(CSRF_HEADER)
            .map(|v| v.as_bytes())
            .ok_or(Refusal::CsrfTokenInvalid)?;
        if same(sent, self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(Refusal::CsrfTokenInvalid)
        }
    }

    /// Checks a request by its method: reads, or changes with a token.
    pub(crate) fn check(&self, c: &Console, method: &Method, headers: &HeaderMap) -> Result<()> {
        if matches!(*method, Method::GET | Method::HEAD) {
            check_read(headers)
        } else {
            self.check_change(c, headers)
        }
    }
}

pub(crate) fn is_operator(c: &Console, login: &str) -> bool {
    c.state
        .settings
        .console_operators
        .iter()
        .any(|o| o == login)
}

/// `GET /console/api/session`: who is signed in, and the CSRF token.
pub(crate) async fn show(State(c): State<Console>, headers: HeaderMap) -> Result<Response> {
    check_read(&headers)?;
    let s = current(&c, &headers).await?;
    Ok(Json(serde_json::json!({
        "login": s.account.login,
        "csrf": s.csrf,
        "operator": is_operator(&c, &s.account.login),
        "expires": crate::time::iso8601(s.expires_ms),
    }))
    .into_response())
}

/// `DELETE /console/api/session`: signs out (the record is deleted, so
/// a copy of the cookie is worthless from now on).
pub(crate) async fn sign_out(State(c): State<Console>, headers: HeaderMap) -> Result<Response> {
    let s = current(&c, &headers).await?;
    s.check_change(&c, &headers)?;
    c.state.meta.delete(s.key, Condition::None).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie(&c, "", 0)) {
        resp.headers_mut().insert("set-cookie", v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_id_parsing() {
        let id = [7u8; 32];
        let mut h = HeaderMap::new();
        let v = format!("a=b; {COOKIE}=17.{}; c=d", URL_SAFE_NO_PAD.encode(id));
        h.insert("cookie", v.parse().unwrap());
        assert_eq!(cookie_id(&h), Some((17, id.to_vec())));
        for bad in ["short", "17.short", "x.AAAA", "17"] {
            h.insert("cookie", format!("{COOKIE}={bad}").parse().unwrap());
            assert_eq!(cookie_id(&h), None, "{bad}");
        }
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}
