//! What `verify` decides on, gathered once per run from the target: database facts from the catalog and the
//! policy reconcilers, behaviour found by trying (connections that must be refused, writes the application
//! must not make), and AWS facts from the SDK. A source that cannot be read is kept as the reason, so every
//! check that needs it is an ERROR with that reason, never a PASS.

use std::collections::BTreeMap;

use tokio_postgres::Client;

use crate::aws::AwsContext;
use crate::config::model::{Backend, EngineKind, TlsMode};
use crate::config::Loaded;
use crate::database::connect::{self, Password, Target};
use crate::database::policies::PolicyPlan;
use crate::database::stage::DatabaseStage;

/// A source of facts, or why it could not be read.
pub type Gathered<T> = Result<T, String>;

#[derive(Debug)]
pub struct Facts {
    /// When the facts were gathered (RFC 3339, UTC).
    pub at: String,
    pub database: Gathered<DbFacts>,
    pub behaviour: Gathered<BehaviourFacts>,
    pub aws: Gathered<AwsFacts>,
    /// `pg_settings.pending_restart`: read on its own, so a server glctl's migrations never touched still
    /// answers it.
    pub pending_restart: Gathered<PendingRestart>,
    /// The `glctl bench` run of `verify --bench`; `None` without it.
    pub bench: Option<super::bench_checks::BenchFacts>,
    /// The AWS emulator glctl talks to instead of AWS (`emulator`): decided once, here.
    pub aws_emulator: Option<super::emulator::Emulator>,
}

impl Facts {
    /// Facts none of whose sources could be read (`why` for each), for tests of what is decided without them.
    #[cfg(test)]
    pub(crate) fn unread(why: &str) -> Facts {
        Facts {
            at: "t".into(),
            database: Err(why.into()),
            behaviour: Err(why.into()),
            aws: Err(why.into()),
            pending_restart: Err(why.into()),
            bench: None,
            aws_emulator: None,
        }
    }
}

#[derive(Debug, Default)]
pub struct DbFacts {
    pub server_version: String,
    /// Installed extensions (name → version), including pg_cron's in its own database.
    pub extensions: BTreeMap<String, String>,
    /// The reconciler's diff: what differs from the environment file.
    pub policies: PolicyPlan,
    /// Scheduled jobs: TimescaleDB policies or pg_cron jobs.
    pub jobs: Vec<JobFact>,
    /// Summary → seconds since `apply` itself refreshed it (`glctl.summary_refreshes`).
    pub populated_by_apply: BTreeMap<String, i64>,
    /// Rows of `pg_stat_replication` (RDS, self-managed) or `aurora_replica_status()` (Aurora readers).
    pub replicas: Vec<String>,
    /// `log_statement` and `pgaudit.log` (when pgaudit is loaded).
    pub log_statement: String,
    pub pgaudit_log: Option<String>,
    /// The declared standbys of an external server, from the writer's side and their own (FA-02, FA-03).
    pub replication: Option<super::replication::ReplicationFacts>,
    /// Each declared index against the catalog (FA-05).
    pub indexes: Vec<crate::database::indexes::IndexStatus>,
}

/// What `pg_settings` says of settings changed in the configuration (and reloaded) that take effect only
/// after a restart.
#[derive(Clone, Debug, Default)]
pub struct PendingRestart {
    /// How many rows of `pg_settings` were read: none means nothing was seen, not that nothing is pending.
    pub settings_read: usize,
    /// (name, setting as the server runs it) of each row with `pending_restart`.
    pub pending: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct JobFact {
    pub name: String,
    /// The summary (or table) it works on.
    pub target: String,
    pub schedule_seconds: i64,
    /// Seconds since its last successful run; `None` when it never succeeded.
    pub seconds_since_success: Option<i64>,
    pub last_status: Option<String>,
}

/// The outcome of trying something against the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    Succeeded(String),
    Refused(String),
}

