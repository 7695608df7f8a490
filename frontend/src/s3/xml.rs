//! The little XML S3 needs: a writer for responses and a reader for the two
//! request bodies with structure (CompleteMultipartUpload, DeleteObjects).
//! Both are small and strict enough by hand; see docs/s3.md.

use super::error::{S3Error, S3Result};
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;

pub(crate) const NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// An XML document being written.
pub(crate) struct Xml(String);

impl Xml {
    pub(crate) fn doc() -> Xml {
        Xml(String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"))
    }

    /// Opens the root element with the S3 namespace.
    pub(crate) fn root(&mut self, name: &str) {
        self.0.push_str(&format!("<{name} xmlns=\"{NS}\">"));
    }

    /// A root element holding only text.
    pub(crate) fn root_text(&mut self, name: &str, text: &str) {
        self.root(name);
        escape_into(&mut self.0, text);
        self.close(name);
    }

    pub(crate) fn open(&mut self, name: &str) {
        self.0.push('<');
        self.0.push_str(name);
        self.0.push('>');
    }

    /// Opens an element with attributes written as given (trusted text).
    pub(crate) fn open_attrs(&mut self, name: &str, attrs: &str) {
        self.0.push_str(&format!("<{name} {attrs}>"));
    }

    pub(crate) fn close(&mut self, name: &str) {
        self.0.push_str("</");
        self.0.push_str(name);
        self.0.push('>');
    }

    pub(crate) fn elem(&mut self, name: &str, text: &str) {
        self.open(name);
        escape_into(&mut self.0, text);
        self.close(name);
    }

    pub(crate) fn finish(self) -> String {
        self.0
    }

    /// A 200 response carrying this document.
    pub(crate) fn response(self) -> Response {
        let mut resp = Response::new(Body::from(self.0));
        *resp.status_mut() = StatusCode::OK;
        resp.headers_mut()
            .insert("content-type", HeaderValue::from_static("application/xml"));
        resp
    }
}

pub(crate) fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML readers turn a raw CR into LF (end-of-line handling), so
            // a key holding one would come back changed.
            '\r' => out.push_str("&#xD;"),
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' && c != '\r' => {
                out.push_str(&format!("&#x{:X};", c as u32))
            }
            c => out.push(c),
        }
    }
}

/// Decodes the five named entities and numeric references.
///
/// # Errors
/// `MalformedXml` for an unknown or unterminated reference.
pub(crate) fn unescape(s: &str) -> S3Result<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(';').ok_or(S3Error::MalformedXml)? + i;
        let ent = &rest[i + 1..end];
        let c = match ent {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let n = if let Some(h) = ent.strip_prefix("#x").or(ent.strip_prefix("#X")) {
                    u32::from_str_radix(h, 16).ok()
                } else {
                    ent.strip_prefix('#').and_then(|d| d.parse().ok())
                };
                n.and_then(char::from_u32).ok_or(S3Error::MalformedXml)?
            }
        };
        out.push(c);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The raw contents of each `<tag>...</tag>` (or `<tag attr..>`) in `doc`,
/// in order; nested elements of other names stay inside the contents.
pub(crate) fn elements<'a>(doc: &'a str, tag: &str) -> S3Result<Vec<&'a str>> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = doc;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let gt = after.find('>').ok_or(S3Error::MalformedXml)?;
        let attrs = &after[..gt];
        if !(attrs.is_empty() || attrs.starts_with(char::is_whitespace) || attrs == "/") {
            // A longer tag name sharing the prefix (`<Parts` vs `<Part`).
            rest = &after[gt..];
            continue;
        }
        if attrs.ends_with('/') {
            out.push("");
            rest = &after[gt + 1..];
            continue;
        }
        let body = &after[gt + 1..];
        let end = body.find(&close).ok_or(S3Error::MalformedXml)?;
        out.push(&body[..end]);
        rest = &body[end + close.len()..];
    }
    Ok(out)
}

/// The text of the first `<tag>` in `doc`, unescaped.
///
/// # Errors
/// `MalformedXml`.
pub(crate) fn text(doc: &str, tag: &str) -> S3Result<Option<String>> {
    match elements(doc, tag)?.first() {
        // Whitespace in an element's text is part of it (a key may begin
        // with a newline); only XML's end-of-line rule applies: raw CRLF
        // and CR read as LF. A CR sent as `&#xD;` stays a CR.
        Some(t) => Ok(Some(unescape(
            &t.replace("\r\n", "\n").replace('\r', "\n"),
        )?)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut x = Xml::doc();
        x.elem("Key", "a<b&c\"'\u{1}");
        let s = x.finish();
        assert!(s.ends_with("<Key>a&lt;b&amp;c&quot;&apos;&#x1;</Key>"));
        let v = text(&s, "Key").unwrap().unwrap();
        assert_eq!(v, "a<b&c\"'\u{1}");
    }

    #[test]
    fn parts() {
        let doc = "<CompleteMultipartUpload xmlns=\"x\"><Part><ETag>\"a\"</ETag>\
                   <PartNumber>1</PartNumber></Part><Part><PartNumber>2</PartNumber>\
                   <ETag>b</ETag></Part></CompleteMultipartUpload>";
        let parts = elements(doc, "Part").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(text(parts[1], "PartNumber").unwrap().unwrap(), "2");
        assert!(elements("<Part>", "Part").is_err());
        assert!(unescape("&bogus;").is_err());
        assert_eq!(elements("<Quiet/>", "Quiet").unwrap(), vec![""]);
    }
}
