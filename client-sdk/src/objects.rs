//! Objects: put (streaming from any `AsyncRead`, or from a file or bytes
//! with retries), get (streaming, ranges), head, delete, snaplink.

use crate::body::ObjectBody;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::info::ObjectInfo;
use crate::types::LINK_CONTENT_TYPE;
use bytes::Bytes;
use futures::{Stream, TryStreamExt};
use reqwest::{Body, Method, RequestBuilder};
use std::path::Path;
use tokio::io::AsyncRead;
use tokio_util::io::ReaderStream;

/// Options of a `PUT`.
#[derive(Debug, Clone, Default)]
pub struct PutOptions {
    /// Number of copies (`x-durability-level`); server default when `None`.
    pub copies: Option<u32>,
    /// `Content-Type`; the server stores `application/octet-stream` if unset.
    pub content_type: Option<String>,
    /// Base64 MD5 the server must verify (`Content-MD5`).
    pub content_md5: Option<String>,
    /// Exact length; the body is sent chunked when `None`.
    pub content_length: Option<u64>,
    /// Extra headers (`m-*`, `cache-control`, `role-tag`, CORS...).
    pub headers: Vec<(String, String)>,
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    /// Create missing parent directories (`mput -p`).
    pub mkdirs: bool,
    /// Called with the size of each chunk sent (progress bars).
    pub progress: Option<Progress>,
}

/// A callback told how many bytes were just sent.
#[derive(Clone)]
pub struct Progress(pub std::sync::Arc<dyn Fn(u64) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// A request body streaming from `r`, reporting progress.
fn stream_body<R>(r: R, progress: Option<Progress>) -> Body
where
    R: AsyncRead + Send + Sync + 'static,
{
    let s = ReaderStream::with_capacity(r, 256 * 1024);
    match progress {
        None => Body::wrap_stream(s),
        Some(p) => Body::wrap_stream(s.inspect_ok(move |c| (p.0)(c.len() as u64))),
    }
}

/// What a `PUT` answered.
#[derive(Debug, Clone)]
pub struct PutResult {
    pub etag: Option<String>,
    /// `Computed-MD5`, base64.
    pub computed_md5: Option<String>,
}

/// Options of a `GET`.
#[derive(Debug, Clone, Default)]
pub struct GetOptions {
    /// `Range` header value, e.g. `bytes=0-99`.
    pub range: Option<String>,
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub headers: Vec<(String, String)>,
}

/// A body being received.
pub type ByteStream = std::pin::Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>;

/// An object being fetched: its headers and its body, which ends with
/// [`Error::Checksum`] if the bytes are not the ones the headers name.
pub struct GetResponse {
    pub info: ObjectInfo,
    pub body: ObjectBody,
}

impl std::fmt::Debug for GetResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetResponse")
            .field("info", &self.info)
            .finish()
    }
}

