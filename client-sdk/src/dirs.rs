//! Directories: listing with paging handled (inclusive markers, the overlap
//! dropped), mkdir, mkdir -p, rmdir.

use crate::client::Client;
use crate::error::{Error, Result};
use crate::types::{DirEntry, EntryType, DIRECTORY_CONTENT_TYPE};
use futures::{Stream, StreamExt};
use reqwest::Method;
use std::collections::VecDeque;

/// Options of a listing.
#[derive(Debug, Clone)]
pub struct ListOptions {
    /// Page size (1..=1024); node-manta asks for 1000.
    pub limit: u32,
    /// Start at this name, or with `sort_mtime` this ISO-8601 mtime
    /// (inclusive, as Manta's marker is).
    pub marker: Option<String>,
    /// Descending order (with `sort_mtime`: oldest first).
    pub reverse: bool,
    /// `sort=mtime`: newest first (servers that ignore it sort by name).
    pub sort_mtime: bool,
    /// Only this kind of entry.
    pub kind: Option<EntryType>,
}

impl Default for ListOptions {
    fn default() -> Self {
        ListOptions {
            limit: 1000,
            marker: None,
            reverse: false,
            sort_mtime: false,
            kind: None,
        }
    }
}

/// Paging state of one listing.
struct Pager {
    client: Client,
    path: String,
    opts: ListOptions,
    buf: VecDeque<DirEntry>,
    /// Marker value (name, or mtime by mtime) of the last entry returned:
    /// the next page's marker.
    last: Option<String>,
    /// Names returned with that marker value: the server repeats them on
    /// the next page (its marker is inclusive, and entries can share an
    /// mtime), and they are dropped, as node-manta's trackmarker does.
    seen: Vec<String>,
    done: bool,
}

impl Pager {
    fn query(&self) -> String {
        let mut q = form(&[("limit", &self.opts.limit.to_string())]);
        if let Some(m) = self.last.as_ref().or(self.opts.marker.as_ref()) {
            q.push('&');
            q.push_str(&form(&[("marker", m)]));
        }
        if self.opts.sort_mtime {
            q.push_str("&sort=mtime");
        }
        if self.opts.reverse {
            q.push_str("&sort_order=reverse");
        }
        q
    }

