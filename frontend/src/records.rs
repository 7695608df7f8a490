//! Records the frontend keeps on the metadata tier: objects and directories
//! (Keyspace::Objects, keyed by parent directory and name) and accounts
//! (Keyspace::Accounts, keyed by login). Each carries a version marker `v` so
//! a later release can read and migrate what an earlier one wrote.

use crate::store::{AccountId, NodeId, Stored};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub(crate) const RECORD_VERSION: u32 = 1;

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Object,
    Directory,
}

/// One name in an account's tree. A snaplink is an object record sharing its
/// source's blob (`created_from` says where it came from).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ObjectRecord {
    pub v: u32,
    #[serde(rename = "type")]
    pub kind: Kind,
    pub(crate) owner: AccountId,
    /// Object id (uuid): the object's `Etag`; empty for directories.
    #[serde(default)]
    pub etag: String,
    /// The bytes (stored as `blob`, `size`, `sharks`); empty for
    /// directories and empty objects.
    #[serde(flatten)]
    pub(crate) stored: Stored,
    /// A committed multipart upload's bytes: its parts' blobs, read in
    /// order, when there are two or more (then `stored` is empty). The
    /// parts are the blobs the upload wrote: committing copies nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) parts: Vec<Stored>,
    #[serde(default)]
    pub content_md5: String,
    #[serde(default)]
    pub content_type: String,
    /// Stored user headers (`m-*`, cache-control, CORS...), lower-case names.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) created_from: Option<String>,
    /// Role tags (RBAC): uuids of the owner's roles, set with the
    /// `role-tag` header and answered as role names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Request that wrote this record, for tracing.
    #[serde(default)]
    pub(crate) request_id: String,
    /// On a multipart upload's directory (`/:login/uploads/<prefix>/<id>`):
    /// the upload and its state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) upload: Option<Box<UploadRecord>>,
}

impl ObjectRecord {
    pub fn directory(
        owner: &AccountId,
        headers: BTreeMap<String, String>,
        request_id: &str,
    ) -> Self {
        ObjectRecord {
            v: RECORD_VERSION,
            kind: Kind::Directory,
            owner: owner.clone(),
            etag: String::new(),
            stored: Stored::Empty,
            parts: Vec::new(),
            content_md5: String::new(),
            content_type: client_sdk::types::DIRECTORY_CONTENT_TYPE.to_string(),
            headers,
            created_from: None,
            roles: Vec::new(),
            request_id: request_id.to_string(),
            upload: None,
        }
    }

    pub fn is_dir(&self) -> bool {
        self.kind == Kind::Directory
    }

    pub fn size(&self) -> u64 {
        self.contents().iter().map(Stored::size).sum()
    }

    /// The object's bytes in order: one [`Stored`], or a committed
    /// multipart upload's parts.
    pub(crate) fn contents(&self) -> &[Stored] {
        if self.parts.is_empty() {
            std::slice::from_ref(&self.stored)
        } else {
            &self.parts
        }
    }

    /// The nodes holding a copy (of the first part, for a multipart
    /// object: its parts were placed alike).
    pub fn copies(&self) -> &[NodeId] {
        self.contents()
            .iter()
            .find(|s| s.blob().is_some())
            .map_or(&[], Stored::copies)
    }

    /// Number of copies, as `durability-level` reports it: the fewest any
    /// part has.
    pub fn durability(&self) -> u32 {
        self.contents()
            .iter()
            .filter(|s| s.blob().is_some())
            .map(|s| s.copies().len() as u32)
            .min()
            .unwrap_or(0)
    }
}

