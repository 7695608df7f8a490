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
    }
}
