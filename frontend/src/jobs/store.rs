//! The object-store helpers behind the supervisor's `Namespace`
//! (`namespace.rs`): resolving task inputs to their blobs and copies, and
//! writing output and archive objects, all through [`crate::store`].

use crate::error::{Error, Result};
use crate::path::MantaPath;
use crate::records::{Kind, ObjectRecord, RECORD_VERSION};
use crate::state::AppState;
use crate::store::{
    self, codec, AccountId, Copies, Error as StoreError, Expect, NodeId, Stored, WriteCond,
};
use futures::StreamExt;
use jobs::agent::wire::{BlobRef, InputObject, NodeAddr, StoredBlob};
use jobs::model::JobErrorCode;
use jobs::supervisor::{DirCache, Fault};
use metadata_tier::wire::{EntryKey, Keyspace};
use std::collections::BTreeMap;
use std::path::Path;

/// Longest line [`tail_lines`] keeps whole.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// Looks an input (or asset) up as the job's owner may read it: objects of
/// the owner, or anyone's `/public`.
///
/// # Errors
/// [`Fault::Job`] (missing, a directory, not allowed); [`Fault::Internal`]
/// (metadata down), worth retrying.
pub(crate) async fn resolve(
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
        Err(StoreError::AccountNotFound { .. }) => {
            return Err(Fault::job(
                JobErrorCode::ResourceNotFoundError,
                format!("{raw} does not exist"),
            ))
        }
        Err(e) => return Err(Fault::internal(Error::from(e))),
    };
    let Some((dir, name)) = path.key(account.uuid.as_str()) else {
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
    let rec: ObjectRecord =
        codec::decode::<ObjectRecord>(&entry, &path.display()).map_err(Fault::internal)?;
    if rec.is_dir() {
        return Err(Fault::job(
            JobErrorCode::InvalidArgumentError,
            format!("{raw} is a directory"),
        ));
    }
    if rec.contents().len() > 1 {
        // A task reads its input as one blob from a node that holds it.
        return Err(Fault::job(
            JobErrorCode::InvalidArgumentError,
            format!("{raw} is a multipart upload's object, which jobs cannot read yet"),
        ));
    }
    let blob = match rec.stored.blob() {
        Some(b) => {
            let nodes = st
                .store
                .holders(b)
                .await
                .map_err(|e| Fault::internal(Error::from(e)))?
                .into_iter()
                .map(|t| NodeAddr {
                    id: t.id.0,
                    url: t.addr,
                })
                .collect();
            Some(BlobRef {
                hash: b.hash,
                size: b.size,
                nodes,
            })
        }
        None => None,
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
pub(crate) async fn mkdirs(
    st: &AppState,
    owner: &str,
    path: &MantaPath,
    cache: &DirCache,
) -> Result<()> {
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
        let rec = ObjectRecord::directory(&AccountId(owner.into()), BTreeMap::new(), "jobs");
        match st
            .store
            .write_record(key.clone(), &shown, &rec, WriteCond::Create)
            .await
        {
            Ok(_) => {}
            Err(StoreError::ConditionFailed { .. }) => {
                let entry = st.meta.get(&key).await?;
                let is_dir = entry
                    .map(|e| codec::decode::<ObjectRecord>(&e, &dir.display()).map(|r| r.is_dir()))
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
pub(crate) fn object_record(
    owner: &str,
    blob: Option<&StoredBlob>,
    content_type: &str,
    headers: BTreeMap<String, String>,
    request_id: &str,
) -> ObjectRecord {
    let stored = match blob {
        Some(b) if b.size > 0 => Stored::Blob(store::BlobRef {
            hash: b.hash,
            size: b.size,
            copies: b.nodes.iter().cloned().map(NodeId).collect(),
            want: None,
        }),
        _ => Stored::Empty,
    };
    ObjectRecord {
        v: RECORD_VERSION,
        kind: Kind::Object,
        owner: AccountId(owner.to_string()),
        etag: uuid::Uuid::new_v4().to_string(),
        stored,
        parts: Vec::new(),
        content_md5: blob.map_or_else(empty_md5, |b| b.md5.clone()),
        content_type: content_type.to_string(),
        headers,
        created_from: None,
        roles: Vec::new(),
        request_id: request_id.to_string(),
        upload: None,
    }
}

fn empty_md5() -> String {
    use md5::{Digest, Md5};
    crate::store::upload::b64(&Md5::digest(b""))
}

/// Writes (or replaces) the record of `path`.
///
/// # Errors
/// A root path; metadata errors.
pub(crate) async fn put_record(
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
    st.store
        .write_record(key, &path.display(), rec, WriteCond::Replace)
        .await?;
    Ok(())
}

/// Stores a local file as the object `path` (archives: job.json, in.txt,
/// ...), streamed to the account's default number of copies.
///
/// # Errors
/// No storage nodes; I/O and metadata errors.
pub(crate) async fn put_file(
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
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(f));
    let expect = Expect {
        len: Some(len),
        max_len: len,
        md5: None,
        idle: st.settings.upload_idle,
    };
    let written = st.store.write_blob(body, Copies::Default, &expect).await?;
    rec.stored = written.stored;
    rec.content_md5 = crate::store::upload::b64(&written.md5);
    put_record(st, owner, path, &rec).await
}

/// Reads the last `n` lines of a (small, text) object: the archived
/// `in.txt`/`out.txt`/... of a finished job.
///
/// # Errors
/// Missing object; unreadable copies.
pub(crate) async fn tail_lines(
    st: &AppState,
    owner: &str,
    path: &MantaPath,
    n: usize,
) -> Result<Vec<String>> {
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
    let rec = codec::decode::<ObjectRecord>(&entry, &path.display())?;
    let name = path.display();
    let parts = rec.contents();
    let mut stream = st.store.open_read(&name, parts, None).await?;
    let mut lines = std::collections::VecDeque::new();
    let mut partial = Vec::new();
    let push = |line: &mut Vec<u8>, lines: &mut std::collections::VecDeque<String>| {
        lines.push_back(String::from_utf8_lossy(line).into_owned());
        line.clear();
        if lines.len() > n {
            lines.pop_front();
        }
    };
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Error::Internal(format!("read {name}: {e}")))?;
        for &b in chunk.iter() {
            if b == b'\n' {
                push(&mut partial, &mut lines);
            } else if partial.len() < MAX_LINE_BYTES {
                // A line is kept to a bounded length: these are listings
                // of paths, and an object need not be one.
                partial.push(b);
            }
        }
    }
    if !partial.is_empty() {
        push(&mut partial, &mut lines);
    }
    Ok(lines.into())
}

/// Whether `dir` exists as a directory of `owner`.
///
/// # Errors
/// Metadata errors.
pub(crate) async fn resolve_dir(st: &AppState, owner: &str, dir: &MantaPath) -> Result<bool> {
    let Some((d, n)) = dir.key(owner) else {
        return Ok(true);
    };
    match st.meta.get(&EntryKey::new(Keyspace::Objects, d, n)).await? {
        None => Ok(false),
        Some(e) => Ok(codec::decode::<ObjectRecord>(&e, &dir.display())?.is_dir()),
    }
}
