//! Time intervals as PostgreSQL and TimescaleDB understand them (`'7 days'`, `'3 months'`, `'1 hour'`).
//!
//! Kept as months + days + seconds like PostgreSQL's own `interval`, because a month is not a fixed number
//! of days and TimescaleDB treats month-based intervals differently (calendar buckets).

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A PostgreSQL interval written as `<number> <unit>` pairs, for example `7 days` or `1 year 6 months`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Interval {
    pub months: i64,
    pub days: i64,
    pub seconds: i64,
}

const UNITS: &[(&[&str], Unit)] = &[
    (&["s", "sec", "secs", "second", "seconds"], Unit::Seconds(1)),
    (&["min", "mins", "minute", "minutes"], Unit::Seconds(60)),
    (&["h", "hr", "hrs", "hour", "hours"], Unit::Seconds(3600)),
    (&["d", "day", "days"], Unit::Days(1)),
    (&["w", "week", "weeks"], Unit::Days(7)),
    (&["mon", "mons", "month", "months"], Unit::Months(1)),
    (&["y", "yr", "yrs", "year", "years"], Unit::Months(12)),
];

#[derive(Clone, Copy)]
enum Unit {
    Seconds(i64),
    Days(i64),
    Months(i64),
}

impl Interval {
    pub fn parse(text: &str) -> Result<Interval, String> {
        let tokens: Vec<String> = split_number_units(text.trim());
        if tokens.is_empty() {
            return Err("an interval such as '7 days' or '1 hour'; got an empty value".into());
        }
        if tokens.len() % 2 != 0 {
            return Err(format!("an interval as '<number> <unit>' pairs such as '7 days'; got '{text}'"));
        }
        let mut interval = Interval::default();
        for pair in tokens.chunks(2) {
            let amount: i64 = pair[0]
                .parse()
                .map_err(|_| format!("a whole number before '{}' in '{text}' (e.g. '7 days')", pair[1]))?;
            let unit = UNITS
                .iter()
                .find(|(names, _)| names.contains(&pair[1].to_ascii_lowercase().as_str()))
                .map(|(_, unit)| *unit)
                .ok_or_else(|| {
                    format!(
                        "a unit of seconds, minutes, hours, days, weeks, months or years; got '{}' in '{text}'",
                        pair[1]
                    )
                })?;
            let (field, n) = match unit {
                Unit::Seconds(n) => (&mut interval.seconds, n),
                Unit::Days(n) => (&mut interval.days, n),
                Unit::Months(n) => (&mut interval.months, n),
            };
            *field = amount.checked_mul(n).and_then(|v| field.checked_add(v)).ok_or_else(|| out_of_range(text))?;
        }
        interval.within_postgres_range(text)
    }

    /// PostgreSQL keeps an interval as 32-bit months, 32-bit days and 64-bit microseconds; anything larger
    /// cannot be stored, so it is refused here rather than wrapped.
    fn within_postgres_range(self, text: &str) -> Result<Interval, String> {
        let fits_i32 = |v: i64| i32::try_from(v).is_ok();
        let fits_micros = self.seconds.checked_mul(1_000_000).is_some();
        if fits_i32(self.months) && fits_i32(self.days) && fits_micros {
            Ok(self)
        } else {
            Err(out_of_range(text))
        }
    }

    /// Parses PostgreSQL's own output (`7 days`, `1 year 6 mons`, `3 days 01:00:00`, `00:15:00`), as the
    /// TimescaleDB catalog reports intervals; fractions of a second are dropped.
    pub fn parse_postgres(text: &str) -> Result<Interval, String> {
        let (clock, rest): (Vec<&str>, Vec<&str>) = text.split_whitespace().partition(|t| t.contains(':'));
        let mut interval = if rest.is_empty() { Interval::default() } else { Interval::parse(&rest.join(" "))? };
        for token in clock {
            let negative = token.starts_with('-');
            let fields: Vec<i64> = token
                .trim_start_matches(['-', '+'])
                .split(':')
                .map(|f| f.split('.').next().unwrap_or("0").parse::<i64>())
                .collect::<Result<_, _>>()
                .map_err(|_| format!("a time of day such as 01:00:00; got '{token}' in '{text}'"))?;
            let seconds = fields
                .iter()
                .try_fold(0i64, |acc, f| acc.checked_mul(60).and_then(|a| a.checked_add(*f)))
                .ok_or_else(|| out_of_range(text))?;
            let signed = if negative { -seconds } else { seconds };
            interval.seconds = interval.seconds.checked_add(signed).ok_or_else(|| out_of_range(text))?;
        }
        interval.within_postgres_range(text)
    }

