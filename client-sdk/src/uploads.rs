//! Multipart uploads (`/:login/uploads`): create, upload parts, commit or
//! abort, read the state, list uploads and parts.
//!
//! Where an upload's parts live is the server's business: every call by
//! id first reads `GET /:login/uploads/<id>/state`, which the server
//! redirects (301) to the upload's directory, and then works in the
//! `partsDirectory` the state names.

use crate::client::Client;
use crate::error::{Error, Result};
use crate::objects::PutResult;
use crate::types::EntryType;
use crate::ListOptions;
use futures::StreamExt;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncRead;

/// A created upload.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Upload {
    pub id: String,
    #[serde(rename = "partsDirectory")]
    pub parts_directory: String,
}

/// An upload's state (`GET .../state`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UploadState {
    pub id: String,
    /// `created`, `finalizing` or `done`.
    pub state: String,
    /// Absent once done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts_directory: Option<String>,
    pub target_object: String,
    #[serde(default)]
    pub headers: serde_json::Map<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_copies: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time_ms: Option<u64>,
    /// When done: `committed` or `aborted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// While finalizing: `commit` or `abort`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub finishing: Option<String>,
    #[serde(
        default,
        rename = "partsMD5Summary",
        skip_serializing_if = "Option::is_none"
    )]
    pub parts_md5_summary: Option<String>,
}

