//! Checked time conversions: RFC 3339 text and Unix seconds, for years 0000 to 9999.
//!
//! Every function returns an [`Error`] instead of panicking when a time cannot be shown:
//! [`InputError::TimeOutOfRange`] for a time outside the years RFC 3339 can write (before
//! `0000-01-01T00:00:00Z` or after `9999-12-31T23:59:59Z`), [`InputError::BadTime`] for text
//! that is not an RFC 3339 time. Times before 1970 are fine. Sub-second parts are dropped
//! (rounded down) when formatting and converting to seconds.
//!
//! ```
//! use mailseal_core::time;
//!
//! let t = time::parse_rfc3339("2027-01-31T02:00:00+02:00")?;
//! assert_eq!(time::format_rfc3339(t)?, "2027-01-31T00:00:00Z");
//! assert_eq!(time::to_unix_seconds(t)?, 1_801_353_600);
//! assert_eq!(time::from_unix_seconds(1_801_353_600)?, t);
//! assert_eq!(time::format_date(t)?, "2027-01-31");
//!
//! let err = time::from_unix_seconds(3_093_527_980_800).unwrap_err(); // the year 100000
//! assert_eq!(err.code(), "input.time_out_of_range");
//! # Ok::<(), mailseal_core::Error>(())
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ::time::OffsetDateTime;
use ::time::format_description::BorrowedFormatItem;
use ::time::format_description::well_known::Rfc3339;
use ::time::macros::format_description;

use crate::error::{Error, InputError};

/// `YYYY-MM-DDTHH:MM:SSZ`, always UTC and whole seconds.
const RFC3339_UTC: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// `YYYY-MM-DD`.
const DATE: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// `0000-01-01T00:00:00Z`, the earliest time RFC 3339 can write.
const MIN_SECONDS: i64 = -62_167_219_200;
/// `9999-12-31T23:59:59Z`, the latest time RFC 3339 can write.
const MAX_SECONDS: i64 = 253_402_300_799;

fn out_of_range() -> Error {
    InputError::TimeOutOfRange.into()
}

/// The time as Unix seconds (rounded down: `1969-12-31T23:59:59.5Z` is `-1`).
///
/// Fails with `input.time_out_of_range` outside the years 0000 to 9999.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use mailseal_core::time::to_unix_seconds;
/// assert_eq!(to_unix_seconds(UNIX_EPOCH + Duration::from_secs(86_400))?, 86_400);
/// assert_eq!(to_unix_seconds(UNIX_EPOCH - Duration::from_millis(500))?, -1);
/// # Ok::<(), mailseal_core::Error>(())
/// ```
pub fn to_unix_seconds(t: SystemTime) -> Result<i64, Error> {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).ok(),
        Err(before) => {
            let d = before.duration();
            let whole = i64::try_from(d.as_secs()).ok();
            // Round down: a partial second before the epoch belongs to the second before.
            let extra = i64::from(d.subsec_nanos() > 0);
            whole
                .and_then(|w| w.checked_add(extra))
                .and_then(i64::checked_neg)
        }
    };
    match secs {
        Some(s) if (MIN_SECONDS..=MAX_SECONDS).contains(&s) => Ok(s),
        _ => Err(out_of_range()),
    }
}

/// The time `secs` Unix seconds after (or, negative, before) 1970-01-01T00:00:00Z.
///
/// Fails with `input.time_out_of_range` outside the years 0000 to 9999.
///
/// ```
/// use mailseal_core::time::{format_rfc3339, from_unix_seconds};
/// assert_eq!(format_rfc3339(from_unix_seconds(-86_400)?)?, "1969-12-31T00:00:00Z");
/// assert!(from_unix_seconds(i64::MAX).is_err());
/// # Ok::<(), mailseal_core::Error>(())
/// ```
pub fn from_unix_seconds(secs: i64) -> Result<SystemTime, Error> {
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&secs) {
        return Err(out_of_range());
    }
    let d = Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        UNIX_EPOCH.checked_add(d)
    } else {
        UNIX_EPOCH.checked_sub(d)
    }
    .ok_or_else(out_of_range)
}

fn utc(t: SystemTime) -> Result<OffsetDateTime, Error> {
    OffsetDateTime::from_unix_timestamp(to_unix_seconds(t)?).map_err(|_| out_of_range())
}

/// RFC 3339 in UTC with whole seconds: `2027-01-31T00:00:00Z`.
///
/// Fails with `input.time_out_of_range` outside the years 0000 to 9999.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use mailseal_core::time::format_rfc3339;
/// assert_eq!(format_rfc3339(UNIX_EPOCH)?, "1970-01-01T00:00:00Z");
/// let far = UNIX_EPOCH + Duration::from_secs(3_093_527_980_800); // the year 100000
/// assert_eq!(format_rfc3339(far).unwrap_err().code(), "input.time_out_of_range");
/// # Ok::<(), mailseal_core::Error>(())
/// ```
pub fn format_rfc3339(t: SystemTime) -> Result<String, Error> {
    utc(t)?.format(RFC3339_UTC).map_err(|_| out_of_range())
}

/// The UTC date: `2027-01-31`.
///
/// Fails with `input.time_out_of_range` outside the years 0000 to 9999.
pub fn format_date(t: SystemTime) -> Result<String, Error> {
    utc(t)?.format(DATE).map_err(|_| out_of_range())
}

