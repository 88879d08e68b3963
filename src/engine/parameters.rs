//! PostgreSQL parameters as RDS and Aurora parameter groups want them.
//!
//! The environment file writes values as postgresql.conf does (`8GB`, `30s`, `on`); the RDS API takes the
//! number in the parameter's own unit (shared_buffers in 8 kB pages, work_mem in kB, …) and booleans as 1/0.
//! Sending `8GB` is refused half-way through an apply, so conversion happens (and fails) at validate time.
//!
//! What each parameter is (type, unit, whether it needs a restart, its range, its allowed values) comes from
//! PostgreSQL itself: `pg_settings.tsv` is `pg_settings` captured by `scripts/pg-settings`, and a test
//! regenerates it from a real server and compares, so no unit-bearing parameter is sent unconverted.

use std::collections::HashMap;
use std::sync::OnceLock;

/// One row of `pg_settings`.
#[derive(Debug)]
struct Setting {
    vartype: &'static str,
    unit: &'static str,
    context: &'static str,
    min: &'static str,
    max: &'static str,
    enumvals: Vec<&'static str>,
}

const PG_SETTINGS: &str = include_str!("pg_settings.tsv");

fn settings() -> &'static HashMap<&'static str, Setting> {
    static TABLE: OnceLock<HashMap<&'static str, Setting>> = OnceLock::new();
    TABLE.get_or_init(|| {
        PG_SETTINGS
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|line| {
                let f: Vec<&'static str> = line.split('\t').collect();
                let field = |i: usize| f.get(i).copied().unwrap_or("");
                let enumvals = field(6).split(',').filter(|v| !v.is_empty()).collect();
                let setting = Setting {
                    vartype: field(1),
                    unit: field(2),
                    context: field(3),
                    min: field(4),
                    max: field(5),
                    enumvals,
                };
                (field(0), setting)
            })
            .collect()
    })
}

/// Apply types of RDS's own and extensions' parameters (not in core `pg_settings`), with their sources.
const OUTSIDE_CORE: &str = include_str!("parameter_apply.tsv");

/// When a changed parameter takes effect, as AWS's `ApplyType` says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApplyType {
    /// Takes effect at the next restart of each instance (`pending-reboot`).
    Static,
    /// Takes effect at once (a reload).
    Dynamic,
}

fn outside_core() -> &'static HashMap<&'static str, ApplyType> {
    static TABLE: OnceLock<HashMap<&'static str, ApplyType>> = OnceLock::new();
    TABLE.get_or_init(|| {
        parse_outside_core(OUTSIDE_CORE).unwrap_or_else(|why| panic!("src/engine/parameter_apply.tsv: {why}"))
    })
}

fn parse_outside_core(text: &'static str) -> Result<HashMap<&'static str, ApplyType>, String> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty());
    match lines.next() {
        Some((_, "name\tapply_type")) => {}
        other => return Err(format!("the header line is not `name\\tapply_type`: {other:?}")),
    }
    lines
        .map(|(i, line)| match line.split('\t').collect::<Vec<_>>()[..] {
            [name, "static"] => Ok((name, ApplyType::Static)),
            [name, "dynamic"] => Ok((name, ApplyType::Dynamic)),
            _ => Err(format!("line {}: expected `name<TAB>static|dynamic`, found {line:?}", i + 1)),
        })
        .collect()
}

/// The apply type of `name`: from PostgreSQL's own table for core parameters (`postmaster` context is
/// static), from `parameter_apply.tsv` for RDS's and extensions'; `None` when glctl does not know it.
pub fn apply_type(name: &str) -> Option<ApplyType> {
    match settings().get(name) {
        Some(s) if s.context == "postmaster" => Some(ApplyType::Static),
        Some(_) => Some(ApplyType::Dynamic),
        None => outside_core().get(name).copied(),
    }
}

/// One parameter-group entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct GroupParameter {
    pub name: String,
    pub value: String,
    pub apply_method: &'static str,
}

/// An AWS parameter formula over the instance's memory, `{DBInstanceClassMemory*3/32768}`: the multiplier
/// and divisor, when `raw` is one. The result is in the parameter's own unit, as AWS computes it.
pub fn memory_formula(raw: &str) -> Option<Result<(u64, u64), String>> {
    let body = raw.strip_prefix('{')?.strip_suffix('}')?;
    let rest = body.strip_prefix("DBInstanceClassMemory")?;
    let number = |t: &str| t.trim().parse::<u64>().ok().filter(|n| *n > 0);
    let parsed = match (rest.split_once('/'), rest.trim()) {
        (_, "") => Some((1, 1)),
        (Some((mul, div)), _) => {
            let mul = match mul.trim() {
                "" => Some(1),
                m => m.strip_prefix('*').and_then(number),
            };
            mul.zip(number(div))
        }
        (None, other) => other.strip_prefix('*').and_then(number).map(|m| (m, 1)),
    };
    Some(parsed.ok_or_else(|| {
        format!("'{raw}' is not a formula AWS takes; expected e.g. {{DBInstanceClassMemory/32768}} or {{DBInstanceClassMemory*3/32768}}")
    }))
}

