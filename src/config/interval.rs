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
            match unit {
                Unit::Seconds(n) => interval.seconds += amount * n,
                Unit::Days(n) => interval.days += amount * n,
                Unit::Months(n) => interval.months += amount * n,
            }
        }
        Ok(interval)
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
            let seconds = fields.iter().fold(0, |acc, f| acc * 60 + f);
            interval.seconds += if negative { -seconds } else { seconds };
        }
        Ok(interval)
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
    fn compares_months_as_thirty_days_like_postgresql() {
        let six_months_less_a_day = Interval::parse("6 months -1 day").unwrap();
        assert!(six_months_less_a_day.approx_seconds() < 2 * Interval::parse("3 months").unwrap().approx_seconds());
    }
}
