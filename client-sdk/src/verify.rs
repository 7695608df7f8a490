//! Checking a downloaded body against its `Content-Length` and
//! `Content-MD5`, as node-manta does after a full `GET`.

use crate::error::{Error, Result};
use crate::info::ObjectInfo;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use md5::{Digest, Md5};

/// Accumulates a body and checks it at the end.
pub struct Verifier {
    md5: Option<(Md5, String)>,
    expected_len: Option<u64>,
    got: u64,
}

impl Verifier {
    /// A verifier for a response with these headers (a range response
    /// carries no `Content-MD5`, so only its length is checked).
    pub fn new(info: &ObjectInfo) -> Verifier {
        Verifier {
            md5: info.md5.clone().map(|m| (Md5::new(), m)),
            expected_len: info.size,
            got: 0,
        }
    }

    pub fn update(&mut self, chunk: &[u8]) {
        self.got += chunk.len() as u64;
        if let Some((h, _)) = &mut self.md5 {
            h.update(chunk);
        }
    }

    /// Bytes seen so far.
    pub fn received(&self) -> u64 {
        self.got
    }

    /// # Errors
    /// `Checksum` when the length or MD5 differ.
    pub fn finish(self, path: &str) -> Result<()> {
        if let Some(n) = self.expected_len {
            if n != self.got {
                return Err(Error::Checksum(format!(
                    "{path}: expected {n} bytes, received {}",
                    self.got
                )));
            }
        }
        if let Some((h, want)) = self.md5 {
            let got = B64.encode(h.finalize());
            if got != want {
                return Err(Error::Checksum(format!(
                    "{path}: Content-MD5 {want}, computed {got}"
                )));
            }
        }
        Ok(())
    }
}
