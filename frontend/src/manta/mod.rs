//! The Manta REST API: one handler per method, routed by path shape and, for
//! `PUT`, by content type (directory, link or object), as muskie routes.

mod cors;
mod dirs;
pub(crate) mod jobs;
mod link;
mod medusa;
mod metadata;
mod objects;
pub(crate) mod respond;
mod server;
pub(crate) mod uploads;

pub(crate) use server::{serve, serve_plain, RequestId};

use crate::error::{Error, Result};
use crate::path::MantaPath;
use crate::records::{AccountRecord, ObjectRecord};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Extension, Router};
use client_sdk::types::{DIRECTORY_CONTENT_TYPE, LINK_CONTENT_TYPE};
use metadata_tier::wire::{Entry, EntryKey, Keyspace};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/ping", get(|| async { StatusCode::OK }))
        .route("/{*path}", any(dispatch))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            medusa::intercept,
        ))
        .with_state(state)
}

/// Everything a handler needs about one request.
pub(crate) struct Req {
    pub(crate) state: AppState,
    pub(crate) method: Method,
    pub(crate) path: MantaPath,
    pub(crate) account: AccountRecord,
    pub(crate) headers: HeaderMap,
    pub(crate) query: HashMap<String, String>,
    pub(crate) request_id: String,
    /// What the caller may do ([`crate::auth::authorize`]); handlers that
    /// touch more than the request path (job inputs, an upload's target)
    /// check those entries with it ([`crate::rbac::enforce`]).
    pub(crate) access: crate::auth::Access,
    /// The connection's peer address (RBAC's `sourceip`); `None` when the
    /// request did not come from a socket (the console's calls).
    pub(crate) peer: Option<IpAddr>,
}