/// Bytes in one unit of a memory parameter (`8kB` → 8192), `None` for a parameter that is not memory.
pub fn memory_unit_bytes(name: &str) -> Option<u64> {
    let unit = settings().get(name)?.unit;
    let (size, table) = unit_scale(unit)?;
    std::ptr::eq(table, MEMORY).then(|| u64::try_from(size).ok()).flatten()
}

/// Converts `name = value` for a parameter group, or says what was expected.
pub fn for_parameter_group(name: &str, value: &str) -> Result<GroupParameter, String> {
    let setting = settings().get(name);
    let restart = apply_type(name) == Some(ApplyType::Static);
    let apply_method = if restart { "pending-reboot" } else { "immediate" };
    let raw = value.trim().trim_matches('\'');
    if let Some(formula) = memory_formula(raw) {
        formula?;
        if memory_unit_bytes(name).is_none() {
            return Err(format!("'{value}' is a memory formula, but {name} is not a memory parameter"));
        }
        return Ok(GroupParameter { name: name.to_string(), value: raw.to_string(), apply_method });
    }
    let converted = match setting {
        Some(s) => convert(raw, s).map_err(|e| format!("'{value}' {e}"))?,
        // Not a core parameter (rds.*, pgaudit.*, …): RDS takes booleans as 1/0, the rest as written.
        None => boolean(raw).unwrap_or(raw).to_string(),
    };
    Ok(GroupParameter { name: name.to_string(), value: converted, apply_method })
}

fn boolean(raw: &str) -> Option<&'static str> {
    match raw.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Some("1"),
        "off" | "false" | "no" | "0" => Some("0"),
        _ => None,
    }
}

fn convert(raw: &str, s: &Setting) -> Result<String, String> {
    match s.vartype {
        "bool" => boolean(raw).map(str::to_string).ok_or_else(|| "is not a boolean; expected on or off".to_string()),
        "enum" => match s.enumvals.iter().find(|v| v.eq_ignore_ascii_case(raw)) {
            Some(v) => Ok(v.to_string()),
            None => Err(format!("is not one of {}", s.enumvals.join(", "))),
        },
        "integer" | "real" => {
            let number = in_unit(raw, s.unit, s.vartype == "real")?;
            within_range(&number, s)?;
            Ok(number)
        }
        _ => Ok(raw.to_string()),
    }
}

/// Bytes in each memory unit PostgreSQL accepts, microseconds in each time unit.
const MEMORY: &[(&str, u128)] = &[("B", 1), ("kB", 1 << 10), ("MB", 1 << 20), ("GB", 1 << 30), ("TB", 1 << 40)];
const TIME: &[(&str, u128)] =
    &[("us", 1), ("ms", 1_000), ("s", 1_000_000), ("min", 60_000_000), ("h", 3_600_000_000), ("d", 86_400_000_000)];

/// The size of the parameter's own unit (`8kB` → 8192 bytes, `ms` → 1000 µs) and the units it may be
/// written in; `None` for a parameter without a unit.
fn unit_scale(unit: &str) -> Option<(u128, &'static [(&'static str, u128)])> {
    if unit.is_empty() {
        return None;
    }
    let split = unit.find(|c: char| !c.is_ascii_digit()).unwrap_or(unit.len());
    let (count, name) = unit.split_at(split);
    let count: u128 = if count.is_empty() { 1 } else { count.parse().ok()? };
    for table in [MEMORY, TIME] {
        if let Some((_, size)) = table.iter().find(|(n, _)| *n == name) {
            return Some((count.checked_mul(*size)?, table));
        }
    }
    None
}

