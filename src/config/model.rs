//! The environment model: what one `environments/*.yaml` file (merged with the files it extends) declares.
//!
//! Pure data, no I/O. The doc comments are user documentation: they become the field reference in
//! docs/reference/environment.md (see `reference.rs`), so they say what a field means and what it accepts.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::interval::Interval;
// The engines and backends themselves are engine knowledge, below the model that names them.
pub use crate::engine::kinds::{Backend, EngineKind, StorageType};

/// One environment of the database platform.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// Parent file this one layers on, relative to this file (`base` or `base.yaml`). Maps merge deeply;
    /// lists and scalars in this file replace the parent's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends: Option<String>,
    /// Project name; prefixes every resource name (`<project>-<environment>-…`).
    pub project: String,
    /// `production` turns on the stricter checks (replicas across AZs, long backups).
    pub tier: Tier,
    /// AWS account and regions.
    pub aws: Aws,
    /// Where the database lives in the network and who may reach port 5432.
    #[serde(default)]
    pub network: Network,
    /// The database engine glctl provisions (or `external` for a server it does not).
    pub engine: Engine,
    /// How the declared hypertables, retention and aggregates are realised on the engine.
    pub timeseries: Timeseries,
    /// Storage of the RDS instance (Aurora sizes its storage itself).
    #[serde(default)]
    pub storage: Storage,
    /// PostgreSQL parameters for the parameter groups (name → value as in postgresql.conf).
    #[serde(default)]
    pub parameters: BTreeMap<String, ParamValue>,
    /// The customer-managed KMS key for storage, Performance Insights and secrets.
    #[serde(default)]
    pub kms: Kms,
    /// Secrets Manager secrets, by role. Names only: credentials never live in these files.
    #[serde(default)]
    pub secrets: BTreeMap<String, Secret>,
    /// Lambda that rotates the glctl-managed secrets (AWS's PostgreSQL single-user rotation function,
    /// deployed by the platform). Without it those secrets are not rotated (a warning in production).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_lambda_arn: Option<String>,
    /// Automated backups.
    #[serde(default)]
    pub backup: Backup,
    /// Weekly maintenance window, `ddd:hh:mm-ddd:hh:mm` in UTC.
    #[serde(default = "default_maintenance_window")]
    pub maintenance_window: String,
    /// Log exports, Performance Insights, enhanced monitoring and alarms.
    #[serde(default)]
    pub monitoring: Monitoring,
    /// Refuse to delete the database. Turning it off must be listed in `accepted_risks`.
    #[serde(default = "yes")]
    pub deletion_protection: bool,
    /// Tags on every resource.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// How glctl's SQL stage connects to the database.
    #[serde(default)]
    pub connection: Connection,
    /// Per-hypertable TimescaleDB settings, by table name.
    #[serde(default)]
    pub hypertables: BTreeMap<String, Hypertable>,
    /// Continuous aggregates and their refresh policies, by view name.
    #[serde(default)]
    pub continuous_aggregates: BTreeMap<String, ContinuousAggregate>,
    /// Acceptance thresholds of PRD §10 that `glctl verify` checks.
    #[serde(default)]
    pub acceptance: Acceptance,
    /// The standbys of an `external` server, which `glctl verify` checks (FA-02, FA-03).
    #[serde(default, skip_serializing_if = "super::replication::Replication::is_unset")]
    pub replication: super::replication::Replication,
    /// How `glctl verify --drills` causes a failover (HA-01…HA-04, HA-06).
    #[serde(default, skip_serializing_if = "super::drills::Drills::is_unset")]
    pub drills: super::drills::Drills,
    /// Connection pooling in front of the writer: PgBouncer (rendered by glctl), RDS Proxy, or none.
    #[serde(default)]
    pub pooling: super::pooling::Pooling,
    /// How glctl runs Terraform for this environment.
    #[serde(default)]
    pub terraform: Terraform,
    /// Safe defaults this environment deliberately weakens. Each weakening must be listed here; it is then
    /// a warning instead of an error, and shows in the plan.
    #[serde(default)]
    pub accepted_risks: Vec<Risk>,
    /// How this environment is promoted into from the previous stage (`glctl promote`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion: Option<super::promotion::Promotion>,
    /// Drift `glctl drift` knows about and accepts until a date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<super::drift::DriftSettings>,
    /// How migrations are judged before they run (`glctl migrate lint`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrations: Option<super::migrations::MigrationSettings>,
}

