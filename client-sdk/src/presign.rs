//! Signed URLs (msign), as smartdc-auth's `signUrl` makes them and muskie
//! checks them: `METHODS\nhost\npath\nquery` signed with the client's key.
//! [`canonical_query`] and [`string_to_sign`] are what the frontend
//! rebuilds to verify, so there is one definition of the signed form.

use crate::client::Client;
use crate::error::{Error, Result};
use crate::path::rfc3986;
use crate::sign::Signer;

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

impl SignUrlOptions {
    /// `methods` until `expires` (seconds since the epoch), no roles.
    pub fn new(methods: &[&str], expires: u64) -> SignUrlOptions {
        SignUrlOptions {
            methods: methods.iter().map(|m| m.to_string()).collect(),
            expires,
            role: None,
            role_tag: None,
        }
    }
}

/// `host[:port]` of a URL, as node's `url.parse(u).host`.
pub fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

/// Every pair but `signature`, sorted by key as JS `localeCompare` sorts
/// these ASCII names (case-insensitively first), `rfc3986(k)=rfc3986(v)`
/// joined with `&`. Pairs are decoded.
pub fn canonical_query(pairs: &[(String, String)]) -> String {
    let mut kept: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| k != "signature").collect();
    kept.sort_by(|a, b| (a.0.to_ascii_lowercase(), &a.0).cmp(&(b.0.to_ascii_lowercase(), &b.0)));
    kept.iter()
        .map(|(k, v)| format!("{}={}", rfc3986(k), rfc3986(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The signed line: `methods` (sorted, `,`-joined), the `Host` header, the
/// path as sent (percent-encoded) and [`canonical_query`]'s output.
pub fn string_to_sign(methods: &str, host: &str, path: &str, canonical_query: &str) -> String {
    format!("{methods}\n{host}\n{path}\n{canonical_query}")
}

impl Signer {
    /// A signed URL path and query, as `msign` prints it after
    /// `$MANTA_URL`: `host` is `host[:port]`, `path` is already
    /// percent-encoded, `key_id` is [`Signer::key_id`]'s.
    ///
    /// # Errors
    /// As [`Signer::sign`].
    pub fn sign_url(
        &self,
        host: &str,
        path: &str,
        key_id: &str,
        opts: &SignUrlOptions,
    ) -> Result<String> {
        let mut methods = if opts.methods.is_empty() {
            vec!["GET".to_string()]
        } else {
            opts.methods.clone()
        };
        methods.sort();
        let method = methods.join(",");
        let mut q: Vec<(String, String)> = vec![
            ("expires".into(), opts.expires.to_string()),
            ("keyId".into(), key_id.to_string()),
            ("algorithm".into(), self.algorithm().to_uppercase()),
        ];
        if let Some(r) = &opts.role {
            q.push(("role".into(), r.clone()));
        }
        if let Some(r) = &opts.role_tag {
            q.push(("role-tag".into(), r.clone()));
        }
        if methods.len() > 1 {
            q.push(("method".into(), method.clone()));
        }
        let query = canonical_query(&q);
        let sig = self.sign(string_to_sign(&method, host, path, &query).as_bytes())?;
        Ok(format!("{path}?{query}&signature={}", rfc3986(&sig)))
    }
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
        let key_id = self.key_id().unwrap_or_default();
        let path = crate::path::encode(&self.resolve(path)?);
        signer.sign_url(url_host(self.url()), &path, key_id, opts)
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

    #[test]
    fn query_sorted_case_insensitively_without_signature() {
        let pairs: Vec<(String, String)> = [
            ("signature", "x"),
            ("method", "GET,HEAD"),
            ("keyId", "/a/keys/b:c"),
            ("expires", "1"),
            ("algorithm", "RSA-SHA256"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            canonical_query(&pairs),
            "algorithm=RSA-SHA256&expires=1&keyId=%2Fa%2Fkeys%2Fb%3Ac&method=GET%2CHEAD"
        );
    }
}
