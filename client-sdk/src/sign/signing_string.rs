//! The string an HTTP Signature signs (draft-cavage, as joyent's
//! http-signature writes it for node-manta and parses it for muskie). The
//! client builds it to sign and the frontend rebuilds it to verify; one
//! definition keeps the two from drifting apart.

/// A header named in `headers="…"` that the request does not carry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signed header {0} is missing")]
pub struct MissingHeader(pub String);

/// The signing string: for each name in `names`, in order,
///
/// - `(request-target)`: `(request-target): <lower-case method> <target>`;
/// - `request-line`: `<METHOD> <target> HTTP/1.1`;
/// - any other (lower-case) header: `<name>: <value, trimmed>`;
///
/// joined with `\n`. `target` is the path and query as sent; `header`
/// looks a header's value up by its lower-case name.
///
/// # Errors
/// [`MissingHeader`] when `header` has no value for a listed header.
pub fn signing_string<'a, N: AsRef<str>>(
    names: &[N],
    method: &str,
    target: &str,
    header: impl Fn(&str) -> Option<&'a str>,
) -> Result<String, MissingHeader> {
    let mut lines = Vec::with_capacity(names.len());
    for name in names {
        let line = match name.as_ref() {
            "(request-target)" => {
                format!("(request-target): {} {target}", method.to_ascii_lowercase())
            }
            "request-line" => format!("{method} {target} HTTP/1.1"),
            name => {
                let value = header(name).ok_or_else(|| MissingHeader(name.to_string()))?;
                format!("{name}: {}", value.trim())
            }
        };
        lines.push(line);
    }
    Ok(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// draft-cavage-http-signatures, appendix C: the request every example
    /// signs (`POST /foo?param=value&pet=dog`, `Host: example.com`).
    fn draft_header(name: &str) -> Option<&'static str> {
        match name {
            "host" => Some("example.com"),
            "date" => Some("Sun, 05 Jan 2014 21:31:40 GMT"),
            "content-type" => Some("application/json"),
            "digest" => Some("SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="),
            "content-length" => Some("18"),
            _ => None,
        }
    }

    #[test]
    fn draft_cavage_examples() {
        let target = "/foo?param=value&pet=dog";
        // C.1 Default Test.
        assert_eq!(
            signing_string(&["date"], "POST", target, draft_header).ok(),
            Some("date: Sun, 05 Jan 2014 21:31:40 GMT".to_string())
        );
        // C.2 Basic Test.
        assert_eq!(
            signing_string(
                &["(request-target)", "host", "date"],
                "POST",
                target,
                draft_header
            )
            .ok(),
            Some(
                "(request-target): post /foo?param=value&pet=dog\nhost: example.com\n\
                 date: Sun, 05 Jan 2014 21:31:40 GMT"
                    .to_string()
            )
        );
        // C.3 All Headers Test.
        let all = [
            "(request-target)",
            "host",
            "date",
            "content-type",
            "digest",
            "content-length",
        ];
        assert_eq!(
            signing_string(&all, "POST", target, draft_header).ok(),
            Some(
                "(request-target): post /foo?param=value&pet=dog\nhost: example.com\n\
                 date: Sun, 05 Jan 2014 21:31:40 GMT\ncontent-type: application/json\n\
                 digest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=\n\
                 content-length: 18"
                    .to_string()
            )
        );
    }

    #[test]
    fn request_line_and_missing_headers() {
        assert_eq!(
            signing_string(&["request-line"], "GET", "/a?b=1", |_| None).ok(),
            Some("GET /a?b=1 HTTP/1.1".to_string())
        );
        assert_eq!(
            signing_string(&["date", "x-nope"], "GET", "/", draft_header),
            Err(MissingHeader("x-nope".into()))
        );
    }
}
