//! The clock: what time it is, in the two forms glctl records and compares (RFC 3339 UTC for people and
//! saved records, seconds since the epoch for arithmetic). A foundation module: it imports nothing of glctl's.

mod civil;
pub use civil::civil_date;

/// Now as RFC 3339 UTC, and as seconds since the epoch.
pub fn now() -> (String, i64) {
    let now = aws_smithy_types::DateTime::from(std::time::SystemTime::now());
    (now.fmt(aws_smithy_types::date_time::Format::DateTime).unwrap_or_default(), now.secs())
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_forms_name_the_same_second() {
        let (at, secs) = super::now();
        let parsed = aws_smithy_types::DateTime::from_str(&at, aws_smithy_types::date_time::Format::DateTime).unwrap();
        assert_eq!(parsed.secs(), secs);
        assert!(at.ends_with('Z'), "UTC: {at}");
    }
}
