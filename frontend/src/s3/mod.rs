//! The S3-compatible API on its own port: buckets (flat keyspaces spread
//! over the metadata shards), objects on the same blobs and storage nodes as
//! the Manta API, listings merged from a bucket's partitions, multipart
//! uploads whose completion moves no bytes, and S3 XML errors.
//!
//! - [`server`] serves it (request ids, path- and virtual-hosted-style);
//! - [`auth`] attributes a request to an account;
//! - [`buckets`], [`objects`], [`read`], [`attributes`], [`copy`],
//!   [`list`], [`multipart`] are the operations; [`store`] and [`records`]
//!   what they keep; [`checksum`], [`checksum_body`] and [`crc_combine`]
//!   the `x-amz-checksum-*` values;
//! - [`error`] maps every failure to its S3 code, [`xml`] writes and reads
//!   the bodies.
//!
//! Buckets are not visible through the Manta API: docs/s3.md.

pub(crate) mod access;
pub(crate) mod acl;
pub(crate) mod attributes;
pub(crate) mod auth;
pub(crate) mod buckets;
pub(crate) mod checksum;
pub(crate) mod checksum_body;
pub(crate) mod copy;
pub(crate) mod crc_combine;
pub mod error;
pub(crate) mod list;
pub(crate) mod merge;
pub(crate) mod multipart;
pub(crate) mod objects;
pub(crate) mod part_checksums;
pub(crate) mod read;
pub(crate) mod records;
pub(crate) mod server;
pub(crate) mod store;
pub(crate) mod uploads;
pub(crate) mod xml;
#[cfg(test)]
mod xml_prop;

use crate::records::AccountRecord;
use crate::state::AppState;
use axum::body::Body;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
pub use error::S3Error;
pub(crate) use error::S3Result;
use std::collections::HashMap;
use std::sync::Arc;

/// Settings of the S3 API.
#[derive(Debug, Clone)]
pub struct S3Config {
    /// Virtual-hosted-style base: `<bucket>.<domain>[:port]` names a bucket.
    pub(crate) domain: String,
    /// What GetBucketLocation answers.
    pub region: String,
}

impl Default for S3Config {
    fn default() -> Self {
        S3Config {
            domain: "localhost".into(),
            region: "us-east-1".into(),
        }
    }
}

#[derive(Clone)]
pub(crate) struct S3State {
    pub(crate) app: AppState,
    pub cfg: Arc<S3Config>,
}

impl S3State {
    pub fn new(app: AppState, cfg: S3Config) -> Self {
        S3State {
            app,
            cfg: Arc::new(cfg),
        }
    }
}

/// One authenticated S3 request.
pub(crate) struct S3Req {
    pub st: S3State,
    pub method: Method,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
    /// Who signed the request; `None` for an anonymous one, which only
    /// ACLs let through (see [`acl`]).
    pub account: Option<AccountRecord>,
    pub(crate) request_id: String,
    /// The trailers of an `aws-chunked` body, once it has been read.
    pub(crate) trailers: checksum_body::Trailers,
}

impl S3Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn q(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    pub fn has(&self, name: &str) -> bool {
        self.query.contains_key(name)
    }

    /// The account of a signed request.
    ///
    /// # Errors
    /// `AccessDenied` for an anonymous one.
    pub(crate) fn account(&self) -> S3Result<&AccountRecord> {
        self.account
            .as_ref()
            .ok_or_else(|| S3Error::AccessDenied("anonymous requests are not allowed".into()))
    }

    /// The bucket named by the request (routing guarantees one).
    pub(crate) fn bucket_name(&self) -> S3Result<&str> {
        self.bucket
            .as_deref()
            .ok_or_else(|| S3Error::InvalidRequest("no bucket in request".into()))
    }

    pub(crate) fn key_name(&self) -> S3Result<&str> {
        self.key
            .as_deref()
            .ok_or_else(|| S3Error::InvalidRequest("no key in request".into()))
    }
}

/// Subresources we do not serve; asked for, they answer `NotImplemented`
/// rather than being mistaken for the plain operation.
const UNSUPPORTED: [&str; 13] = [
    "policy",
    "tagging",
    "versioning",
    "versions",
    "cors",
    "lifecycle",
    "website",
    "logging",
    "notification",
    "replication",
    "encryption",
    "object-lock",
    "retention",
];

/// Routes an authenticated request to its operation.
pub(crate) async fn route(req: S3Req, body: Body) -> S3Result<Response> {
    if let Some(sub) = UNSUPPORTED.iter().find(|s| req.has(s)) {
        return Err(S3Error::NotImplemented(format!("?{sub}")));
    }
    let m = req.method.clone();
    match (&req.bucket, &req.key) {
        (None, _) if m == Method::GET => buckets::list(&req).await,
        (None, _) => Err(S3Error::MethodNotAllowed),
        (Some(_), None) => bucket_op(&req, m, body).await,
        (Some(_), Some(_)) => object_op(&req, m, body).await,
    }
}

async fn bucket_op(req: &S3Req, m: Method, body: Body) -> S3Result<Response> {
    match m {
        Method::PUT if req.has("acl") => acl::put_bucket_acl(req, body).await,
        Method::GET if req.has("acl") => acl::get_bucket_acl(req).await,
        Method::PUT => buckets::create(req, body).await,
        Method::HEAD => buckets::head(req).await,
        Method::DELETE => buckets::delete(req).await,
        Method::GET if req.has("location") => buckets::location(req).await,
        Method::GET if req.has("uploads") => multipart::list_uploads(req).await,
        Method::GET if req.q("list-type") == Some("2") => list::list_v2(req).await,
        Method::GET => list::list_v1(req).await,
        Method::POST if req.has("delete") => copy::delete_objects(req, body).await,
        _ => Err(S3Error::MethodNotAllowed),
    }
}

async fn object_op(req: &S3Req, m: Method, body: Body) -> S3Result<Response> {
    let copy = req.headers.contains_key("x-amz-copy-source");
    let part = req.has("uploadId") && req.has("partNumber");
    match m {
        Method::PUT if req.has("acl") => acl::put_object_acl(req, body).await,
        Method::GET if req.has("acl") => acl::get_object_acl(req).await,
        Method::PUT if part && copy => copy::upload_part_copy(req).await,
        Method::PUT if part => multipart::upload_part(req, body).await,
        Method::PUT if copy => copy::copy_object(req).await,
        Method::PUT => objects::put(req, body).await,
        Method::GET if req.has("uploadId") => multipart::list_parts(req).await,
        Method::GET if req.has("attributes") => attributes::get(req).await,
        Method::GET | Method::HEAD => read::get(req).await,
        Method::DELETE if req.has("uploadId") => multipart::abort(req).await,
        Method::DELETE => objects::delete(req).await,
        Method::POST if req.has("uploads") => multipart::create(req).await,
        Method::POST if req.has("uploadId") => multipart::complete(req, body).await,
        _ => Err(S3Error::MethodNotAllowed),
    }
}
