//! How the environment's migrations are judged (`glctl migrate lint`, and so `plan`, `apply`, `promote`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::diagnostics::{FieldPath, Finding};
use super::interval::Interval;
use super::model::Environment;

/// The bound on one lock wait when the file does not say: an `ALTER TABLE` queued behind a long read blocks
/// every later query on its table for at most this long per attempt, which an application with a request
/// timeout of a few seconds lives through; ordinary short transactions (milliseconds) finish well within it.
pub const DEFAULT_LOCK_TIMEOUT_SECONDS: u64 = 2;
/// Retries of a migration that hit `lock_timeout`, when the file does not say: with the 2 s default and the
/// backoff (0.5 s doubling, plus up to half again as jitter) a migration gives up after at most
/// 6 × 2 s + (0.5 + 1 + 2 + 4 + 8) s × 1.5 ≈ 35 s, long enough for a batch job's transaction to end.
pub const DEFAULT_LOCK_RETRIES: u32 = 5;
/// The most `lock_retries` may be: the backoff doubles each time.
pub const MAX_LOCK_RETRIES: u32 = 10;
/// The longest `lock_timeout`: longer is a wait that blocks the application, which the bound is there to stop.
pub const MAX_LOCK_TIMEOUT_SECONDS: i64 = 600;

/// How migrations are judged before they run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
    /// failed has its INVALID index dropped first). Unset: 2 s. 1 s to 10 minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_timeout: Option<Interval>,
    /// How many times a statement that hit `lock_timeout` is tried again (exponential backoff from
    /// 0.5 s with jitter) before `apply` fails naming it and who held the lock; 1 to 10, default 5.
    #[serde(default = "default_lock_retries")]
    pub lock_retries: u32,
    /// The longest the application may be blocked by one migration statement (`200 ms`, `1 s`): `glctl migrate
    /// rehearse` FAILs, naming the statement, when a session of its workload stalls longer on a migration's
    /// lock. Positive; unset: the rehearsal measures and reports, and judges against 200 ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_blocking: Option<String>,
}

fn default_lock_retries() -> u32 {
    DEFAULT_LOCK_RETRIES
}

impl MigrationSettings {
    /// The bound on one statement's lock wait and the retries: the file's, or the defaults (2 s, 5 retries).
    /// A value validate refuses (zero, negative) falls back to the default rather than to no bound.
    pub fn lock_wait(&self) -> (std::time::Duration, u32) {
        let seconds = self
            .lock_timeout
            .as_ref()
            .filter(|t| t.is_positive())
            .and_then(|t| u64::try_from(t.approx_seconds()).ok())
            .unwrap_or(DEFAULT_LOCK_TIMEOUT_SECONDS);
        (std::time::Duration::from_secs(seconds), self.lock_retries)
    }
}

/// The runner's bound for `env`: its `migrations:` settings, or the defaults when it has none.
pub fn lock_wait(env: &Environment) -> (std::time::Duration, u32) {
    env.migrations.clone().unwrap_or_default().lock_wait()
}

impl Default for MigrationSettings {
    fn default() -> Self {
        MigrationSettings {
            compatibility: Compatibility::None,
            lock_timeout: None,
            lock_retries: DEFAULT_LOCK_RETRIES,
            max_blocking: None,
        }
    }
}

/// The budget `migrate rehearse` judges by when the file sets none.
pub const DEFAULT_MAX_BLOCKING_MS: u64 = 200;

/// `200 ms`, `200ms`, `1 s`, `1.5s` → milliseconds; positive, at most an hour.
pub fn parse_max_blocking(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+')).unwrap_or(t.len());
    let (number, unit) = (t[..split].trim(), t[split..].trim().to_ascii_lowercase());
    let value: f64 = number.parse().map_err(|_| format!("a duration such as `200 ms` or `1 s`; got `{text}`"))?;
    let factor = match unit.as_str() {
        "ms" | "msec" | "millisecond" | "milliseconds" => 1.0,
        "s" | "sec" | "secs" | "second" | "seconds" => 1000.0,
        _ => return Err(format!("a duration in ms or s such as `200 ms`; got `{text}` (unit `{unit}`)")),
    };
    let ms = value * factor;
    if !ms.is_finite() || ms < 1.0 {
        return Err(format!("`{text}` is no budget: give a positive duration of at least 1 ms (e.g. `200 ms`)"));
    }
    if ms > 3_600_000.0 {
        return Err(format!("`{text}` is longer than an hour: that is an outage, not a budget"));
    }
    Ok(ms.round() as u64)
}

