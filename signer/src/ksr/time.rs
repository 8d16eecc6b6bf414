//! Times and durations as KSR/SKR files and RRSIGs spell them, all UTC, whole seconds.
//!
//! Hand-written civil-date arithmetic (no date crate) keeps the conversion auditable: the
//! same seconds feed the XML, the RRSIG wire form and the policy checks.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

const SECS_PER_DAY: i64 = 86_400;

/// Why a time or duration text was refused; always names the text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TimeError {
    /// Not `YYYY-MM-DDTHH:MM:SS` with an optional `Z` / `+00:00` / `-00:00`.
    #[error("{text:?} is not a date-time YYYY-MM-DDTHH:MM:SS[Z|+00:00]: {reason}")]
    BadDateTime { text: String, reason: &'static str },
    /// A zone other than UTC: kskm refuses these and so do we.
    #[error("{text:?} is not in UTC: KSR/SKR times must be UTC (no zone, Z or +00:00)")]
    NotUtc { text: String },
    /// Not the RRSIG presentation form `YYYYMMDDHHMMSS`.
    #[error("{text:?} is not an RRSIG time YYYYMMDDHHMMSS: {reason}")]
    BadRrsigTime { text: String, reason: &'static str },
    /// Not an ISO 8601 duration `PnDTnHnMnS` / `PnW` without years or months.
    #[error("{text:?} is not a duration PnDTnHnMnS or PnW: {reason}")]
    BadDuration { text: String, reason: &'static str },
}

/// A UTC instant in whole seconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Calendar fields of a [`Timestamp`], used by both text forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Civil {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
}

impl Timestamp {
    /// The instant `secs` seconds after the Unix epoch (negative: before it).
    pub const fn from_unix(secs: i64) -> Self {
        Self(secs)
    }

    /// Seconds since the Unix epoch.
    pub const fn unix(self) -> i64 {
        self.0
    }

    /// Parses xsd:dateTime as KSRs carry it: `2016-07-01T00:00:00` (no zone means UTC),
    /// `…Z`, `…+00:00` or `…-00:00`. Fractional seconds and other offsets are refused so
    /// that no instant is silently rounded or shifted.
    pub fn parse_xsd(text: &str) -> Result<Self, TimeError> {
        let bad = |reason| TimeError::BadDateTime {
            text: text.to_owned(),
            reason,
        };
        let b = text.as_bytes();
        if b.len() < 19 {
            return Err(bad("too short"));
        }
        let (core, zone) = b.split_at(19);
        let shape_ok = core[4] == b'-'
            && core[7] == b'-'
            && core[10] == b'T'
            && core[13] == b':'
            && core[16] == b':';
        if !shape_ok {
            return Err(bad("separators are not - - T : :"));
        }
        match zone {
            b"" | b"Z" | b"+00:00" | b"-00:00" => {}
            [b'.', ..] => return Err(bad("fractional seconds are not allowed")),
            [b'+' | b'-', h1, h2, b':', m1, m2]
                if [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()) =>
            {
                return Err(TimeError::NotUtc {
                    text: text.to_owned(),
                });
            }
            _ => return Err(bad("unrecognised zone suffix")),
        }
        let field = |range: std::ops::Range<usize>| {
            digits(&core[range]).ok_or(bad("non-digit in a date or time field"))
        };
        let civil = Civil {
            year: field(0..4)?,
            month: field(5..7)?,
            day: field(8..10)?,
            hour: field(11..13)?,
            minute: field(14..16)?,
            second: field(17..19)?,
        };
        civil.to_timestamp().map_err(bad)
    }

    /// kskm's SKR form, `YYYY-MM-DDTHH:MM:SS+00:00`.
    pub fn to_xsd(self) -> String {
        let c = Civil::from_timestamp(self);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }

    /// The RRSIG wire value (RFC 4034 §3.1.5): seconds since the epoch modulo 2^32, to be
    /// compared with serial-number arithmetic (RFC 1982). Times from 2106 on wrap to small
    /// numbers; that is the format, not an error.
    pub const fn serial(self) -> u32 {
        // Truncating to the low 32 bits is exactly `secs mod 2^32` in two's complement.
        self.0 as u32
    }

    /// Parses the RRSIG presentation form `YYYYMMDDHHMMSS` (RFC 4034 §3.2), UTC.
    pub fn parse_rrsig(text: &str) -> Result<Self, TimeError> {
        let bad = |reason| TimeError::BadRrsigTime {
            text: text.to_owned(),
            reason,
        };
        let b = text.as_bytes();
        if b.len() != 14 {
            return Err(bad("not 14 digits"));
        }
        let field = |range: std::ops::Range<usize>| digits(&b[range]).ok_or(bad("not 14 digits"));
        let civil = Civil {
            year: field(0..4)?,
            month: field(4..6)?,
            day: field(6..8)?,
            hour: field(8..10)?,
            minute: field(10..12)?,
            second: field(12..14)?,
        };
        civil.to_timestamp().map_err(bad)
    }

    /// The RRSIG presentation form `YYYYMMDDHHMMSS`.
    pub fn to_rrsig(self) -> String {
        let c = Civil::from_timestamp(self);
        format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }

    /// `self + d`, or `None` past the i64 range.
    pub fn checked_add(self, d: XsdDuration) -> Option<Self> {
        self.0.checked_add(d.as_secs()).map(Self)
    }

    /// `self - d`, or `None` past the i64 range.
    pub fn checked_sub(self, d: XsdDuration) -> Option<Self> {
        self.0.checked_sub(d.as_secs()).map(Self)
    }

    /// `self - earlier` (negative if `earlier` is later), saturating at the i64 range.
    pub fn duration_since(self, earlier: Self) -> XsdDuration {
        XsdDuration::from_secs(self.0.saturating_sub(earlier.0))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_xsd())
    }
}

