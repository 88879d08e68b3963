//! `promote`: carry what was verified in one environment to the next, refusing what was not. What is carried
//! is the `bundle` (one digest over everything promoted); the saved verify runs and promotion records live in
//! `history`, the gates in `gates`, the environment diff in `envdiff`; one promotion per target at a time
//! (`lock`).

pub mod bundle;
pub mod envdiff;
pub mod gates;
pub mod history;
pub mod lock;
pub mod rehearsals;

use std::path::Path;

use serde::{Deserialize, Serialize};

/// A promotion, as written next to the target's verify runs (`.glctl/DST/promotions/<time>.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PromotionRecord {
    pub from: String,
    pub to: String,
    /// Who promoted: GLCTL_ACTOR, the CI system's user, or git's user.
    pub actor: String,
    pub at: String,
    pub git_commit: Option<String>,
    pub bundle: String,
    /// The source's verify run the promotion rested on, and when it ran.
    pub source_verify_run: String,
    pub source_verified_at: String,
    /// Each gate and what it saw.
    pub gates: Vec<String>,
    /// The target's plan, one line per change.
    pub plan: Vec<String>,
    pub declared_differences: Vec<String>,
    pub unexplained_differences: Vec<String>,
    /// `promoted`, or what went wrong after the gates passed.
    pub outcome: String,
    /// The target's verify run after the apply, and its summary.
    pub target_verify_run: Option<String>,
    pub target_verify: Option<String>,
}

/// RFC 3339 UTC (as glctl writes it) → seconds since the epoch.
pub fn parse_time(text: &str) -> Option<i64> {
    use aws_sdk_rds::primitives::{DateTime, DateTimeFormat};
    DateTime::from_str(text, DateTimeFormat::DateTime).ok().map(|t| t.secs())
}

/// Who is promoting: GLCTL_ACTOR, then the CI system's user (GitHub, GitLab), then git's configured user.
pub fn actor(root: &Path) -> String {
    for var in ["GLCTL_ACTOR", "GITHUB_ACTOR", "GITLAB_USER_LOGIN"] {
        if let Some(v) = std::env::var(var).ok().filter(|v| !v.is_empty()) {
            return v;
        }
    }
    let git =
        |key: &str| crate::git::output(root, &["config", key]).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    match (git("user.name"), git("user.email")) {
        (Some(n), Some(e)) => format!("{n} <{e}>"),
        (Some(n), None) => n,
        (None, Some(e)) => e,
        (None, None) => std::env::var("USER").unwrap_or_else(|_| "unknown".into()),
    }
}

/// What git says about the checkout at `root`, for the checkout gate.
pub fn checkout(root: &Path, verified: Option<&str>) -> gates::Checkout {
    let git = |args: &[&str]| crate::git::output(root, args);
    let head = crate::git::head(root);
    let dirty = git(&["status", "--porcelain", "--", "environments", "sql", "templates"])
        .map(|o| o.lines().map(str::to_string).collect())
        .unwrap_or_default();
    let descends = verified.is_some_and(|c| git(&["merge-base", "--is-ancestor", c, "HEAD"]).is_some());
    gates::Checkout { head, dirty, descends_from_verified: descends }
}

#[cfg(test)]
mod tests {
    #[test]
    fn glctl_times_parse() {
        assert_eq!(super::parse_time("2025-12-01T10:00:00Z"), Some(1_764_583_200));
        assert_eq!(super::parse_time("2025-12-01T10:00:00.392369Z"), Some(1_764_583_200));
        assert_eq!(super::parse_time("yesterday"), None);
    }
}