    async fn fill(&mut self) -> Result<()> {
        let query = self.query();
        let resp = self
            .client
            .send_retry(|| {
                self.client
                    .request(Method::GET, &self.path, &query)
                    .header("accept", "application/x-json-stream")
            })
            .await?;
        let body = resp.bytes().await?;
        let mut rows = 0;
        let mut fresh = 0;
        for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            rows += 1;
            let e: DirEntry = serde_json::from_slice(line)
                .map_err(|e| Error::Protocol(format!("listing of {}: {e}", self.path)))?;
            let marker = if self.opts.sort_mtime {
                &e.mtime
            } else {
                &e.name
            };
            if self.last.as_ref() == Some(marker) {
                if self.seen.contains(&e.name) {
                    continue;
                }
            } else {
                self.last = Some(marker.clone());
                self.seen.clear();
            }
            self.seen.push(e.name.clone());
            fresh += 1;
            self.buf.push_back(e);
        }
        // A short page (counting the repeated rows) is the last one; so is
        // a page of nothing new (a full page sharing one mtime).
        self.done = rows < self.opts.limit as usize || fresh == 0;
        Ok(())
    }

    async fn next(&mut self) -> Option<Result<DirEntry>> {
        loop {
            if let Some(e) = self.buf.pop_front() {
                if self.opts.kind.is_some_and(|k| k != e.kind) {
                    continue;
                }
                return Some(Ok(e));
            }
            if self.done {
                return None;
            }
            if let Err(e) = self.fill().await {
                self.done = true;
                return Some(Err(e));
            }
        }
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                percent_encoding::utf8_percent_encode(v, crate::path::RFC3986)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl Client {
    /// Lists a directory, fetching pages as the stream is read.
    ///
    /// # Errors
    /// The stream yields `InvalidPath` or the server's error (e.g.
    /// `ResourceNotFound`).
    pub fn list(
        &self,
        path: &str,
        opts: ListOptions,
    ) -> impl Stream<Item = Result<DirEntry>> + Send + 'static {
        let resolved = self.resolve(path);
        let client = self.clone();
        futures::stream::once(async move {
            let pager = Pager {
                client,
                path: resolved?,
                opts,
                buf: VecDeque::new(),
                last: None,
                seen: Vec::new(),
                done: false,
            };
            Ok::<_, Error>(futures::stream::unfold(pager, |mut p| async move {
                p.next().await.map(|item| (item, p))
            }))
        })
        .flat_map(|r| match r {
            Ok(s) => s.boxed(),
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        })
    }

    /// The whole listing in memory.
    ///
    /// # Errors
    /// As [`Client::list`].
    pub async fn list_all(&self, path: &str, opts: ListOptions) -> Result<Vec<DirEntry>> {
        let mut s = Box::pin(self.list(path, opts));
        let mut out = Vec::new();
        while let Some(e) = s.next().await {
            out.push(e?);
        }
        Ok(out)
    }

    /// Creates a directory (idempotent).
    ///
    /// # Errors
    /// `DirectoryDoesNotExist` when the parent is missing, and the like.
    pub async fn mkdir(&self, path: &str, headers: &[(String, String)]) -> Result<()> {
        let path = self.resolve(path)?;
        self.send_retry(|| {
            let mut r = self
                .request(Method::PUT, &path, "")
                .header("content-type", DIRECTORY_CONTENT_TYPE)
                .header("content-length", "0");
            for (k, v) in headers {
                r = r.header(k.as_str(), v.as_str());
            }
            r
        })
        .await?;
        Ok(())
    }

    /// Creates a directory and any missing parents.
    ///
    /// # Errors
    /// As [`Client::mkdir`], for the first level that cannot be created.
    pub async fn mkdirp(&self, path: &str) -> Result<()> {
        self.mkdirp_with(path, &[]).await
    }

    /// [`Client::mkdirp`] with headers on the last level.
    ///
    /// # Errors
    /// As [`Client::mkdir`].
    pub async fn mkdirp_with(&self, path: &str, headers: &[(String, String)]) -> Result<()> {
        let path = self.resolve(path)?;
        // Walk up until a level can be made, then back down.
        let mut missing = vec![path.clone()];
        while let Some(top) = missing.last().cloned() {
            let h: &[(String, String)] = if top == path { headers } else { &[] };
            match self.mkdir_retry(&top, h).await {
                Ok(()) => {
                    missing.pop();
                }
                Err(e) if e.code() == "DirectoryDoesNotExist" => match crate::path::parent(&top) {
                    Some(p) if p.matches('/').count() >= 2 => missing.push(p.to_string()),
                    _ => return Err(e),
                },
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// mkdir, once more on `ConcurrentRequest` (as node-manta's mkdirp).
    async fn mkdir_retry(&self, path: &str, headers: &[(String, String)]) -> Result<()> {
        match self.mkdir(path, headers).await {
            Err(e) if e.code() == "ConcurrentRequest" => self.mkdir(path, headers).await,
            other => other,
        }
    }

    /// Deletes an empty directory; refuses objects.
    ///
    /// # Errors
    /// `ResourceNotFound`, `DirectoryNotEmpty`, `InvalidDirectory` for an
    /// object.
    pub async fn rmdir(&self, path: &str) -> Result<()> {
        let info = self.info(path).await?;
        if !info.is_dir() {
            return Err(Error::Manta {
                status: 400,
                code: "InvalidDirectory".into(),
                message: format!("{path} is not a directory"),
            });
        }
        self.delete(path, None).await
    }
}