#[derive(Debug)]
pub struct BehaviourFacts {
    /// Where the tries went (host, port, user), for the evidence.
    pub target: String,
    pub tls_mode: TlsMode,
    /// A connection with the environment's own settings.
    pub configured: Attempt,
    /// The same without TLS.
    pub plaintext: Attempt,
    /// The same user with a wrong password.
    pub wrong_password: Attempt,
    /// TLS 1.2 where the server's minimum is TLS 1.3; `None` when no lower version can be offered.
    pub below_minimum_tls: Option<(String, Attempt)>,
    /// UPDATE, DELETE and TRUNCATE of `audit_logs` as the application role, each rolled back; why they
    /// could not be tried (acting as the role was refused, the session broke) is not a refusal.
    pub append_only: Result<Vec<(String, Attempt)>, String>,
    /// The triggers that keep `audit_logs` append-only for every role, and whether each is enabled.
    pub append_only_triggers: Vec<(String, bool)>,
}

#[derive(Debug, Default)]
pub struct AwsFacts {
    pub account: String,
    pub kms_key_arn: Option<String>,
    pub kms_rotation: Option<bool>,
    pub secrets: Vec<SecretFact>,
    pub instances: Vec<InstanceFact>,
    pub cluster: Option<ClusterFact>,
    /// The security groups in front of the instances; `None` for a server glctl does not provision.
    pub network: Option<Gathered<NetworkFacts>>,
}

#[derive(Debug, Clone, Default)]
pub struct NetworkFacts {
    /// The group glctl manages (Terraform output `security_group_id`).
    pub managed_group: Option<String>,
    /// Every group attached to the instances or the cluster, as RDS reports them.
    pub attached_groups: Vec<String>,
    /// The ingress rules of the attached groups, as EC2 reports them.
    pub ingress: Vec<IngressRule>,
}

/// One ingress rule of a security group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IngressRule {
    pub group_id: String,
    /// `tcp`, `udp`, `icmp`, … or `-1` for all traffic.
    pub protocol: String,
    /// -1 when the protocol has no ports.
    pub from_port: i32,
    pub to_port: i32,
    /// A security group (`sg-…`), a CIDR block, or a prefix list (`pl-…`).
    pub source: String,
}

impl IngressRule {
    /// Whether the rule lets a connection to PostgreSQL's port through.
    pub fn admits_postgres(&self) -> bool {
        self.protocol == "-1" || (self.protocol == "tcp" && (self.from_port..=self.to_port).contains(&5432))
    }
}

impl std::fmt::Display for IngressRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match (self.protocol.as_str(), self.from_port, self.to_port) {
            ("-1", _, _) => "all traffic".to_string(),
            (p, from, to) if from == to => format!("{p} {from}"),
            (p, from, to) => format!("{p} {from}-{to}"),
        };
        write!(f, "{}: {what} from {}", self.group_id, self.source)
    }
}