/// `raw` as a number of the parameter's own unit. A bare number is already in that unit; a number with a
/// unit is converted exactly (checked: it never wraps, and a remainder is an error, not a rounding).
fn in_unit(raw: &str, unit: &str, real: bool) -> Result<String, String> {
    let split = raw.find(|c: char| !(c.is_ascii_digit() || c == '-' || c == '+' || c == '.')).unwrap_or(raw.len());
    let (number, suffix) = (raw[..split].trim(), raw[split..].trim());
    if suffix.is_empty() {
        let valid = if real { number.parse::<f64>().is_ok_and(f64::is_finite) } else { number.parse::<i64>().is_ok() };
        return if valid {
            Ok(number.to_string())
        } else {
            Err(format!(
                "is not a {} with an optional unit (e.g. 8GB, 30s)",
                if real { "number" } else { "whole number" }
            ))
        };
    }
    let Some((unit_size, table)) = unit_scale(unit) else {
        return Err(format!("has unit '{suffix}', but the parameter takes a plain number"));
    };
    let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
    let Some((_, suffix_size)) = table.iter().find(|(n, _)| *n == suffix) else {
        return Err(format!("has unit '{suffix}'; expected {}", names.join(", ")));
    };
    let whole: i128 = number.parse().map_err(|_| "is not a whole number with a unit (e.g. 8GB, 30s)".to_string())?;
    let total = whole.checked_mul(*suffix_size as i128).ok_or("is too large")?;
    if total % unit_size as i128 != 0 {
        return Err(format!("is not a whole number of the parameter's unit ({unit})"));
    }
    Ok((total / unit_size as i128).to_string())
}

