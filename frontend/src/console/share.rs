//! Share links: `/console/share/<path>?expires=<secs>&sig=<hex>`, a GET
//! anyone may make until it expires, no cookie or key needed.
//!
//! The server holds only public SSH keys, so it cannot make an msign URL
//! for the account. It signs instead with a per-account 256-bit key of
//! its own, made at the first share and kept on the metadata tier
//! (Keyspace::Accounts, dir [`KEY_DIR`], name = account uuid), so every
//! frontend can verify what any frontend made: HMAC-SHA256 over
//! `mconsole-share-v1\n<account uuid>\n<path>\n<expires>`. Revoking
//! (`POST /console/api/share/revoke`) deletes the key: every link the
//! account made stops working at once. A link names one object, read
//! with the API's own handler as its owner; it lives at most
//! [`MAX_SECS`].

use super::error::{Refusal, Result};
use super::{session, Console};
use crate::auth::Caller;
use crate::manta::RequestId;
use crate::path::MantaPath;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use client_sdk::types::DIRECTORY_CONTENT_TYPE;
use hmac::{Hmac, Mac};
use metadata_tier::wire::{Condition, EntryKey, Keyspace};
use serde::Deserialize;
use sha2::Sha256;

const KEY_DIR: &str = "console-share-keys";
const PREFIX: &str = "/console/share";
/// Longest life of a share link: a week, as S3's presigned URLs.
pub(crate) const MAX_SECS: u64 = 7 * 86_400;

fn key_entry(account: &str) -> EntryKey {
    EntryKey::new(Keyspace::Accounts, KEY_DIR, account)
}

/// The account's share key; made when `create` and there is none.
async fn share_key(c: &Console, account: &str, create: bool) -> Result<Option<Vec<u8>>> {
    let read = |v: &serde_json::Value| {
        v.get("key")
            .and_then(|k| k.as_str())
            .and_then(|k| hex::decode(k).ok())
    };
    if let Some(e) = c.state.meta.get(&key_entry(account)).await? {
        return Ok(read(&e.value));
    }
    if !create {
        return Ok(None);
    }
    let key: [u8; 32] = rand::random();
    let value =
        serde_json::json!({"v": 1, "key": hex::encode(key), "created_ms": session::now_ms()});
    match c
        .state
        .meta
        .put(key_entry(account), value, Condition::Absent)
        .await
    {
        Ok(_) => Ok(Some(key.to_vec())),
        // Another request made one first: use that.
        Err(metadata_tier::Error::ConditionFailed { current, .. }) => {
            Ok(current.and_then(|e| read(&e.value)))
        }
        Err(e) => Err(e.into()),
    }
}

fn mac(key: &[u8], account: &str, path: &str, expires: u64) -> Result<Hmac<Sha256>> {
    let mut m = Hmac::<Sha256>::new_from_slice(key)
        .map_err(|_| Refusal::InvalidShareLink("bad key".into()))?;
    m.update(format!("mconsole-share-v1\n{account}\n{path}\n{expires}").as_bytes());
    Ok(m)
}

#[derive(Deserialize)]
pub(crate) struct ShareRequest {
    path: String,
    /// Lifetime in seconds.
    expires_in: u64,
}

/// `POST /console/api/share {"path", "expires_in"}`: a link to one of the
/// session account's objects.
pub(crate) async fn create(
    State(c): State<Console>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    headers: HeaderMap,
    Json(req): Json<ShareRequest>,
) -> Result<Response> {
    let s = session::current(&c, &headers).await?;
    s.check_change(&c, &headers)?;
    if req.expires_in == 0 || req.expires_in > MAX_SECS {
        return Err(Refusal::InvalidArgument(format!(
            "expires_in must be between 1 and {MAX_SECS} seconds"
        )));
    }
    if req.path.len() > crate::path::MAX_PATH_BYTES {
        return Err(Refusal::InvalidArgument("path too long".into()));
    }
    let encoded = client_sdk::path::encode(&req.path);
    let path = MantaPath::parse(&encoded)?;
    if path.login != s.account.login || path.is_root() {
        return Err(Refusal::InvalidArgument(
            "only your own objects can be shared".into(),
        ));
    }
    let head = crate::manta::handle_as(
        c.state.clone(),
        request_id,
        Caller::Account(Box::new(s.account.clone())),
        Method::HEAD,
        uri(&encoded)?,
        HeaderMap::new(),
        Body::empty(),
    )
    .await?;
    let is_dir = head
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes() == DIRECTORY_CONTENT_TYPE.as_bytes());
    if is_dir {
        return Err(Refusal::InvalidArgument(
            "directories cannot be shared".into(),
        ));
    }
    let account = s.account.uuid.to_string();
    let key = share_key(&c, &account, true)
        .await?
        .ok_or_else(|| Refusal::InvalidShareLink("no share key".into()))?;
    let expires = session::now_ms() / 1000 + req.expires_in;
    let sig = hex::encode(
        mac(&key, &account, &path.display(), expires)?
            .finalize()
            .into_bytes(),
    );
    let url = format!(
        "{}{PREFIX}{}?expires={expires}&sig={sig}",
        c.origin(&headers),
        client_sdk::path::encode(&path.display())
    );
    Ok(
        Json(serde_json::json!({"url": url, "expires": crate::time::iso8601(expires * 1000)}))
            .into_response(),
    )
}

fn uri(s: &str) -> Result<Uri> {
    s.parse()
        .map_err(|_| Refusal::InvalidArgument("bad path".into()))
}

/// `POST /console/api/share/revoke`: every share link of the account
/// stops working.
pub(crate) async fn revoke(State(c): State<Console>, headers: HeaderMap) -> Result<Response> {
    let s = session::current(&c, &headers).await?;
    s.check_change(&c, &headers)?;
    let key = key_entry(s.account.uuid.as_str());
    c.state.meta.delete(key, Condition::None).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
pub(crate) struct Signed {
    expires: Option<u64>,
    sig: Option<String>,
}

/// `GET /console/share/<path>?expires&sig`: the object, to anyone.
pub(crate) async fn serve(
    State(c): State<Console>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    uri_in: Uri,
    Query(q): Query<Signed>,
    headers: HeaderMap,
) -> Result<Response> {
    let invalid = || Refusal::InvalidShareLink("this share link is not valid".into());
    let raw = uri_in.path().strip_prefix(PREFIX).unwrap_or("/");
    let path = MantaPath::parse(raw)?;
    let (Some(expires), Some(sig)) = (q.expires, q.sig) else {
        return Err(invalid());
    };
    if expires < session::now_ms() / 1000 {
        return Err(Refusal::InvalidShareLink(
            "this share link has expired".into(),
        ));
    }
    let sig = hex::decode(sig).map_err(|_| invalid())?;
    let owner = c
        .state
        .accounts
        .resolve(&path.login)
        .await
        .map_err(|_| invalid())?;
    let account = owner.uuid.to_string();
    let key = share_key(&c, &account, false).await?.ok_or_else(invalid)?;
    mac(&key, &account, &path.display(), expires)?
        .verify_slice(&sig)
        .map_err(|_| invalid())?;
    let mut passed = HeaderMap::new();
    for name in ["host", "range", "if-none-match", "if-modified-since"] {
        if let Some(v) = headers.get(name) {
            passed.insert(name, v.clone());
        }
    }
    let resp = crate::manta::handle_as(
        c.state.clone(),
        request_id,
        Caller::Account(Box::new(owner)),
        Method::GET,
        uri(&client_sdk::path::encode(&path.display()))?,
        passed,
        Body::empty(),
    )
    .await?;
    Ok(resp)
}
