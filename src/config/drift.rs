//! Drift `glctl drift` knows about and accepts for a while: each entry names a difference, says why, and
//! expires, like `acceptance.waivers`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::diagnostics::{FieldPath, Finding};
use super::model::Environment;

/// Differences from the file that are known and accepted until a date.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DriftSettings {
    /// Drift `glctl drift` reports as acknowledged (exit 0) until its expiry, each with why.
    #[serde(default)]
    pub acknowledged: Vec<AcknowledgedDrift>,
}

/// One acknowledged difference.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgedDrift {
    /// The difference as `glctl drift` names it (`LAYER: NAME`, e.g. `policies: sensor_readings retention`);
    /// a trailing `*` matches every name that starts with the rest.
    pub item: String,
    /// Why it is accepted, for the report.
    pub reason: String,
    /// Last day the acknowledgement holds, `YYYY-MM-DD`.
    pub expires: String,
}

impl AcknowledgedDrift {
    pub fn matches(&self, name: &str) -> bool {
        match self.item.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == self.item,
        }
    }
}

pub const LAYERS: [&str; 4] = ["infrastructure", "migrations", "policies", "objects"];

/// Entries without a layer, with a bad date, or expired (a warning: the drift is reported again).
pub fn findings(env: &Environment, today: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(drift) = &env.drift else { return out };
    for (i, a) in drift.acknowledged.iter().enumerate() {
        let at = FieldPath::parse("drift.acknowledged").index(i);
        let layer = a.item.split_once(": ").map(|(l, _)| l);
        if !layer.is_some_and(|l| LAYERS.contains(&l)) {
            out.push(Finding::error(
                at,
                format!("item '{}' must start with its layer: one of {}, then ': '", a.item, LAYERS.join(", ")),
            ));
        } else if a.reason.trim().is_empty() {
            out.push(Finding::error(at, "an acknowledgement needs a reason"));
        } else if !is_date(&a.expires) {
            out.push(Finding::error(at, format!("expires '{}' is not a date; expected YYYY-MM-DD", a.expires)));
        } else if a.expires.as_str() < today {
            out.push(Finding::warning(
                at,
                format!("the acknowledgement of '{}' expired on {}; it is drift again", a.item, a.expires),
            ));
        }
    }
    out
}

fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let number = |p: &str, len: usize| p.len() == len && p.chars().all(|c| c.is_ascii_digit());
    matches!(parts.as_slice(), [y, m, d] if number(y, 4) && number(m, 2) && number(d, 2)
        && (1..=12).contains(&m.parse::<u32>().unwrap_or(0)) && (1..=31).contains(&d.parse::<u32>().unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_star_matches_a_prefix_and_otherwise_the_whole_name() {
        let a = AcknowledgedDrift { item: "objects: grant*".into(), reason: "r".into(), expires: "2099-01-01".into() };
        assert!(a.matches("objects: grant SELECT on audit_logs to x"));
        assert!(!a.matches("objects: index dropped"));
        let exact = AcknowledgedDrift { item: "policies: x".into(), ..a };
        assert!(exact.matches("policies: x") && !exact.matches("policies: xy"));
    }
}
