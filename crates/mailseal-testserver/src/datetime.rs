//! The registry's `UTCDateTime`: written as `YYYY-MM-DDTHH:MM:SSZ`, read from RFC 3339
//! with any offset and optional fractions.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// The error text Stalwart gives for a date it cannot read.
pub const PARSE_ERROR: &str = "Failed to parse UTCDateTime from string";

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format(unix: i64) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

/// Reads an RFC 3339 date-time into Unix seconds (fractions are dropped).
pub fn parse(text: &str) -> Option<i64> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_offsets() {
        let t = parse("2027-02-20T05:43:41Z").expect("valid");
        assert_eq!(format(t), "2027-02-20T05:43:41Z");
        assert_eq!(parse("2027-02-20T06:43:41.5+01:00"), Some(t));
        assert_eq!(parse("tomorrow"), None);
    }
}
