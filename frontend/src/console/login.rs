//! Turning an `mconsole` sign-in link into a session.
//!
//! The link (`/console/login?algorithm&expires&keyId&nonce&purpose&
//! signature`) opens a page whose script posts its query here: the link
//! itself changes nothing, so a mail scanner or chat preview fetching it
//! does not use it up. The signature is checked as a signed URL's
//! (`client_sdk::console`: method `GET`, path `/console/login`, the
//! sorted query, this server's `Host`), with the account's registered
//! SSH keys; `purpose=console-login` must be signed in, so no presigned
//! object URL can serve as a link. The nonce is then recorded with a
//! put-if-absent under Keyspace::Accounts, dir [`NONCE_DIR`], name
//! `<expires>.<nonce>`: a second use of the link fails, and because names
//! sort by expiry, expired nonces are swept from the front of the
//! directory on each sign-in.

use super::error::{Refusal, Result};
use super::{session, Console};
use crate::auth::keys::Algorithm;
use crate::records::AccountRecord;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use client_sdk::console::{LOGIN_PATH, MAX_EXPIRY_SECS, METHOD, PURPOSE};
use client_sdk::presign::{canonical_query, string_to_sign};
use metadata_tier::wire::{Condition, EntryKey, Keyspace, ListOptions};

const NONCE_DIR: &str = "console-nonces";
/// Longest query a link can have (a 4096-bit RSA signature is ~700 bytes).
const MAX_QUERY: usize = 4096;
const PARAMS: [&str; 6] = [
    "algorithm",
    "expires",
    "keyId",
    "nonce",
    "purpose",
    "signature",
];
/// Expired nonces removed per sign-in.
const SWEEP: usize = 64;
/// Clock skew allowed between the machine that made a link and this one.
const SKEW_SECS: u64 = 300;

/// A link's parameters, checked for shape and time.
#[derive(Debug)]
struct Link {
    pairs: Vec<(String, String)>,
    key_id: String,
    algorithm: String,
    signature: Vec<u8>,
    expires: u64,
    nonce: String,
}

fn bad(why: &str) -> Refusal {
    Refusal::InvalidLoginLink(format!("invalid sign-in link: {why}"))
}

fn parse(query: &str, now: u64) -> Result<Link> {
    if query.len() > MAX_QUERY {
        return Err(bad("too long"));
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.trim().as_bytes())
        .into_owned()
        .collect();
    for name in PARAMS {
        if pairs.iter().filter(|(k, _)| k == name).count() != 1 {
            return Err(bad(&format!("needs exactly one {name}")));
        }
    }
    if pairs.len() != PARAMS.len() {
        return Err(bad("unexpected parameters"));
    }
    let param = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if param("purpose") != PURPOSE {
        return Err(bad("not made for signing in"));
    }
    let nonce = param("nonce");
    if !(16..=128).contains(&nonce.len()) || !nonce.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(bad("malformed nonce"));
    }
    let expires: u64 = param("expires")
        .parse()
        .map_err(|_| bad("expires is not a number"))?;
    if expires < now {
        return Err(Refusal::InvalidLoginLink(
            "this sign-in link has expired; run mconsole for a new one".into(),
        ));
    }
    if expires > now + MAX_EXPIRY_SECS + SKEW_SECS {
        return Err(bad(&format!(
            "a link may live {MAX_EXPIRY_SECS} seconds at most"
        )));
    }
    let signature = base64::engine::general_purpose::STANDARD
        .decode(param("signature").trim())
        .map_err(|_| bad("signature is not base64"))?;
    Ok(Link {
        key_id: param("keyId"),
        algorithm: param("algorithm"),
        signature,
        expires,
        nonce,
        pairs,
    })
}

