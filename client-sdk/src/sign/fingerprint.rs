//! Key fingerprints in the two forms `MANTA_KEY_ID` may take. The frontend
//! computes the fingerprints it stores (and looks keyIds up by) with these
//! same functions.

use crate::error::{Error, Result};
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine;
use md5::{Digest, Md5};

/// A fingerprint to match keys against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fingerprint {
    /// `aa:bb:...` lowercase.
    Md5(String),
    /// Unpadded base64 of the SHA-256, without the `SHA256:` prefix.
    Sha256(String),
}

impl Fingerprint {
    /// Parses `aa:bb:…`, `MD5:aa:bb:…` or `SHA256:…`.
    ///
    /// # Errors
    /// `Key` for anything else.
    pub fn parse(s: &str) -> Result<Fingerprint> {
        if let Some(rest) = s.strip_prefix("SHA256:") {
            return Ok(Fingerprint::Sha256(rest.trim_end_matches('=').to_string()));
        }
        let md5 = s.strip_prefix("MD5:").unwrap_or(s).to_ascii_lowercase();
        let ok = md5.split(':').count() == 16
            && md5
                .split(':')
                .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()));
        if ok {
            Ok(Fingerprint::Md5(md5))
        } else {
            Err(Error::Key(format!("invalid key fingerprint {s:?}")))
        }
    }

    /// Whether the public key blob (SSH wire encoding) has this fingerprint.
    pub fn matches(&self, blob: &[u8]) -> bool {
        match self {
            Fingerprint::Md5(f) => *f == md5_fingerprint(blob),
            Fingerprint::Sha256(f) => *f == sha256_fingerprint(blob),
        }
    }
}

/// `aa:bb:…` MD5 of a public key blob.
pub fn md5_fingerprint(blob: &[u8]) -> String {
    Md5::digest(blob)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Unpadded base64 SHA-256 of a public key blob (no `SHA256:` prefix).
pub fn sha256_fingerprint(blob: &[u8]) -> String {
    B64.encode(sha2::Sha256::digest(blob))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms() {
        let md5 = "AA:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99";
        assert!(matches!(Fingerprint::parse(md5), Ok(Fingerprint::Md5(_))));
        assert!(matches!(
            Fingerprint::parse(&format!("MD5:{md5}")),
            Ok(Fingerprint::Md5(_))
        ));
        assert_eq!(
            Fingerprint::parse("SHA256:abc").ok(),
            Some(Fingerprint::Sha256("abc".into()))
        );
        assert!(Fingerprint::parse("nope").is_err());
    }

    /// The `ssh-key` crate's example keys: SHA-256 as its test suite
    /// publishes them, MD5 as OpenSSH's `ssh-keygen -l -E md5` prints them.
    #[test]
    fn known_fingerprints() {
        use base64::engine::general_purpose::STANDARD;
        let cases = [
            (
                "AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti",
                "ae:6f:ba:1b:70:2c:ae:c7:5c:ab:6e:4d:5e:d4:c7:23",
                "UCUiLr7Pjs9wFFJMDByLgc3NrtdU344OgUM45wZPcIQ",
            ),
            (
                "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHwf2HMM5TRXvo2SQJjsNkiDD5KqiiNjrGVv3UUh+mMT5RHxiRtOnlqvjhQtBq0VpmpCV/PwUdhOig4vkbqAcEc=",
                "02:24:b6:70:00:71:04:22:6e:84:c2:87:fa:cc:1c:ff",
                "JQ6FV0rf7qqJHZqIj4zNH8eV0oB8KLKh9Pph3FTD98g",
            ),
        ];
        for (b64, md5, sha256) in cases {
            let blob = STANDARD.decode(b64).unwrap();
            assert_eq!(md5_fingerprint(&blob), md5);
            assert_eq!(sha256_fingerprint(&blob), sha256);
            assert!(Fingerprint::parse(&format!("SHA256:{sha256}"))
                .unwrap()
                .matches(&blob));
            assert!(Fingerprint::parse(md5).unwrap().matches(&blob));
        }
    }
}
