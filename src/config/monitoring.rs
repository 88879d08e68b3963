//! The Prometheus side of `monitoring`: the alert thresholds (PRD §6.1 defaults) and where Alertmanager
//! finds the PagerDuty routing key. Types and their semantic rules; `glctl render` turns them into rules,
//! exporter queries, Alertmanager routing and a dashboard (`src/monitoring/`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::diagnostics::{FieldPath, Finding};

/// A warning and a critical level of one condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Levels {
    /// Level at which the alert is `severity: warning` (PagerDuty urgency low).
    pub warning: u64,
    /// Level at which the alert is `severity: critical` (PagerDuty urgency high).
    pub critical: u64,
}

const fn levels(warning: u64, critical: u64) -> Levels {
    Levels { warning, critical }
}

/// Alert thresholds of the Prometheus rules glctl renders. Defaults are PRD §6.1's, corrected where a
/// threshold was absolute and the server has a real limit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Client sessions of an instance as a percentage of its `max_connections` (PRD: 350 and 450 of 500).
    #[serde(default = "default_connections_percent")]
    pub connections_percent: Levels,
    /// Bytes of WAL a streaming replica has not replayed yet, as its primary sees it (PRD: 100 KB, 1 MB).
    #[serde(default = "default_replication_lag_bytes")]
    pub replication_lag_bytes: Levels,
    /// Buffer cache hit ratio of a database over 10 minutes, in percent; alerts when it falls below.
    #[serde(default = "default_cache_hit_ratio_percent")]
    pub cache_hit_ratio_percent: Levels,
    /// Transactions per second of an instance; alerts when it falls below (production tier only: other
    /// tiers idle at night).
    #[serde(default = "default_transactions_per_second")]
    pub transactions_per_second: Levels,
    /// WAL written per minute by the primary, in bytes (PRD: 100 MB and 500 MB per minute).
    #[serde(default = "default_wal_bytes_per_minute")]
    pub wal_bytes_per_minute: Levels,
    /// Dead tuples of the worst table (PRD: 10 and 50 million).
    #[serde(default = "default_dead_tuples")]
    pub dead_tuples: Levels,
    /// Sessions waiting for a lock.
    #[serde(default = "default_lock_waits")]
    pub lock_waits: Levels,
    /// Seconds the longest active statement has been running.
    #[serde(default = "default_long_running_query_seconds")]
    pub long_running_query_seconds: Levels,
    /// Hours of future covered by pg_partman's premade partitions (native backend); alerts when it falls
    /// below. glctl premakes at least 7 days.
    #[serde(default = "default_partition_runway_hours")]
    pub partition_runway_hours: Levels,
}

fn default_connections_percent() -> Levels {
    levels(70, 90)
}
fn default_replication_lag_bytes() -> Levels {
    levels(102_400, 1_048_576)
}
fn default_cache_hit_ratio_percent() -> Levels {
    levels(95, 90)
}
fn default_transactions_per_second() -> Levels {
    levels(100, 50)
}
fn default_wal_bytes_per_minute() -> Levels {
    levels(104_857_600, 524_288_000)
}
fn default_dead_tuples() -> Levels {
    levels(10_000_000, 50_000_000)
}
fn default_lock_waits() -> Levels {
    levels(5, 20)
}
fn default_long_running_query_seconds() -> Levels {
    levels(30, 120)
}
fn default_partition_runway_hours() -> Levels {
    levels(72, 24)
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            connections_percent: default_connections_percent(),
            replication_lag_bytes: default_replication_lag_bytes(),
            cache_hit_ratio_percent: default_cache_hit_ratio_percent(),
            transactions_per_second: default_transactions_per_second(),
            wal_bytes_per_minute: default_wal_bytes_per_minute(),
            dead_tuples: default_dead_tuples(),
            lock_waits: default_lock_waits(),
            long_running_query_seconds: default_long_running_query_seconds(),
            partition_runway_hours: default_partition_runway_hours(),
        }
    }
}

/// Where Alertmanager reads the PagerDuty Events API v2 routing key: a file mounted from a secret. The key
/// itself never appears in anything glctl writes.
pub fn default_routing_key_file() -> String {
    "/etc/alertmanager/secrets/pagerduty/routing-key".into()
}

/// Whether a threshold alerts when the value rises above it or falls below it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Above,
    Below,
}

