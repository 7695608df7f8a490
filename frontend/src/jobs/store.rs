//! The object-store helpers behind the supervisor's `Namespace`
//! (`namespace.rs`): resolving task inputs to their blobs and copies, and
//! writing output and archive objects.

use crate::error::{Error, Result};
use crate::path::MantaPath;
use crate::records::{Kind, ObjectRecord, RECORD_VERSION};
use crate::state::AppState;
use crate::upload::Expect;
use jobs::agent::wire::{BlobRef, InputObject, NodeAddr, StoredBlob};
use jobs::model::JobErrorCode;
use jobs::supervisor::{DirCache, Fault};
use metadata_tier::wire::{Condition, EntryKey, Keyspace};
use std::collections::BTreeMap;
use std::path::Path;
use storage_node::BlobHash;

/// Looks an input (or asset) up as the job's owner may read it: objects of
/// the owner, or anyone's `/public`.
///
/// # Errors
/// [`Fault::Job`] (missing, a directory, not allowed); [`Fault::Internal`]
/// (metadata down), worth retrying.
pub async fn resolve(
    st: &AppState,
    login: &str,
    raw: &str,
) -> std::result::Result<InputObject, Fault> {
    let path = MantaPath::parse(raw)
        .map_err(|e| Fault::job(JobErrorCode::InvalidArgumentError, format!("{raw}: {e}")))?;
    if path.login != login && path.tree.as_deref() != Some("public") {
        return Err(Fault::job(
            JobErrorCode::AuthorizationError,
            format!("{login} is not allowed to read {raw}"),
        ));
    }
    let account = match st.accounts.resolve(&path.login).await {
        Ok(a) => a,
        Err(Error::AccountDoesNotExist { .. }) => {
            return Err(Fault::job(
                JobErrorCode::ResourceNotFoundError,
                format!("{raw} does not exist"),
            ))
        }
        Err(e) => return Err(Fault::internal(e)),
    };
    let Some((dir, name)) = path.key(&account.uuid) else {
        return Err(Fault::job(
            JobErrorCode::InvalidArgumentError,
            format!("{raw} is a directory"),
        ));
    };
    let entry = st
        .meta
        .get(&EntryKey::new(Keyspace::Objects, dir, name))
        .await
        .map_err(|e| Fault::internal(Error::from(e)))?;
    let Some(entry) = entry else {
        return Err(Fault::job(
            JobErrorCode::ResourceNotFoundError,
            format!("{raw} does not exist"),
        ));
    };
    let rec: ObjectRecord = crate::manta::decode(&entry, &path).map_err(Fault::internal)?;
    if rec.is_dir() {
        return Err(Fault::job(
            JobErrorCode::InvalidArgumentError,
            format!("{raw} is a directory"),
        ));
    }
    let blob = match (&rec.blob, rec.size) {
        (Some(hex), size) if size > 0 => {
            let hash = BlobHash::from_hex(hex).ok_or_else(|| {
                Fault::internal(Error::Internal(format!("bad blob hash in {raw}")))
            })?;
            let nodes = st
                .placement
                .read_order(&rec.sharks)
                .await
                .map_err(Fault::internal)?
                .into_iter()
                .map(|t| NodeAddr {
                    id: t.id,
                    url: t.addr,
                })
                .collect();
            Some(BlobRef { hash, size, nodes })
        }
        _ => None,
    };
    Ok(InputObject {
        path: path.display(),
        blob,
    })
}

/// Makes every missing directory above `path` (like `mmkdir -p`).
///
/// # Errors
/// An ancestor that is an object; metadata errors.
pub async fn mkdirs(st: &AppState, owner: &str, path: &MantaPath, cache: &DirCache) -> Result<()> {
    let mut ancestors = Vec::new();
    let mut p = path.parent();
    while let Some(dir) = p {
        if dir.is_root() {
            break;
        }
        p = dir.parent();
        ancestors.push(dir);
    }
    for dir in ancestors.into_iter().rev() {
        let shown = dir.display();
        if cache.seen(&shown) {
            continue;
        }
        let Some((d, n)) = dir.key(owner) else {
            continue;
        };
        let key = EntryKey::new(Keyspace::Objects, d, n);
        let rec = ObjectRecord::directory(owner, BTreeMap::new(), "jobs");
        let value = crate::manta::encode(&rec)?;
        match st.meta.put(key.clone(), value, Condition::Absent).await {
            Ok(_) => {}
            Err(metadata_tier::Error::ConditionFailed { .. }) => {
                let entry = st.meta.get(&key).await?;
                let is_dir = entry
                    .map(|e| crate::manta::decode(&e, &dir).map(|r| r.is_dir()))
                    .transpose()?
                    .unwrap_or(false);
                if !is_dir {
                    return Err(Error::ParentNotDirectory { path: shown });
                }
            }
            Err(e) => return Err(e.into()),
        }
        cache.add(shown);
    }
    Ok(())
}