fn yes() -> bool {
    true
}

fn default_maintenance_window() -> String {
    "sun:04:30-sun:05:30".into()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Tier {
    Production,
    NonProduction,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Aws {
    /// 12-digit AWS account id (quote it so YAML keeps leading zeros).
    pub account_id: String,
    /// Primary region, e.g. `us-east-1`.
    pub region: String,
    /// Disaster-recovery region for cross-region backup copies, e.g. `us-west-2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dr_region: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// VPC that holds the database subnets (`vpc-…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// Isolated database subnets, one per availability zone (`subnet-…`).
    #[serde(default)]
    pub database_subnet_ids: Vec<String>,
    /// Security groups whose members may connect to port 5432 (`sg-…`), e.g. the EKS nodes.
    #[serde(default)]
    pub allowed_security_group_ids: Vec<String>,
    /// CIDR blocks (IPv4 or IPv6) that may connect to port 5432. Keep empty where security groups suffice.
    #[serde(default)]
    pub allowed_cidrs: Vec<String>,
    /// Prefix list of the S3 gateway endpoint, the only HTTPS egress the database security group allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_prefix_list_id: Option<String>,
    /// Give the instances a public IP. Must be listed in `accepted_risks` when true.
    #[serde(default)]
    pub publicly_accessible: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Engine {
    /// `aurora-postgresql`, `rds-postgresql` or `external`.
    pub kind: EngineKind,
    /// PostgreSQL version, `major.minor` (e.g. `16.6`); on RDS and Aurora one AWS offers (`src/engine/versions.tsv`).
    pub version: String,
    /// The writer (Aurora) or primary (RDS) instance. Not used for `external`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer: Option<Instance>,
    /// Aurora readers or RDS read replicas.
    #[serde(default)]
    pub replicas: Vec<Replica>,
    /// RDS only: a synchronous standby in another AZ (Multi-AZ). Aurora spreads storage across AZs itself.
    #[serde(default)]
    pub multi_az: bool,
    /// Let this change of `version` be a major version upgrade: renders `allow_major_version_upgrade` on the RDS
    /// instance or Aurora cluster, which AWS requires for one. Set it for the upgrade, remove it afterwards
    /// (`glctl plan` notes one left over); `glctl plan` refuses a major change without it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_major_version_upgrade: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    /// Instance class, e.g. `db.r6g.xlarge`.
    pub instance_class: String,
    /// Availability zone, e.g. `us-east-1a`.
    pub availability_zone: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Replica {
    /// Short name, unique in the environment (becomes part of the instance identifier).
    pub name: String,
    /// Instance class, e.g. `db.r6g.large`.
    pub instance_class: String,
    /// Availability zone; replicas belong in a different AZ from the writer.
    pub availability_zone: String,
    /// Aurora failover priority, 0 (first) to 15.
    #[serde(default = "default_promotion_tier")]
    pub promotion_tier: u8,
}

fn default_promotion_tier() -> u8 {
    1
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Timeseries {
    /// `timescaledb` or `native`; see the engine capability table.
    pub backend: Backend,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    /// `gp3`, `io1`, `io2` (RDS) or `aurora`, `aurora-iopt1` (Aurora).
    #[serde(default = "default_storage_type")]
    pub r#type: StorageType,
    /// RDS: initial size in GiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocated_gb: Option<u32>,
    /// RDS: storage autoscaling ceiling in GiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_allocated_gb: Option<u32>,
    /// RDS gp3/io1/io2: provisioned IOPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iops: Option<u32>,
    /// RDS gp3: throughput in MiB/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput_mibps: Option<u32>,
    /// Encrypt storage with the environment's KMS key. Turning it off must be listed in `accepted_risks`.
    #[serde(default = "yes")]
    pub encrypted: bool,
}

fn default_storage_type() -> StorageType {
    StorageType::Gp3
}

impl Default for Storage {
    fn default() -> Self {
        Storage {
            r#type: default_storage_type(),
            allocated_gb: None,
            max_allocated_gb: None,
            iops: None,
            throughput_mibps: None,
            encrypted: true,
        }
    }
}

/// A parameter value as written in postgresql.conf (`8GB`, `on`, `0.9`, `'csvlog'`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct ParamValue(pub String);

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Kms {
    /// Yearly automatic rotation of the key material.
    #[serde(default = "yes")]
    pub enable_rotation: bool,
    /// Days between automatic rotations (90–2560).
    #[serde(default = "default_rotation_days")]
    pub rotation_period_days: u32,
    /// Days between scheduling deletion and deleting the key (7–30).
    #[serde(default = "default_deletion_window")]
    pub deletion_window_days: u32,
    /// IAM principals (ARNs) that administer the key.
    #[serde(default)]
    pub administrators: Vec<String>,
    /// IAM principals (ARNs) that may use the key to encrypt and decrypt.
    #[serde(default)]
    pub users: Vec<String>,
}

fn default_rotation_days() -> u32 {
    365
}

fn default_deletion_window() -> u32 {
    30
}

impl Default for Kms {
    fn default() -> Self {
        Kms {
            enable_rotation: true,
            rotation_period_days: default_rotation_days(),
            deletion_window_days: default_deletion_window(),
            administrators: vec![],
            users: vec![],
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Secret {
    /// Secrets Manager name, e.g. `greenlang/prod/database/app`. A reference, never a value.
    pub name: String,
    /// The PostgreSQL role whose credentials the secret holds (default: the entry's key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// What the secret is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Days between automatic rotations (1–1000). Omit to leave rotation off (a warning in production).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_days: Option<u32>,
    /// How the login authenticates: `password` (kept in this secret, set first by glctl, then rotated) or
    /// `iam` (an IAM token; the role gets `rds_iam`, the secret is not created, and Terraform outputs the
    /// `rds-db:connect` policy the platform attaches). A role with `rds_iam` cannot use a password.
    #[serde(default)]
    pub auth: LoginAuth,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LoginAuth {
    #[default]
    Password,
    Iam,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// Days of automated backups and point-in-time recovery (1–35).
    #[serde(default = "default_backup_retention")]
    pub retention_days: u32,
    /// Daily backup window, `hh:mm-hh:mm` UTC; must not overlap the maintenance window.
    #[serde(default = "default_backup_window")]
    pub window: String,
    /// Copy automated backups to the DR region.
    #[serde(default)]
    pub cross_region_copy: CrossRegionCopy,
    /// Take a final snapshot when the database is destroyed.
    #[serde(default = "yes")]
    pub final_snapshot: bool,
    /// An `external` server's pgBackRest stanza and repositories (what `verify --drills` restores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pgbackrest: Option<super::pgbackrest::Pgbackrest>,
}

fn default_backup_retention() -> u32 {
    7
}

fn default_backup_window() -> String {
    "02:00-04:00".into()
}

impl Default for Backup {
    fn default() -> Self {
        Backup {
            retention_days: default_backup_retention(),
            window: default_backup_window(),
            cross_region_copy: CrossRegionCopy::default(),
            final_snapshot: true,
            pgbackrest: None,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CrossRegionCopy {
    /// Copy a daily backup to `aws.dr_region` (AWS Backup, for Aurora and RDS alike).
    #[serde(default)]
    pub enabled: bool,
    /// Days the daily backups and their DR copies are kept (1–3650; default `backup.retention_days`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
    /// Where in `aws.dr_region` `verify --drills` restores the newest DR copy (BR-07). Unset: BR-07 cannot run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_into: Option<super::dr_restore::RestoreInto>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// Logs exported to CloudWatch Logs (`postgresql`, `upgrade`, `iam-db-auth-error`).
    #[serde(default = "default_log_exports")]
    pub log_exports: Vec<String>,
    /// Performance Insights, encrypted with the environment's KMS key.
    #[serde(default = "yes")]
    pub performance_insights: bool,
    /// Days Performance Insights keeps data: 7, a multiple of 31 up to 713, or 731.
    #[serde(default = "default_pi_retention")]
    pub performance_insights_retention_days: u32,
    /// Enhanced monitoring interval in seconds: 0 (off), 1, 5, 10, 15, 30 or 60.
    #[serde(default = "default_monitoring_interval")]
    pub enhanced_monitoring_interval_seconds: u32,
    /// Email or HTTPS endpoints subscribed to the alarm topic. May be empty (subscribe elsewhere).
    #[serde(default)]
    pub alarm_subscriptions: Vec<String>,
    /// Thresholds of the Prometheus alerts `glctl render` writes to `monitoring/` (PRD §6.1 defaults).
    #[serde(default)]
    pub thresholds: super::monitoring::Thresholds,
    /// File from which Alertmanager reads the PagerDuty Events API v2 routing key (mounted from a secret;
    /// the key itself is never written by glctl).
    #[serde(default = "super::monitoring::default_routing_key_file")]
    pub pagerduty_routing_key_file: String,
}

fn default_log_exports() -> Vec<String> {
    vec!["postgresql".into()]
}

fn default_pi_retention() -> u32 {
    7
}

fn default_monitoring_interval() -> u32 {
    60
}

impl Default for Monitoring {
    fn default() -> Self {
        Monitoring {
            log_exports: default_log_exports(),
            performance_insights: true,
            performance_insights_retention_days: default_pi_retention(),
            enhanced_monitoring_interval_seconds: default_monitoring_interval(),
            alarm_subscriptions: vec![],
            thresholds: Default::default(),
            pagerduty_routing_key_file: super::monitoring::default_routing_key_file(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// No TLS. Must be listed in `accepted_risks` as `tls-disabled`.
    Disable,
    /// TLS without checking the certificate. Must be listed in `accepted_risks` as `tls-unverified`.
    Require,
    /// TLS, certificate signed by the CA bundle, any host name. Must be listed as `tls-unverified`.
    VerifyCa,
    /// TLS, certificate signed by the CA bundle and issued for the host. The default.
    VerifyFull,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// Host to connect to. Omit to use the writer endpoint from the Terraform outputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Port.
    #[serde(default = "default_port")]
    pub port: u16,
    /// Database name.
    #[serde(default = "default_database")]
    pub database: String,
    /// `disable`, `require`, `verify-ca` or `verify-full` (the default).
    #[serde(default = "default_tls_mode")]
    pub tls_mode: TlsMode,
    /// PEM bundle of CAs that sign the server certificate (for RDS, the regional RDS CA bundle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<String>,
    /// Which entry of `secrets` holds the credentials the SQL stage uses. `master` means the
    /// RDS-managed master secret.
    #[serde(default = "default_credentials_secret")]
    pub credentials_secret: String,
}

fn default_port() -> u16 {
    5432
}

fn default_database() -> String {
    "greenlang".into()
}

fn default_tls_mode() -> TlsMode {
    TlsMode::VerifyFull
}

fn default_credentials_secret() -> String {
    "master".into()
}

impl Default for Connection {
    fn default() -> Self {
        Connection {
            host: None,
            port: default_port(),
            database: default_database(),
            tls_mode: default_tls_mode(),
            ca_bundle: None,
            credentials_secret: default_credentials_secret(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Hypertable {
    /// The time column the table is partitioned by.
    pub time_column: String,
    /// Chunk (partition) size, e.g. `7 days`.
    pub chunk_interval: Interval,
    /// Native compression of old chunks (TimescaleDB backend only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<Compression>,
    /// Drop chunks older than this, e.g. `7 years`. Omit to keep data forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Interval>,
    /// Indexes glctl builds on every partition or chunk without blocking writes (`docs/indexes.md`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<super::indexes::DeclaredIndex>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Compression {
    /// Columns whose values group rows into compressed batches (`compress_segmentby`).
    #[serde(default)]
    pub segment_by: Vec<String>,
    /// Order inside a batch (`compress_orderby`), e.g. `measurement_time DESC`.
    #[serde(default)]
    pub order_by: Vec<String>,
    /// Compress chunks whose data is older than this, e.g. `30 days`.
    pub after: Interval,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContinuousAggregate {
    /// The hypertable the aggregate reads (a key of `hypertables`).
    pub source: String,
    /// The `time_bucket` width of the view, e.g. `1 hour`; the refresh window must span two buckets.
    pub bucket: Interval,
    /// Refresh policy.
    pub refresh: RefreshPolicy,
    /// Queries also see rows newer than the last refresh (TimescaleDB real-time aggregation,
    /// `materialized_only = false`). Off by default, as TimescaleDB creates aggregates since 2.13.
    #[serde(default)]
    pub real_time: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshPolicy {
    /// Window start, relative to now (older edge), e.g. `3 days`.
    pub start_offset: Interval,
    /// Window end, relative to now (newer edge), e.g. `1 hour`.
    pub end_offset: Interval,
    /// How often the policy runs, e.g. `15 minutes`.
    pub schedule_interval: Interval,
}

/// Acceptance thresholds (PRD §10); `glctl verify` measures against these.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    /// PB-01: insert throughput into emission_measurements, rows/s.
    #[serde(default = "pb01")]
    pub emission_insert_rows_per_second: u32,
    /// PB-02: insert throughput into sensor_readings, rows/s.
    #[serde(default = "pb02")]
    pub sensor_insert_rows_per_second: u32,
    /// PB-03: one month, one facility, milliseconds.
    #[serde(default = "pb03")]
    pub month_single_facility_query_ms: u32,
    /// PB-04: one year, all facilities, milliseconds.
    #[serde(default = "pb04")]
    pub year_all_facilities_query_ms: u32,
    /// PB-05: continuous-aggregate query, milliseconds.
    #[serde(default = "pb05")]
    pub continuous_aggregate_query_ms: u32,
    /// PB-06: quarterly emissions aggregation, milliseconds.
    #[serde(default = "pb06")]
    pub quarterly_aggregation_query_ms: u32,
    /// PB-07: sustained concurrent connections.
    #[serde(default = "pb07")]
    pub concurrent_connections: u32,
    /// PB-08: connection acquisition through the pooler, milliseconds.
    #[serde(default = "pb08")]
    pub pool_acquire_ms: u32,
    /// HA-01..04: failover recovery time, seconds.
    #[serde(default = "ha_rto")]
    pub failover_rto_seconds: u32,
    /// BR-08: hours to restore 500 GB.
    #[serde(default = "br08")]
    pub restore_hours_per_500gb: u32,
    /// BR-08: the database size, in GB, a restore is judged at; a smaller measured restore is extrapolated
    /// to it (labelled as such), never reported as measured.
    #[serde(default = "restore_size_gb")]
    pub restore_size_gb: u32,
    /// BR-04/BR-05: the point-in-time restore drills' targets (`now` or an interval back).
    #[serde(default)]
    pub pitr_targets: super::pitr::PitrTargets,
    /// Disaster recovery: most minutes of data the DR region may lack (recovery point objective).
    #[serde(default = "dr_rpo")]
    pub dr_rpo_minutes: u32,
    /// Checks `glctl verify` skips on purpose until a date, each with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waivers: Vec<Waiver>,
    /// `allowed`: `verify --drills` may change this production environment without `--allow-production`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drills: Option<super::drills::DrillPermission>,
}

/// One check of `glctl verify` waived: SKIP (waived) until `expires`, then it runs again.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    /// The check's ID, e.g. `ST-01` (see `glctl verify --list`).
    pub check: String,
    /// Why the check does not apply or cannot pass yet, for the sign-off.
    pub reason: String,
    /// Last day the waiver holds, `YYYY-MM-DD`.
    pub expires: String,
}

fn pb01() -> u32 {
    50_000
}
fn pb02() -> u32 {
    100_000
}
fn pb03() -> u32 {
    100
}
fn pb04() -> u32 {
    500
}
fn pb05() -> u32 {
    50
}
fn pb06() -> u32 {
    200
}
fn pb07() -> u32 {
    500
}
fn pb08() -> u32 {
    5
}
fn ha_rto() -> u32 {
    30
}
fn dr_rpo() -> u32 {
    15
}
fn br08() -> u32 {
    2
}

fn restore_size_gb() -> u32 {
    500
}

impl Default for Acceptance {
    fn default() -> Self {
        Acceptance {
            emission_insert_rows_per_second: pb01(),
            sensor_insert_rows_per_second: pb02(),
            month_single_facility_query_ms: pb03(),
            year_all_facilities_query_ms: pb04(),
            continuous_aggregate_query_ms: pb05(),
            quarterly_aggregation_query_ms: pb06(),
            concurrent_connections: pb07(),
            pool_acquire_ms: pb08(),
            failover_rto_seconds: ha_rto(),
            restore_hours_per_500gb: br08(),
            restore_size_gb: restore_size_gb(),
            pitr_targets: Default::default(),
            dr_rpo_minutes: dr_rpo(),
            waivers: Vec::new(),
            drills: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StateBackend {
    /// State in `.glctl/<env>/terraform.tfstate` (local stack, experiments).
    Local,
    /// State in S3 with a DynamoDB lock table (every shared environment).
    S3,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Terraform {
    /// `local` or `s3`.
    #[serde(default = "default_state_backend")]
    pub state_backend: StateBackend,
    /// S3 bucket for the state (with `state_backend: s3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_bucket: Option<String>,
    /// DynamoDB table that locks the state (with `state_backend: s3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_table: Option<String>,
    /// Directory of provider plugins for air-gapped `terraform init` (overridden by `GLCTL_TF_PLUGIN_DIR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_dir: Option<String>,
}

fn default_state_backend() -> StateBackend {
    StateBackend::S3
}

impl Default for Terraform {
    fn default() -> Self {
        Terraform { state_backend: default_state_backend(), state_bucket: None, lock_table: None, plugin_dir: None }
    }
}

/// A safe default an environment deliberately gives up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Risk {
    /// `deletion_protection: false`.
    NoDeletionProtection,
    /// `storage.encrypted: false`.
    UnencryptedStorage,
    /// `network.publicly_accessible: true` or a `0.0.0.0/0` CIDR.
    PublicAccess,
    /// `connection.tls_mode: disable`.
    TlsDisabled,
    /// `connection.tls_mode: require` or `verify-ca`.
    TlsUnverified,
    /// `backup.final_snapshot: false`.
    NoFinalSnapshot,
    /// Production with fewer than two AZs or no replica.
    SingleAz,
}

impl Risk {
    pub fn name(self) -> &'static str {
        match self {
            Risk::NoDeletionProtection => "no-deletion-protection",
            Risk::UnencryptedStorage => "unencrypted-storage",
            Risk::PublicAccess => "public-access",
            Risk::TlsDisabled => "tls-disabled",
            Risk::TlsUnverified => "tls-unverified",
            Risk::NoFinalSnapshot => "no-final-snapshot",
            Risk::SingleAz => "single-az",
        }
    }
}
