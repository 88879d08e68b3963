//! `acceptance.pitr_targets`: how far back the point-in-time restore drills (BR-04, BR-05) restore to. The
//! PRD asks for 1 hour and 24 hours ago; a fresh local stack has no such window, so an environment declares
//! its own (`now`, or an interval back such as `5 minutes`). Types and their semantic rule.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::diagnostics::{FieldPath, Finding};
use super::interval::Interval;

/// The targets of the point-in-time restore drills, each `now` or how far back (an interval).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PitrTargets {
    /// BR-04's target: `now` (the drill writes its own marker rows just before it and one just after) or how
    /// far back, e.g. `1 hour`.
    #[serde(default = "one_hour")]
    pub br04: String,
    /// BR-05's target, the same way, e.g. `24 hours`.
    #[serde(default = "one_day")]
    pub br05: String,
}

fn one_hour() -> String {
    "1 hour".into()
}

fn one_day() -> String {
    "24 hours".into()
}

impl Default for PitrTargets {
    fn default() -> Self {
        PitrTargets { br04: one_hour(), br05: one_day() }
    }
}

/// One target, parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PitrTarget {
    /// Just before the drill's own marker row (written by the drill).
    Now,
    /// This many seconds before the drill starts, on the server's clock.
    SecondsAgo(i64),
}

impl PitrTarget {
    pub fn parse(text: &str) -> Result<PitrTarget, String> {
        if text.trim().eq_ignore_ascii_case("now") {
            return Ok(PitrTarget::Now);
        }
        let interval =
            Interval::parse(text).map_err(|e| format!("expected `now` or an interval back such as `1 hour` ({e})"))?;
        if interval.months != 0 {
            return Err(format!(
                "'{text}' counts months, whose length varies; expected days, hours or minutes (e.g. `30 days`)"
            ));
        }
        let seconds = interval.days.checked_mul(86_400).and_then(|d| d.checked_add(interval.seconds));
        match seconds {
            Some(s) if s > 0 => Ok(PitrTarget::SecondsAgo(s)),
            Some(_) => Err(format!("'{text}' is not back in time; expected `now` or a positive interval")),
            None => Err(format!("'{text}' is out of range")),
        }
    }
}

impl std::fmt::Display for PitrTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PitrTarget::Now => f.write_str("now"),
            PitrTarget::SecondsAgo(s) => write!(f, "{s} s ago"),
        }
    }
}

/// Semantic rule of `acceptance.pitr_targets`: each target parses.
pub fn check(targets: &PitrTargets) -> Vec<Finding> {
    [("br04", &targets.br04), ("br05", &targets.br05)]
        .into_iter()
        .filter_map(|(field, text)| {
            PitrTarget::parse(text)
                .err()
                .map(|e| Finding::error(FieldPath::parse(&format!("acceptance.pitr_targets.{field}")), e))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prd_defaults_now_and_intervals_back() {
        let d = PitrTargets::default();
        assert_eq!(PitrTarget::parse(&d.br04), Ok(PitrTarget::SecondsAgo(3600)));
        assert_eq!(PitrTarget::parse(&d.br05), Ok(PitrTarget::SecondsAgo(86_400)));
        assert_eq!(PitrTarget::parse("NOW"), Ok(PitrTarget::Now));
        assert_eq!(PitrTarget::parse("1 day 30 minutes"), Ok(PitrTarget::SecondsAgo(88_200)));
        assert!(check(&d).is_empty());
    }

    #[test]
    fn a_bad_target_is_reported_at_its_field() {
        let t = PitrTargets { br04: "0 minutes".into(), br05: "1 month".into() };
        let found: Vec<String> = check(&t).iter().map(|f| format!("{}: {}", f.path, f.message)).collect();
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[0].starts_with("acceptance.pitr_targets.br04") && found[0].contains("not back in time"));
        assert!(found[1].starts_with("acceptance.pitr_targets.br05") && found[1].contains("months"));
        assert!(PitrTarget::parse("yesterday").unwrap_err().contains("expected `now` or an interval"));
    }
}