/// PostgreSQL's own minimum and maximum for the parameter, in its unit.
fn within_range(number: &str, s: &Setting) -> Result<(), String> {
    let (Ok(value), Ok(min), Ok(max)) = (number.parse::<f64>(), s.min.parse::<f64>(), s.max.parse::<f64>()) else {
        return Ok(());
    };
    if value < min || value > max {
        let unit = if s.unit.is_empty() { String::new() } else { format!(" (in {})", s.unit) };
        return Err(format!("is {number}{unit}, outside PostgreSQL's range {}–{}{unit}", s.min, s.max));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{for_parameter_group, settings};

    fn value(name: &str, v: &str) -> String {
        for_parameter_group(name, v).unwrap().value
    }

    fn error(name: &str, v: &str) -> String {
        for_parameter_group(name, v).unwrap_err()
    }

    #[test]
    fn converts_memory_to_the_parameters_own_unit() {
        assert_eq!(value("shared_buffers", "8GB"), "1048576"); // 8 kB pages
        assert_eq!(value("work_mem", "64MB"), "65536"); // kB
        assert_eq!(value("max_wal_size", "4GB"), "4096"); // MB
        assert_eq!(value("work_mem", "640kB"), "640");
        assert_eq!(value("shared_buffers", "131072"), "131072", "a bare number is already in the unit");
    }

    #[test]
    fn converts_times_and_booleans() {
        assert_eq!(value("autovacuum_naptime", "30s"), "30");
        assert_eq!(value("autovacuum_naptime", "2min"), "120");
        assert_eq!(value("autovacuum_vacuum_cost_delay", "2ms"), "2");
        assert_eq!(value("log_connections", "on"), "1");
        assert_eq!(value("log_min_duration_statement", "1000"), "1000");
        assert_eq!(value("log_min_duration_statement", "1h"), "3600000");
        assert_eq!(value("log_temp_files", "-1"), "-1", "-1 means off and is in range");
    }

    #[test]
    fn every_unit_bearing_parameter_is_converted_not_only_a_listed_few() {
        // Neither was in the old hand-written list of 25.
        assert_eq!(value("checkpoint_warning", "1min"), "60");
        assert_eq!(value("bgwriter_delay", "1s"), "1000");
        let with_units = settings().values().filter(|s| !s.unit.is_empty()).count();
        assert!(with_units > 60, "pg_settings has {with_units} parameters with a unit");
    }

    #[test]
    fn static_parameters_wait_for_a_reboot() {
        assert_eq!(for_parameter_group("shared_buffers", "1GB").unwrap().apply_method, "pending-reboot");
        assert_eq!(for_parameter_group("max_wal_senders", "10").unwrap().apply_method, "pending-reboot");
        assert_eq!(for_parameter_group("work_mem", "4MB").unwrap().apply_method, "immediate");
        assert_eq!(for_parameter_group("rds.logical_replication", "1").unwrap().apply_method, "pending-reboot");
    }

    #[test]
    fn apply_types_come_from_postgresql_s_table_then_the_shipped_one() {
        use super::{apply_type, parse_outside_core, ApplyType, OUTSIDE_CORE};
        assert_eq!(apply_type("shared_buffers"), Some(ApplyType::Static));
        assert_eq!(apply_type("work_mem"), Some(ApplyType::Dynamic));
        assert_eq!(apply_type("cron.database_name"), Some(ApplyType::Static));
        assert_eq!(apply_type("pgaudit.log"), Some(ApplyType::Dynamic));
        assert_eq!(apply_type("made_up.setting"), None, "unknown is not guessed");
        let table = parse_outside_core(OUTSIDE_CORE).unwrap();
        assert!(table.len() >= 15, "{} entries", table.len());
        assert!(OUTSIDE_CORE.lines().any(|l| l.starts_with("# ") && l.contains("Read 20")), "the date it was read");
        assert!(OUTSIDE_CORE.lines().any(|l| l.contains("https://docs.aws.amazon.com/")), "its source");
        assert!(parse_outside_core("name\tapply_type\nx\tsometimes\n").unwrap_err().contains("line 2"));
    }

    #[test]
    fn refuses_units_postgresql_does_not_know_and_remainders() {
        assert_eq!(error("shared_buffers", "8 gigs"), "'8 gigs' has unit 'gigs'; expected B, kB, MB, GB, TB");
        assert!(error("shared_buffers", "12kB").contains("not a whole number of the parameter's unit (8kB)"));
        assert!(error("autovacuum_naptime", "1500ms").contains("not a whole number"));
        assert!(error("max_connections", "5MB").contains("takes a plain number"));
    }

    #[test]
    fn values_outside_postgresql_s_range_are_refused() {
        assert!(error("shared_buffers", "-5").contains("outside PostgreSQL's range 16–1073741823 (in 8kB)"));
        assert!(error("shared_buffers", "16TB").contains("outside PostgreSQL's range"));
        assert!(error("max_connections", "0").contains("outside"));
    }

    #[test]
    fn arithmetic_never_wraps() {
        let e = error("work_mem", "99999999999999999999999999999999999999TB");
        assert!(e.ends_with("is too large"), "{e}");
        assert!(error("work_mem", "99999999999999999999999TB").contains("outside PostgreSQL's range"));
        assert!(error("work_mem", "9223372036854775807TB").contains("outside PostgreSQL's range"));
    }

    #[test]
    fn booleans_and_enums_are_checked() {
        assert!(error("log_connections", "maybe").contains("expected on or off"));
        assert_eq!(value("ssl_min_protocol_version", "tlsv1.3"), "TLSv1.3");
        assert!(error("ssl_min_protocol_version", "TLSv9").contains("is not one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3"));
    }

    #[test]
    fn memory_formulas_pass_as_aws_takes_them() {
        assert_eq!(value("shared_buffers", "{DBInstanceClassMemory/32768}"), "{DBInstanceClassMemory/32768}");
        assert_eq!(value("effective_cache_size", "{DBInstanceClassMemory*3/32768}"), "{DBInstanceClassMemory*3/32768}");
        assert!(error("shared_buffers", "{DBInstanceClassMemory/0}").contains("not a formula AWS takes"));
        assert!(error("shared_buffers", "{Memory/4}").contains("has unit"), "not a formula: a unit error");
        assert!(error("max_connections", "{DBInstanceClassMemory/9531392}").contains("not a memory parameter"));
        assert_eq!(super::memory_formula("{DBInstanceClassMemory*3/32768}"), Some(Ok((3, 32768))));
    }

    #[test]
    fn parameters_outside_core_pass_as_written() {
        assert_eq!(value("rds.force_ssl", "on"), "1");
        assert_eq!(value("pgaudit.log", "ddl,role"), "ddl,role");
    }

    mod properties {
        use super::super::for_parameter_group;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn no_input_panics(name in "(shared_buffers|work_mem|checkpoint_timeout|log_connections|ssl_min_protocol_version|autovacuum_vacuum_cost_delay|x)", value in ".{0,30}") {
                let _ = for_parameter_group(&name, &value);
            }

            #[test]
            fn memory_in_any_unit_comes_back_in_the_parameter_s_unit(mb in 1i64..2_000_000) {
                // work_mem is counted in kB: n MB is n × 1024 kB, and n × 1024 kB written back is the same.
                let converted = for_parameter_group("work_mem", &format!("{mb}MB")).unwrap().value;
                prop_assert_eq!(&converted, &(mb * 1024).to_string());
                let again = for_parameter_group("work_mem", &format!("{converted}kB")).unwrap().value;
                prop_assert_eq!(again, converted);
            }

            #[test]
            fn times_in_any_unit_come_back_in_the_parameter_s_unit(minutes in 1i64..=35_791) {
                // statement_timeout is counted in ms, at most 2147483647 (35791 minutes).
                let converted = for_parameter_group("statement_timeout", &format!("{minutes}min")).unwrap().value;
                prop_assert_eq!(converted, (minutes * 60_000).to_string());
            }
        }
    }
}
