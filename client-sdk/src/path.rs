//! Manta path forms as node-manta reads them: `~~` means `/$MANTA_USER`,
//! `.`/`..` and repeated slashes are normalised, and each segment is
//! percent-encoded like JavaScript's `encodeURIComponent` on the wire.

use crate::error::{Error, Result};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What `encodeURIComponent` leaves alone: `A-Za-z0-9-_.!~*'()`.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// RFC 3986 unreserved only (`A-Za-z0-9-_.~`), as smartdc-auth's `rfc3986`
/// and AWS SigV4's `UriEncode` leave alone. The one definition client and
/// server share: signed URLs and SigV4 canonical strings both use it.
pub const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `s` with everything but RFC 3986 unreserved characters percent-encoded
/// (UTF-8, upper-case hex).
pub fn rfc3986(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

/// Expands `~~` and normalises; the result is absolute, without a trailing
/// slash (except `/`).
///
/// # Errors
/// `InvalidPath` when the path is not absolute.
pub fn resolve(p: &str, user: &str) -> Result<String> {
    let expanded = match p.strip_prefix("~~") {
        Some(rest) => format!("/{user}/{}", rest.trim_start_matches('/')),
        None => p.to_string(),
    };
    if !expanded.starts_with('/') {
        return Err(Error::InvalidPath(p.to_string()));
    }
    Ok(normalize(&expanded))
}

/// POSIX-style normalisation of an absolute path.
pub fn normalize(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

/// The path percent-encoded segment by segment, for the request line.
pub fn encode(p: &str) -> String {
    p.split('/')
        .map(|s| utf8_percent_encode(s, URI_COMPONENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// The parent directory (`None` for `/`).
pub fn parent(p: &str) -> Option<&str> {
    let i = p.rfind('/')?;
    if p.len() <= 1 {
        return None;
    }
    Some(if i == 0 { "/" } else { &p[..i] })
}

/// The last segment.
pub fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_expands_to_user() {
        assert_eq!(
            resolve("~~/stor/a/", "bob").ok(),
            Some("/bob/stor/a".into())
        );
        assert_eq!(resolve("~~", "bob").ok(), Some("/bob".into()));
    }

    #[test]
    fn relative_is_refused() {
        assert!(resolve("stor/a", "bob").is_err());
    }

    #[test]
    fn normalises_dots_and_slashes() {
        assert_eq!(normalize("/a//b/./c/../d/"), "/a/b/d");
    }

    #[test]
    fn encodes_like_encode_uri_component() {
        assert_eq!(encode("/a/b c/d(1)!&x"), "/a/b%20c/d(1)!%26x");
    }

    /// smartdc-auth's `rfc3986()`: `encodeURIComponent` plus `!'()*`.
    #[test]
    fn rfc3986_escapes_like_smartdc_auth() {
        assert_eq!(
            rfc3986("a-b_c.d~e!'()*/ "),
            "a-b_c.d~e%21%27%28%29%2A%2F%20"
        );
        assert_eq!(rfc3986("é"), "%C3%A9");
    }

    #[test]
    fn parents() {
        assert_eq!(parent("/a/b"), Some("/a"));
        assert_eq!(parent("/a"), Some("/"));
        assert_eq!(parent("/"), None);
        assert_eq!(basename("/a/b"), "b");
    }
}
