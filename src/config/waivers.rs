//! Waivers of acceptance checks (`acceptance.waivers`): configuration, so validated here when the file loads,
//! and consumed by `verify`, which skips a waived check until its expiry date.

use super::diagnostics::{FieldPath, Finding};
use super::model::Environment;

/// The acceptance criteria a waiver may name: PRD §10 (FA, PB, HA, BR, ST) and the reviewer's additions
/// (GL). `verify` decides exactly these (a unit test there holds the two lists together).
pub const CRITERIA: &[&str] = &[
    "FA-01", "FA-02", "FA-03", "FA-04", "FA-05", "FA-06", "FA-07", "FA-08", "FA-09", "FA-10", //
    "PB-01", "PB-02", "PB-03", "PB-04", "PB-05", "PB-06", "PB-07", "PB-08", //
    "HA-01", "HA-02", "HA-03", "HA-04", "HA-05", "HA-06", //
    "BR-01", "BR-02", "BR-03", "BR-04", "BR-05", "BR-06", "BR-07", "BR-08", //
    "ST-01", "ST-02", "ST-03", "ST-04", "ST-05", "ST-06", "ST-07", //
    "GL-01", "GL-02", "GL-03", "GL-04", "GL-05", "GL-06", "GL-07", "GL-08", "GL-09", "GL-10",
];

/// Every problem with the file's waivers on `today` (YYYY-MM-DD): an unknown check or a date that is not
/// one is an error; an expired waiver a warning (the check simply runs again).
pub fn findings(env: &Environment, today: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, w) in env.acceptance.waivers.iter().enumerate() {
        let at = FieldPath::parse("acceptance.waivers").index(i);
        if !CRITERIA.iter().any(|id| id.eq_ignore_ascii_case(&w.check)) {
            out.push(Finding::error(at, format!("'{}' is not a check of `glctl verify` (e.g. ST-01, FA-08)", w.check)));
        } else if !is_date(&w.expires) {
            out.push(Finding::error(at, format!("expires '{}' is not a date; expected YYYY-MM-DD", w.expires)));
        } else if w.expires.as_str() < today {
            out.push(Finding::warning(
                at,
                format!("the waiver of {} expired on {}; {} runs again", w.check, w.expires, w.check),
            ));
        }
    }
    out
}

fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    matches!(parts.as_slice(), [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2
        && [y, m, d].iter().all(|p| p.chars().all(|c| c.is_ascii_digit()))
        && (1..=12).contains(&m.parse::<u32>().unwrap_or(0)) && (1..=31).contains(&d.parse::<u32>().unwrap_or(0)))
}

/// Today's date in UTC as YYYY-MM-DD, from the system clock.
pub fn today() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    crate::clock::civil_date(i64::try_from(secs / 86_400).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(waivers: &str) -> Environment {
        let yaml = format!(
            "project: p\ntier: non-production\naws: {{ account_id: '123456789012', region: us-east-1 }}\n\
             engine: {{ kind: external, version: '16.6' }}\ntimeseries: {{ backend: native }}\n\
             acceptance:\n  waivers: [{waivers}]\n"
        );
        serde_yaml_ng::from_str(&yaml).unwrap()
    }

    #[test]
    fn an_expired_waiver_is_a_warning_that_the_check_runs_again() {
        let e = env("{ check: ST-01, reason: 'PGlite speaks no TLS', expires: '2027-03-31' }");
        assert!(findings(&e, "2027-03-31").is_empty());
        let after = findings(&e, "2027-04-01");
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].severity, crate::config::diagnostics::Severity::Warning);
        assert_eq!(after[0].message, "the waiver of ST-01 expired on 2027-03-31; ST-01 runs again");
        assert_eq!(after[0].path.to_string(), "acceptance.waivers[0]");
    }

    #[test]
    fn waivers_of_unknown_checks_or_with_bad_dates_are_errors() {
        let e = env("{ check: ST-99, reason: r, expires: '2027-01-01' }, { check: ST-01, reason: r, expires: 'soon' }");
        let found = findings(&e, "2026-01-01");
        assert_eq!(found.len(), 2);
        assert!(found.iter().all(|f| f.severity == crate::config::diagnostics::Severity::Error));
    }

    #[test]
    fn civil_dates_from_day_counts() {
        assert_eq!(crate::clock::civil_date(0), "1970-01-01");
        assert_eq!(crate::clock::civil_date(11_016), "2000-02-29");
        assert_eq!(crate::clock::civil_date(20_788), "2026-12-01");
        assert_eq!(today().len(), 10);
    }
}