#[derive(Debug, Clone)]
pub struct SecretFact {
    pub name: String,
    pub declared_rotation_days: Option<u32>,
    pub rotation_enabled: bool,
    pub rotation_days: Option<i64>,
    pub days_since_rotation: Option<i64>,
    pub days_since_creation: Option<i64>,
    pub kms_key: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct InstanceFact {
    pub id: String,
    pub availability_zone: Option<String>,
    pub publicly_accessible: Option<bool>,
    pub encrypted: Option<bool>,
    pub kms_key: Option<String>,
    pub iam_auth: Option<bool>,
    pub deletion_protection: Option<bool>,
    pub backup_retention_days: Option<i32>,
    pub multi_az: Option<bool>,
    /// `DBParameterGroups`: "group: ParameterApplyStatus" each.
    pub parameter_status: Vec<String>,
    /// The fields of `PendingModifiedValues` that are set, as "Field value" (empty: nothing pending).
    pub pending_modified: Vec<String>,
    pub minutes_since_restorable: Option<i64>,
    pub security_groups: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ClusterFact {
    pub id: String,
    pub encrypted: Option<bool>,
    pub kms_key: Option<String>,
    pub iam_auth: Option<bool>,
    pub deletion_protection: Option<bool>,
    pub backup_retention_days: Option<i32>,
    pub minutes_since_restorable: Option<i64>,
    pub security_groups: Vec<String>,
    /// `DBClusterMembers`: "instance: DBClusterParameterGroupStatus" each.
    pub parameter_status: Vec<String>,
    /// The fields of the cluster's `PendingModifiedValues` that are set, as "Field value".
    pub pending_modified: Vec<String>,
}

/// Gathers everything `verify` decides on. Never fails: a source that cannot be read is kept as its reason.
pub async fn gather(loaded: &Loaded, stage: &DatabaseStage<'_>, aws: &AwsContext, work_dir: &std::path::Path) -> Facts {
    let (at, now_secs) = crate::clock::now();
    let connected = stage.connect_with_target().await;
    let (pending_restart, database, behaviour) = match connected {
        Err(e) => (Err(e.to_string()), Err(e.to_string()), Err(e.to_string())),
        Ok((client, target)) => {
            let pending_restart = pending_restart(&client).await;
            let database = database_facts(loaded, stage, &client, &target, now_secs).await;
            let session = session_facts(loaded, &client).await;
            // Connection attempts come after this session ends: a single-client server (PGlite) would
            // refuse them for being busy, which proves nothing.
            drop(client);
            (pending_restart, database, Ok(behaviour_facts(&target, session).await))
        }
    };
    let aws_emulator = aws_emulator(aws).await;
    let aws = aws_facts(loaded, aws, work_dir, now_secs).await;
    Facts { at, database, behaviour, aws, pending_restart, bench: None, aws_emulator }
}

/// The settings changed in the configuration files (and reloaded) that take effect only after a restart.
async fn pending_restart(client: &Client) -> Gathered<PendingRestart> {
    let rows = client
        .query("SELECT name::text, coalesce(setting, '')::text, pending_restart FROM pg_settings ORDER BY name", &[])
        .await
        .map_err(|e| format!("reading pg_settings.pending_restart: {}", connect::reason(&e)))?;
    Ok(PendingRestart {
        settings_read: rows.len(),
        pending: rows.iter().filter(|r| r.get::<_, bool>(2)).map(|r| (r.get(0), r.get(1))).collect(),
    })
}

/// The fields of an instance's `PendingModifiedValues` that are set, as "Field value".
fn instance_pending(p: Option<&aws_sdk_rds::types::PendingModifiedValues>) -> Vec<String> {
    let Some(p) = p else { return Vec::new() };
    let mut set: Vec<String> = [
        ("DBInstanceClass", p.db_instance_class().map(str::to_string)),
        ("AllocatedStorage", p.allocated_storage().map(|v| v.to_string())),
        ("MasterUserPassword", p.master_user_password().map(|_| "(changed)".to_string())),
        ("Port", p.port().map(|v| v.to_string())),
        ("BackupRetentionPeriod", p.backup_retention_period().map(|v| v.to_string())),
        ("MultiAZ", p.multi_az().map(|v| v.to_string())),
        ("EngineVersion", p.engine_version().map(str::to_string)),
        ("Engine", p.engine().map(str::to_string)),
        ("LicenseModel", p.license_model().map(str::to_string)),
        ("Iops", p.iops().map(|v| v.to_string())),
        ("StorageThroughput", p.storage_throughput().map(|v| v.to_string())),
        ("DBInstanceIdentifier", p.db_instance_identifier().map(str::to_string)),
        ("StorageType", p.storage_type().map(str::to_string)),
        ("CACertificateIdentifier", p.ca_certificate_identifier().map(str::to_string)),
        ("DBSubnetGroupName", p.db_subnet_group_name().map(str::to_string)),
        ("IAMDatabaseAuthenticationEnabled", p.iam_database_authentication_enabled().map(|v| v.to_string())),
        ("DedicatedLogVolume", p.dedicated_log_volume().map(|v| v.to_string())),
        ("MultiTenant", p.multi_tenant().map(|v| v.to_string())),
    ]
    .into_iter()
    .filter_map(|(field, value)| value.map(|v| format!("{field} {v}")))
    .collect();
    if let Some(logs) = p.pending_cloudwatch_logs_exports() {
        if !logs.log_types_to_enable().is_empty() || !logs.log_types_to_disable().is_empty() {
            set.push(format!(
                "PendingCloudwatchLogsExports +[{}] -[{}]",
                logs.log_types_to_enable().join(","),
                logs.log_types_to_disable().join(",")
            ));
        }
    }
    if !p.processor_features().is_empty() {
        set.push("ProcessorFeatures (changed)".into());
    }
    set
}

/// The fields of a cluster's `PendingModifiedValues` that are set, as "Field value".
fn cluster_pending(p: Option<&aws_sdk_rds::types::ClusterPendingModifiedValues>) -> Vec<String> {
    let Some(p) = p else { return Vec::new() };
    [
        ("DBClusterIdentifier", p.db_cluster_identifier().map(str::to_string)),
        ("MasterUserPassword", p.master_user_password().map(|_| "(changed)".to_string())),
        ("IAMDatabaseAuthenticationEnabled", p.iam_database_authentication_enabled().map(|v| v.to_string())),
        ("EngineVersion", p.engine_version().map(str::to_string)),
        ("BackupRetentionPeriod", p.backup_retention_period().map(|v| v.to_string())),
        ("StorageType", p.storage_type().map(str::to_string)),
        ("AllocatedStorage", p.allocated_storage().map(|v| v.to_string())),
        ("Iops", p.iops().map(|v| v.to_string())),
    ]
    .into_iter()
    .filter_map(|(field, value)| value.map(|v| format!("{field} {v}")))
    .collect()
}

/// Whether AWS calls go to an emulator (`emulator::overridden_endpoint`), and which: moto says so in the
/// caller ARN it answers with (`…:user/moto`).
async fn aws_emulator(aws: &AwsContext) -> Option<super::emulator::Emulator> {
    let config = aws.config().await.ok();
    let endpoint = super::emulator::overridden_endpoint(config.and_then(|c| c.endpoint_url()), std::env::vars())?;
    let moto = match config {
        Some(config) => aws_sdk_sts::Client::new(config)
            .get_caller_identity()
            .send()
            .await
            .ok()
            .and_then(|identity| identity.arn().map(|arn| arn.ends_with(":user/moto")))
            .unwrap_or(false),
        None => false,
    };
    let name = if moto { "moto" } else { "an AWS emulator" };
    Some(super::emulator::Emulator { name: name.into(), endpoint })
}

async fn database_facts(
    loaded: &Loaded,
    stage: &DatabaseStage<'_>,
    client: &Client,
    target: &Target,
    now_secs: i64,
) -> Gathered<DbFacts> {
    let read = |what: &'static str| move |e: tokio_postgres::Error| format!("reading {what}: {}", connect::reason(&e));
    let mut facts = DbFacts {
        server_version: client.query_one("SHOW server_version", &[]).await.map_err(read("the version"))?.get(0),
        ..DbFacts::default()
    };
    for row in
        client.query("SELECT extname::text, extversion FROM pg_extension", &[]).await.map_err(read("extensions"))?
    {
        facts.extensions.insert(row.get(0), row.get(1));
    }
    // pg_cron's database, when it is another one, is opened once for the policies and the jobs.
    let cron = stage.cron_client(client, target).await.map_err(|e| e.to_string())?;
    facts.policies = stage.policy_plan_using(client, cron.as_ref()).await.map_err(|e| e.to_string())?;
    facts.indexes =
        crate::database::indexes::status(client, &loaded.environment).await.map_err(read("the declared indexes"))?;
    facts.populated_by_apply =
        crate::database::refreshes::seconds_since(client).await.map_err(read("glctl.summary_refreshes"))?;
    facts.log_statement = client.query_one("SHOW log_statement", &[]).await.map_err(read("log_statement"))?.get(0);
    facts.pgaudit_log =
        client.query_one("SELECT current_setting('pgaudit.log', true)", &[]).await.map_err(read("pgaudit.log"))?.get(0);
    let env = &loaded.environment;
    match env.timeseries.backend {
        Backend::Timescaledb if facts.extensions.contains_key("timescaledb") => {
            for row in client
                .query(
                    "SELECT j.job_id::text, j.hypertable_name::text, extract(epoch FROM j.schedule_interval)::bigint,
                            extract(epoch FROM now() - s.last_successful_finish)::bigint, s.last_run_status
                     FROM timescaledb_information.jobs j
                     LEFT JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
                     WHERE j.proc_name = 'policy_refresh_continuous_aggregate'",
                    &[],
                )
                .await
                .map_err(read("timescaledb_information.jobs"))?
            {
                facts.jobs.push(JobFact {
                    name: format!("job {}", row.get::<_, String>(0)),
                    target: row.get(1),
                    schedule_seconds: row.get(2),
                    seconds_since_success: row.get(3),
                    last_status: row.get(4),
                });
            }
        }
        Backend::Native => {
            let database: String =
                client.query_one("SELECT current_database()::text", &[]).await.map_err(read("the database"))?.get(0);
            if let Some(cron) = &cron {
                native_jobs(cron, &database, now_secs, &mut facts).await.map_err(read("cron.job"))?;
            } else if facts.extensions.contains_key("pg_cron") {
                native_jobs(client, &database, now_secs, &mut facts).await.map_err(read("cron.job"))?;
            }
        }
        Backend::Timescaledb => {}
    }
    facts.replicas = match env.engine.kind {
        EngineKind::AuroraPostgresql => client
            .query("SELECT server_id || ' lag ' || coalesce(replica_lag_in_msec::text, '?') || ' ms' FROM aurora_replica_status() WHERE session_id <> 'MASTER_SESSION_ID'", &[])
            .await
            .map(|rows| rows.iter().map(|r| r.get(0)).collect())
            .unwrap_or_default(),
        _ => client
            .query(
                "SELECT coalesce(application_name, '') || ' ' || state || ' ' || sync_state || ' replay lag ' || coalesce(replay_lag::text, '0')
                 FROM pg_stat_replication",
                &[],
            )
            .await
            .map(|rows| rows.iter().map(|r| r.get(0)).collect())
            .unwrap_or_default(),
    };
    facts.replication = super::replication::gather(env, client, target).await;
    Ok(facts)
}

/// glctl's pg_cron jobs for `database`, with their last successful run.
async fn native_jobs(
    cron: &Client,
    database: &str,
    now_secs: i64,
    facts: &mut DbFacts,
) -> Result<(), tokio_postgres::Error> {
    if let Some(row) = cron.query_opt("SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'", &[]).await? {
        facts.extensions.insert("pg_cron".into(), row.get(0));
    }
    for row in cron
        .query(
            "SELECT j.jobname::text, j.schedule, j.database,
                    (SELECT extract(epoch FROM max(end_time))::bigint FROM cron.job_run_details r
                      WHERE r.jobid = j.jobid AND r.status = 'succeeded'),
                    (SELECT status FROM cron.job_run_details r WHERE r.jobid = j.jobid ORDER BY start_time DESC LIMIT 1)
             FROM cron.job j WHERE j.jobname LIKE 'glctl:%'",
            &[],
        )
        .await?
    {
        let name: String = row.get(0);
        let db: String = row.get(2);
        if db != database {
            continue;
        }
        let last_success: Option<i64> = row.get(3);
        facts.jobs.push(JobFact {
            target: name.rsplit(':').next().unwrap_or_default().to_string(),
            schedule_seconds: cron_period_seconds(&row.get::<_, String>(1)),
            seconds_since_success: last_success.map(|t| now_secs - t),
            last_status: row.get(4),
            name,
        });
    }
    Ok(())
}

/// The period of the cron schedules glctl writes (`*/15 * * * *`, `0 */6 * * *`, `7 * * * *`, `0 0 * * *`).
pub fn cron_period_seconds(schedule: &str) -> i64 {
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    match fields.as_slice() {
        ["*", ..] => 60,
        [m, "*", "*", "*", "*"] => m.strip_prefix("*/").and_then(|n| n.parse::<i64>().ok()).map_or(3600, |n| n * 60),
        [_, h, "*", "*", "*"] => h.strip_prefix("*/").and_then(|n| n.parse::<i64>().ok()).map_or(86_400, |n| n * 3600),
        _ => 86_400,
    }
}

/// What the verifying session itself finds before the connection attempts.
struct SessionFacts {
    /// The server's `ssl_min_protocol_version`.
    min_tls: String,
    append_only: Result<Vec<(String, Attempt)>, String>,
    triggers: Vec<(String, bool)>,
}

/// What the verifying session itself finds: the server's TLS minimum, and whether the application role can
/// change audit rows (each try rolled back).
async fn session_facts(loaded: &Loaded, client: &Client) -> SessionFacts {
    let min_tls: String = client
        .query_one("SELECT current_setting('ssl_min_protocol_version', true)", &[])
        .await
        .ok()
        .and_then(|r| r.get::<_, Option<String>>(0))
        .unwrap_or_default();
    let role_exists =
        client.query_opt("SELECT 1 FROM pg_roles WHERE rolname = 'app_service'", &[]).await.ok().flatten().is_some();
    let append_only = if role_exists && loaded.environment.hypertables.contains_key("audit_logs") {
        try_audit_changes(client).await
    } else {
        Ok(Vec::new())
    };
    let triggers = client
        .query(
            "SELECT tgname::text, tgenabled <> 'D' FROM pg_trigger
             WHERE tgrelid = to_regclass('public.audit_logs') AND NOT tgisinternal ORDER BY tgname",
            &[],
        )
        .await
        .map(|rows| rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        .unwrap_or_default();
    SessionFacts { min_tls, append_only, triggers }
}

/// UPDATE, DELETE and TRUNCATE of `audit_logs` as `app_service`, each in a transaction rolled back. Only the
/// server's error on the statement itself is a refusal: if the verifying user may not act as the role, or the
/// session breaks, nothing was tried.
async fn try_audit_changes(client: &Client) -> Result<Vec<(String, Attempt)>, String> {
    let mut tries = Vec::new();
    for statement in ["UPDATE audit_logs SET hash = hash", "DELETE FROM audit_logs", "TRUNCATE audit_logs"] {
        if let Err(e) = client.batch_execute("BEGIN; SET LOCAL ROLE app_service").await {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(format!("could not act as app_service: {}", connect::reason(&e)));
        }
        let attempt = match client.batch_execute(statement).await {
            Ok(()) => Ok(Attempt::Succeeded(format!("{statement} was allowed"))),
            Err(e) if e.as_db_error().is_some() => Ok(Attempt::Refused(connect::reason(&e))),
            Err(e) => Err(format!("{statement} could not be tried: {}", connect::reason(&e))),
        };
        let _ = client.batch_execute("ROLLBACK").await;
        tries.push((statement.to_string(), attempt?));
    }
    Ok(tries)
}

/// Connection attempts against the target, one at a time.
async fn behaviour_facts(target: &Target, session: SessionFacts) -> BehaviourFacts {
    let SessionFacts { min_tls, append_only, triggers } = session;
    let try_connect = |t: Target| async move {
        match connect::connect(&t).await {
            Ok(_) => Attempt::Succeeded(format!("connected as {}", t.user)),
            Err(e) => Attempt::Refused(e.reason),
        }
    };
    let configured = try_connect(target.clone()).await;
    let plaintext = try_connect(Target { tls_mode: TlsMode::Disable, ..target.clone() }).await;
    let wrong = Target { password: Some(Password::new("glctl-verify-wrong-password")), ..target.clone() };
    let wrong_password = try_connect(wrong).await;
    let below_minimum_tls = if min_tls == "TLSv1.3" && target.tls_mode != TlsMode::Disable {
        let attempt = match connect::connect_tls12_only(target).await {
            Ok(_) => Attempt::Succeeded("a TLS 1.2 handshake was accepted".into()),
            Err(e) => Attempt::Refused(e.reason),
        };
        Some((min_tls, attempt))
    } else {
        None
    };
    BehaviourFacts {
        target: format!("{}:{} as {}", target.host, target.port, target.user),
        tls_mode: target.tls_mode,
        configured,
        plaintext,
        wrong_password,
        below_minimum_tls,
        append_only,
        append_only_triggers: triggers,
    }
}

async fn aws_facts(loaded: &Loaded, aws: &AwsContext, work_dir: &std::path::Path, now_secs: i64) -> Gathered<AwsFacts> {
    let config = aws.config().await.map_err(|e| e.to_string())?;
    let account = aws.verify().await.map_err(|e| e.to_string())?.account_id.clone();
    let Ok(outputs) = crate::infra::outputs::read(work_dir) else {
        return Err(format!(
            "no Terraform outputs in {} (run `glctl apply -e {}` first)",
            work_dir.display(),
            loaded.name
        ));
    };
    let mut facts = AwsFacts { account, ..AwsFacts::default() };
    facts.kms_key_arn = outputs["kms_key_arn"]["value"].as_str().map(str::to_string);
    let kms = aws_sdk_kms::Client::new(config);
    if let Some(key) = &facts.kms_key_arn {
        let status = kms.get_key_rotation_status().key_id(key).send().await.map_err(|e| {
            format!(
                "KMS GetKeyRotationStatus: {}",
                crate::aws::sdk_error_line(&e, &crate::aws::endpoint(config, "kms"))
            )
        })?;
        facts.kms_rotation = Some(status.key_rotation_enabled());
    }
    let secrets = aws_sdk_secretsmanager::Client::new(config);
    let days = |t: Option<&aws_sdk_secretsmanager::primitives::DateTime>| t.map(|d| (now_secs - d.secs()) / 86_400);
    for (role, declared) in &loaded.environment.secrets {
        let provisioned = loaded.environment.engine.kind != EngineKind::External;
        let id = if role == "master" && provisioned {
            match outputs["master_secret_arn"]["value"].as_str() {
                Some(arn) => arn.to_string(),
                None => continue,
            }
        } else {
            declared.name.clone()
        };
        let described = secrets.describe_secret().secret_id(&id).send().await.map_err(|e| {
            format!(
                "Secrets Manager DescribeSecret {id}: {}",
                crate::aws::sdk_error_line(&e, &crate::aws::endpoint(config, "secretsmanager"))
            )
        })?;
        facts.secrets.push(SecretFact {
            name: declared.name.clone(),
            declared_rotation_days: declared.rotation_days,
            rotation_enabled: described.rotation_enabled().unwrap_or(false),
            rotation_days: described.rotation_rules().and_then(|r| r.automatically_after_days()),
            days_since_rotation: days(described.last_rotated_date()),
            days_since_creation: days(described.created_date()),
            kms_key: described.kms_key_id().map(str::to_string),
        });
    }
    if loaded.environment.engine.kind == EngineKind::External {
        return Ok(facts);
    }
    let rds = aws_sdk_rds::Client::new(config);
    let ids: Vec<String> = outputs["instance_identifiers"]["value"]
        .as_object()
        .map(|m| m.values().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    for id in ids {
        let found = rds.describe_db_instances().db_instance_identifier(&id).send().await.map_err(|e| {
            format!(
                "RDS DescribeDBInstances {id}: {}",
                crate::aws::sdk_error_line(&e, &crate::aws::endpoint(config, "rds"))
            )
        })?;
        let Some(i) = found.db_instances().first() else { continue };
        facts.instances.push(instance_fact(id, i, now_secs));
    }
    if loaded.environment.engine.kind == EngineKind::AuroraPostgresql {
        let id = format!("{}-{}", loaded.environment.project, loaded.name);
        let found = rds.describe_db_clusters().db_cluster_identifier(&id).send().await.map_err(|e| {
            format!(
                "RDS DescribeDBClusters {id}: {}",
                crate::aws::sdk_error_line(&e, &crate::aws::endpoint(config, "rds"))
            )
        })?;
        if let Some(c) = found.db_clusters().first() {
            facts.cluster = Some(cluster_fact(id, c, now_secs));
        }
    }
    let managed_group = outputs["security_group_id"]["value"].as_str().map(str::to_string);
    facts.network = Some(network_facts(config, managed_group, &facts).await);
    Ok(facts)
}

/// What RDS reports of one instance (DescribeDBInstances), as verify's facts; `now_secs` dates the restore point.
pub(crate) fn instance_fact(id: String, i: &aws_sdk_rds::types::DbInstance, now_secs: i64) -> InstanceFact {
    let minutes = |t: Option<&aws_sdk_rds::primitives::DateTime>| t.map(|d| (now_secs - d.secs()) / 60);
    InstanceFact {
        id,
        availability_zone: i.availability_zone().map(str::to_string),
        publicly_accessible: i.publicly_accessible(),
        encrypted: i.storage_encrypted(),
        kms_key: i.kms_key_id().map(str::to_string),
        iam_auth: i.iam_database_authentication_enabled(),
        deletion_protection: i.deletion_protection(),
        backup_retention_days: i.backup_retention_period(),
        multi_az: i.multi_az(),
        parameter_status: i
            .db_parameter_groups()
            .iter()
            .map(|g| {
                format!("{}: {}", g.db_parameter_group_name().unwrap_or("?"), g.parameter_apply_status().unwrap_or("?"))
            })
            .collect(),
        pending_modified: instance_pending(i.pending_modified_values()),
        minutes_since_restorable: minutes(i.latest_restorable_time()),
        security_groups: group_ids(i.vpc_security_groups()),
    }
}

/// What RDS reports of an Aurora cluster (DescribeDBClusters), as verify's facts.
pub(crate) fn cluster_fact(id: String, c: &aws_sdk_rds::types::DbCluster, now_secs: i64) -> ClusterFact {
    let minutes = |t: Option<&aws_sdk_rds::primitives::DateTime>| t.map(|d| (now_secs - d.secs()) / 60);
    ClusterFact {
        id,
        encrypted: c.storage_encrypted(),
        kms_key: c.kms_key_id().map(str::to_string),
        iam_auth: c.iam_database_authentication_enabled(),
        deletion_protection: c.deletion_protection(),
        backup_retention_days: c.backup_retention_period(),
        minutes_since_restorable: minutes(c.latest_restorable_time()),
        security_groups: group_ids(c.vpc_security_groups()),
        parameter_status: c
            .db_cluster_members()
            .iter()
            .map(|m| {
                format!(
                    "{}: {}",
                    m.db_instance_identifier().unwrap_or("?"),
                    m.db_cluster_parameter_group_status().unwrap_or("?")
                )
            })
            .collect(),
        pending_modified: cluster_pending(c.pending_modified_values()),
    }
}

fn group_ids(groups: &[aws_sdk_rds::types::VpcSecurityGroupMembership]) -> Vec<String> {
    groups.iter().filter_map(|g| g.vpc_security_group_id()).map(str::to_string).collect()
}

/// The ingress rules of every security group RDS reports on the instances and the cluster. Read on its own:
/// a caller without EC2 read access loses the two network checks, not every AWS check.
async fn network_facts(
    config: &aws_config::SdkConfig,
    managed_group: Option<String>,
    facts: &AwsFacts,
) -> Gathered<NetworkFacts> {
    let mut attached: Vec<String> = facts
        .instances
        .iter()
        .flat_map(|i| i.security_groups.iter())
        .chain(facts.cluster.iter().flat_map(|c| c.security_groups.iter()))
        .cloned()
        .collect();
    attached.sort();
    attached.dedup();
    if attached.is_empty() {
        return Err("RDS reports no VPC security group on the instances".into());
    }
    let ec2 = aws_sdk_ec2::Client::new(config);
    let filter = aws_sdk_ec2::types::Filter::builder().name("group-id").set_values(Some(attached.clone())).build();
    let mut ingress = Vec::new();
    let mut next: Option<String> = None;
    // A few groups hold a few pages at most; an endpoint that keeps answering with a next token is not
    // followed for ever.
    const MAX_PAGES: usize = 100;
    for page_number in 1.. {
        if page_number > MAX_PAGES {
            return Err(format!("EC2 DescribeSecurityGroupRules: still more pages after {MAX_PAGES}; not read"));
        }
        let page = ec2
            .describe_security_group_rules()
            .filters(filter.clone())
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| {
                format!(
                    "EC2 DescribeSecurityGroupRules: {}",
                    crate::aws::sdk_error_line(&e, &crate::aws::endpoint(config, "ec2"))
                )
            })?;
        for rule in page.security_group_rules().iter().filter(|r| r.is_egress() != Some(true)) {
            let source = rule
                .referenced_group_info()
                .and_then(|g| g.group_id())
                .or(rule.cidr_ipv4())
                .or(rule.cidr_ipv6())
                .or(rule.prefix_list_id())
                .unwrap_or("?");
            ingress.push(IngressRule {
                group_id: rule.group_id().unwrap_or("?").to_string(),
                protocol: match rule.ip_protocol().unwrap_or("?") {
                    "6" => "tcp".to_string(), // EC2 keeps a protocol given by number as that number
                    "17" => "udp".to_string(),
                    other => other.to_ascii_lowercase(),
                },
                from_port: rule.from_port().unwrap_or(-1),
                to_port: rule.to_port().unwrap_or(-1),
                source: source.to_ascii_lowercase(),
            });
        }
        match page.next_token() {
            Some(token) if !token.is_empty() => next = Some(token.to_string()),
            _ => break,
        }
    }
    ingress.sort();
    Ok(NetworkFacts { managed_group, attached_groups: attached, ingress })
}

#[cfg(test)]
mod tests {
    use super::cron_period_seconds;

    #[test]
    fn the_period_of_glctl_s_cron_schedules() {
        assert_eq!(cron_period_seconds("*/15 * * * *"), 900);
        assert_eq!(cron_period_seconds("7 * * * *"), 3600);
        assert_eq!(cron_period_seconds("0 */6 * * *"), 21_600);
        assert_eq!(cron_period_seconds("0 0 * * *"), 86_400);
        assert_eq!(cron_period_seconds("* * * * *"), 60);
    }
}
