//! Times as traces write them, parsed into integer microseconds without a date library:
//! the Azure traces' wall-clock timestamps, decimal numbers of seconds, milliseconds or
//! microseconds, and timestamps laid out by a strftime-style pattern. Finer digits than a
//! microsecond are truncated (docs/world.md §3.2), never rounded.

use crate::sim::MICROS_PER_SEC;

/// Parses `YYYY-MM-DD HH:MM:SS[.fraction][Z|±HH:MM]` (a `T` may replace the space) into
/// microseconds since 1970-01-01 UTC, the fraction truncated to microseconds. Without an
/// offset the time is taken as UTC; only differences between rows matter.
pub(super) fn parse_timestamp(s: &str) -> Result<i64, &'static str> {
    let mut c = Cursor(s.as_bytes());
    let year = c.number(4).ok_or("malformed date")?;
    c.expect(b'-').ok_or("malformed date")?;
    let month = c.number(2).ok_or("malformed date")?;
    c.expect(b'-').ok_or("malformed date")?;
    let day = c.number(2).ok_or("malformed date")?;
    c.expect(b' ')
        .or_else(|| c.expect(b'T'))
        .ok_or("malformed date")?;
    let hour = c.number(2).ok_or("malformed time of day")?;
    c.expect(b':').ok_or("malformed time of day")?;
    let minute = c.number(2).ok_or("malformed time of day")?;
    c.expect(b':').ok_or("malformed time of day")?;
    let second = c.number(2).ok_or("malformed time of day")?;
    let micros = match c.expect(b'.') {
        Some(()) => c.fraction().ok_or("malformed fraction of a second")?,
        None => 0,
    };
    let offset = match c.0.first() {
        None => 0,
        Some(b'Z' | b'+' | b'-') => c.offset(true)?,
        Some(_) => return Err("unexpected text after the time"),
    };
    if !c.0.is_empty() {
        return Err("unexpected text after the UTC offset");
    }
    Civil {
        year,
        month,
        day,
        hour,
        minute,
        second,
        micros,
        offset,
    }
    .micros()
}

/// Parses a decimal number >= 0 (`12`, `12.5`, `.5`) of units worth `10^unit_digits`
/// microseconds (6 for seconds, 3 for milliseconds, 0 for microseconds), truncating digits
/// finer than a microsecond. `None` for anything else, signs and exponents included.
pub(super) fn parse_decimal(s: &str, unit_digits: u32) -> Option<i64> {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let fraction = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(unit_digits as usize)
        .fold(0, |n, d| n * 10 + i64::from(d - b'0'));
    whole
        .checked_mul(10_i64.pow(unit_digits))?
        .checked_add(fraction)
}

/// A timestamp layout in the strftime style, compiled once and applied to every row.
///
/// Directives: `%Y` (four-digit year), `%m`, `%d`, `%H`, `%M`, `%S` (one or two digits),
/// `%.f` (an optional `.` and fraction of a second), `%f` (fraction digits without the
/// dot), `%z` (`Z`, `+HH:MM` or `+HHMM`), `%T` (`%H:%M:%S`), `%F` (`%Y-%m-%d`) and `%%`.
/// Anything else is matched literally. Fields the pattern leaves out default to
/// 1970-01-01 00:00:00 UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DatetimePattern(Vec<Item>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Literal(u8),
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    /// `%.f`: an optional dot and fraction.
    OptionalFraction,
    /// `%f`: fraction digits.
    Fraction,
    Offset,
}

/// The directives a pattern may use, for error messages and docs.
pub(super) const DIRECTIVES: &str = "%Y %m %d %H %M %S %.f %f %z %T %F %%";

/// A datetime pattern with a directive that is not supported (the directive).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a supported directive: use {DIRECTIVES}")]
pub(super) struct PatternError(String);