/// Reads an RFC 3339 time: `2027-01-31T00:00:00Z`, with any offset (`+02:00`, `-05:30`),
/// fractional seconds, and `t`/`z` in either case.
///
/// Fails with `input.bad_time` for anything else (a date without a time, a missing offset),
/// and with `input.time_out_of_range` when the offset moves the time outside the years 0000
/// to 9999.
///
/// ```
/// use mailseal_core::time::{format_rfc3339, parse_rfc3339};
/// let t = parse_rfc3339("2027-01-30t19:00:00.25-05:00")?;
/// assert_eq!(format_rfc3339(t)?, "2027-01-31T00:00:00Z");
/// assert_eq!(parse_rfc3339("yesterday").unwrap_err().code(), "input.bad_time");
/// # Ok::<(), mailseal_core::Error>(())
/// ```
pub fn parse_rfc3339(s: &str) -> Result<SystemTime, Error> {
    let parsed = OffsetDateTime::parse(s, &Rfc3339).map_err(|e| {
        Error::from(InputError::BadTime {
            detail: e.to_string(),
        })
    })?;
    let secs = parsed.unix_timestamp();
    let whole = from_unix_seconds(secs)?;
    whole
        .checked_add(Duration::from_nanos(u64::from(parsed.nanosecond())))
        .ok_or_else(out_of_range)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<impl std::fmt::Debug, Error>) -> &'static str {
        match r {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(e) => e.code(),
        }
    }

    #[test]
    fn formats_utc_whole_seconds() {
        let t = UNIX_EPOCH + Duration::new(1_801_353_600, 999_999_999);
        assert_eq!(format_rfc3339(t).unwrap(), "2027-01-31T00:00:00Z");
        assert_eq!(format_date(t).unwrap(), "2027-01-31");
    }

    #[test]
    fn before_1970_is_fine() {
        let t = parse_rfc3339("1950-06-01T12:00:00Z").unwrap();
        assert_eq!(to_unix_seconds(t).unwrap(), -618_062_400);
        assert_eq!(format_rfc3339(t).unwrap(), "1950-06-01T12:00:00Z");
        assert_eq!(from_unix_seconds(-618_062_400).unwrap(), t);
        // Rounded down, not towards zero.
        let half = UNIX_EPOCH - Duration::from_millis(500);
        assert_eq!(to_unix_seconds(half).unwrap(), -1);
        assert_eq!(format_rfc3339(half).unwrap(), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn the_year_99999_is_out_of_range() {
        // 99999-01-01T00:00:00Z
        let secs = 3_093_496_444_800;
        assert_eq!(code(from_unix_seconds(secs)), "input.time_out_of_range");
        let t = UNIX_EPOCH + Duration::from_secs(secs as u64);
        assert_eq!(code(format_rfc3339(t)), "input.time_out_of_range");
        assert_eq!(code(format_date(t)), "input.time_out_of_range");
        assert_eq!(code(to_unix_seconds(t)), "input.time_out_of_range");
        assert_eq!(
            code(parse_rfc3339("99999-01-01T00:00:00Z")),
            "input.bad_time"
        );
        assert_eq!(code(from_unix_seconds(i64::MIN)), "input.time_out_of_range");
    }

    #[test]
    fn range_ends() {
        let max = parse_rfc3339("9999-12-31T23:59:59Z").unwrap();
        assert_eq!(to_unix_seconds(max).unwrap(), MAX_SECONDS);
        assert_eq!(format_rfc3339(max).unwrap(), "9999-12-31T23:59:59Z");
        let min = parse_rfc3339("0000-01-01T00:00:00Z").unwrap();
        assert_eq!(to_unix_seconds(min).unwrap(), MIN_SECONDS);
        assert_eq!(format_rfc3339(min).unwrap(), "0000-01-01T00:00:00Z");
        assert_eq!(
            code(from_unix_seconds(MAX_SECONDS + 1)),
            "input.time_out_of_range"
        );
        assert_eq!(
            code(from_unix_seconds(MIN_SECONDS - 1)),
            "input.time_out_of_range"
        );
        // An offset can push a valid-looking text past the end.
        assert_eq!(
            code(parse_rfc3339("9999-12-31T23:59:59-01:00")),
            "input.time_out_of_range"
        );
    }

    #[test]
    fn parses_offsets_case_and_fractions() {
        let want = parse_rfc3339("2027-01-31T00:00:00Z").unwrap();
        for s in [
            "2027-01-31T02:00:00+02:00",
            "2027-01-30T18:30:00-05:30",
            "2027-01-31t00:00:00z",
            "2027-01-31T00:00:00+00:00",
            "2027-01-31T00:00:00-00:00",
        ] {
            assert_eq!(parse_rfc3339(s).unwrap(), want, "{s}");
        }
        let frac = parse_rfc3339("2027-01-31T00:00:00.123456789Z").unwrap();
        assert_eq!(
            frac.duration_since(want).unwrap(),
            Duration::from_nanos(123_456_789)
        );
        assert_eq!(format_rfc3339(frac).unwrap(), "2027-01-31T00:00:00Z");
    }

    #[test]
    fn refuses_what_is_not_rfc3339() {
        for s in [
            "",
            "yesterday",
            "2027-01-31",
            "2027-01-31T00:00:00",
            "2027-13-01T00:00:00Z",
            "2027-01-31T00:00:00Z trailing",
            "1700000000",
        ] {
            assert_eq!(code(parse_rfc3339(s)), "input.bad_time", "{s:?}");
        }
    }

    #[test]
    fn unix_round_trip() {
        for secs in [MIN_SECONDS, -1, 0, 1, 1_801_353_600, MAX_SECONDS] {
            let t = from_unix_seconds(secs).unwrap();
            assert_eq!(to_unix_seconds(t).unwrap(), secs);
            assert_eq!(parse_rfc3339(&format_rfc3339(t).unwrap()).unwrap(), t);
        }
    }
}