fn put_headers(mut req: RequestBuilder, o: &PutOptions) -> RequestBuilder {
    if let Some(c) = o.copies {
        req = req.header("x-durability-level", c.to_string());
    }
    let ct = o
        .content_type
        .as_deref()
        .unwrap_or("application/octet-stream");
    req = req.header("content-type", ct);
    if let Some(m) = &o.content_md5 {
        req = req.header("content-md5", m);
    }
    if let Some(n) = o.content_length {
        req = req.header("content-length", n.to_string());
    }
    if let Some(v) = &o.if_match {
        req = req.header("if-match", v);
    }
    if let Some(v) = &o.if_none_match {
        req = req.header("if-none-match", v);
    }
    for (k, v) in &o.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    req
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

impl Client {
    /// Uploads the bytes read from `body` (streamed; sent once, no retry).
    /// With `mkdirs`, a missing parent is created and the upload is not
    /// retried (the reader is spent): use [`Client::put_file`] or
    /// [`Client::put_bytes`] for that.
    ///
    /// # Errors
    /// Manta errors (`DirectoryDoesNotExist`, `PreconditionFailed`...),
    /// connection errors.
    pub async fn put<R>(&self, path: &str, body: R, opts: &PutOptions) -> Result<PutResult>
    where
        R: AsyncRead + Send + Sync + 'static,
    {
        let path = self.resolve(path)?;
        if opts.mkdirs {
            if let Some(parent) = crate::path::parent(&path) {
                self.mkdirp(parent).await?;
            }
        }
        let req = put_headers(self.request(Method::PUT, &path, ""), opts)
            .body(stream_body(body, opts.progress.clone()));
        let resp = self.send_once(req).await?;
        Ok(put_result(&resp))
    }

    /// Uploads bytes held in memory, retrying on connection errors and 503.
    ///
    /// # Errors
    /// As [`Client::put`].
    pub async fn put_bytes(&self, path: &str, data: Bytes, opts: &PutOptions) -> Result<PutResult> {
        let path = self.resolve(path)?;
        let mut opts = opts.clone();
        opts.content_length = Some(data.len() as u64);
        let send = || async {
            self.send_retry(|| {
                put_headers(self.request(Method::PUT, &path, ""), &opts).body(data.clone())
            })
            .await
        };
        let resp = self.with_parents(&path, opts.mkdirs, send).await?;
        Ok(put_result(&resp))
    }

    /// Uploads a local file (with `Content-Length`), reopening it for each
    /// retry.
    ///
    /// # Errors
    /// As [`Client::put`]; reading the file.
    pub async fn put_file(&self, path: &str, file: &Path, opts: &PutOptions) -> Result<PutResult> {
        let path = self.resolve(path)?;
        let len = tokio::fs::metadata(file).await?.len();
        let mut opts = opts.clone();
        opts.content_length = Some(len);
        let mut delay = self.config.backoff;
        let mut attempt = 1;
        let send = || async {
            let f = tokio::fs::File::open(file).await?;
            let body = stream_body(f, opts.progress.clone());
            let req = put_headers(self.request(Method::PUT, &path, ""), &opts).body(body);
            self.send_once(req).await
        };
        loop {
            let res = self.with_parents(&path, opts.mkdirs, send).await;
            match res {
                Ok(resp) => return Ok(put_result(&resp)),
                Err(e) if attempt < self.config.attempts && transient(&e) => {}
                Err(e) => return Err(e),
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(std::time::Duration::from_secs(4));
            attempt += 1;
        }
    }

    /// Runs `send`; on `DirectoryDoesNotExist` with `mkdirs`, creates the
    /// parents and runs it again.
    async fn with_parents<F, Fut>(
        &self,
        path: &str,
        mkdirs: bool,
        send: F,
    ) -> Result<reqwest::Response>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<reqwest::Response>>,
    {
        match send().await {
            Err(e) if mkdirs && e.code() == "DirectoryDoesNotExist" => {
                if let Some(parent) = crate::path::parent(path) {
                    self.mkdirp(parent).await?;
                }
                send().await
            }
            other => other,
        }
    }

    /// Fetches an object; the body streams as it arrives and is checked
    /// as it goes: a whole object against its length and its BLAKE3
    /// (`x-content-blake3`, or `Content-MD5` from a server that sends no
    /// BLAKE3), a range against its length. A mismatch is the body's last
    /// item, [`Error::Checksum`], in place of its end.
    ///
    /// # Errors
    /// Manta errors (`ResourceNotFound`...), connection errors.
    pub async fn get(&self, path: &str, opts: &GetOptions) -> Result<GetResponse> {
        let path = self.resolve(path)?;
        let resp = self
            .send_retry(|| {
                let mut r = self.request(Method::GET, &path, "").header("accept", "*/*");
                if let Some(v) = &opts.range {
                    r = r.header("range", v);
                }
                if let Some(v) = &opts.if_match {
                    r = r.header("if-match", v);
                }
                if let Some(v) = &opts.if_none_match {
                    r = r.header("if-none-match", v);
                }
                for (k, v) in &opts.headers {
                    r = r.header(k.as_str(), v.as_str());
                }
                r
            })
            .await?;
        let info = ObjectInfo::from_headers(resp.status().as_u16(), resp.headers());
        let raw = Box::pin(resp.bytes_stream().map_err(Error::from));
        let body = ObjectBody::new(&path, &info, raw);
        Ok(GetResponse { info, body })
    }

    /// Fetches a whole object into memory, checked as [`Client::get`]
    /// checks it.
    ///
    /// # Errors
    /// As [`Client::get`]; `Checksum` on a short or corrupt body.
    pub async fn get_bytes(&self, path: &str) -> Result<Bytes> {
        let resp = self.get(path, &GetOptions::default()).await?;
        let chunks: Vec<Bytes> = resp.body.try_collect().await?;
        Ok(Bytes::from(chunks.concat()))
    }

    /// `HEAD`: metadata of an object or directory.
    ///
    /// # Errors
    /// Manta errors (`ResourceNotFound` when missing), connection errors.
    pub async fn info(&self, path: &str) -> Result<ObjectInfo> {
        let path = self.resolve(path)?;
        let resp = self
            .send_retry(|| {
                self.request(Method::HEAD, &path, "")
                    .header("accept", "*/*")
            })
            .await;
        match resp {
            Ok(resp) => Ok(ObjectInfo::from_headers(
                resp.status().as_u16(),
                resp.headers(),
            )),
            // A HEAD answer carries no body, so no Manta code: for a
            // refusal (4xx), the same request as a GET gets the server's
            // code and message (AccountDoesNotExist, AuthorizationFailed...).
            Err(
                e @ Error::Manta {
                    status: 400..=499, ..
                },
            ) => Err(self.error_of_get(&path).await.unwrap_or(e)),
            Err(e) => Err(e),
        }
    }

    /// The error a `GET` of `path` answers with, if it fails (one byte is
    /// asked for, so a success costs nothing).
    async fn error_of_get(&self, path: &str) -> Option<Error> {
        let req = self
            .request(Method::GET, path, "")
            .header("range", "bytes=0-0");
        self.send_once(req).await.err()
    }

    /// Deletes an object or an empty directory.
    ///
    /// # Errors
    /// `ResourceNotFound`, `DirectoryNotEmpty`, `PreconditionFailed`...
    pub async fn delete(&self, path: &str, if_match: Option<&str>) -> Result<()> {
        let path = self.resolve(path)?;
        self.send_retry(|| {
            let r = self.request(Method::DELETE, &path, "");
            match if_match {
                Some(v) => r.header("if-match", v),
                None => r,
            }
        })
        .await?;
        Ok(())
    }

    /// Creates a snaplink `dst` to the object `src`.
    ///
    /// # Errors
    /// `SourceObjectNotFound`, `LinkNotObject`, `DirectoryDoesNotExist`...
    pub async fn link(&self, src: &str, dst: &str) -> Result<PutResult> {
        let (src, dst) = (self.resolve(src)?, self.resolve(dst)?);
        let location = crate::path::encode(&src);
        let resp = self
            .send_retry(|| {
                self.request(Method::PUT, &dst, "")
                    .header("content-type", LINK_CONTENT_TYPE)
                    .header("location", &location)
                    .header("content-length", "0")
            })
            .await?;
        Ok(put_result(&resp))
    }
}

/// Failures after which re-sending a replayable body may succeed.
fn transient(e: &Error) -> bool {
    match e {
        Error::Http(h) => h.is_connect() || h.is_timeout() || h.is_request(),
        Error::Manta { status, .. } => *status == 503,
        _ => false,
    }
}