    /// Approximate length in seconds, with PostgreSQL's own convention for comparing intervals
    /// (a month is 30 days, a day 24 hours).
    pub fn approx_seconds(&self) -> i64 {
        (self.months * 30 + self.days) * 86_400 + self.seconds
    }

    pub fn is_positive(&self) -> bool {
        self.months >= 0 && self.days >= 0 && self.seconds >= 0 && self.approx_seconds() > 0
    }

    pub fn has_months(&self) -> bool {
        self.months != 0
    }

    /// The pg_cron schedule that runs every `self`: a whole number of minutes that divides an hour, hours
    /// that divide a day, or one day. pg_cron 1.4 (what Debian and older RDS versions have) knows no seconds.
    pub fn as_cron_schedule(&self) -> Result<String, String> {
        let refuse = || {
            format!(
                "'{self}' has no cron schedule; expected minutes that divide an hour (1, 5, 15, 30 …), hours that \
                 divide a day (1, 2, 6, 12 …) or 1 day"
            )
        };
        if self.months != 0 || !self.is_positive() {
            return Err(refuse());
        }
        let seconds = self.days.checked_mul(86_400).and_then(|d| d.checked_add(self.seconds)).ok_or_else(refuse)?;
        if seconds % 60 != 0 {
            return Err(refuse());
        }
        let minutes = seconds / 60;
        Ok(match minutes {
            1 => "* * * * *".into(),
            m if m < 60 && 60 % m == 0 => format!("*/{m} * * * *"),
            60 => "0 * * * *".into(),
            m if m % 60 == 0 && m < 1440 && 1440 % m == 0 => format!("0 */{} * * *", m / 60),
            1440 => "0 0 * * *".into(),
            _ => return Err(refuse()),
        })
    }
}

fn out_of_range(text: &str) -> String {
    format!(
        "an interval PostgreSQL can hold (at most 178956970 years, 2147483647 days, 2562047788 hours); got '{text}'"
    )
}

/// "7days" and "7 days" both split into ["7", "days"].
fn split_number_units(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for word in text.split_whitespace() {
        let digits_end = word
            .char_indices()
            .find(|(i, c)| !(c.is_ascii_digit() || (*i == 0 && *c == '-')))
            .map(|(i, _)| i)
            .unwrap_or(word.len());
        if digits_end > 0 && digits_end < word.len() {
            tokens.push(word[..digits_end].to_string());
            tokens.push(word[digits_end..].to_string());
        } else {
            tokens.push(word.to_string());
        }
    }
    tokens
}

impl fmt::Display for Interval {
    /// The canonical form, also valid PostgreSQL interval input: `1 year 6 months`, `7 days`, `1 hour`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
        let (years, months) = (self.months / 12, self.months % 12);
        if years != 0 {
            parts.push(plural(years, "year"));
        }
        if months != 0 {
            parts.push(plural(months, "month"));
        }
        if self.days != 0 {
            parts.push(plural(self.days, "day"));
        }
        let (hours, rest) = (self.seconds / 3600, self.seconds % 3600);
        let (minutes, seconds) = (rest / 60, rest % 60);
        if hours != 0 {
            parts.push(plural(hours, "hour"));
        }
        if minutes != 0 {
            parts.push(plural(minutes, "minute"));
        }
        if seconds != 0 {
            parts.push(plural(seconds, "second"));
        }
        if parts.is_empty() {
            parts.push("0 seconds".into());
        }
        f.write_str(&parts.join(" "))
    }
}

impl Serialize for Interval {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Interval::parse(&text).map_err(|e| serde::de::Error::custom(format!("expected {e}")))
    }
}

impl JsonSchema for Interval {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Interval".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "interval",
            "description": "a PostgreSQL interval such as `7 days`, `1 hour` or `1 year 6 months`"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_the_prd_uses() {
        assert_eq!(Interval::parse("7 days").unwrap().to_string(), "7 days");
        assert_eq!(Interval::parse("10 years").unwrap().months, 120);
        assert_eq!(Interval::parse("15 minutes").unwrap().seconds, 900);
        assert_eq!(Interval::parse("1 year 6 months").unwrap().to_string(), "1 year 6 months");
        assert_eq!(Interval::parse("3h").unwrap().to_string(), "3 hours");
    }

