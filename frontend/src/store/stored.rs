//! Where an object's bytes are: nowhere (an empty object) or one blob with
//! its copies. One rule for every API: a record has a blob exactly when it
//! has bytes. On disk it is the `{blob, size, sharks}` triple records have
//! always carried; reading it is the one place that triple is checked.

use super::ids::{BlobHash, NodeId};
use serde::{Deserialize, Serialize};

/// One blob and the nodes holding a copy of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlobRef {
    pub(crate) hash: BlobHash,
    /// Never zero: empty content has no blob.
    pub(crate) size: u64,
    pub(crate) copies: Vec<NodeId>,
    /// Copies it should have, when a degraded write made fewer (repair
    /// brings it up); `None`: as many as `copies`.
    pub(crate) want: Option<u32>,
}

impl BlobRef {
    /// Copies this blob should have.
    pub(crate) fn wanted(&self) -> usize {
        self.want
            .map_or(self.copies.len(), |w| (w as usize).max(self.copies.len()))
    }
}

/// The bytes of an object, or of one part of a multipart object.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(try_from = "RawStored", into = "RawStored")]
pub(crate) enum Stored {
    #[default]
    Empty,
    Blob(BlobRef),
}

impl Stored {
    pub(crate) fn size(&self) -> u64 {
        match self {
            Stored::Empty => 0,
            Stored::Blob(b) => b.size,
        }
    }

    pub(crate) fn blob(&self) -> Option<&BlobRef> {
        match self {
            Stored::Empty => None,
            Stored::Blob(b) => Some(b),
        }
    }

    /// Copies held (`durability-level`); an empty object has none.
    pub(crate) fn copies(&self) -> &[NodeId] {
        self.blob().map_or(&[], |b| &b.copies)
    }
}

/// The stored form.
#[derive(Serialize, Deserialize)]
struct RawStored {
    #[serde(default)]
    blob: Option<String>,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    sharks: Vec<NodeId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    want: Option<u32>,
}

impl TryFrom<RawStored> for Stored {
    type Error = String;

    fn try_from(r: RawStored) -> Result<Self, String> {
        // Older Manta records of empty objects name the empty blob; the
        // bytes are the same either way.
        if r.size == 0 {
            return Ok(Stored::Empty);
        }
        let hex = r
            .blob
            .ok_or_else(|| format!("record of {} bytes names no blob", r.size))?;
        let hash = BlobHash::from_hex(&hex).ok_or_else(|| format!("bad blob hash {hex:?}"))?;
        Ok(Stored::Blob(BlobRef {
            hash,
            size: r.size,
            copies: r.sharks,
            want: r.want,
        }))
    }
}

impl From<Stored> for RawStored {
    fn from(s: Stored) -> Self {
        match s {
            Stored::Empty => RawStored {
                blob: None,
                size: 0,
                sharks: Vec::new(),
                want: None,
            },
            Stored::Blob(b) => RawStored {
                blob: Some(b.hash.to_hex()),
                size: b.size,
                sharks: b.copies,
                want: b.want,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_every_stored_form() {
        let hash = BlobHash::of(b"x").to_hex();
        let blob: Stored =
            serde_json::from_value(json!({"blob": hash, "size": 1, "sharks": ["n1"]})).unwrap();
        assert_eq!(blob.size(), 1);
        assert_eq!(blob.copies(), &[NodeId("n1".into())]);
        assert_eq!(serde_json::to_value(&blob).unwrap()["blob"], json!(hash));
        let old_empty: Stored =
            serde_json::from_value(json!({"blob": hash, "size": 0, "sharks": ["n1"]})).unwrap();
        assert_eq!(old_empty, Stored::Empty);
        let empty: Stored = serde_json::from_value(json!({"blob": null, "size": 0})).unwrap();
        assert_eq!(empty, Stored::Empty);
    }

    #[test]
    fn refuses_bytes_without_a_blob() {
        assert!(serde_json::from_value::<Stored>(json!({"size": 3, "sharks": []})).is_err());
        assert!(serde_json::from_value::<Stored>(json!({"blob": "zz", "size": 3})).is_err());
    }
}
