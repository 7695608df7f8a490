//! Signed URLs (msign), as smartdc-auth's `signUrl` makes them:
//! `METHODS\nhost\npath\nquery` signed with the client's key.

use crate::client::Client;
use crate::error::{Error, Result};
use crate::path::RFC3986;
use percent_encoding::utf8_percent_encode;

/// What to sign.
#[derive(Debug, Clone)]
pub struct SignUrlOptions {
    /// Allowed methods (default `GET`).
    pub methods: Vec<String>,
    /// Expiry, seconds since the epoch.
    pub expires: u64,
    pub role: Option<String>,
    pub role_tag: Option<String>,
}

fn rfc3986(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

/// `host[:port]` of a URL, as node's `url.parse(u).host`.
pub fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

impl Client {
    /// A presigned path-and-query (append it to [`Client::url`]).
    ///
    /// # Errors
    /// `Key` when the client has no signer; `InvalidPath`.
    pub fn sign_url(&self, path: &str, opts: &SignUrlOptions) -> Result<String> {
        let signer = self
            .signer()
            .ok_or_else(|| Error::Key("signing a URL needs a key".into()))?;
        let key_id = self.key_id().unwrap_or_default().to_string();
        let path = crate::path::encode(&self.resolve(path)?);
        let mut methods = if opts.methods.is_empty() {
            vec!["GET".to_string()]
        } else {
            opts.methods.clone()
        };
        methods.sort();
        let method = methods.join(",");
        let mut q: Vec<(&str, String)> = vec![
            ("expires", opts.expires.to_string()),
            ("keyId", key_id),
            ("algorithm", signer.algorithm().to_uppercase()),
        ];
        if let Some(r) = &opts.role {
            q.push(("role", r.clone()));
        }
        if let Some(r) = &opts.role_tag {
            q.push(("role-tag", r.clone()));
        }
        if methods.len() > 1 {
            q.push(("method", method.clone()));
        }
        q.sort_by_key(|(k, _)| k.to_lowercase());
        let query = q
            .iter()
            .map(|(k, v)| format!("{}={}", rfc3986(k), rfc3986(v)))
            .collect::<Vec<_>>()
            .join("&");
        let line = format!("{method}\n{}\n{path}\n{query}", url_host(self.url()));
        let sig = signer.sign(line.as_bytes())?;
        Ok(format!("{path}?{query}&signature={}", rfc3986(&sig)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_keeps_port() {
        assert_eq!(url_host("http://127.0.0.1:8080/"), "127.0.0.1:8080");
        assert_eq!(url_host("https://manta.example.com"), "manta.example.com");
    }
}
