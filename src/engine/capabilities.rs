//! What each engine can do: the one table that `validate`, `plan` and `verify` consult.
//!
//! Facts, not guesses: Amazon RDS and Aurora PostgreSQL do not offer the TimescaleDB extension (it is not on
//! their supported-extensions lists); they do offer pg_partman and pg_cron. An `external` server is whatever it
//! is: glctl checks its extensions when it connects.

use super::kinds::{Backend, EngineKind, StorageType};

/// Whether an engine offers something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offer {
    Yes,
    No,
    /// Depends on the server; checked against `pg_available_extensions` when glctl connects.
    ServerDependent,
}

impl Offer {
    pub fn label(self) -> &'static str {
        match self {
            Offer::Yes => "yes",
            Offer::No => "no",
            Offer::ServerDependent => "if installed",
        }
    }
}

/// One row of the capability table.
#[derive(Debug)]
pub struct Capabilities {
    pub engine: EngineKind,
    pub timescaledb: Offer,
    pub pg_partman: Offer,
    pub pg_cron: Offer,
    /// glctl creates the instances (Terraform) rather than connecting to a given server.
    pub provisioned: bool,
    /// Storage is sized per instance (allocated GiB, IOPS, throughput) rather than by the service.
    pub sized_storage: bool,
    /// A synchronous standby is switched on per instance (`multi_az`) rather than built in.
    pub multi_az_flag: bool,
    /// Storage types the engine accepts.
    pub storage_types: &'static [StorageType],
    /// Instance families (the middle of `db.<family>.<size>`) the engine runs on.
    pub instance_families: &'static [&'static str],
    /// Most read replicas / readers.
    pub max_replicas: usize,
    /// Longest automated-backup retention, days.
    pub max_backup_retention_days: u32,
    /// Parameter-group family prefix (`aurora-postgresql16`, `postgres16`).
    pub parameter_family_prefix: &'static str,
    /// The longest failover AWS documents for the engine's standby topology, seconds (`None`: no automatic
    /// failover without a standby, or not glctl's to know).
    pub documented_failover_seconds: Option<u32>,
}

const AURORA_FAMILIES: &[&str] = &["t3", "t4g", "r5", "r6g", "r6i", "r6gd", "r7g", "r7i", "r8g", "x2g", "serverless"];
const RDS_FAMILIES: &[&str] = &[
    "t3", "t4g", "m5", "m5d", "m6g", "m6gd", "m6i", "m6id", "m7g", "m7i", "m8g", "r5", "r5b", "r5d", "r6g", "r6gd",
    "r6i", "r6id", "r7g", "r7i", "r8g", "x2g", "x2iedn",
];

/// Instance sizes in ascending order, as AWS names them.
const SIZES: &[&str] = &[
    "micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge",
    "32xlarge", "48xlarge",
];

/// The smallest and largest size of each family that RDS and Aurora offer (AWS: "Hardware specifications for
/// DB instance classes"). A size outside that span (`db.r6g.999xlarge`, `db.t4g.4xlarge`) does not exist; the
/// span can admit a size a family skips (a few jump from 24xlarge to 48xlarge), which AWS then refuses.
const SIZE_SPANS: &[(&[&str], &str, &str)] = &[
    (&["t3", "t4g"], "micro", "2xlarge"),
    (&["m6g", "m6gd", "m7g", "r6g", "r6gd", "r7g", "x2g"], "large", "16xlarge"),
    (&["m5", "m5d", "r5", "r5b", "r5d"], "large", "24xlarge"),
    (&["m6i", "m6id", "r6i", "r6id"], "large", "32xlarge"),
    (&["m7i", "m8g", "r7i", "r8g"], "large", "48xlarge"),
    (&["x2iedn"], "xlarge", "32xlarge"),
];

/// Whether `db.<family>.<size>` exists; `None` when glctl does not know the family's sizes.
pub fn instance_size_exists(family: &str, size: &str) -> Option<bool> {
    let (_, smallest, largest) = SIZE_SPANS.iter().find(|(families, _, _)| families.contains(&family))?;
    let position = |s: &str| SIZES.iter().position(|x| *x == s);
    let (Some(low), Some(high)) = (position(smallest), position(largest)) else {
        return Some(false);
    };
    Some(position(size).is_some_and(|p| p >= low && p <= high))
}

/// Memory of an instance class in GiB (AWS "Hardware specifications for DB instance classes"): burstable
/// classes by size; the others by vCPUs (large 2, xlarge 4, Nxlarge 4N) times the family's GiB per vCPU.
pub fn instance_memory_gib(class: &str) -> Option<u64> {
    let parts: Vec<&str> = class.split('.').collect();
    let ["db", family, size] = parts.as_slice() else { return None };
    if matches!(*family, "t3" | "t4g") {
        return Some(match *size {
            "micro" => 1,
            "small" => 2,
            "medium" => 4,
            "large" => 8,
            "xlarge" => 16,
            "2xlarge" => 32,
            _ => return None,
        });
    }
    let per_vcpu = match family.chars().next()? {
        'm' => 4,
        'r' => 8,
        'x' if family.starts_with("x2iedn") => 32,
        'x' => 16,
        _ => return None,
    };
    let vcpus = match *size {
        "large" => 2,
        "xlarge" => 4,
        other => other.strip_suffix("xlarge")?.parse::<u64>().ok()? * 4,
    };
    Some(vcpus * per_vcpu)
}