impl FromStr for Timestamp {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Self, TimeError> {
        Self::parse_xsd(s)
    }
}

/// From a quoted xsd:dateTime string, so a TOML config can hold KSK validity dates.
impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse_xsd(&text).map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_xsd())
    }
}

impl Civil {
    fn to_timestamp(self) -> Result<Timestamp, &'static str> {
        if !(1..=12).contains(&self.month) {
            return Err("month out of range 01-12");
        }
        if self.day < 1 || self.day > days_in_month(self.year, self.month) {
            return Err("day out of range for the month");
        }
        if self.hour > 23 || self.minute > 59 || self.second > 59 {
            return Err("hour, minute or second out of range");
        }
        let days = days_from_civil(self.year, self.month, self.day);
        Ok(Timestamp(
            days * SECS_PER_DAY + self.hour * 3600 + self.minute * 60 + self.second,
        ))
    }

    fn from_timestamp(t: Timestamp) -> Self {
        let days = t.0.div_euclid(SECS_PER_DAY);
        let secs = t.0.rem_euclid(SECS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        Self {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs % 3600 / 60,
            second: secs % 60,
        }
    }
}

/// An all-ASCII-digit field as a number; `None` for anything else (sign, space, empty).
fn digits(field: &[u8]) -> Option<i64> {
    if field.is_empty() || field.len() > 18 || !field.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        field
            .iter()
            .fold(0, |acc, &c| acc * 10 + i64::from(c - b'0')),
    )
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let mp = (month + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + day - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A policy duration (PublishSafety, MaxSignatureValidity, …) in whole seconds.
///
/// Years and months are refused because their length depends on the start date, as kskm
/// refuses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct XsdDuration(i64);

impl XsdDuration {
    /// A duration of `secs` seconds.
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs)
    }

    /// A duration of `days` whole days.
    pub const fn from_days(days: i64) -> Self {
        Self(days * SECS_PER_DAY)
    }

    /// The length in seconds.
    pub const fn as_secs(self) -> i64 {
        self.0
    }

    /// Parses `PnDTnHnMnS` (every part optional, at least one present) or `PnW`.
    pub fn parse(text: &str) -> Result<Self, TimeError> {
        let bad = |reason| TimeError::BadDuration {
            text: text.to_owned(),
            reason,
        };
        let Some(rest) = text.strip_prefix('P') else {
            return Err(bad(
                "does not start with P (negative durations are not allowed)",
            ));
        };
        if rest.is_empty() {
            return Err(bad("no value after P"));
        }
        // Designators in the only order allowed, with their length in seconds. 'W' stands
        // alone; 'M' means minutes after 'T' and months (refused) before it.
        let mut total: i64 = 0;
        let mut in_time = false;
        let mut last_rank = 0u8;
        let mut parts = 0u32;
        let mut weeks = false;
        let mut bytes = rest.bytes().peekable();
        while let Some(&c) = bytes.peek() {
            if c == b'T' {
                if in_time {
                    return Err(bad("more than one T"));
                }
                in_time = true;
                bytes.next();
                if bytes.peek().is_none() {
                    return Err(bad("T must be followed by hours, minutes or seconds"));
                }
                continue;
            }
            let mut n: i64 = 0;
            let mut ndigits = 0;
            while let Some(&d) = bytes.peek().filter(|d| d.is_ascii_digit()) {
                n = n
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(i64::from(d - b'0')))
                    .ok_or(bad("number too large"))?;
                ndigits += 1;
                bytes.next();
            }
            let Some(designator) = bytes.next() else {
                return Err(bad("number without a designator"));
            };
            if ndigits == 0 {
                return Err(match designator {
                    b'.' | b',' => bad("fractions are not allowed"),
                    _ => bad("designator without a number"),
                });
            }
            let (rank, unit) = match (designator, in_time) {
                (b'Y', false) => return Err(bad("years are not supported (their length varies)")),
                (b'M', false) => return Err(bad("months are not supported (their length varies)")),
                (b'W', false) => (1, 7 * SECS_PER_DAY),
                (b'D', false) => (2, SECS_PER_DAY),
                (b'H', true) => (3, 3600),
                (b'M', true) => (4, 60),
                (b'S', true) => (5, 1),
                (b'.' | b',', _) => return Err(bad("fractions are not allowed")),
                _ => return Err(bad("unknown or misplaced designator")),
            };
            if rank <= last_rank {
                return Err(bad("parts out of order or repeated"));
            }
            last_rank = rank;
            weeks |= rank == 1;
            parts += 1;
            total = n
                .checked_mul(unit)
                .and_then(|s| total.checked_add(s))
                .ok_or(bad("number too large"))?;
        }
        if weeks && parts > 1 {
            return Err(bad("weeks cannot be combined with other parts"));
        }
        if parts == 0 {
            return Err(bad("no value after P"));
        }
        Ok(Self(total))
    }
}