/// An object record for bytes a task stored.
pub fn object_record(
    owner: &str,
    blob: Option<&StoredBlob>,
    content_type: &str,
    headers: BTreeMap<String, String>,
    request_id: &str,
) -> ObjectRecord {
    ObjectRecord {
        v: RECORD_VERSION,
        kind: Kind::Object,
        owner: owner.to_string(),
        etag: uuid::Uuid::new_v4().to_string(),
        blob: blob.filter(|b| b.size > 0).map(|b| b.hash.to_hex()),
        size: blob.map_or(0, |b| b.size),
        content_md5: blob.map_or_else(empty_md5, |b| b.md5.clone()),
        content_type: content_type.to_string(),
        headers,
        sharks: blob.map(|b| b.nodes.clone()).unwrap_or_default(),
        created_from: None,
        request_id: request_id.to_string(),
    }
}

fn empty_md5() -> String {
    use md5::{Digest, Md5};
    crate::upload::b64(&Md5::digest(b""))
}

/// Writes (or replaces) the record of `path`.
///
/// # Errors
/// A root path; metadata errors.
pub async fn put_record(
    st: &AppState,
    owner: &str,
    path: &MantaPath,
    rec: &ObjectRecord,
) -> Result<()> {
    let (dir, name) = path
        .key(owner)
        .ok_or_else(|| Error::OperationNotAllowedOnRootDirectory {
            path: path.display(),
        })?;
    let key = EntryKey::new(Keyspace::Objects, dir, name);
    st.meta
        .put(key, crate::manta::encode(rec)?, Condition::None)
        .await?;
    Ok(())
}

/// Stores a local file as the object `path` (archives: job.json, in.txt,
/// ...), streamed to the account's default number of copies.
///
/// # Errors
/// No storage nodes; I/O and metadata errors.
pub async fn put_file(
    st: &AppState,
    owner: &str,
    path: &MantaPath,
    file: &Path,
    content_type: &str,
    headers: BTreeMap<String, String>,
) -> Result<()> {
    let f = tokio::fs::File::open(file)
        .await
        .map_err(|e| Error::Internal(format!("open {}: {e}", file.display())))?;
    let len = f
        .metadata()
        .await
        .map_err(|e| Error::Internal(format!("stat {}: {e}", file.display())))?
        .len();
    let mut rec = object_record(owner, None, content_type, headers, "jobs-archive");
    if len > 0 {
        let copies = st
            .settings
            .default_durability
            .min(st.placement.live_count().await? as u32)
            .max(1) as usize;
        let targets = st.placement.choose(copies, len).await?;
        let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(f));
        let expect = Expect {
            len: Some(len),
            max_len: len,
            md5: None,
            idle: st.settings.upload_idle,
        };
        let up = crate::upload::fan_out(&st.storage, &targets, body, &expect).await?;
        rec.blob = Some(up.hash.to_hex());
        rec.size = up.size;
        rec.content_md5 = crate::upload::b64(&up.md5);
        rec.sharks = targets.into_iter().map(|t| t.id).collect();
    }
    put_record(st, owner, path, &rec).await
}

/// Reads the last `n` lines of a (small, text) object: the archived
/// `in.txt`/`out.txt`/... of a finished job.
///
/// # Errors
/// Missing object; unreadable copies.
pub async fn tail_lines(
    st: &AppState,
    owner: &str,
    path: &MantaPath,
    n: usize,
) -> Result<Vec<String>> {
    use futures::StreamExt;
    let Some((dir, name)) = path.key(owner) else {
        return Ok(Vec::new());
    };
    let Some(entry) = st
        .meta
        .get(&EntryKey::new(Keyspace::Objects, dir, name))
        .await?
    else {
        return Err(Error::ResourceNotFound {
            path: path.display(),
        });
    };
    let rec = crate::manta::decode(&entry, path)?;
    let Some(hex) = rec.blob.as_deref() else {
        return Ok(Vec::new());
    };
    let hash = BlobHash::from_hex(hex)
        .ok_or_else(|| Error::Internal(format!("bad blob hash in {}", path.display())))?;
    let mut lines = std::collections::VecDeque::new();
    for t in st.placement.read_order(&rec.sharks).await? {
        let Ok(resp) = st.storage.get(&t.addr, &hash, None).await else {
            continue;
        };
        let mut stream = resp.bytes_stream();
        let mut partial = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| Error::Internal(format!("read {}: {e}", path.display())))?;
            for &b in chunk.iter() {
                if b == b'\n' {
                    lines.push_back(String::from_utf8_lossy(&partial).into_owned());
                    partial.clear();
                    if lines.len() > n {
                        lines.pop_front();
                    }
                } else {
                    partial.push(b);
                }
            }
        }
        if !partial.is_empty() {
            lines.push_back(String::from_utf8_lossy(&partial).into_owned());
            if lines.len() > n {
                lines.pop_front();
            }
        }
        return Ok(lines.into());
    }
    Err(Error::NoReachableCopy {
        path: path.display(),
    })
}

/// Whether `dir` exists as a directory of `owner`.
///
/// # Errors
/// Metadata errors.
pub async fn resolve_dir(st: &AppState, owner: &str, dir: &MantaPath) -> Result<bool> {
    let Some((d, n)) = dir.key(owner) else {
        return Ok(true);
    };
    match st.meta.get(&EntryKey::new(Keyspace::Objects, d, n)).await? {
        None => Ok(false),
        Some(e) => Ok(crate::manta::decode(&e, dir)?.is_dir()),
    }
}