/// The sizes of `family`, for the message that refuses another.
pub fn instance_sizes(family: &str) -> Vec<&'static str> {
    SIZES.iter().copied().filter(|size| instance_size_exists(family, size) == Some(true)).collect()
}

pub const TABLE: &[Capabilities] = &[
    Capabilities {
        engine: EngineKind::AuroraPostgresql,
        timescaledb: Offer::No,
        pg_partman: Offer::Yes,
        pg_cron: Offer::Yes,
        provisioned: true,
        sized_storage: false,
        multi_az_flag: false,
        storage_types: &[StorageType::Aurora, StorageType::AuroraIopt1],
        instance_families: AURORA_FAMILIES,
        max_replicas: 15,
        max_backup_retention_days: 35,
        parameter_family_prefix: "aurora-postgresql",
        // Aurora User Guide, high availability: failover "typically under 60 seconds" (often under 30).
        documented_failover_seconds: Some(60),
    },
    Capabilities {
        engine: EngineKind::RdsPostgresql,
        timescaledb: Offer::No,
        pg_partman: Offer::Yes,
        pg_cron: Offer::Yes,
        provisioned: true,
        sized_storage: true,
        multi_az_flag: true,
        storage_types: &[StorageType::Gp3, StorageType::Io1, StorageType::Io2],
        instance_families: RDS_FAMILIES,
        max_replicas: 15,
        max_backup_retention_days: 35,
        parameter_family_prefix: "postgres",
        // RDS User Guide, Multi-AZ DB instance deployments: failover "typically 60–120 seconds".
        documented_failover_seconds: Some(120),
    },
    Capabilities {
        engine: EngineKind::External,
        timescaledb: Offer::ServerDependent,
        pg_partman: Offer::ServerDependent,
        pg_cron: Offer::ServerDependent,
        provisioned: false,
        sized_storage: false,
        multi_az_flag: false,
        storage_types: &[],
        instance_families: &[],
        max_replicas: 0,
        max_backup_retention_days: 0,
        parameter_family_prefix: "",
        documented_failover_seconds: None,
    },
];

pub fn of(engine: EngineKind) -> &'static Capabilities {
    TABLE.iter().find(|c| c.engine == engine).expect("every engine has a row")
}

/// Time-series features as a backend realises them.
#[derive(Debug)]
pub struct BackendFeatures {
    pub backend: Backend,
    pub partitioning: &'static str,
    pub compression: bool,
    pub retention: &'static str,
    pub continuous_aggregates: &'static str,
    /// Extensions the backend needs on the server.
    pub needs: &'static [&'static str],
}

pub const BACKENDS: &[BackendFeatures] = &[
    BackendFeatures {
        backend: Backend::Timescaledb,
        partitioning: "hypertable chunks",
        compression: true,
        retention: "retention policy (drop_chunks)",
        continuous_aggregates: "continuous aggregates with refresh policies",
        needs: &["timescaledb"],
    },
    BackendFeatures {
        backend: Backend::Native,
        partitioning: "range partitions made a week ahead by pg_partman, maintained hourly by pg_cron",
        compression: false,
        retention: "pg_partman retention (old partitions dropped)",
        continuous_aggregates: "materialized views, populated at apply, refreshed in full and concurrently by pg_cron on the refresh schedule (no real-time rows)",
        needs: &["pg_partman", "pg_cron"],
    },
];

pub fn backend(backend: Backend) -> &'static BackendFeatures {
    BACKENDS.iter().find(|b| b.backend == backend).expect("every backend has a row")
}

/// Whether `engine` can host `backend`, and if not, why.
pub fn supports(engine: EngineKind, wanted: Backend) -> Result<(), String> {
    let caps = of(engine);
    for ext in backend(wanted).needs {
        let offer = match *ext {
            "timescaledb" => caps.timescaledb,
            "pg_partman" => caps.pg_partman,
            "pg_cron" => caps.pg_cron,
            _ => Offer::ServerDependent,
        };
        if offer == Offer::No {
            return Err(format!(
                "{} does not offer the {ext} extension, so the `{}` time-series backend cannot run there; \
                 use `timeseries.backend: native` (pg_partman partitions, no compression) or run TimescaleDB \
                 yourself and use `engine.kind: external`",
                engine_label(engine),
                backend_label(wanted)
            ));
        }
    }
    Ok(())
}

pub fn engine_label(engine: EngineKind) -> &'static str {
    match engine {
        EngineKind::AuroraPostgresql => "Amazon Aurora PostgreSQL",
        EngineKind::RdsPostgresql => "Amazon RDS for PostgreSQL",
        EngineKind::External => "an external PostgreSQL server",
    }
}

pub fn backend_label(backend: Backend) -> &'static str {
    match backend {
        Backend::Timescaledb => "timescaledb",
        Backend::Native => "native",
    }
}