    #[test]
    fn rejects_what_postgresql_would_reject() {
        assert!(Interval::parse("seven days").is_err());
        assert!(Interval::parse("7 fortnights").is_err());
        assert!(Interval::parse("7").is_err());
        assert!(Interval::parse("").is_err());
    }

    #[test]
    fn a_value_beyond_postgresql_s_interval_is_refused_not_wrapped() {
        // This once validated and was shown as '8 months' in release builds.
        let e = Interval::parse("1537228672809129302 years").unwrap_err();
        assert!(e.contains("an interval PostgreSQL can hold"), "{e}");
        assert!(Interval::parse("178956971 years").is_err(), "months overflow 32 bits");
        assert!(Interval::parse("178956970 years").is_ok());
        assert!(Interval::parse("2147483648 days").is_err());
        assert!(Interval::parse("9223372036854775807 seconds").is_err());
        assert!(Interval::parse("99999999999999999999 days").is_err(), "does not fit i64 at all");
    }

    #[test]
    fn units_sum_and_signs_are_kept() {
        let i = Interval::parse("1 day 1 day 2 hours -30 minutes").unwrap();
        assert_eq!((i.months, i.days, i.seconds), (0, 2, 7200 - 1800));
        assert_eq!(Interval::parse("2 weeks").unwrap().days, 14);
        assert!(!Interval::parse("-1 day").unwrap().is_positive());
        assert!(!Interval::parse("0 days").unwrap().is_positive());
    }

    #[test]
    fn reads_postgresql_s_own_output() {
        let p = |t: &str| Interval::parse_postgres(t).unwrap();
        assert_eq!(p("1 year 6 mons"), Interval { months: 18, days: 0, seconds: 0 });
        assert_eq!(p("3 days 01:00:00"), Interval { months: 0, days: 3, seconds: 3600 });
        assert_eq!(p("00:15:00"), Interval { months: 0, days: 0, seconds: 900 });
        assert_eq!(p("-01:30:00.5"), Interval { months: 0, days: 0, seconds: -5400 });
        assert!(Interval::parse_postgres("ab:cd").is_err());
    }

    #[test]
    fn the_canonical_form_round_trips() {
        for text in ["7 days", "1 year 6 months", "1 hour 1 minute 1 second", "3 months", "0 seconds"] {
            let parsed = Interval::parse(text).unwrap();
            assert_eq!(parsed.to_string(), text);
            assert_eq!(Interval::parse(&parsed.to_string()).unwrap(), parsed);
        }
    }

    #[test]
    fn schedules_become_cron_expressions_or_are_refused() {
        let cron = |t: &str| Interval::parse(t).unwrap().as_cron_schedule();
        assert_eq!(cron("15 minutes").unwrap(), "*/15 * * * *");
        assert_eq!(cron("1 minute").unwrap(), "* * * * *");
        assert_eq!(cron("1 hour").unwrap(), "0 * * * *");
        assert_eq!(cron("6 hours").unwrap(), "0 */6 * * *");
        assert_eq!(cron("1 day").unwrap(), "0 0 * * *");
        for refused in ["7 minutes", "90 minutes", "5 hours", "2 days", "1 month", "30 seconds"] {
            assert!(cron(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn compares_months_as_thirty_days_like_postgresql() {
        let six_months_less_a_day = Interval::parse("6 months -1 day").unwrap();
        assert!(six_months_less_a_day.approx_seconds() < 2 * Interval::parse("3 months").unwrap().approx_seconds());
    }

    mod properties {
        use super::super::Interval;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn no_input_panics(text in ".{0,40}") {
                let _ = Interval::parse(&text);
                let _ = Interval::parse_postgres(&text);
            }

            #[test]
            fn numbers_and_units_never_panic(n in any::<i64>(), unit in "(seconds|minutes|hours|days|weeks|months|years)") {
                let _ = Interval::parse(&format!("{n} {unit}"));
            }

            #[test]
            fn every_accepted_value_round_trips(
                months in -1_000_000i64..1_000_000,
                days in -1_000_000i64..1_000_000,
                seconds in -1_000_000_000i64..1_000_000_000,
            ) {
                let interval = Interval { months, days, seconds };
                let text = interval.to_string();
                prop_assert_eq!(Interval::parse(&text), Ok(interval), "{}", text);
            }
        }
    }
}
