//! Conditional request headers (`If-Match`, `If-None-Match`,
//! `If-Modified-Since`, `If-Unmodified-Since`) evaluated as restify does, with
//! one deliberate difference: `If-None-Match: *` matches only an existing
//! entry (RFC 7232), so it works as "create only".

use axum::http::HeaderMap;
use std::time::SystemTime;

#[derive(Debug, Default, Clone)]
pub(crate) struct Conditions {
    if_match: Option<Vec<String>>,
    if_none_match: Option<Vec<String>>,
    if_modified_since: Option<SystemTime>,
    if_unmodified_since: Option<SystemTime>,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Proceed,
    NotModified,
    PreconditionFailed,
}

/// The current state of the entry a request is conditional on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Current<'a> {
    pub(crate) etag: &'a str,
    pub(crate) mtime_ms: u64,
}

fn etag_list(headers: &HeaderMap, name: &str) -> Option<Vec<String>> {
    let v = headers.get(name)?.to_str().ok()?;
    Some(
        v.split(',')
            .map(|s| {
                s.trim()
                    .trim_start_matches("W/")
                    .trim_matches('"')
                    .to_string()
            })
            .filter(|s| !s.is_empty())
            .collect(),
    )
}

fn date(headers: &HeaderMap, name: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(headers.get(name)?.to_str().ok()?).ok()
}

impl Conditions {
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        Conditions {
            if_match: etag_list(headers, "if-match"),
            if_none_match: etag_list(headers, "if-none-match"),
            if_modified_since: date(headers, "if-modified-since"),
            if_unmodified_since: date(headers, "if-unmodified-since"),
        }
    }

    /// Whether any condition was sent: a write that carries one must be
    /// applied atomically against the entry it was checked on.
    pub(crate) fn any(&self) -> bool {
        self.if_match.is_some()
            || self.if_none_match.is_some()
            || self.if_modified_since.is_some()
            || self.if_unmodified_since.is_some()
    }

    /// Evaluates the conditions; `read` is true for GET and HEAD.
    pub(crate) fn check(&self, current: Option<Current<'_>>, read: bool) -> Outcome {
        let mtime = current.map(|c| crate::time::system_time(c.mtime_ms - c.mtime_ms % 1000));
        if let Some(list) = &self.if_match {
            let ok = match current {
                Some(c) => list.iter().any(|e| e == "*" || e == c.etag),
                None => false,
            };
            if !ok {
                return Outcome::PreconditionFailed;
            }
        }
        if let (Some(since), Some(m)) = (self.if_unmodified_since, mtime) {
            if m > since {
                return Outcome::PreconditionFailed;
            }
        }
        let failed = if read {
            Outcome::NotModified
        } else {
            Outcome::PreconditionFailed
        };
        if let (Some(list), Some(c)) = (&self.if_none_match, current) {
            if list.iter().any(|e| e == "*" || e == c.etag) {
                return failed;
            }
        }
        if let (Some(since), Some(m)) = (self.if_modified_since, mtime) {
            if m <= since && self.if_none_match.is_none() {
                return failed;
            }
        }
        Outcome::Proceed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn conds(pairs: &[(&'static str, &str)]) -> Conditions {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        Conditions::from_headers(&h)
    }

    const CUR: Current<'static> = Current {
        etag: "abc",
        mtime_ms: 1_000_000,
    };

    #[test]
    fn if_match() {
        assert_eq!(
            conds(&[("if-match", "\"abc\"")]).check(Some(CUR), false),
            Outcome::Proceed
        );
        assert_eq!(
            conds(&[("if-match", "x, y")]).check(Some(CUR), false),
            Outcome::PreconditionFailed
        );
        assert_eq!(
            conds(&[("if-match", "*")]).check(None, false),
            Outcome::PreconditionFailed
        );
    }

    #[test]
    fn if_none_match() {
        assert_eq!(
            conds(&[("if-none-match", "*")]).check(None, false),
            Outcome::Proceed
        );
        assert_eq!(
            conds(&[("if-none-match", "*")]).check(Some(CUR), false),
            Outcome::PreconditionFailed
        );
        assert_eq!(
            conds(&[("if-none-match", "abc")]).check(Some(CUR), true),
            Outcome::NotModified
        );
    }

    #[test]
    fn dates() {
        let later = crate::time::http_date(2_000_000);
        let earlier = crate::time::http_date(10_000);
        assert_eq!(
            conds(&[("if-modified-since", &later)]).check(Some(CUR), true),
            Outcome::NotModified
        );
        assert_eq!(
            conds(&[("if-modified-since", &earlier)]).check(Some(CUR), true),
            Outcome::Proceed
        );
        assert_eq!(
            conds(&[("if-unmodified-since", &earlier)]).check(Some(CUR), false),
            Outcome::PreconditionFailed
        );
    }
}