async fn dispatch(
    State(state): State<AppState>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let peer = connect.map(|Extension(ConnectInfo(a))| a.ip());
    match handle(state, request_id, peer, method, uri, headers, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn handle(
    state: AppState,
    request_id: String,
    peer: Option<IpAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let path = MantaPath::parse(uri.path())?;
    if method == Method::OPTIONS {
        // CORS preflight: browsers send it without credentials.
        return cors::preflight(&state, &path, &headers).await;
    }
    // The one place requests are authenticated (the console authenticates
    // its own way and calls `handle_as`).
    let caller = crate::auth::authenticate(&state, &method, &uri, &headers).await?;
    handle_from(state, request_id, caller, peer, method, uri, headers, body).await
}

/// Serves a request for a caller already authenticated: what the Manta API
/// does after checking a signature, and what the web console calls with
/// the account of its session, so both go through the same authorization
/// (the caller acts only on its own account, except anonymous reads of
/// /public and sub-users, whose roles are checked against the entry) and
/// the same handlers.
///
/// # Errors
/// Every Manta error.
pub(crate) async fn handle_as(
    state: AppState,
    request_id: String,
    caller: crate::auth::Caller,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    handle_from(state, request_id, caller, None, method, uri, headers, body).await
}

/// [`handle_as`] for a request from `peer`.
#[allow(clippy::too_many_arguments)]
async fn handle_from(
    state: AppState,
    request_id: String,
    caller: crate::auth::Caller,
    peer: Option<IpAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let path = MantaPath::parse(uri.path())?;
    let mut account = state.accounts.resolve(&path.login).await?;
    let query: HashMap<String, String> = uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    // Active roles: the `Role` header, or a signed URL's `role` parameter.
    let role = headers.get("role").and_then(|v| v.to_str().ok());
    let role = role.or_else(|| query.get("role").map(String::as_str));
    let access = match crate::auth::authorize(&caller, &account, &path, &method, role) {
        // A role just made elsewhere: look again at the source.
        Err(Error::InvalidRole(m)) => {
            let what: String = format!("role:{}", role.unwrap_or_default())
                .chars()
                .take(256)
                .collect();
            match state.accounts.reread(&path.login, &what).await? {
                Some(fresh) => account = fresh,
                None => return Err(Error::InvalidRole(m)),
            }
            crate::auth::authorize(&caller, &account, &path, &method, role)?
        }
        other => other?,
    };
    let req = Req {
        state,
        method: method.clone(),
        path,
        account,
        headers,
        query,
        request_id,
        access,
        peer,
    };
    let ct = content_type(&req.headers);
    crate::rbac::enforce::enforce(&req, ct.as_deref()).await?;
    let body = match jobs::route(&req, body).await {
        Ok(done) => return done,
        Err(body) => body,
    };
    let body = match uploads::route(&req, body).await {
        Ok(done) => return done,
        Err(body) => body,
    };
    match method {
        Method::GET | Method::HEAD => get_or_head(&req).await,
        Method::PUT if req.query.get("metadata").is_some_and(|v| v == "true") => {
            metadata::put(&req).await
        }
        Method::PUT => match ct.as_deref() {
            Some(DIRECTORY_CONTENT_TYPE) => dirs::put(&req).await,
            Some(LINK_CONTENT_TYPE) => link::put(&req).await,
            _ => objects::put(&req, body).await,
        },
        Method::DELETE => delete(&req).await,
        other => Err(Error::MethodNotAllowed {
            method: other.to_string(),
            path: req.path.display(),
        }),
    }
}

/// The content type with spaces around `;` normalised, so
/// `application/json;type=directory` routes like muskie's exact string.
fn content_type(h: &HeaderMap) -> Option<String> {
    let ct = h.get("content-type")?.to_str().ok()?;
    let parts: Vec<&str> = ct.split(';').map(str::trim).collect();
    Some(parts.join("; "))
}

/// What a path names.
pub(crate) enum Lookup {
    /// `/:login` or `/:login/<tree>`: a directory with no record.
    Root,
    Missing,
    Found(Box<Entry>, Box<ObjectRecord>),
}

impl Req {
    /// The metadata key of the request path (`None` for root directories).
    pub(crate) fn key(&self) -> Option<EntryKey> {
        self.path
            .key(self.account.uuid.as_str())
            .map(|(dir, name)| EntryKey::new(Keyspace::Objects, dir, name))
    }

    /// Looks up a path of this account.
    ///
    /// # Errors
    /// Metadata errors; an undecodable record.
    pub(crate) async fn lookup(&self, path: &MantaPath) -> Result<Lookup> {
        let Some((dir, name)) = path.key(self.account.uuid.as_str()) else {
            return Ok(Lookup::Root);
        };
        let key = EntryKey::new(Keyspace::Objects, dir, name);
        match self.state.meta.get(&key).await? {
            None => Ok(Lookup::Missing),
            Some(entry) => {
                let rec = decode(&entry, path)?;
                Ok(Lookup::Found(Box::new(entry), Box::new(rec)))
            }
        }
    }

    /// Checks that the parent of the request path exists and is a directory.
    ///
    /// # Errors
    /// `DirectoryDoesNotExist`, `ParentNotDirectory`.
    pub(crate) async fn ensure_parent_dir(&self) -> Result<()> {
        let Some(parent) = self.path.parent() else {
            return Ok(());
        };
        match self.lookup(&parent).await? {
            Lookup::Root => Ok(()),
            Lookup::Missing => Err(Error::DirectoryDoesNotExist {
                path: parent.display(),
            }),
            Lookup::Found(_, rec) if rec.is_dir() => Ok(()),
            Lookup::Found(..) => Err(Error::ParentNotDirectory {
                path: parent.display(),
            }),
        }
    }
}

/// The Manta entry in `entry`.
///
/// # Errors
/// An undecodable record.
pub(crate) fn decode(entry: &Entry, path: &MantaPath) -> Result<ObjectRecord> {
    Ok(crate::store::codec::decode(entry, &path.display())?)
}

async fn get_or_head(req: &Req) -> Result<Response> {
    match req.lookup(&req.path).await? {
        Lookup::Root => dirs::list(req, None).await,
        Lookup::Missing => Err(Error::ResourceNotFound {
            path: req.path.display(),
        }),
        Lookup::Found(entry, rec) if rec.is_dir() => dirs::list(req, Some((*entry, *rec))).await,
        Lookup::Found(entry, rec) => objects::get(req, *entry, *rec).await,
    }
}

async fn delete(req: &Req) -> Result<Response> {
    match req.lookup(&req.path).await? {
        Lookup::Root => Err(Error::OperationNotAllowedOnRootDirectory {
            path: req.path.display(),
        }),
        Lookup::Missing => Err(Error::ResourceNotFound {
            path: req.path.display(),
        }),
        Lookup::Found(entry, rec) if rec.is_dir() => dirs::delete(req, *entry).await,
        Lookup::Found(entry, rec) => objects::delete(req, *entry, *rec).await,
    }
}