/// A Manta multipart upload (docs/manta-api.md, "Multipart uploads"), kept on its directory's
/// record. `state` moves `created` → (`finalizing` →) `done`; each step is a
/// conditional write of that record, so a commit and an abort racing each
/// other cannot both win.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct UploadRecord {
    pub id: String,
    /// The object the commit writes, as the client named it (`/login/stor/...`).
    pub target: String,
    /// The target's headers as given at create (`content-length`,
    /// `content-md5`, `durability-level`, `content-type`, `m-*`...).
    #[serde(default)]
    pub headers: serde_json::Map<String, serde_json::Value>,
    /// Copies of each part (`durability-level`); `None`: the default.
    #[serde(default)]
    pub copies: Option<u32>,
    pub created_ms: u64,
    pub state: UploadState,
    /// While finalizing or done: `commit` or `abort`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish: Option<Finish>,
    /// The part etags a commit was asked for, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub committed_parts: Vec<String>,
    /// After a commit: the object's etag, MD5 (base64) and mtime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<(String, String, u64)>,
    /// The object's role tags (uuids), from the `role-tag` given at create.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum UploadState {
    Created,
    Finalizing,
    Done,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Finish {
    Commit,
    Abort,
}

/// An account: its login, uuid, SSH public keys (Manta HTTP Signatures) and
/// S3 access keys. Fields added after version 1 are `#[serde(default)]` so
/// older records still read.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct AccountRecord {
    pub v: u32,
    pub login: String,
    pub uuid: AccountId,
    #[serde(default)]
    pub created_ms: u64,
    #[serde(default)]
    pub keys: Vec<SshKeyRecord>,
    #[serde(default)]
    pub s3_keys: Vec<S3KeyRecord>,
    /// RBAC sub-users, roles and policies (docs/rbac.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<crate::rbac::SubUserRecord>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<crate::rbac::RoleRecord>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<crate::rbac::PolicyRecord>,
}

impl AccountRecord {
    pub fn new(login: &str) -> Self {
        AccountRecord {
            v: RECORD_VERSION,
            login: login.to_string(),
            uuid: AccountId::new_random(),
            created_ms: crate::time::now_ms(),
            keys: Vec::new(),
            s3_keys: Vec::new(),
            users: Vec::new(),
            roles: Vec::new(),
            policies: Vec::new(),
        }
    }

    /// The SSH key with this fingerprint: MD5 (`aa:bb:...`, optionally
    /// `MD5:`-prefixed) or SHA-256 (`SHA256:base64`).
    pub fn ssh_key(&self, fingerprint: &str) -> Option<&SshKeyRecord> {
        find_key(&self.keys, fingerprint)
    }
}

/// The key of `keys` with this fingerprint: MD5 (`aa:bb:...`, optionally
/// `MD5:`-prefixed) or SHA-256 (`SHA256:base64`).
pub(crate) fn find_key<'a>(
    keys: &'a [SshKeyRecord],
    fingerprint: &str,
) -> Option<&'a SshKeyRecord> {
    let fp = fingerprint.strip_prefix("MD5:").unwrap_or(fingerprint);
    keys.iter()
        .find(|k| k.md5.eq_ignore_ascii_case(fp) || k.sha256 == fp)
}

/// An SSH public key of an account, as `ssh-keygen` writes it, with both
/// fingerprints computed once when it is added.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct SshKeyRecord {
    /// The OpenSSH public key line (`ssh-ed25519 AAAA... comment`).
    pub openssh: String,
    /// `aa:bb:...` (what node-manta puts in keyIds).
    pub md5: String,
    /// `SHA256:...` (what `ssh-keygen -l` prints).
    pub sha256: String,
    #[serde(default)]
    pub created_ms: u64,
}

/// An S3 access key. The secret is sealed with the server's S3 key (see
/// `auth::secrets` and docs/auth.md): a copy of the metadata alone does not
/// hand out working secrets.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct S3KeyRecord {
    pub access_key_id: String,
    /// base64(nonce || ChaCha20-Poly1305 ciphertext of the secret).
    pub(crate) sealed_secret: String,
    #[serde(default)]
    pub created_ms: u64,
    /// When it was revoked; a revoked key no longer authenticates.
    #[serde(default)]
    pub revoked_ms: Option<u64>,
}