impl Client {
    /// Begins an upload of the object at `path`. `headers` are the target
    /// object's (`content-length`, `content-md5`, `durability-level`,
    /// `content-type`, `m-*`...).
    ///
    /// # Errors
    /// `MultipartUploadInvalidArgument`, `DirectoryDoesNotExist`...
    pub async fn create_upload(
        &self,
        path: &str,
        headers: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Upload> {
        let target = self.resolve(path)?;
        let body = serde_json::json!({"objectPath": target, "headers": headers}).to_string();
        let uploads = format!("/{}/uploads", self.user());
        let req = self
            .request(Method::POST, &uploads, "")
            .header("content-type", "application/json")
            .body(body);
        let resp = self.send_once(req).await?;
        json(resp).await
    }

    /// The state of upload `id`.
    ///
    /// # Errors
    /// `ResourceNotFound` for an unknown id.
    pub async fn upload_state(&self, id: &str) -> Result<UploadState> {
        check_id(id)?;
        let path = format!("/{}/uploads/{id}/state", self.user());
        let resp = self
            .send_retry(|| self.request(Method::GET, &path, ""))
            .await?;
        json(resp).await
    }

    /// The parts directory of an upload still taking parts.
    async fn parts_directory(&self, id: &str) -> Result<String> {
        let st = self.upload_state(id).await?;
        st.parts_directory.ok_or_else(|| Error::Manta {
            status: 409,
            code: "InvalidMultipartUploadState".into(),
            message: format!("upload {id} is {}", st.result.unwrap_or(st.state)),
        })
    }

    /// Uploads part `n` (0..=9999) of upload `id` from `body` (streamed;
    /// `len` sent as `Content-Length` when known). The result's etag is
    /// what [`Client::commit_upload`] takes.
    ///
    /// # Errors
    /// `InvalidMultipartUploadState` when the upload is finished.
    pub async fn upload_part<R>(
        &self,
        id: &str,
        n: u32,
        body: R,
        len: Option<u64>,
    ) -> Result<PutResult>
    where
        R: AsyncRead + Send + Sync + 'static,
    {
        let dir = self.parts_directory(id).await?;
        let mut req = self
            .request(Method::PUT, &format!("{dir}/{n}"), "")
            .header("content-type", "application/octet-stream")
            .body(reqwest::Body::wrap_stream(
                tokio_util::io::ReaderStream::new(body),
            ));
        if let Some(l) = len {
            req = req.header("content-length", l.to_string());
        }
        let resp = self.send_once(req).await?;
        Ok(put_result(&resp))
    }

    /// Commits upload `id` with these part etags (part `i` is `etags[i]`);
    /// repeating a commit that succeeded succeeds again.
    ///
    /// # Errors
    /// `MultipartUploadInvalidArgument` (a part missing, too small, another
    /// etag), `InvalidMultipartUploadState` (aborted).
    pub async fn commit_upload(&self, id: &str, etags: &[String]) -> Result<PutResult> {
        let dir = self.finish_directory(id).await?;
        let body = serde_json::json!({ "parts": etags }).to_string();
        let path = format!("{dir}/commit");
        let resp = self
            .send_retry(|| {
                self.request(Method::POST, &path, "")
                    .header("content-type", "application/json")
                    .body(body.clone())
            })
            .await?;
        Ok(put_result(&resp))
    }

    /// Aborts upload `id` (again is fine; after a commit it is refused).
    ///
    /// # Errors
    /// `InvalidMultipartUploadState` when committed.
    pub async fn abort_upload(&self, id: &str) -> Result<()> {
        let dir = self.finish_directory(id).await?;
        let path = format!("{dir}/abort");
        self.send_retry(|| self.request(Method::POST, &path, ""))
            .await?;
        Ok(())
    }

    /// The upload's directory even when it is done (commit and abort are
    /// idempotent, so they are sent there anyway): where the server's
    /// redirect of `.../<id>/state` led.
    async fn finish_directory(&self, id: &str) -> Result<String> {
        check_id(id)?;
        let path = format!("/{}/uploads/{id}/state", self.user());
        let resp = self
            .send_retry(|| self.request(Method::GET, &path, ""))
            .await?;
        resp.url()
            .path()
            .strip_suffix("/state")
            .filter(|d| d.contains(id))
            .map(str::to_string)
            .ok_or_else(|| Error::Protocol(format!("upload {id} led to {}", resp.url().path())))
    }

    /// Paths of the uploads of this account (`/:login/uploads/<prefix>/<id>`).
    ///
    /// # Errors
    /// Listing errors.
    pub async fn list_uploads(&self) -> Result<Vec<String>> {
        let root = format!("/{}/uploads", self.user());
        let mut out = Vec::new();
        for prefix in self.dirs_in(&root).await? {
            out.extend(self.dirs_in(&prefix).await?);
        }
        Ok(out)
    }

    /// Paths of the parts uploaded to upload `id`, in part order.
    ///
    /// # Errors
    /// `InvalidMultipartUploadState` when the upload is finished.
    pub async fn list_parts(&self, id: &str) -> Result<Vec<String>> {
        let dir = self.parts_directory(id).await?;
        let mut parts: Vec<(u32, String)> = self
            .list_all(&dir, ListOptions::default())
            .await?
            .into_iter()
            .filter_map(|e| Some((e.name.parse().ok()?, format!("{dir}/{}", e.name))))
            .collect();
        parts.sort();
        Ok(parts.into_iter().map(|(_, p)| p).collect())
    }

    async fn dirs_in(&self, dir: &str) -> Result<Vec<String>> {
        let opts = ListOptions {
            kind: Some(EntryType::Directory),
            ..ListOptions::default()
        };
        let mut s = Box::pin(self.list(dir, opts));
        let mut out = Vec::new();
        while let Some(e) = s.next().await {
            out.push(format!("{dir}/{}", e?.name));
        }
        Ok(out)
    }
}

fn check_id(id: &str) -> Result<()> {
    let ok = id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::Config(format!("{id:?} is not an upload id")))
    }
}

async fn json<T: serde::de::DeserializeOwned>(resp: reqwest::Response) -> Result<T> {
    let body = resp.bytes().await?;
    serde_json::from_slice(&body).map_err(|e| Error::Protocol(format!("upload JSON: {e}")))
}

fn put_result(resp: &reqwest::Response) -> PutResult {
    let h = |n: &str| {
        resp.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    PutResult {
        etag: h("etag"),
        computed_md5: h("computed-md5"),
    }
}