/// Canonical form: `P21D`, `PT0S`, `P4DT23H59M59S`, `PT1H` (kskm's writer would print the
/// last as `PT60M`; both parse to the same value).
impl fmt::Display for XsdDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("PT0S");
        }
        if self.0 < 0 {
            f.write_str("-")?;
        }
        let total = self.0.unsigned_abs();
        let days = total / 86_400;
        let rest = total % 86_400;
        f.write_str("P")?;
        if days > 0 {
            write!(f, "{days}D")?;
        }
        if rest > 0 {
            f.write_str("T")?;
            let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
            if h > 0 {
                write!(f, "{h}H")?;
            }
            if m > 0 {
                write!(f, "{m}M")?;
            }
            if s > 0 {
                write!(f, "{s}S")?;
            }
        }
        Ok(())
    }
}

impl FromStr for XsdDuration {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Self, TimeError> {
        Self::parse(s)
    }
}

/// From an ISO 8601 string such as `"P10D"`, so a TOML config can hold policy durations.
impl<'de> serde::Deserialize<'de> for XsdDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for XsdDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        Timestamp::parse_xsd(text).unwrap()
    }

    #[test]
    fn parses_the_three_zone_forms_as_utc() {
        let naive = ts("2016-07-01T00:00:00");
        assert_eq!(naive.unix(), 1_467_331_200);
        assert_eq!(ts("2016-07-01T00:00:00Z"), naive);
        assert_eq!(ts("2016-07-01T00:00:00+00:00"), naive);
        assert_eq!(ts("2016-07-01T00:00:00-00:00"), naive);
        assert_eq!(ts("2017-12-05T13:26:25+00:00").unix(), 1_512_480_385);
        assert_eq!(ts("1970-01-01T00:00:00").unix(), 0);
    }

    #[test]
    fn formats_like_kskm() {
        assert_eq!(
            ts("2018-01-01T00:00:00").to_xsd(),
            "2018-01-01T00:00:00+00:00"
        );
        assert_eq!(
            ts("2009-11-17T23:59:59Z").to_string(),
            "2009-11-17T23:59:59+00:00"
        );
        assert_eq!(
            "2018-01-22T00:00:00".parse::<Timestamp>().unwrap(),
            ts("2018-01-22T00:00:00+00:00")
        );
    }

    #[test]
    fn refuses_other_zones_and_garbage_naming_the_text() {
        let e = Timestamp::parse_xsd("2017-12-05T13:26:25+01:00").unwrap_err();
        assert!(matches!(e, TimeError::NotUtc { .. }));
        assert!(e.to_string().contains("2017-12-05T13:26:25+01:00"), "{e}");
        for bad in [
            "",
            "garbage",
            "2017-12-05 13:26:25",
            "2017-12-05T13:26:25.5",
            "2017-13-05T13:26:25",
            "2017-02-29T00:00:00",
            "2017-12-05T24:00:00",
            "2017-12-05T13:60:00",
            "2017-12-05T13:26:60",
            "2017-12-05T13:26:25 ",
            "2017-12-05T13:26:25+0000",
            "+017-12-05T13:26:25",
            "2017-1a-05T13:26:25",
        ] {
            let e = Timestamp::parse_xsd(bad).unwrap_err();
            assert!(e.to_string().contains(&format!("{bad:?}")), "{e}");
        }
    }

    #[test]
    fn leap_years_follow_the_gregorian_rules() {
        assert_eq!(
            ts("2016-02-29T00:00:00").to_xsd(),
            "2016-02-29T00:00:00+00:00"
        );
        assert_eq!(
            ts("2000-02-29T12:00:00").to_xsd(),
            "2000-02-29T12:00:00+00:00"
        );
        assert!(Timestamp::parse_xsd("1900-02-29T00:00:00").is_err());
        assert!(Timestamp::parse_xsd("2100-02-29T00:00:00").is_err());
        // 2016-02-28 → 2016-03-01 is two days; 2017-02-28 → 2017-03-01 is one.
        let d = ts("2016-03-01T00:00:00").duration_since(ts("2016-02-28T00:00:00"));
        assert_eq!(d, XsdDuration::from_days(2));
        let d = ts("2017-03-01T00:00:00").duration_since(ts("2017-02-28T00:00:00"));
        assert_eq!(d, XsdDuration::from_days(1));
    }

    #[test]
    fn every_day_of_four_centuries_round_trips() {
        // 1900-01-01 to 2300-01-01, including 2038-01-19 and the 2106 serial wrap.
        let start = days_from_civil(1900, 1, 1);
        let end = days_from_civil(2300, 1, 1);
        let mut expect = (1900, 1, 1);
        for day in start..end {
            assert_eq!(civil_from_days(day), expect);
            assert_eq!(days_from_civil(expect.0, expect.1, expect.2), day);
            expect = if expect.2 < days_in_month(expect.0, expect.1) {
                (expect.0, expect.1, expect.2 + 1)
            } else if expect.1 < 12 {
                (expect.0, expect.1 + 1, 1)
            } else {
                (expect.0 + 1, 1, 1)
            };
        }
    }

    #[test]
    fn dates_past_2038_and_before_1970() {
        let t = ts("2038-01-19T03:14:08");
        assert_eq!(t.unix(), 1 << 31);
        assert_eq!(t.serial(), 0x8000_0000);
        assert_eq!(
            ts("2099-12-31T23:59:59").to_xsd(),
            "2099-12-31T23:59:59+00:00"
        );
        let early = ts("1969-12-31T23:59:59");
        assert_eq!(early.unix(), -1);
        assert_eq!(early.to_xsd(), "1969-12-31T23:59:59+00:00");
        assert_eq!(early.serial(), u32::MAX);
    }

    #[test]
    fn serial_time_wraps_modulo_2_pow_32() {
        // 2106-02-07T06:28:16Z is 2^32 seconds: the serial wraps to 0.
        let wrap = ts("2106-02-07T06:28:16");
        assert_eq!(wrap.unix(), 1 << 32);
        assert_eq!(wrap.serial(), 0);
        assert_eq!(ts("2106-02-07T06:28:15").serial(), u32::MAX);
        assert_eq!(ts("2106-02-07T06:28:17").serial(), 1);
        // The real vector (vectors.md §7): 2018-01-01 → 0x5a497a00, 2018-01-22 → 0x5a652980.
        assert_eq!(ts("2018-01-01T00:00:00").serial(), 0x5a49_7a00);
        assert_eq!(ts("2018-01-22T00:00:00").serial(), 0x5a65_2980);
    }

    #[test]
    fn rrsig_presentation_form_both_ways() {
        let t = Timestamp::parse_rrsig("20120615000000").unwrap();
        assert_eq!(t, ts("2012-06-15T00:00:00"));
        assert_eq!(t.to_rrsig(), "20120615000000");
        assert_eq!(ts("2106-02-07T06:28:16").to_rrsig(), "21060207062816");
        assert_eq!(ts("2016-02-29T23:59:59").to_rrsig(), "20160229235959");
        for bad in [
            "2012061500000",
            "201206150000000",
            "2012-6-15000000",
            "20120230000000",
            "20121315000000",
        ] {
            let e = Timestamp::parse_rrsig(bad).unwrap_err();
            assert!(e.to_string().contains(bad), "{e}");
        }
    }

    #[test]
    fn durations_parse_and_format_canonically() {
        for (text, secs, canonical) in [
            ("P21D", 21 * 86_400, "P21D"),
            ("PT0S", 0, "PT0S"),
            ("P0D", 0, "PT0S"),
            ("P4DT23H59M59S", 4 * 86_400 + 86_399, "P4DT23H59M59S"),
            ("P2W", 14 * 86_400, "P14D"),
            ("PT1H", 3600, "PT1H"),
            ("PT60M", 3600, "PT1H"),
            ("PT90S", 90, "PT1M30S"),
            ("P1DT1S", 86_401, "P1DT1S"),
            ("PT24H", 86_400, "P1D"),
        ] {
            let d = XsdDuration::parse(text).unwrap();
            assert_eq!(d.as_secs(), secs, "{text}");
            assert_eq!(d.to_string(), canonical, "{text}");
            assert_eq!(XsdDuration::parse(canonical).unwrap(), d);
        }
    }

    #[test]
    fn durations_refuse_months_years_and_garbage() {
        for (text, why) in [
            ("P1M", "months"),
            ("P1Y", "years"),
            ("P1Y2D", "years"),
            ("", "does not start with P"),
            ("-P1D", "does not start with P"),
            ("P", "no value"),
            ("PT", "T must be followed"),
            ("P1DT", "T must be followed"),
            ("P1W2D", "weeks"),
            ("PT1.5S", "fractions"),
            ("P1D2D", "out of order"),
            ("PT1S1H", "out of order"),
            ("P1H", "misplaced"),
            ("PD", "without a number"),
            ("P10", "without a designator"),
            ("P99999999999999999999D", "too large"),
            ("P999999999999999D", "too large"),
            (" P1D", "does not start with P"),
        ] {
            let e = XsdDuration::parse(text).unwrap_err();
            let msg = e.to_string();
            assert!(
                msg.contains(why) && msg.contains(&format!("{text:?}")),
                "{text}: {msg}"
            );
        }
    }

    #[test]
    fn durations_deserialize_from_config_strings() {
        #[derive(serde::Deserialize)]
        struct Policy {
            publish_safety: XsdDuration,
            valid_from: Timestamp,
        }
        let p: Policy = toml::from_str(
            "publish_safety = \"P10D\"\nvalid_from = \"2010-07-15T00:00:00+00:00\"\n",
        )
        .unwrap();
        assert_eq!(p.publish_safety, XsdDuration::from_days(10));
        assert_eq!(p.valid_from, ts("2010-07-15T00:00:00"));
        let e = toml::from_str::<Policy>(
            "publish_safety = \"P1M\"\nvalid_from = \"2010-07-15T00:00:00\"\n",
        )
        .err()
        .unwrap();
        assert!(e.to_string().contains("months"), "{e}");
        assert_eq!(
            serde_json::to_string(&XsdDuration::from_secs(5)).unwrap(),
            "\"PT5S\""
        );
    }

    #[test]
    fn timestamp_arithmetic() {
        let t = ts("2018-01-01T00:00:00");
        assert_eq!(
            t.checked_add(XsdDuration::from_days(21)),
            Some(ts("2018-01-22T00:00:00"))
        );
        assert_eq!(
            t.checked_sub(XsdDuration::from_days(1)),
            Some(ts("2017-12-31T00:00:00"))
        );
        assert_eq!(
            Timestamp::from_unix(i64::MAX).checked_add(XsdDuration::from_secs(1)),
            None
        );
        assert_eq!(XsdDuration::from_secs(-90).to_string(), "-PT1M30S");
    }
}