impl DatetimePattern {
    /// Compiles `pattern`, or says which directive is not supported.
    pub(super) fn compile(pattern: &str) -> Result<Self, PatternError> {
        let mut items = Vec::new();
        let mut rest = pattern;
        while let Some(i) = rest.find('%') {
            items.extend(rest[..i].bytes().map(Item::Literal));
            let directive = &rest[i..];
            let (expanded, len): (&[Item], usize) = match directive.as_bytes().get(1) {
                Some(b'Y') => (&[Item::Year], 2),
                Some(b'm') => (&[Item::Month], 2),
                Some(b'd') => (&[Item::Day], 2),
                Some(b'H') => (&[Item::Hour], 2),
                Some(b'M') => (&[Item::Minute], 2),
                Some(b'S') => (&[Item::Second], 2),
                Some(b'f') => (&[Item::Fraction], 2),
                Some(b'z') => (&[Item::Offset], 2),
                Some(b'%') => (&[Item::Literal(b'%')], 2),
                Some(b'.') if directive.as_bytes().get(2) == Some(&b'f') => {
                    (&[Item::OptionalFraction], 3)
                }
                Some(b':') if directive.as_bytes().get(2) == Some(&b'z') => (&[Item::Offset], 3),
                Some(b'T') => (
                    &[
                        Item::Hour,
                        Item::Literal(b':'),
                        Item::Minute,
                        Item::Literal(b':'),
                        Item::Second,
                    ],
                    2,
                ),
                Some(b'F') => (
                    &[
                        Item::Year,
                        Item::Literal(b'-'),
                        Item::Month,
                        Item::Literal(b'-'),
                        Item::Day,
                    ],
                    2,
                ),
                _ => {
                    let shown: String = directive.chars().take(2).collect();
                    return Err(PatternError(shown));
                }
            };
            items.extend_from_slice(expanded);
            rest = &directive[len..];
        }
        items.extend(rest.bytes().map(Item::Literal));
        Ok(DatetimePattern(items))
    }

    /// Microseconds since 1970-01-01 UTC, or why `s` does not fit the pattern.
    pub(super) fn parse(&self, s: &str) -> Result<i64, &'static str> {
        let mut c = Cursor(s.as_bytes());
        let mut t = Civil {
            year: 1970,
            month: 1,
            day: 1,
            ..Civil::default()
        };
        for item in &self.0 {
            match *item {
                Item::Literal(b) => c.expect(b).ok_or("does not match the pattern")?,
                Item::Year => t.year = c.number(4).ok_or("malformed year")?,
                Item::Month => t.month = c.short_number().ok_or("malformed month")?,
                Item::Day => t.day = c.short_number().ok_or("malformed day")?,
                Item::Hour => t.hour = c.short_number().ok_or("malformed hour")?,
                Item::Minute => t.minute = c.short_number().ok_or("malformed minute")?,
                Item::Second => t.second = c.short_number().ok_or("malformed second")?,
                Item::OptionalFraction => {
                    if c.expect(b'.').is_some() {
                        t.micros = c.fraction().ok_or("malformed fraction of a second")?;
                    }
                }
                Item::Fraction => {
                    t.micros = c.fraction().ok_or("malformed fraction of a second")?;
                }
                Item::Offset => t.offset = c.offset(false)?,
            }
        }
        if !c.0.is_empty() {
            return Err("unexpected text after the time");
        }
        t.micros()
    }
}

/// The parts of a wall-clock time, before they are checked and added up.
#[derive(Debug, Default)]
struct Civil {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    micros: i64,
    /// The UTC offset in seconds.
    offset: i64,
}

impl Civil {
    /// Microseconds since 1970-01-01 UTC, or which part is out of range.
    fn micros(&self) -> Result<i64, &'static str> {
        if !(1..=12).contains(&self.month) {
            return Err("month out of range");
        }
        if self.day < 1 || self.day > days_in_month(self.year, self.month) {
            return Err("day out of range for the month");
        }
        if self.hour > 23 || self.minute > 59 || self.second > 59 {
            return Err("time of day out of range");
        }
        let seconds = days_from_civil(self.year, self.month, self.day) * 86_400
            + self.hour * 3_600
            + self.minute * 60
            + self.second
            - self.offset;
        Ok(seconds * MICROS_PER_SEC + self.micros)
    }
}

