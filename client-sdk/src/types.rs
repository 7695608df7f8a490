//! Wire types of the Manta API, shared by the frontend (which writes them) and
//! clients (which read them), so the two cannot drift.

use serde::{Deserialize, Serialize};

/// Content type of a directory listing body (one JSON object per line).
pub const DIRECTORY_LISTING_TYPE: &str = "application/x-json-stream; type=directory";
/// Content type that makes a `PUT` create a directory.
pub const DIRECTORY_CONTENT_TYPE: &str = "application/json; type=directory";
/// Content type that makes a `PUT` create a snaplink.
pub const LINK_CONTENT_TYPE: &str = "application/json; type=link";
/// Header carrying the BLAKE3 of a whole object's bytes (64 lowercase hex,
/// what `b3sum` prints) on a `GET` or `HEAD` answered 200. Not on a 206: a
/// range carries no proof a client could check.
pub const CONTENT_BLAKE3: &str = "x-content-blake3";

/// Kind of a directory entry.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum EntryType {
    Object,
    Directory,
}

/// One line of a directory listing, as Manta writes it (`lib/common.js readdir`).
/// Fields that do not apply to the entry's type are left out.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct DirEntry {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(rename = "type")]
    pub kind: EntryType,
    #[serde(rename = "contentType", skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(rename = "contentMD5", skip_serializing_if = "Option::is_none")]
    pub content_md5: Option<String>,
    /// ISO-8601 UTC with milliseconds, e.g. `2013-05-22T17:39:43.714Z`.
    pub mtime: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub durability: Option<u32>,
}

/// The JSON body of every Manta error response.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

/// A time as Manta writes it in listings (`mtime`) and job objects
/// (`timeCreated`...): ISO-8601 UTC with milliseconds, e.g.
/// `2013-05-22T17:39:43.714Z`. One formatter for the server and clients.
pub fn iso8601_ms(ms_since_epoch: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms_since_epoch) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_entry_uses_manta_field_names() {
        let e = DirEntry {
            name: "a".into(),
            etag: Some("e".into()),
            size: Some(3),
            kind: EntryType::Object,
            content_type: Some("text/plain".into()),
            content_md5: Some("x".into()),
            mtime: "2013-05-22T17:39:43.714Z".into(),
            durability: Some(2),
        };
        let s = serde_json::to_string(&e).unwrap_or_default();
        assert_eq!(
            s,
            r#"{"name":"a","etag":"e","size":3,"type":"object","contentType":"text/plain","contentMD5":"x","mtime":"2013-05-22T17:39:43.714Z","durability":2}"#
        );
    }

    #[test]
    fn directory_entry_omits_object_fields() {
        let e = DirEntry {
            name: "d".into(),
            etag: None,
            size: None,
            kind: EntryType::Directory,
            content_type: None,
            content_md5: None,
            mtime: "2013-05-22T17:39:43.714Z".into(),
            durability: None,
        };
        let s = serde_json::to_string(&e).unwrap_or_default();
        assert_eq!(
            s,
            r#"{"name":"d","type":"directory","mtime":"2013-05-22T17:39:43.714Z"}"#
        );
    }
}