/// The semantic rules of `monitoring.thresholds` and `monitoring.pagerduty_routing_key_file`.
pub fn check(thresholds: &Thresholds, routing_key_file: &str) -> Vec<Finding> {
    use Direction::*;
    let t = thresholds;
    let fields: [(&str, Levels, Direction, Option<u64>); 9] = [
        ("connections_percent", t.connections_percent, Above, Some(100)),
        ("replication_lag_bytes", t.replication_lag_bytes, Above, None),
        ("cache_hit_ratio_percent", t.cache_hit_ratio_percent, Below, Some(100)),
        ("transactions_per_second", t.transactions_per_second, Below, None),
        ("wal_bytes_per_minute", t.wal_bytes_per_minute, Above, None),
        ("dead_tuples", t.dead_tuples, Above, None),
        ("lock_waits", t.lock_waits, Above, None),
        ("long_running_query_seconds", t.long_running_query_seconds, Above, None),
        ("partition_runway_hours", t.partition_runway_hours, Below, None),
    ];
    let mut out = Vec::new();
    for (name, l, direction, max) in fields {
        let at = |level: &str| FieldPath::parse(&format!("monitoring.thresholds.{name}.{level}"));
        if let Some(max) = max {
            for (level, value) in [("warning", l.warning), ("critical", l.critical)] {
                if value > max {
                    out.push(Finding::error(at(level), format!("{value} is more than {max}%; expected 0-{max}")));
                }
            }
        }
        match direction {
            Above if l.critical < l.warning => out.push(Finding::error(
                at("critical"),
                format!(
                    "critical ({}) is below warning ({}): this alert fires when the value rises, so critical must be \
                     at least warning",
                    l.critical, l.warning
                ),
            )),
            Below if l.critical > l.warning => out.push(Finding::error(
                at("critical"),
                format!(
                    "critical ({}) is above warning ({}): this alert fires when the value falls, so critical must be \
                     at most warning",
                    l.critical, l.warning
                ),
            )),
            _ => {}
        }
        if direction == Above && l.warning == 0 {
            out.push(Finding::error(at("warning"), "0 would fire all the time; expected a level above 0"));
        }
    }
    let key_at = FieldPath::parse("monitoring.pagerduty_routing_key_file");
    if !routing_key_file.starts_with('/') {
        out.push(Finding::error(
            key_at,
            format!(
                "'{routing_key_file}' is not an absolute path; expected where Alertmanager's pod mounts the secret \
                 holding the key, e.g. {}",
                default_routing_key_file()
            ),
        ));
    } else if looks_like_a_key(routing_key_file.rsplit('/').next().unwrap_or_default()) {
        out.push(Finding::error(
            key_at,
            "the file name looks like a PagerDuty routing key (32 letters and digits); a key never belongs in the \
             environment file: name the file Alertmanager reads it from",
        ));
    }
    out
}

/// PagerDuty integration (routing) keys are 32 characters of letters and digits.
fn looks_like_a_key(text: &str) -> bool {
    text.len() == 32 && text.chars().all(|c| c.is_ascii_alphanumeric()) && text.chars().any(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(t: &Thresholds, file: &str) -> Vec<String> {
        check(t, file).into_iter().map(|f| format!("{}: {}", f.path, f.message)).collect()
    }

    #[test]
    fn the_defaults_pass() {
        assert!(messages(&Thresholds::default(), &default_routing_key_file()).is_empty());
    }

    #[test]
    fn levels_in_the_wrong_order_and_percentages_past_100_are_errors_naming_the_field() {
        let t = Thresholds {
            connections_percent: levels(95, 80),
            cache_hit_ratio_percent: levels(90, 95),
            lock_waits: levels(0, 3),
            long_running_query_seconds: levels(30, 120),
            ..Thresholds::default()
        };
        let t = Thresholds { connections_percent: levels(95, 180), ..t };
        let found = messages(&t, "/run/key");
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(found[0].starts_with("monitoring.thresholds.connections_percent.critical: 180 is more than 100%"));
        assert!(found[1].starts_with("monitoring.thresholds.cache_hit_ratio_percent.critical: critical (95) is above"));
        assert!(found[2].starts_with("monitoring.thresholds.lock_waits.warning: 0 would fire"));
    }

    #[test]
    fn a_relative_path_or_a_key_in_place_of_the_file_is_refused() {
        let t = Thresholds::default();
        assert!(messages(&t, "secrets/key")[0].contains("not an absolute path"));
        assert!(messages(&t, "/etc/am/0123456789abcdef0123456789abcdef")[0].contains("looks like a PagerDuty"));
    }
}