/// A forward-only reader over the bytes of a timestamp.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    /// Exactly `width` ASCII digits.
    fn number(&mut self, width: usize) -> Option<i64> {
        let digits = self.0.get(..width)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.0 = &self.0[width..];
        Some(digits.iter().fold(0, |n, &d| n * 10 + i64::from(d - b'0')))
    }

    /// One or two ASCII digits, as `%m` or `%H` accept them.
    fn short_number(&mut self) -> Option<i64> {
        let width = self
            .0
            .iter()
            .take(2)
            .take_while(|d| d.is_ascii_digit())
            .count();
        (width > 0).then(|| self.number(width)).flatten()
    }

    /// At least one digit of a fraction of a second, truncated to microseconds.
    fn fraction(&mut self) -> Option<i64> {
        let n = self.0.iter().take_while(|d| d.is_ascii_digit()).count();
        let (digits, rest) = self.0.split_at(n);
        self.0 = rest;
        (n > 0).then(|| {
            (0..6).fold(0, |micros, i| {
                micros * 10 + digits.get(i).map_or(0, |&d| i64::from(d - b'0'))
            })
        })
    }

    /// `Z`, or a sign and `HH:MM` (`HHMM` too unless `colon`), as seconds east of UTC.
    fn offset(&mut self, colon: bool) -> Result<i64, &'static str> {
        if self.expect(b'Z').is_some() {
            return Ok(0);
        }
        let sign = match self.0.first() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return Err("malformed UTC offset"),
        };
        self.0 = &self.0[1..];
        let hours = self.number(2).ok_or("malformed UTC offset")?;
        if self.expect(b':').is_none() && colon {
            return Err("malformed UTC offset");
        }
        let minutes = self.number(2).ok_or("malformed UTC offset")?;
        if hours > 23 || minutes > 59 {
            return Err("UTC offset out of range");
        }
        Ok(sign * (hours * 3_600 + minutes * 60))
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        let rest = self.0.strip_prefix(&[byte])?;
        self.0 = rest;
        Some(())
    }
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`): eras of 400 years, years starting in March so that the leap day
/// comes last.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_microseconds_since_1970() {
        assert_eq!(parse_timestamp("1970-01-01 00:00:00"), Ok(0));
        assert_eq!(parse_timestamp("1969-12-31 23:59:59"), Ok(-MICROS_PER_SEC));
        assert_eq!(
            parse_timestamp("2023-11-16 18:15:46.6805900"),
            Ok(1_700_158_546_680_590)
        );
        assert_eq!(
            parse_timestamp("2000-02-29 12:00:00"),
            Ok(951_825_600 * MICROS_PER_SEC)
        );
        // The 2024 release: six digits and a UTC offset.
        assert_eq!(
            parse_timestamp("2024-05-10 00:00:00.009930+00:00"),
            Ok(1_715_299_200_009_930)
        );
        assert_eq!(
            parse_timestamp("2024-05-10T02:00:00.009930+02:00"),
            parse_timestamp("2024-05-10 00:00:00.00993Z")
        );
        assert_eq!(
            parse_timestamp("2024-05-09 22:30:00-01:30"),
            parse_timestamp("2024-05-10 00:00:00")
        );
    }

    #[test]
    fn timestamps_across_midnight_month_and_year_ends() {
        let t = |s| parse_timestamp(s).unwrap();
        let day = 86_400 * MICROS_PER_SEC;
        // Finer digits are truncated, not rounded.
        assert_eq!(
            t("2024-01-01 00:00:00.0000000") - t("2023-12-31 23:59:59.9999999"),
            1
        );
        assert_eq!(
            t("2023-11-17 00:00:00.1") - t("2023-11-16 23:59:59.9"),
            200_000
        );
        assert_eq!(t("2023-05-01 00:00:00") - t("2023-04-30 00:00:00"), day);
        assert_eq!(t("2023-03-01 00:00:00") - t("2023-02-28 00:00:00"), day);
        assert_eq!(t("2024-03-01 00:00:00") - t("2024-02-28 00:00:00"), 2 * day);
        assert_eq!(t("2100-03-01 00:00:00") - t("2100-02-28 00:00:00"), day);
        assert_eq!(
            t("2001-01-01 00:00:00") - t("2000-01-01 00:00:00"),
            366 * day
        );
        assert_eq!(t("2024-05-17 00:00:00") - t("2024-05-10 00:00:00"), 7 * day);
    }

    #[test]
    fn impossible_timestamps_are_refused_with_a_reason() {
        for (text, reason) in [
            ("2023-02-29 00:00:00", "day out of range for the month"),
            ("2023-04-31 00:00:00", "day out of range for the month"),
            ("2023-13-01 00:00:00", "month out of range"),
            ("2023-11-16 24:00:00", "time of day out of range"),
            ("2023-11-16 18:60:00", "time of day out of range"),
            ("2023-11-16", "malformed date"),
            ("16/11/2023 18:15:46", "malformed date"),
            ("2023-11-16 18:15", "malformed time of day"),
            ("2023-11-16 18:15:46.", "malformed fraction of a second"),
            ("2023-11-16 18:15:46.5 PM", "unexpected text after the time"),
            ("2023-11-16 18:15:46+0100", "malformed UTC offset"),
            (
                "2023-11-16 18:15:46+01:00x",
                "unexpected text after the UTC offset",
            ),
        ] {
            assert_eq!(parse_timestamp(text), Err(reason), "{text}");
        }
    }

    #[test]
    fn decimals_in_any_unit_are_truncated_to_microseconds() {
        assert_eq!(parse_decimal("0", 6), Some(0));
        assert_eq!(parse_decimal("12.5", 6), Some(12_500_000));
        assert_eq!(parse_decimal(".5", 6), Some(500_000));
        assert_eq!(parse_decimal("3.", 6), Some(3_000_000));
        assert_eq!(parse_decimal("1.0000019", 6), Some(1_000_001));
        assert_eq!(parse_decimal("1.0019", 3), Some(1_001));
        assert_eq!(parse_decimal("1500", 3), Some(1_500_000));
        assert_eq!(parse_decimal("17.9", 0), Some(17));
        for bad in [
            "",
            ".",
            "-1",
            "+1",
            "1e3",
            "1.2.3",
            " 1",
            "nan",
            "99999999999999999999",
        ] {
            assert_eq!(parse_decimal(bad, 6), None, "{bad}");
        }
        assert_eq!(parse_decimal("9999999999999999", 6), None);
    }

    #[test]
    fn patterns_read_what_they_describe() {
        let p = |pattern: &str, text: &str| DatetimePattern::compile(pattern).unwrap().parse(text);
        let azure = parse_timestamp("2023-11-16 18:15:46.6805900");
        assert_eq!(
            p("%Y-%m-%d %H:%M:%S%.f", "2023-11-16 18:15:46.6805900"),
            azure
        );
        assert_eq!(p("%F %T%.f", "2023-11-16 18:15:46.68059"), azure);
        assert_eq!(
            p("%d/%m/%Y %H:%M:%S.%f", "16/11/2023 18:15:46.680590"),
            azure
        );
        assert_eq!(
            p("%Y-%m-%dT%H:%M:%S%z", "2023-11-16T19:15:46+0100"),
            parse_timestamp("2023-11-16 18:15:46")
        );
        assert_eq!(
            p("%Y-%m-%dT%H:%M:%S%:z", "2023-11-16T18:15:46Z"),
            parse_timestamp("2023-11-16 18:15:46")
        );
        assert_eq!(
            p("%m/%d/%Y %H:%M", "1/5/2024 3:04"),
            parse_timestamp("2024-01-05 03:04:00")
        );
        assert_eq!(p("%H:%M:%S", "00:01:02"), Ok(62 * MICROS_PER_SEC));
        assert_eq!(p("%S%%", "07%"), Ok(7 * MICROS_PER_SEC));
        // `%.f` makes the fraction optional; `%f` does not.
        assert_eq!(p("%T%.f", "00:00:01"), Ok(MICROS_PER_SEC));
        assert_eq!(
            p("%T.%f", "00:00:01."),
            Err("malformed fraction of a second")
        );
        assert_eq!(p("%F", "2023-02-29"), Err("day out of range for the month"));
        assert_eq!(
            p("%F", "2023-11-16 00:00"),
            Err("unexpected text after the time")
        );
        assert_eq!(
            p("%F %T", "2023-11-16T00:00:00"),
            Err("does not match the pattern")
        );
        assert_eq!(p("%Y", "23"), Err("malformed year"));
    }

    #[test]
    fn unknown_directives_are_named() {
        for (pattern, shown) in [("%Y-%j", "%j"), ("%s", "%s"), ("%Y %", "%"), ("%:Y", "%:")] {
            let err = DatetimePattern::compile(pattern).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with(&format!("`{shown}` is not a supported directive")),
                "{pattern}: {err}"
            );
        }
        // Literal text, multi-byte characters included, is matched as it is.
        let p = DatetimePattern::compile("t=%S·").unwrap();
        assert_eq!(p.parse("t=05·"), Ok(5 * MICROS_PER_SEC));
    }
}
