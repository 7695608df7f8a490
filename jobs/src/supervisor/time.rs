//! Job timestamps (`timeCreated`, `timeDone`...): ISO 8601 UTC with
//! milliseconds, as Manta writes them.

/// Now, as `2013-05-22T17:39:43.714Z`.
pub(crate) fn now() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    client_sdk::types::iso8601_ms(ms)
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso_with_millis() {
        let s = super::now();
        assert_eq!(s.len(), 24, "{s}");
        assert!(s.ends_with('Z') && s.as_bytes()[10] == b'T', "{s}");
    }
}
