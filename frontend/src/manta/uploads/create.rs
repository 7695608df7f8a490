//! `POST /:login/uploads`: checks the target and its headers once, then
//! makes the upload's directory (and its prefix directory) with the upload
//! on its record.

use super::{new_id, parse_id, parts_dir, MAX_JSON_BODY};
use crate::error::{Error, Result};
use crate::manta::respond;
use crate::manta::{Lookup, Req};
use crate::path::MantaPath;
use crate::records::{ObjectRecord, UploadRecord, UploadState, RECORD_VERSION};
use crate::store::{Error as StoreError, WriteCond};
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use metadata_tier::wire::{EntryKey, Keyspace};
use serde_json::{Map, Value};

fn invalid(msg: impl Into<String>) -> Error {
    Error::MultipartUploadInvalidArgument(msg.into())
}

/// Reads a small JSON body (create, commit); an empty one is `{}`.
pub(super) async fn read_json(body: Body) -> Result<Value> {
    let raw = axum::body::to_bytes(body, MAX_JSON_BODY)
        .await
        .map_err(|_| invalid(format!("body is not JSON of at most {MAX_JSON_BODY} bytes")))?;
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_slice(&raw).map_err(|e| invalid(format!("body is not valid JSON: {e}")))
}

pub(super) async fn create(req: &Req, body: Body) -> Result<Response> {
    let v = read_json(body).await?;
    let target = v
        .get("objectPath")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("objectPath (a string) is required"))?;
    let headers = match v.get("headers") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect(),
        Some(_) => return Err(invalid("headers must be an object")),
    };
    let copies = check_headers(req, &headers)?;
    let path = check_target(req, target).await?;
    crate::rbac::enforce::check_upload_target(req, &path.display()).await?;
    let roles = role_tags(req, &headers).await?;
    let id = new_id();
    let dir = parts_dir(&req.path.login, &id)
        .ok_or_else(|| Error::Internal(format!("new upload id {id} does not parse")))?;
    let prefix = parse_id(&id).unwrap_or_default().to_string();
    let up = UploadRecord {
        id: id.clone(),
        target: path.display(),
        headers,
        copies,
        created_ms: crate::time::now_ms(),
        state: UploadState::Created,
        finish: None,
        committed_parts: Vec::new(),
        object: None,
        roles,
    };
    let uploads = format!("/{}/uploads", req.account.uuid.as_str());
    make_dir(req, &uploads, &prefix, None).await?;
    make_dir(req, &format!("{uploads}/{prefix}"), &id, Some(up)).await?;
    let body = serde_json::json!({"id": id, "partsDirectory": dir});
    Ok(respond::json_response(StatusCode::CREATED, &body))
}

/// The committed object's role tags: `role-tag` among the target's
/// headers (`mmpu create -H 'role-tag: r'`, as Manta stored it), else the
/// create request's own `role-tag` header.
async fn role_tags(req: &Req, headers: &Map<String, Value>) -> Result<Vec<String>> {
    match headers.get("role-tag") {
        Some(Value::String(v)) => crate::rbac::tags::from_value(req, v).await,
        Some(other) => Err(Error::InvalidRoleTag(format!(
            "role-tag must be a string of role names, not {other}"
        ))),
        None => Ok(crate::rbac::tags::from_request(req)
            .await?
            .unwrap_or_default()),
    }
}

/// Creates directory `name` in `dir`, with `upload` on its record; an
/// existing plain directory (a prefix directory) is fine.
async fn make_dir(req: &Req, dir: &str, name: &str, upload: Option<UploadRecord>) -> Result<()> {
    let mut rec = ObjectRecord::directory(&req.account.uuid, Default::default(), &req.request_id);
    rec.v = RECORD_VERSION;
    let fresh = upload.is_some();
    rec.upload = upload.map(Box::new);
    let key = EntryKey::new(Keyspace::Objects, dir.to_string(), name.to_string());
    match req
        .state
        .store
        .write_record(key, &format!("{dir}/{name}"), &rec, WriteCond::Create)
        .await
    {
        Ok(_) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) if !fresh => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Checks the target object's headers; returns the copies asked for.
fn check_headers(req: &Req, h: &Map<String, Value>) -> Result<Option<u32>> {
    for k in h.keys() {
        if k.starts_with("if-") {
            return Err(invalid(format!("{k} is not allowed on a multipart upload")));
        }
    }
    let int = |k: &str| -> Result<Option<u64>> {
        match h.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| invalid(format!("{k} must be a non-negative integer"))),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| invalid(format!("{k} must be a non-negative integer: {s:?}"))),
            Some(other) => Err(invalid(format!(
                "{k} must be a non-negative integer: {other}"
            ))),
        }
    };
    int("content-length")?;
    if let Some(md5) = h.get("content-md5") {
        let s = md5.as_str().unwrap_or_default();
        crate::manta::objects::decode_md5(s)
            .map_err(|_| invalid(format!("content-md5 {md5} is not a base64 MD5")))?;
    }
    let max = req.state.settings.max_durability;
    match int("durability-level")?.or(int("x-durability-level")?) {
        None => Ok(None),
        Some(d) if (1..=u64::from(max)).contains(&d) => Ok(Some(d as u32)),
        Some(d) => Err(Error::InvalidDurabilityLevel {
            value: d.to_string(),
            max,
        }),
    }
}

/// The target must be below `/:login/stor` or `/:login/public` of this
/// account, in a directory that exists, and not be a directory itself.
async fn check_target(req: &Req, target: &str) -> Result<MantaPath> {
    let path = MantaPath::parse(target)
        .map_err(|e| invalid(format!("objectPath {target:?} is not a Manta path: {e}")))?;
    let ok_tree = matches!(path.tree.as_deref(), Some("stor" | "public"));
    if path.login != req.path.login || !ok_tree || path.is_root() {
        return Err(invalid(format!(
            "objectPath {target:?} must name an object under /{}/stor or /{}/public",
            req.path.login, req.path.login
        )));
    }
    ensure_target_parent(req, &path).await?;
    if let Lookup::Found(_, rec) = req.lookup(&path).await? {
        if rec.is_dir() {
            return Err(Error::OperationNotAllowedOnDirectory {
                path: path.display(),
            });
        }
    }
    Ok(path)
}

/// The target's parent must be a directory (checked at create and commit).
pub(super) async fn ensure_target_parent(req: &Req, path: &MantaPath) -> Result<()> {
    let Some(parent) = path.parent() else {
        return Ok(());
    };
    match req.lookup(&parent).await? {
        Lookup::Root => Ok(()),
        Lookup::Found(_, rec) if rec.is_dir() => Ok(()),
        Lookup::Found(..) => Err(Error::ParentNotDirectory {
            path: parent.display(),
        }),
        Lookup::Missing => Err(Error::DirectoryDoesNotExist {
            path: parent.display(),
        }),
    }
}
