//! [`ObjectInfo`]: what a `HEAD` (or the headers of a `GET`) says about an
//! object or directory.

use crate::types::{CONTENT_BLAKE3, DIRECTORY_LISTING_TYPE};
use reqwest::header::HeaderMap;

/// Metadata of an object or directory.
#[derive(Debug, Clone, Default)]
pub struct ObjectInfo {
    /// HTTP status of the response.
    pub status: u16,
    /// All response headers, lowercase names, in the order received.
    pub headers: Vec<(String, String)>,
    pub content_type: Option<String>,
    /// `Content-Length`: the object size (a directory's listing has none).
    pub size: Option<u64>,
    /// Base64 `Content-MD5`.
    pub md5: Option<String>,
    /// BLAKE3 of the whole object, hex (`x-content-blake3`; not on 206).
    pub content_blake3: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub durability: Option<u32>,
    /// `Result-Set-Size` of a directory.
    pub entries: Option<u64>,
}

impl ObjectInfo {
    /// Reads the headers of a response.
    pub fn from_headers(status: u16, h: &HeaderMap) -> ObjectInfo {
        let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
        ObjectInfo {
            status,
            headers: h
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).to_string(),
                    )
                })
                .collect(),
            content_type: get("content-type"),
            size: get("content-length").and_then(|v| v.parse().ok()),
            md5: get("content-md5"),
            content_blake3: get(CONTENT_BLAKE3),
            etag: get("etag"),
            last_modified: get("last-modified"),
            durability: get("durability-level").and_then(|v| v.parse().ok()),
            entries: get("result-set-size").and_then(|v| v.parse().ok()),
        }
    }

    /// True when this is a directory (its content type says so).
    pub fn is_dir(&self) -> bool {
        self.content_type.as_deref() == Some(DIRECTORY_LISTING_TYPE)
    }

    /// A header by lowercase name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}
