//! Records to and from the metadata tier's JSON values: the one place any
//! record (a Manta entry, an S3 key, a bucket) is encoded or decoded, so an
//! undecodable record is reported the same way whichever API meets it.

use super::error::{Error, Result};
use metadata_tier::wire::Entry;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The record in `entry`; `name` is how the error names it.
///
/// # Errors
/// `Internal` for a value that is not such a record.
pub(crate) fn decode<T: DeserializeOwned>(entry: &Entry, name: &str) -> Result<T> {
    serde_json::from_value(entry.value.clone())
        .map_err(|e| Error::Internal(format!("record of {name}: {e}")))
}

/// `rec` as the value a metadata write carries.
///
/// # Errors
/// `Internal` if it does not serialize (it always does for our records).
pub(crate) fn encode<T: Serialize>(rec: &T) -> Result<serde_json::Value> {
    serde_json::to_value(rec).map_err(|e| Error::Internal(format!("encode record: {e}")))
}
