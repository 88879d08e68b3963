//! PostgreSQL parameters as RDS and Aurora parameter groups want them.
//!
//! The environment file writes values as postgresql.conf does (`8GB`, `30s`, `on`); the RDS API takes the
//! number in the parameter's own unit (shared_buffers in 8 kB pages, work_mem in kB, …) and booleans as 1/0.
//! Sending `8GB` is refused half-way through an apply, so conversion happens (and fails) at validate time.

/// The unit a parameter's value is counted in, as `pg_settings.unit` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Kilobytes(u64), // counted in blocks of this many kB (8 for pages, 1 for kB)
    Megabytes,
    Milliseconds,
    Seconds,
}

fn unit_of(name: &str) -> Option<Unit> {
    Some(match name {
        "shared_buffers" | "effective_cache_size" | "wal_buffers" | "temp_buffers" => Unit::Kilobytes(8),
        "work_mem"
        | "maintenance_work_mem"
        | "autovacuum_work_mem"
        | "log_temp_files"
        | "temp_file_limit"
        | "logical_decoding_work_mem" => Unit::Kilobytes(1),
        "max_wal_size" | "min_wal_size" | "wal_keep_size" => Unit::Megabytes,
        "autovacuum_vacuum_cost_delay"
        | "log_min_duration_statement"
        | "log_autovacuum_min_duration"
        | "statement_timeout"
        | "idle_in_transaction_session_timeout"
        | "deadlock_timeout"
        | "lock_timeout"
        | "idle_session_timeout" => Unit::Milliseconds,
        "autovacuum_naptime" | "checkpoint_timeout" | "tcp_keepalives_idle" => Unit::Seconds,
        _ => return None,
    })
}

/// Parameters that only take effect after a restart; RDS refuses `immediate` for them.
const STATIC: &[&str] = &[
    "shared_buffers",
    "max_connections",
    "shared_preload_libraries",
    "autovacuum_max_workers",
    "max_wal_senders",
    "max_worker_processes",
    "max_parallel_workers",
    "wal_buffers",
    "max_locks_per_transaction",
    "max_prepared_transactions",
    "superuser_reserved_connections",
    "track_activity_query_size",
    "rds.logical_replication",
    "cron.database_name",
];

/// One parameter-group entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct GroupParameter {
    pub name: String,
    pub value: String,
    pub apply_method: &'static str,
}

/// Converts `name = value` for a parameter group, or says what was expected.
pub fn for_parameter_group(name: &str, value: &str) -> Result<GroupParameter, String> {
    let apply_method = if STATIC.contains(&name) { "pending-reboot" } else { "immediate" };
    let raw = value.trim().trim_matches('\'');
    let converted = match unit_of(name) {
        Some(unit) => convert(raw, unit).map_err(|e| format!("'{value}' {e}"))?,
        None => match raw.to_ascii_lowercase().as_str() {
            "on" | "true" | "yes" => "1".into(),
            "off" | "false" | "no" => "0".into(),
            _ => raw.to_string(),
        },
    };
    Ok(GroupParameter { name: name.to_string(), value: converted, apply_method })
}

fn convert(raw: &str, unit: Unit) -> Result<String, String> {
    let split = raw.find(|c: char| !(c.is_ascii_digit() || c == '-')).unwrap_or(raw.len());
    let (number, suffix) = raw.split_at(split);
    let number: i64 =
        number.parse().map_err(|_| "is not a number with an optional unit (e.g. 8GB, 30s)".to_string())?;
    if number < 0 {
        // -1 means "off" for several of these (log_temp_files, log_min_duration_statement).
        return Ok(number.to_string());
    }
    let number = number as u64;
    let value = match unit {
        Unit::Kilobytes(block) => {
            let kb = match suffix.trim() {
                "" => return Ok(number.to_string()),
                "kB" => number,
                "MB" => number * 1024,
                "GB" => number * 1024 * 1024,
                "TB" => number * 1024 * 1024 * 1024,
                other => return Err(format!("has unit '{other}'; expected kB, MB, GB or TB")),
            };
            if kb % block != 0 {
                return Err(format!("is not a whole number of {block} kB pages"));
            }
            kb / block
        }
        Unit::Megabytes => match suffix.trim() {
            "" | "MB" => number,
            "GB" => number * 1024,
            "TB" => number * 1024 * 1024,
            other => return Err(format!("has unit '{other}'; expected MB, GB or TB")),
        },
        Unit::Milliseconds => match suffix.trim() {
            "" | "ms" => number,
            "s" => number * 1000,
            "min" => number * 60_000,
            "h" => number * 3_600_000,
            other => return Err(format!("has unit '{other}'; expected ms, s, min or h")),
        },
        Unit::Seconds => match suffix.trim() {
            "" | "s" => number,
            "min" => number * 60,
            "h" => number * 3600,
            other => return Err(format!("has unit '{other}'; expected s, min or h")),
        },
    };
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::for_parameter_group;

    fn value(name: &str, v: &str) -> String {
        for_parameter_group(name, v).unwrap().value
    }

    #[test]
    fn converts_memory_to_the_parameters_own_unit() {
        assert_eq!(value("shared_buffers", "8GB"), "1048576"); // 8 kB pages
        assert_eq!(value("work_mem", "64MB"), "65536"); // kB
        assert_eq!(value("max_wal_size", "4GB"), "4096"); // MB
    }

    #[test]
    fn converts_times_and_booleans() {
        assert_eq!(value("autovacuum_naptime", "30s"), "30");
        assert_eq!(value("autovacuum_vacuum_cost_delay", "2ms"), "2");
        assert_eq!(value("log_connections", "on"), "1");
        assert_eq!(value("log_min_duration_statement", "1000"), "1000");
    }

    #[test]
    fn static_parameters_wait_for_a_reboot() {
        assert_eq!(for_parameter_group("shared_buffers", "1GB").unwrap().apply_method, "pending-reboot");
        assert_eq!(for_parameter_group("work_mem", "4MB").unwrap().apply_method, "immediate");
    }

    #[test]
    fn refuses_units_postgresql_does_not_know() {
        assert!(for_parameter_group("shared_buffers", "8 gigs").is_err());
        assert!(for_parameter_group("shared_buffers", "12kB").is_err()); // not whole pages
    }
}