impl MigrationSettings {
    /// `max_blocking` in milliseconds, or the default when unset (or invalid: validation refused it already).
    pub fn max_blocking_ms(&self) -> u64 {
        self.max_blocking.as_deref().and_then(|t| parse_max_blocking(t).ok()).unwrap_or(DEFAULT_MAX_BLOCKING_MS)
    }
}

/// A lock timeout of zero, negative or too long; a retry budget of zero or too many retries; a blocking budget
/// that is not positive.
pub fn findings(env: &Environment) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(m) = &env.migrations else { return out };
    if let Some(t) = &m.lock_timeout {
        let seconds = t.approx_seconds();
        if !t.is_positive() {
            out.push(Finding::error(
                FieldPath::parse("migrations.lock_timeout"),
                format!(
                    "'{t}' is no bound: give a lock timeout between 1 s and {MAX_LOCK_TIMEOUT_SECONDS} s (e.g. `2s`)"
                ),
            ));
        } else if seconds > MAX_LOCK_TIMEOUT_SECONDS {
            out.push(Finding::error(
                FieldPath::parse("migrations.lock_timeout"),
                format!("{seconds} s is a wait that blocks the application; at most {MAX_LOCK_TIMEOUT_SECONDS} s"),
            ));
        }
    }
    if let Some(budget) = &m.max_blocking {
        if let Err(why) = parse_max_blocking(budget) {
            out.push(Finding::error(FieldPath::parse("migrations.max_blocking"), why));
        }
    }
    if m.lock_retries == 0 {
        out.push(Finding::error(
            FieldPath::parse("migrations.lock_retries"),
            format!(
                "a budget of 0 retries gives up at the first lock wait, which a short read or autovacuum causes on \
                 any busy table; give 1 to {MAX_LOCK_RETRIES} (default {DEFAULT_LOCK_RETRIES})"
            ),
        ));
    } else if m.lock_retries > MAX_LOCK_RETRIES {
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
            "'0 seconds' is no bound: give a lock timeout between 1 s and 600 s (e.g. `2s`)"
        );
        assert!(env_with("lock_timeout: -5 seconds")[0].contains("'-5 seconds' is no bound"));
        assert!(env_with("lock_timeout: 1 minute -61 seconds")[0].contains("is no bound"));
        assert!(env_with("lock_retries: 0")[0].starts_with("a budget of 0 retries gives up at the first lock wait"));
        assert!(env_with("lock_timeout: 1 hour")[0].contains("at most 600 s"));
        assert!(env_with("lock_timeout: 2s\nlock_retries: 11")[0].contains("at most 10"));
    }

    #[test]
    fn lock_wait_is_the_files_or_the_default_never_unbounded() {
        use std::time::Duration;
        let m: MigrationSettings = serde_yaml_ng::from_str("lock_timeout: 7s\nlock_retries: 2").unwrap();
        assert_eq!(m.lock_wait(), (Duration::from_secs(7), 2));
        let defaults = (Duration::from_secs(DEFAULT_LOCK_TIMEOUT_SECONDS), DEFAULT_LOCK_RETRIES);
        assert_eq!(MigrationSettings::default().lock_wait(), defaults);
        let only_compat: MigrationSettings = serde_yaml_ng::from_str("compatibility: previous").unwrap();
        assert_eq!(only_compat.lock_wait(), defaults);
        let refused: MigrationSettings = serde_yaml_ng::from_str("lock_timeout: -5 seconds").unwrap();
        assert_eq!(refused.lock_wait().0, Duration::from_secs(DEFAULT_LOCK_TIMEOUT_SECONDS), "never unbounded");
        let mut env: Environment = serde_yaml_ng::from_str(include_str!("../../environments/local.yaml")).unwrap();
        env.migrations = None;
        assert_eq!(lock_wait(&env), defaults);
    }

    #[test]
    fn max_blocking_must_be_a_positive_duration() {
        assert_eq!(env_with("max_blocking: 200 ms"), Vec::<String>::new());
        assert_eq!(parse_max_blocking("200ms"), Ok(200));
        assert_eq!(parse_max_blocking("1.5 s"), Ok(1500));
        assert!(env_with("max_blocking: 0 ms")[0].contains("is no budget"));
        assert!(env_with("max_blocking: -5 ms")[0].contains("is no budget"));
        assert!(env_with("max_blocking: 2 hours")[0].contains("unit `hours`"));
        assert!(env_with("max_blocking: 2 h")[0].contains("unit `h`"));
        assert!(env_with("max_blocking: 7200 s")[0].contains("longer than an hour"));
        let m: MigrationSettings = serde_yaml_ng::from_str("max_blocking: 50 ms").unwrap();
        assert_eq!(m.max_blocking_ms(), 50);
        assert_eq!(MigrationSettings::default().max_blocking_ms(), DEFAULT_MAX_BLOCKING_MS);
    }
}