/// Parameters a managed engine sets itself or refuses in a parameter group, with the reason (the engine's
/// parameter list in the RDS/Aurora user guides: "Working with parameters", "Aurora PostgreSQL parameters").
/// Sending them to AWS fails the apply half-way, so `validate` rejects them. `value` matters for a few.
pub fn managed_parameter(engine: EngineKind, name: &str, value: &str) -> Option<&'static str> {
    if !of(engine).provisioned {
        return None;
    }
    let host_access = "needs host access; RDS and Aurora manage it and refuse it in parameter groups";
    let reason = match name {
        "archive_command" | "archive_mode" | "restore_command" => {
            "WAL archiving is managed by the service (automated backups and PITR); it cannot be set"
        }
        "logging_collector" | "log_directory" | "log_filename" => {
            "logging is managed by the service; export logs with `monitoring.log_exports` instead"
        }
        // RDS and Aurora take stderr and csvlog (the CSV log is exported like the other).
        "log_destination" if value.split(',').any(|d| !matches!(d.trim().trim_matches('\''), "stderr" | "csvlog")) => {
            "the service accepts only stderr and csvlog; export logs with `monitoring.log_exports`"
        }
        "ssl" | "ssl_cert_file" | "ssl_key_file" | "ssl_ca_file" | "ssl_ciphers" => {
            "TLS certificates are managed by the service; require TLS with `rds.force_ssl` instead"
        }
        "data_directory" | "hba_file" | "ident_file" | "listen_addresses" | "port" | "unix_socket_directories" => {
            host_access
        }
        "wal_level" => "set by the service; use `rds.logical_replication` for logical decoding",
        "synchronous_standby_names" => {
            "replication topology is managed by the service (Multi-AZ / Aurora storage), not by standby names"
        }
        // max_wal_senders stays settable on Aurora: AWS documents it for logical replication.
        "wal_keep_size" | "superuser_reserved_connections" if engine == EngineKind::AuroraPostgresql => {
            "Aurora does not use PostgreSQL streaming replication for its readers; the parameter is not modifiable"
        }
        "max_wal_size"
        | "min_wal_size"
        | "wal_compression"
        | "full_page_writes"
        | "checkpoint_timeout"
        | "checkpoint_completion_target"
        | "bgwriter_delay"
        | "bgwriter_lru_maxpages"
        | "bgwriter_lru_multiplier"
        | "log_checkpoints"
            if engine == EngineKind::AuroraPostgresql =>
        {
            "Aurora has no local WAL checkpoints or background writer (its storage layer does that); not modifiable"
        }
        "timescaledb.max_background_workers" | "timescaledb.last_tuned" | "timescaledb.license" => {
            "TimescaleDB settings have no effect where the extension is not offered"
        }
        _ => return None,
    };
    Some(reason)
}

/// `shared_preload_libraries` values RDS and Aurora PostgreSQL accept (the allowed values of the parameter in
/// the RDS user guide's PostgreSQL extensions table). pg_partman's background worker is not among them: on
/// RDS, pg_cron runs its maintenance.
pub const PRELOADABLE_ON_RDS: &[&str] = &[
    "auto_explain",
    "pg_cron",
    "pg_hint_plan",
    "pg_prewarm",
    "pg_similarity",
    "pg_stat_statements",
    "pg_tle",
    "pg_transport",
    "pgaudit",
    "pglogical",
    "plprofiler",
    "plrust",
];

#[cfg(test)]
mod tests {
    use super::{instance_size_exists, instance_sizes, AURORA_FAMILIES, RDS_FAMILIES};

    #[test]
    fn every_offered_family_has_known_sizes() {
        for family in AURORA_FAMILIES.iter().chain(RDS_FAMILIES).filter(|f| **f != "serverless") {
            assert!(instance_size_exists(family, "xlarge").is_some(), "{family} has no size span");
        }
    }

    #[test]
    fn instance_memory_follows_aws_s_tables() {
        use super::instance_memory_gib;
        assert_eq!(instance_memory_gib("db.r6g.large"), Some(16));
        assert_eq!(instance_memory_gib("db.r6g.xlarge"), Some(32));
        assert_eq!(instance_memory_gib("db.r6g.16xlarge"), Some(512));
        assert_eq!(instance_memory_gib("db.t4g.medium"), Some(4));
        assert_eq!(instance_memory_gib("db.m6g.2xlarge"), Some(32));
        assert_eq!(instance_memory_gib("db.x2g.large"), Some(32));
        assert_eq!(instance_memory_gib("db.serverless"), None);
    }

    #[test]
    fn sizes_outside_a_family_s_span_do_not_exist() {
        assert_eq!(instance_size_exists("r6g", "2xlarge"), Some(true));
        assert_eq!(instance_size_exists("r6g", "999xlarge"), Some(false));
        assert_eq!(instance_size_exists("r6g", "micro"), Some(false));
        assert_eq!(instance_size_exists("t4g", "4xlarge"), Some(false));
        assert_eq!(instance_size_exists("t4g", "medium"), Some(true));
        assert_eq!(instance_sizes("t3"), ["micro", "small", "medium", "large", "xlarge", "2xlarge"]);
    }
}
