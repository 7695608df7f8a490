//! Time formats of the Manta API.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub(crate) fn system_time(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// ISO-8601 UTC with milliseconds, as listings show `mtime`.
pub fn iso8601(ms: u64) -> String {
    client_sdk::types::iso8601_ms(ms)
}

/// Milliseconds since the epoch of an ISO-8601 (RFC 3339) time, as a
/// listing by mtime takes its marker; `None` if it is not one.
pub(crate) fn parse_iso8601(s: &str) -> Option<u64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    u64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// RFC 7231 date, as `Last-Modified` carries it.
pub(crate) fn http_date(ms: u64) -> String {
    httpdate::fmt_http_date(system_time(ms))
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso() {
        assert_eq!(
            super::iso8601(1_369_244_383_714),
            "2013-05-22T17:39:43.714Z"
        );
        assert_eq!(super::http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            super::parse_iso8601("2013-05-22T17:39:43.714Z"),
            Some(1_369_244_383_714)
        );
        assert_eq!(super::parse_iso8601("yesterday"), None);
    }
}
