//! How the environment's migrations are judged (`glctl migrate lint`, and so `plan`, `apply`, `promote`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::diagnostics::{FieldPath, Finding};
use super::interval::Interval;
use super::model::Environment;

/// Retries of a migration that hit `lock_timeout`, when the file does not say.
pub const DEFAULT_LOCK_RETRIES: u32 = 3;
/// The most `lock_retries` may be: the backoff doubles each time.
pub const MAX_LOCK_RETRIES: u32 = 10;
/// The longest `lock_timeout`: longer is a wait that blocks the application, which the bound is there to stop.
pub const MAX_LOCK_TIMEOUT_SECONDS: i64 = 600;

/// How migrations are judged before they run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrationSettings {
    /// `previous`: the application version still running while a migration applies must keep working, so
    /// a migration that drops or renames a table, view or column it may use is an error (ML010) until the
    /// release that stops using it is out; `none`: no such promise.
    #[serde(default)]
    pub compatibility: Compatibility,
    /// How long a migration may wait for a lock before it gives up and is tried again after a backoff:
    /// queued behind a long read, an `ALTER TABLE` would block every query that arrives after it. A migration
    /// in a transaction gets `SET LOCAL lock_timeout` and is rolled back whole; a `-- glctl:no-transaction`
    /// statement runs under a session `lock_timeout` and is retried alone (a concurrent index build that
    /// failed has its INVALID index dropped first). Unset: no bound (PostgreSQL's default). 1 s to 10 minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_timeout: Option<Interval>,
    /// With `lock_timeout`: how many times a migration that hit it is tried again (exponential backoff from
    /// 0.5 s with jitter) before `apply` fails naming it; at most 10.
    #[serde(default = "default_lock_retries")]
    pub lock_retries: u32,
}

fn default_lock_retries() -> u32 {
    DEFAULT_LOCK_RETRIES
}

impl MigrationSettings {
    /// The bound on one migration's lock wait, and the retries, when the file sets one.
    pub fn lock_wait(&self) -> Option<(std::time::Duration, u32)> {
        let seconds = self.lock_timeout.as_ref()?.approx_seconds();
        u64::try_from(seconds).ok().filter(|s| *s > 0).map(|s| (std::time::Duration::from_secs(s), self.lock_retries))
    }
}

/// A lock timeout of zero, negative or too long; too many retries.
pub fn findings(env: &Environment) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(m) = &env.migrations else { return out };
    if let Some(t) = &m.lock_timeout {
        let seconds = t.approx_seconds();
        if seconds <= 0 {
            out.push(Finding::error(
                FieldPath::parse("migrations.lock_timeout"),
                format!("{seconds} s is no bound: give a lock timeout between 1 s and {MAX_LOCK_TIMEOUT_SECONDS} s (e.g. `2s`)"),
            ));
        } else if seconds > MAX_LOCK_TIMEOUT_SECONDS {
            out.push(Finding::error(
                FieldPath::parse("migrations.lock_timeout"),
                format!("{seconds} s is a wait that blocks the application; at most {MAX_LOCK_TIMEOUT_SECONDS} s"),
            ));
        }
    }
    if m.lock_retries > MAX_LOCK_RETRIES {
        out.push(Finding::error(
            FieldPath::parse("migrations.lock_retries"),
            format!(
                "{} retries with a doubling backoff is hours of waiting; at most {MAX_LOCK_RETRIES}",
                m.lock_retries
            ),
        ));
    }
    out
}

/// Which application version a migration must not break.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Compatibility {
    #[default]
    None,
    Previous,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_with(yaml: &str) -> Vec<String> {
        let mut env: Environment = serde_yaml_ng::from_str(include_str!("../../environments/local.yaml")).unwrap();
        env.migrations = Some(serde_yaml_ng::from_str(yaml).unwrap());
        findings(&env).iter().map(|f| f.message.clone()).collect()
    }

    #[test]
    fn a_lock_timeout_of_zero_negative_or_too_long_and_too_many_retries_are_refused() {
        assert_eq!(env_with("lock_timeout: 2s"), Vec::<String>::new());
        assert_eq!(
            env_with("lock_timeout: 0s")[0],
            "0 s is no bound: give a lock timeout between 1 s and 600 s (e.g. `2s`)"
        );
        assert!(env_with("lock_timeout: -5 seconds")[0].contains("is no bound"));
        assert!(env_with("lock_timeout: 1 hour")[0].contains("at most 600 s"));
        assert!(env_with("lock_timeout: 2s\nlock_retries: 11")[0].contains("at most 10"));
    }

    #[test]
    fn lock_wait_is_the_timeout_and_retries_when_set() {
        let m: MigrationSettings = serde_yaml_ng::from_str("lock_timeout: 2s").unwrap();
        assert_eq!(m.lock_wait(), Some((std::time::Duration::from_secs(2), DEFAULT_LOCK_RETRIES)));
        assert_eq!(MigrationSettings::default().lock_wait(), None);
    }
}