/// `POST /console/api/login` with the link's query as the body.
pub(crate) async fn login(
    State(c): State<Console>,
    headers: HeaderMap,
    body: String,
) -> Result<Response> {
    // Login CSRF: only our own sign-in page may post a link.
    session::check_origin(&c, &headers)?;
    let now = session::now_ms() / 1000;
    let link = parse(&body, now)?;
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let signed = string_to_sign(METHOD, host, LOGIN_PATH, &canonical_query(&link.pairs));
    let alg = Algorithm::parse(&link.algorithm).map_err(|_| bad("unsupported algorithm"))?;
    let account = verify(&c, &link.key_id, alg, signed.as_bytes(), &link.signature).await?;
    use_nonce(&c, &link, &account.login).await?;
    let cookie = session::create(&c, &account).await?;
    tracing::info!(login = %account.login, "console: signed in");
    let mut resp = Json(serde_json::json!({"login": account.login})).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert("set-cookie", v);
    }
    Ok(resp)
}

/// The account whose key (`/LOGIN/keys/FP`) made `sig` over `data`. Only
/// an account's own keys sign in: an RBAC sub-user's key is not one.
async fn verify(
    c: &Console,
    key_id: &str,
    alg: Algorithm,
    data: &[u8],
    sig: &[u8],
) -> Result<AccountRecord> {
    let kid = crate::auth::signature::parse_key_id(key_id).map_err(|e| bad(&e.to_string()))?;
    let (account, key) = c
        .state
        .accounts
        .ssh_key(&kid.login, &kid.fingerprint)
        .await
        .map_err(|_| bad("unknown account"))?
        .ok_or_else(|| bad("keyId names no key of the account"))?;
    crate::auth::keys::verify(&key, alg, data, sig)
        .map_err(|_| bad("the signature does not verify"))?;
    Ok(account)
}

async fn use_nonce(c: &Console, link: &Link, login: &str) -> Result<()> {
    let key = EntryKey::new(
        Keyspace::Accounts,
        NONCE_DIR,
        format!("{:012}.{}", link.expires, link.nonce),
    );
    let value = serde_json::json!({"v": 1, "login": login, "expires": link.expires});
    match c.state.meta.put(key, value, Condition::Absent).await {
        Ok(_) => {}
        Err(metadata_tier::Error::ConditionFailed { .. }) => return Err(Refusal::LoginLinkUsed),
        Err(e) => return Err(e.into()),
    }
    sweep(c, link.expires.saturating_sub(MAX_EXPIRY_SECS + SKEW_SECS)).await;
    Ok(())
}

/// Deletes nonces of links that expired before `before` (they can no
/// longer be replayed: the link's expiry refuses them first).
async fn sweep(c: &Console, before: u64) {
    let opts = ListOptions {
        limit: SWEEP,
        ..ListOptions::default()
    };
    let Ok(page) = c
        .state
        .meta
        .list(Keyspace::Accounts, NONCE_DIR, &opts)
        .await
    else {
        return;
    };
    for e in page.entries {
        let expired = e
            .name
            .split_once('.')
            .and_then(|(t, _)| t.parse::<u64>().ok())
            .is_some_and(|t| t < before);
        if !expired {
            break;
        }
        let key = EntryKey::new(Keyspace::Accounts, NONCE_DIR, e.name);
        let _ = c.state.meta.delete(key, Condition::None).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: &str = "algorithm=ED25519-SHA512&expires=1300&keyId=%2Fa%2Fkeys%2Fb&nonce=0123456789abcdef0123&purpose=console-login&signature=AAEC";

    #[test]
    fn links_are_checked_before_their_signature() {
        let l = parse(Q, 1000).unwrap();
        assert_eq!(l.signature, vec![0, 1, 2]);
        assert_eq!(l.nonce, "0123456789abcdef0123");
        assert!(parse(Q, 1301).is_err(), "expired");
        assert!(
            parse(&Q.replace("1300", "99999"), 1000).is_err(),
            "too long-lived"
        );
        assert!(parse(&Q.replace("console-login", "share"), 1000).is_err());
        assert!(parse(&format!("{Q}&method=GET"), 1000).is_err());
        assert!(parse(&format!("{Q}&nonce=x"), 1000).is_err());
        assert!(parse(&Q.replace("&purpose=console-login", ""), 1000).is_err());
        assert!(parse(&Q.replace("0123456789abcdef0123", "a%2Fb"), 1000).is_err());
    }
}
