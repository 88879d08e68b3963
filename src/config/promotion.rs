//! How an environment is promoted into (`glctl promote --from SRC --to DST`): declared in DST's file.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::diagnostics::{FieldPath, Finding};
use super::interval::Interval;
use super::model::Environment;

/// Where this environment's changes come from, and what a promotion into it must have proven.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Promotion {
    /// The previous stage: the environment promoted into this one (e.g. `dev` in staging). Promoting from
    /// any other environment is refused, so no stage is skipped.
    pub from: String,
    /// The newest passing verify run of the previous stage may be at most this old, e.g. `7 days`.
    #[serde(default = "default_max_age")]
    pub max_age: Interval,
    /// The previous stage must have run this long since it was applied, e.g. `1 day`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_soak: Option<Interval>,
    /// Fields meant to differ between the previous stage and this one (dotted paths of the effective
    /// configuration; a path covers everything under it; `*` is any one name), e.g. `[engine, storage,
    /// hypertables.*.retention]`. Other differences are shown as unexplained (an error with `--strict`).
    #[serde(default)]
    pub differs: Vec<String>,
}

fn default_max_age() -> Interval {
    Interval { months: 0, days: 7, seconds: 0 }
}

impl Promotion {
    /// Whether `path` (dotted) is a declared difference.
    pub fn declares(&self, path: &str) -> bool {
        self.differs.iter().any(|pattern| covers(pattern, path))
    }
}

/// `pattern` covers `path` when its segments match the first segments of `path` (`*` matches any one).
pub fn covers(pattern: &str, path: &str) -> bool {
    let wanted: Vec<&str> = pattern.split('.').collect();
    let given: Vec<&str> = path.split('.').collect();
    wanted.len() <= given.len() && wanted.iter().zip(&given).all(|(w, g)| *w == "*" || w == g)
}

/// Checks of the `promotion` section that need no other file.
pub fn findings(env: &Environment, own_name: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(p) = &env.promotion else { return out };
    let at = |field: &str| FieldPath::parse(&format!("promotion.{field}"));
    if p.from == own_name {
        out.push(Finding::error(at("from"), format!("'{own_name}' cannot be promoted from itself")));
    }
    if !p.max_age.is_positive() {
        out.push(Finding::error(at("max_age"), "expected a positive interval such as '7 days'"));
    }
    if p.min_soak.is_some_and(|s| s.approx_seconds() < 0) {
        out.push(Finding::error(at("min_soak"), "expected an interval of zero or more, such as '1 day'"));
    }
    let schema = super::schema();
    for (i, pattern) in p.differs.iter().enumerate() {
        if pattern.is_empty() || pattern.split('.').any(str::is_empty) {
            out.push(Finding::error(at("differs").index(i), format!("'{pattern}' is not a dotted field path")));
        } else if !top_level_known(&schema, pattern) {
            out.push(Finding::error(
                at("differs").index(i),
                format!("'{pattern}' names no field of the environment (see `glctl fields`)"),
            ));
        }
    }
    out
}

/// The first segment must be a top-level field of the model (deeper ones may be map keys).
fn top_level_known(schema: &serde_json::Value, pattern: &str) -> bool {
    let first = pattern.split('.').next().unwrap_or_default();
    first == "*" || schema["properties"].get(first).is_some()
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn a_path_covers_what_is_under_it_and_a_star_one_name() {
        assert!(covers("storage", "storage.allocated_gb"));
        assert!(covers("hypertables.*.retention", "hypertables.sensor_readings.retention"));
        assert!(!covers("hypertables.*.retention", "hypertables.sensor_readings.chunk_interval"));
        assert!(!covers("storage.allocated_gb", "storage"));
        assert!(!covers("tag", "tags.Environment"));
    }
}
