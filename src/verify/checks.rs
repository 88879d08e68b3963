//! The registry of checks: every acceptance criterion of PRD §10 and what a careful reviewer adds (`GL-*`),
//! each decided by a pure function of the environment and the gathered facts, so the rules are unit-tested
//! without a server. A check never passes on a fact it could not read.

use std::collections::BTreeSet;

use super::facts::{Attempt, AwsFacts, BehaviourFacts, DbFacts, Facts, IngressRule, InstanceFact, NetworkFacts};
use super::{bench_checks, pooler_checks, replication, Evidence, Outcome, Skip};
use crate::config::model::{Backend, EngineKind, Environment, Risk, TlsMode};
use crate::config::replication::StandbyMode;

pub struct Check {
    pub id: &'static str,
    /// The PRD section (or `glctl` for the reviewer's additions).
    pub section: &'static str,
    pub title: &'static str,
    /// How it is decided, in one line (shown in reports).
    pub method: &'static str,
    pub decide: fn(&Environment, &Facts) -> Outcome,
}

impl Check {
    pub fn category(&self) -> &'static str {
        match self.id.split('-').next().unwrap_or_default() {
            "FA" => "functional",
            "PB" => "performance",
            "HA" => "availability",
            "BR" => "backup",
            "ST" => "security",
            _ => "posture",
        }
    }
}

macro_rules! check {
    ($id:literal, $section:literal, $title:literal, $method:literal, $decide:expr) => {
        Check { id: $id, section: $section, title: $title, method: $method, decide: $decide }
    };
}

pub const CHECKS: &[Check] = &[
    check!(
        "FA-01",
        "10.1",
        "The database accepts connections as configured",
        "connect with the environment's host, user and TLS settings",
        |_, f| behaviour(f, fa01)
    ),
    check!(
        "FA-02",
        "10.1",
        "A synchronous standby protects the writer",
        "RDS DescribeDBInstances MultiAZ; pg_stat_replication (external)",
        fa02
    ),
    check!("FA-03", "10.1", "Replicas stream from the writer", "aurora_replica_status() / pg_stat_replication", fa03),
    check!(
        "FA-04",
        "10.1",
        "The time-series extensions are installed",
        "pg_extension (and pg_cron's database)",
        |e, f| database(f, |d| fa04(e, d))
    ),
    check!(
        "FA-05",
        "10.1",
        "Every declared table is partitioned as declared",
        "the policy reconciler's diff: missing tables, chunk/partition intervals",
        |_, f| database(f, fa05)
    ),
    check!(
        "FA-06",
        "10.1",
        "Compression policies are active as declared",
        "the policy reconciler's diff: compression, compress_after",
        fa06
    ),
    check!(
        "FA-07",
        "10.1",
        "Retention is configured as declared",
        "the policy reconciler's diff: retention",
        |_, f| database(f, fa07)
    ),
    check!(
        "FA-08",
        "10.1",
        "Summaries refresh on schedule",
        "last successful run of each refresh job within two schedule periods; summaries populated",
        |e, f| database(f, |d| fa08(e, d))
    ),
    check!(
        "FA-09",
        "10.1",
        "Connection pooling works",
        "more clients than default_pool_size through each PgBouncer; SHOW POOLS/SERVERS/STATS show reuse",
        pooler_checks::fa09
    ),
    check!(
        "FA-10",
        "10.1",
        "IAM database authentication is enabled",
        "RDS DescribeDBClusters/DescribeDBInstances IAMDatabaseAuthenticationEnabled",
        fa10
    ),
    check!("PB-01", "10.2", "Insert throughput, emission_measurements", "glctl bench", |_, f| bench_checks::decide(
        f, "PB-01"
    )),
    check!("PB-02", "10.2", "Insert throughput, sensor_readings", "glctl bench", |_, f| bench_checks::decide(
        f, "PB-02"
    )),
    check!("PB-03", "10.2", "Time-range query, one month, one facility", "glctl bench", |_, f| bench_checks::decide(
        f, "PB-03"
    )),
    check!("PB-04", "10.2", "Time-range query, one year, all facilities", "glctl bench", |_, f| bench_checks::decide(
        f, "PB-04"
    )),
    check!("PB-05", "10.2", "Summary query", "glctl bench", |_, f| bench_checks::decide(f, "PB-05")),
    check!("PB-06", "10.2", "Quarterly aggregation", "glctl bench", |_, f| bench_checks::decide(f, "PB-06")),
    check!("PB-07", "10.2", "Sustained concurrent connections", "glctl bench --scenario connections", |_, f| {
        bench_checks::decide(f, "PB-07")
    }),
    check!(
        "PB-08",
        "10.2",
        "Connection acquisition through the pooler",
        "glctl bench --scenario connections",
        pooler_checks::pb08
    ),
    check!(
        "HA-01",
        "10.3",
        "Failover after the writer's process dies",
        "drill: fail over and time the writer's return",
        |_, _| drill()
    ),
    check!("HA-02", "10.3", "Failover after a network partition", "drill", |_, _| drill()),
    check!("HA-03", "10.3", "Failover after a storage failure", "drill", |_, _| drill()),
    check!("HA-04", "10.3", "Failover to another AZ", "drill", |_, _| drill()),
    check!(
        "HA-05",
        "10.3",
        "Retry through another PgBouncer",
        "drill: stop one PgBouncer, time the clients' reconnect through the other (multi-host URL)",
        pooler_checks::ha05
    ),
    check!("HA-06", "10.3", "Patroni leader election", "not applicable", ha06),
    check!(
        "BR-01",
        "10.4",
        "Automated backups exist",
        "backup retention and latest restorable time (RDS/Aurora)",
        br01
    ),
    check!("BR-02", "10.4", "Incremental backups", "not applicable", |e, _| provisioned(e).unwrap_or_else(|| na(
        "RDS and Aurora snapshots are incremental by design; there is no separate incremental backup to check"
    ))),
    check!(
        "BR-03",
        "10.4",
        "WAL is archived continuously",
        "latest restorable time within 15 minutes (point-in-time recovery)",
        br03
    ),
    check!(
        "BR-04",
        "10.4",
        "Point-in-time restore, 1 hour ago",
        "drill: restore into a temporary instance and compare row counts",
        |_, _| drill()
    ),
    check!("BR-05", "10.4", "Point-in-time restore, 24 hours ago", "drill", |_, _| drill()),
    check!("BR-06", "10.4", "Full restore", "drill", |_, _| drill()),
    check!("BR-07", "10.4", "Cross-region restore", "drill", |e, _| if e.backup.cross_region_copy.enabled {
        drill()
    } else {
        na("backup.cross_region_copy is not enabled for this environment")
    }),
    check!("BR-08", "10.4", "Restore time for 500 GB", "drill", |_, _| drill()),
    check!("ST-01", "10.5", "A connection without TLS is refused", "connect with sslmode=disable", |_, f| behaviour(
        f, st01
    )),
    check!(
        "ST-02",
        "10.5",
        "Invalid credentials are refused",
        "connect as the same user with a wrong password",
        |_, f| behaviour(f, st02)
    ),
    check!(
        "ST-03",
        "10.5",
        "Unauthorised security groups cannot connect",
        "EC2 DescribeSecurityGroupRules of the groups RDS reports attached: every source admitted to 5432 is declared",
        st03
    ),
    check!(
        "ST-04",
        "10.5",
        "Storage is encrypted with the environment's key",
        "RDS DescribeDBClusters/DescribeDBInstances StorageEncrypted, KmsKeyId",
        st04
    ),
    check!(
        "ST-05",
        "10.5",
        "No database instance is publicly accessible",
        "RDS DescribeDBInstances PubliclyAccessible",
        st05
    ),
    check!(
        "ST-06",
        "10.5",
        "Secrets rotate on their schedule",
        "Secrets Manager DescribeSecret RotationEnabled, RotationRules, LastRotatedDate",
        st06
    ),
    check!("ST-07", "10.5", "DDL and DML are logged", "SHOW log_statement; pgaudit.log", |_, f| database(f, st07)),
    check!("GL-01", "glctl", "The caller's AWS account is the environment's", "STS GetCallerIdentity", gl01),
    check!("GL-02", "5.1", "The KMS key rotates", "KMS GetKeyRotationStatus", gl02),
    check!("GL-03", "glctl", "Deletion protection is on", "RDS DeletionProtection", gl03),
    check!("GL-04", "7.1", "Backup retention is as declared", "RDS BackupRetentionPeriod", gl04),
    check!(
        "GL-05",
        "5.4",
        "Secrets are encrypted with the environment's key",
        "Secrets Manager DescribeSecret KmsKeyId",
        gl05
    ),
    check!(
        "GL-06",
        "4.2",
        "Parameter groups are in sync (no reboot pending)",
        "RDS DescribeDBInstances DBParameterGroups.ParameterApplyStatus",
        gl06
    ),
    check!(
        "GL-07",
        "5.3",
        "The application cannot change or remove audit rows",
        "UPDATE, DELETE, TRUNCATE audit_logs as app_service, rolled back",
        |_, f| behaviour(f, gl07)
    ),
    check!(
        "GL-08",
        "5.2",
        "TLS below the server's minimum is refused",
        "a TLS 1.2 handshake where the minimum is TLS 1.3",
        |_, f| behaviour(f, gl08)
    ),
    check!(
        "GL-09",
        "4.1",
        "Writer and readers are in distinct availability zones",
        "RDS DescribeDBInstances AvailabilityZone",
        gl09
    ),
    check!(
        "GL-10",
        "5.5",
        "Security-group ingress is exactly as declared",
        "RDS VpcSecurityGroups and EC2 DescribeSecurityGroupRules against network.allowed_*",
        gl10
    ),
];

fn na(why: &str) -> Outcome {
    Outcome::Skip(Skip::NotApplicable, why.into())
}

fn drill() -> Outcome {
    Outcome::Skip(Skip::NeedsDrills, "a drill changes the target; run with `--drills`".into())
}

fn evidence(observed: impl Into<String>, expected: impl Into<String>, source: impl Into<String>) -> Evidence {
    Evidence { observed: observed.into(), expected: expected.into(), source: source.into(), at: String::new() }
}

fn pass(e: Evidence) -> Outcome {
    Outcome::Pass(vec![e])
}

fn fail(why: impl Into<String>, e: Evidence) -> Outcome {
    Outcome::Fail(why.into(), vec![e])
}

/// `None` for RDS and Aurora; a not-applicable skip for a server glctl does not provision.
fn provisioned(env: &Environment) -> Option<Outcome> {
    (env.engine.kind == EngineKind::External)
        .then(|| na("an external server: its AWS posture (storage, network, backups) is not glctl's to provision"))
}

fn database(f: &Facts, decide: impl FnOnce(&DbFacts) -> Outcome) -> Outcome {
    match &f.database {
        Ok(d) => decide(d),
        Err(why) => Outcome::Error(format!("the database could not be read: {why}")),
    }
}

fn behaviour(f: &Facts, decide: impl FnOnce(&BehaviourFacts) -> Outcome) -> Outcome {
    match &f.behaviour {
        Ok(b) => decide(b),
        Err(why) => Outcome::Error(format!("the database could not be reached: {why}")),
    }
}

fn aws(e: &Environment, f: &Facts, decide: impl FnOnce(&AwsFacts) -> Outcome) -> Outcome {
    if let Some(skip) = provisioned(e) {
        return skip;
    }
    aws_any(f, decide)
}

fn aws_any(f: &Facts, decide: impl FnOnce(&AwsFacts) -> Outcome) -> Outcome {
    match &f.aws {
        Ok(a) => decide(a),
        Err(why) => Outcome::Error(format!("AWS could not be read: {why}")),
    }
}

fn fa01(b: &BehaviourFacts) -> Outcome {
    let source = format!("connect to {} (tls_mode {:?})", b.target, b.tls_mode);
    match &b.configured {
        Attempt::Succeeded(how) => pass(evidence(how.as_str(), "a connection", source)),
        Attempt::Refused(why) => {
            fail("the configured connection was refused", evidence(why.as_str(), "a connection", source))
        }
    }
}

fn fa02(e: &Environment, f: &Facts) -> Outcome {
    match e.engine.kind {
        EngineKind::External => replication::check(e, f, StandbyMode::Sync),
        EngineKind::AuroraPostgresql => {
            na("Aurora keeps six copies across three AZs in its storage layer; it has no synchronous standby instance")
        }
        EngineKind::RdsPostgresql if !e.engine.multi_az => {
            na("the environment declares no Multi-AZ standby (engine.multi_az: false)")
        }
        EngineKind::RdsPostgresql => aws_any(f, |a| {
            let primary = a.instances.iter().find(|i| i.id.ends_with("-primary"));
            let observed = primary.and_then(|i| i.multi_az);
            let ev = evidence(format!("MultiAZ = {observed:?}"), "MultiAZ = Some(true)", "RDS DescribeDBInstances");
            if observed == Some(true) {
                pass(ev)
            } else {
                fail("the primary has no Multi-AZ standby", ev)
            }
        }),
    }
}

fn fa03(e: &Environment, f: &Facts) -> Outcome {
    let wanted = e.engine.replicas.len();
    if e.engine.kind == EngineKind::External {
        return replication::check(e, f, StandbyMode::Async);
    }
    if wanted == 0 {
        return na("the environment declares no replicas");
    }
    database(f, |d| {
        let source = if e.engine.kind == EngineKind::AuroraPostgresql {
            "aurora_replica_status()"
        } else {
            "pg_stat_replication"
        };
        let ev = evidence(
            format!("{} streaming: {}", d.replicas.len(), d.replicas.join("; ")),
            format!("{wanted} replica(s)"),
            source,
        );
        if d.replicas.len() >= wanted {
            pass(ev)
        } else {
            fail("fewer replicas stream than declared", ev)
        }
    })
}

fn fa04(e: &Environment, d: &DbFacts) -> Outcome {
    let wanted: &[&str] = match e.timeseries.backend {
        Backend::Timescaledb => &["timescaledb"],
        Backend::Native => &["pg_partman", "pg_cron"],
    };
    let found: Vec<String> =
        wanted.iter().map(|n| format!("{n} {}", d.extensions.get(*n).map_or("missing", String::as_str))).collect();
    let ev = evidence(
        format!("PostgreSQL {}: {}", d.server_version, found.join(", ")),
        wanted.join(", "),
        "SHOW server_version; SELECT extname, extversion FROM pg_extension",
    );
    if wanted.iter().all(|n| d.extensions.contains_key(*n)) {
        pass(ev)
    } else {
        fail("an extension is missing", ev)
    }
}

/// The reconciler's changes for these settings, as evidence lines.
fn differences(d: &DbFacts, settings: &[&str]) -> Vec<String> {
    d.policies.changes.iter().filter(|c| settings.contains(&c.setting.as_str())).map(|c| c.describe()).collect()
}

fn from_diff(d: &DbFacts, settings: &[&str], what: &str) -> Outcome {
    let mut found = differences(d, settings);
    if settings.contains(&"partitioning") || settings.contains(&"chunk_interval") {
        found.extend(d.policies.missing.iter().map(|m| format!("{m}: missing")));
    }
    let source = "the policy reconciler (as `glctl plan`)";
    if found.is_empty() {
        pass(evidence(format!("{what} match the environment file"), "no difference", source))
    } else {
        fail(format!("{what} differ from the environment file"), evidence(found.join("; "), "no difference", source))
    }
}

fn fa05(d: &DbFacts) -> Outcome {
    from_diff(
        d,
        &["chunk_interval", "partition_interval", "partitioning", "premake", "infinite_time_partitions"],
        "partitions",
    )
}

fn fa06(e: &Environment, f: &Facts) -> Outcome {
    if e.timeseries.backend == Backend::Native {
        return na("the native backend cannot compress (validate warns where compression is declared)");
    }
    if e.hypertables.values().all(|t| t.compression.is_none()) {
        return na("the environment declares no compression");
    }
    database(f, |d| from_diff(d, &["compression", "compress_after"], "compression settings and policies"))
}

fn fa07(d: &DbFacts) -> Outcome {
    from_diff(d, &["retention"], "retention policies")
}

fn fa08(e: &Environment, d: &DbFacts) -> Outcome {
    if e.continuous_aggregates.is_empty() {
        return na("the environment declares no summaries");
    }
    let mut problems = differences(d, &["populated", "refresh", "cron job"]);
    let mut observed = Vec::new();
    for name in e.continuous_aggregates.keys() {
        let Some(job) = d.jobs.iter().find(|j| j.target == *name) else {
            problems.push(format!("{name}: no refresh job"));
            continue;
        };
        // The newest refresh, apply's own populate included: a job that has not had its first run yet is
        // not a stale summary.
        let by_job = job.seconds_since_success.map(|age| (age, "by its job"));
        let by_apply = d.populated_by_apply.get(name).map(|age| (*age, "by glctl apply"));
        let newest = match (by_job, by_apply) {
            (Some(j), Some(a)) => Some(if a.0 < j.0 { a } else { j }),
            (j, a) => j.or(a),
        };
        let allowed = job.schedule_seconds.saturating_mul(2);
        match newest {
            Some((age, by)) if age <= allowed => {
                observed.push(format!("{name}: refreshed {age} s ago {by} (every {} s)", job.schedule_seconds))
            }
            Some((age, by)) => problems.push(format!(
                "{name}: last refreshed {age} s ago {by}, every {} s (last job status {})",
                job.schedule_seconds,
                job.last_status.as_deref().unwrap_or("none")
            )),
            None => problems.push(format!(
                "{name}: {} has never refreshed successfully and apply did not populate it (last status {})",
                job.name,
                job.last_status.as_deref().unwrap_or("none")
            )),
        }
    }
    let source = "job run history (timescaledb_information.job_stats / cron.job_run_details) and \
                  glctl.summary_refreshes (apply's populate)";
    if problems.is_empty() {
        pass(evidence(observed.join("; "), "each within two schedule periods", source))
    } else {
        fail("a summary is stale", evidence(problems.join("; "), "each refreshed within two schedule periods", source))
    }
}

/// The cluster and every instance, as (id, value) pairs of one attribute.
fn each_member<T: std::fmt::Debug>(
    a: &AwsFacts,
    cluster: impl Fn(&super::facts::ClusterFact) -> T,
    instance: impl Fn(&InstanceFact) -> T,
) -> Vec<(String, T)> {
    let mut all: Vec<(String, T)> = a.cluster.iter().map(|c| (c.id.clone(), cluster(c))).collect();
    all.extend(a.instances.iter().map(|i| (i.id.clone(), instance(i))));
    all
}

fn all_members(source: &str, expected: &str, values: Vec<(String, String)>, ok: impl Fn(&str) -> bool) -> Outcome {
    if values.is_empty() {
        return Outcome::Error("no cluster or instance was found for the environment".into());
    }
    let observed = values.iter().map(|(id, v)| format!("{id}: {v}")).collect::<Vec<_>>().join("; ");
    let ev = evidence(observed, expected, source);
    if values.iter().all(|(_, v)| ok(v)) {
        pass(ev)
    } else {
        fail(format!("not every member is {expected}"), ev)
    }
}

fn fa10(e: &Environment, f: &Facts) -> Outcome {
    aws(e, f, |a| {
        let values =
            each_member(a, |c| c.iam_auth, |i| i.iam_auth).into_iter().map(|(id, v)| (id, format!("{v:?}"))).collect();
        all_members("RDS IAMDatabaseAuthenticationEnabled", "Some(true)", values, |v| v == "Some(true)")
    })
}

fn ha06(e: &Environment, _: &Facts) -> Outcome {
    match e.engine.kind {
        EngineKind::External => na("glctl does not manage an external server's failover"),
        _ => {
            na("Patroni does not exist on Aurora or RDS: the service elects the new writer itself (HA-01..04 drill it)")
        }
    }
}

fn restorable_minutes(a: &AwsFacts) -> Option<i64> {
    a.cluster.as_ref().map_or_else(
        || a.instances.iter().filter_map(|i| i.minutes_since_restorable).min(),
        |c| c.minutes_since_restorable,
    )
}

fn br01(e: &Environment, f: &Facts) -> Outcome {
    aws(e, f, |a| {
        let retention = a
            .cluster
            .as_ref()
            .and_then(|c| c.backup_retention_days)
            .or_else(|| a.instances.iter().find_map(|i| i.backup_retention_days));
        let ev = evidence(
            format!("retention {retention:?} days, latest restorable {:?} minutes ago", restorable_minutes(a)),
            "retention ≥ 1 day and a restorable time",
            "RDS BackupRetentionPeriod, LatestRestorableTime",
        );
        if retention.unwrap_or(0) >= 1 && restorable_minutes(a).is_some() {
            pass(ev)
        } else {
            fail("no automated backup to restore from", ev)
        }
    })
}

fn br03(e: &Environment, f: &Facts) -> Outcome {
    aws(e, f, |a| {
        let minutes = restorable_minutes(a);
        let ev = evidence(format!("{minutes:?} minutes"), "at most 15 minutes behind now", "RDS LatestRestorableTime");
        if minutes.is_some_and(|m| m <= 15) {
            pass(ev)
        } else {
            fail("point-in-time recovery lags or is missing", ev)
        }
    })
}

fn st01(b: &BehaviourFacts) -> Outcome {
    let source = format!("connect to {} with sslmode=disable", b.target);
    match &b.plaintext {
        // Only the server's refusal is evidence; a network error says nothing about TLS.
        Attempt::Refused(why)
            if why.contains("(28000)") || why.to_ascii_lowercase().contains("ssl") || why.contains("encryption") =>
        {
            pass(evidence(format!("refused: {why}"), "refused", source))
        }
        Attempt::Refused(why) => {
            Outcome::Error(format!("the attempt failed, but not with the server's refusal: {why}"))
        }
        Attempt::Succeeded(how) => {
            fail("a plaintext connection was accepted", evidence(how.as_str(), "refused", source))
        }
    }
}

fn st02(b: &BehaviourFacts) -> Outcome {
    let source = format!("connect to {} with a wrong password", b.target);
    match &b.wrong_password {
        Attempt::Refused(why) if why.contains("28P01") || why.contains("28000") || why.contains("password") => {
            pass(evidence(format!("refused: {why}"), "authentication refused", source))
        }
        Attempt::Refused(why) => Outcome::Error(format!("refused, but not for the password: {why}")),
        Attempt::Succeeded(how) => fail("a wrong password was accepted", evidence(how.as_str(), "refused", source)),
    }
}

fn st04(e: &Environment, f: &Facts) -> Outcome {
    aws(e, f, |a| {
        let key = a.kms_key_arn.clone().unwrap_or_default();
        let values = each_member(a, |c| (c.encrypted, c.kms_key.clone()), |i| (i.encrypted, i.kms_key.clone()))
            .into_iter()
            .map(|(id, (enc, k))| (id, format!("encrypted {enc:?} with {}", k.unwrap_or_default())))
            .collect();
        all_members("RDS StorageEncrypted, KmsKeyId", &format!("encrypted Some(true) with {key}"), values, |v| {
            v == format!("encrypted Some(true) with {key}")
        })
    })
}

fn st05(e: &Environment, f: &Facts) -> Outcome {
    aws(e, f, |a| {
        let values =
            a.instances.iter().map(|i| (i.id.clone(), format!("{:?}", i.publicly_accessible))).collect::<Vec<_>>();
        all_members("RDS PubliclyAccessible", "Some(false)", values, |v| v == "Some(false)")
    })
}

fn st06(_: &Environment, f: &Facts) -> Outcome {
    aws_any(f, |a| {
        let declared: Vec<_> = a.secrets.iter().filter(|s| s.declared_rotation_days.is_some()).collect();
        if declared.is_empty() {
            return na("no secret declares rotation_days");
        }
        let mut observed = Vec::new();
        let mut problems = Vec::new();
        for s in declared {
            let days = s.declared_rotation_days.map(i64::from);
            let line = format!(
                "{}: rotation {} every {:?} days, last rotated {:?} days ago, created {:?} days ago",
                s.name,
                if s.rotation_enabled { "on" } else { "off" },
                s.rotation_days,
                s.days_since_rotation,
                s.days_since_creation
            );
            let due = days.unwrap_or(0);
            let on_time = s.days_since_rotation.or(s.days_since_creation).is_some_and(|d| d <= due);
            if !s.rotation_enabled || s.rotation_days != days || !on_time {
                problems.push(line.clone());
            }
            observed.push(line);
        }
        let ev = evidence(
            observed.join("; "),
            "rotation on, on the declared schedule, last rotation within it",
            "Secrets Manager DescribeSecret",
        );
        if problems.is_empty() {
            pass(ev)
        } else {
            fail(format!("{} secret(s) do not rotate as declared", problems.len()), ev)
        }
    })
}

fn st07(d: &DbFacts) -> Outcome {
    let audited = matches!(d.log_statement.as_str(), "mod" | "all")
        || d.pgaudit_log.as_deref().is_some_and(|l| l.contains("all") || (l.contains("ddl") && l.contains("write")));
    let ev = evidence(
        format!(
            "log_statement = {}, pgaudit.log = {}",
            d.log_statement,
            d.pgaudit_log.as_deref().unwrap_or("(pgaudit not loaded)")
        ),
        "log_statement mod or all, or pgaudit.log with ddl and write",
        "SHOW log_statement; current_setting('pgaudit.log', true)",
    );
    if audited {
        pass(ev)
    } else {
        fail("DML is not logged", ev)
    }
}

fn gl01(e: &Environment, f: &Facts) -> Outcome {
    aws_any(f, |a| {
        let ev = evidence(a.account.as_str(), e.aws.account_id.as_str(), "STS GetCallerIdentity");
        if a.account == e.aws.account_id {
            pass(ev)
        } else {
            fail("the credentials belong to another account", ev)
        }
    })
}

fn gl02(e: &Environment, f: &Facts) -> Outcome {
    if !e.kms.enable_rotation {
        return na("the environment turns key rotation off (kms.enable_rotation: false)");
    }
    aws_any(f, |a| {
        let ev = evidence(
            format!("{:?}", a.kms_rotation),
            "Some(true)",
            format!("KMS GetKeyRotationStatus {}", a.kms_key_arn.as_deref().unwrap_or("?")),
        );
        if a.kms_rotation == Some(true) {
            pass(ev)
        } else {
            fail("the key does not rotate", ev)
        }
    })
}

fn gl03(e: &Environment, f: &Facts) -> Outcome {
    if e.accepted_risks.contains(&Risk::NoDeletionProtection) {
        return Outcome::Skip(Skip::Waived, "the environment accepts the risk `no-deletion-protection`".into());
    }
    aws(e, f, |a| {
        let values = each_member(a, |c| c.deletion_protection, |i| i.deletion_protection)
            .into_iter()
            .filter(|(id, _)| a.cluster.as_ref().is_none_or(|c| c.id == *id))
            .map(|(id, v)| (id, format!("{v:?}")))
            .collect();
        all_members("RDS DeletionProtection", "Some(true)", values, |v| v == "Some(true)")
    })
}

fn gl04(e: &Environment, f: &Facts) -> Outcome {
    aws(e, f, |a| {
        let wanted = format!("Some({})", e.backup.retention_days);
        let values = each_member(a, |c| c.backup_retention_days, |i| i.backup_retention_days)
            .into_iter()
            .filter(|(id, _)| a.cluster.as_ref().is_none_or(|c| c.id == *id))
            .filter(|(id, _)| !e.engine.replicas.iter().any(|r| id.ends_with(&format!("-{}", r.name))))
            .map(|(id, v)| (id, format!("{v:?}")))
            .collect();
        all_members("RDS BackupRetentionPeriod", &wanted, values, |v| v == wanted)
    })
}

fn gl05(_: &Environment, f: &Facts) -> Outcome {
    aws_any(f, |a| {
        if a.secrets.is_empty() {
            return na("the environment declares no secrets glctl manages");
        }
        let key = a.kms_key_arn.clone().unwrap_or_default();
        let values = a
            .secrets
            .iter()
            .map(|s| (s.name.clone(), s.kms_key.clone().unwrap_or_else(|| "(AWS managed key)".into())))
            .collect();
        all_members("Secrets Manager DescribeSecret KmsKeyId", &key, values, |v| v == key)
    })
}

fn gl06(e: &Environment, f: &Facts) -> Outcome {
    aws(e, f, |a| {
        let values = a.instances.iter().map(|i| (i.id.clone(), i.parameter_status.join(", "))).collect();
        all_members("RDS DBParameterGroups.ParameterApplyStatus", "in-sync", values, |v| {
            !v.is_empty() && v.split(", ").all(|s| s.ends_with(": in-sync"))
        })
    })
}

fn gl07(b: &BehaviourFacts) -> Outcome {
    let tries = match &b.append_only {
        Ok(tries) => tries,
        Err(why) => return Outcome::Error(format!("the changes were not tried: {why}")),
    };
    if tries.is_empty() {
        return Outcome::Error(
            "the application role app_service or audit_logs does not exist yet (migrations 0001, 0002)".into(),
        );
    }
    let allowed: Vec<&str> =
        tries.iter().filter(|(_, a)| matches!(a, Attempt::Succeeded(_))).map(|(s, _)| s.as_str()).collect();
    let observed = tries
        .iter()
        .map(|(s, a)| match a {
            Attempt::Refused(why) => format!("{s}: refused ({why})"),
            Attempt::Succeeded(_) => format!("{s}: ALLOWED"),
        })
        .collect::<Vec<_>>()
        .join("; ");
    let disabled: Vec<&str> = b.append_only_triggers.iter().filter(|(_, on)| !on).map(|(t, _)| t.as_str()).collect();
    let triggers = b
        .append_only_triggers
        .iter()
        .map(|(t, on)| format!("{t} {}", if *on { "enabled" } else { "DISABLED" }))
        .collect::<Vec<_>>()
        .join(", ");
    let ev = evidence(
        format!("{observed}; triggers: {}", if triggers.is_empty() { "none" } else { &triggers }),
        "all three refused; the append-only triggers enabled",
        "as app_service, each in a transaction rolled back; pg_trigger of audit_logs",
    );
    if !allowed.is_empty() {
        fail(format!("the application may {}", allowed.join(", ")), ev)
    } else if b.append_only_triggers.is_empty() || !disabled.is_empty() {
        fail(
            format!(
                "audit_logs is not append-only for every role: trigger(s) missing or disabled: {}",
                disabled.join(", ")
            ),
            ev,
        )
    } else {
        pass(ev)
    }
}

fn gl08(b: &BehaviourFacts) -> Outcome {
    if b.tls_mode == TlsMode::Disable {
        return Outcome::Error("the environment connects without TLS, so no handshake can be tried".into());
    }
    match &b.below_minimum_tls {
        None => Outcome::Skip(
            Skip::NotApplicable,
            "the server's minimum is below TLS 1.3, and glctl's TLS library offers nothing older than TLS 1.2 to try"
                .into(),
        ),
        Some((minimum, attempt)) => {
            let source = format!("a TLS 1.2-only handshake with {}", b.target);
            match attempt {
                // Only the server's TLS alert is evidence; a network error says nothing about the minimum.
                Attempt::Refused(why)
                    if why.to_ascii_lowercase().contains("alert") || why.to_ascii_lowercase().contains("protocol") =>
                {
                    pass(evidence(format!("refused: {why}"), format!("refused (minimum {minimum})"), source))
                }
                Attempt::Refused(why) => {
                    Outcome::Error(format!("the TLS 1.2 attempt failed, but not with the server's refusal: {why}"))
                }
                Attempt::Succeeded(how) => {
                    fail("TLS 1.2 was accepted", evidence(how.as_str(), format!("refused (minimum {minimum})"), source))
                }
            }
        }
    }
}

fn gl09(e: &Environment, f: &Facts) -> Outcome {
    if e.engine.replicas.is_empty() {
        return provisioned(e).unwrap_or_else(|| na("the environment declares no replicas"));
    }
    aws(e, f, |a| {
        let zones: Vec<String> = a
            .instances
            .iter()
            .map(|i| format!("{}: {}", i.id, i.availability_zone.as_deref().unwrap_or("?")))
            .collect();
        let mut distinct: Vec<&str> = a.instances.iter().filter_map(|i| i.availability_zone.as_deref()).collect();
        distinct.sort();
        distinct.dedup();
        let ev = evidence(zones.join("; "), "one AZ per instance", "RDS DescribeDBInstances AvailabilityZone");
        if !a.instances.is_empty() && distinct.len() == a.instances.len() {
            pass(ev)
        } else {
            fail("instances share an AZ", ev)
        }
    })
}

fn network(e: &Environment, f: &Facts, decide: impl FnOnce(&NetworkFacts) -> Outcome) -> Outcome {
    aws(e, f, |a| match &a.network {
        Some(Ok(n)) => decide(n),
        Some(Err(why)) => Outcome::Error(format!("the security groups could not be read: {why}")),
        None => Outcome::Error("the security groups were not read".into()),
    })
}

/// The sources the environment admits to PostgreSQL: its allowed groups and CIDR blocks, and the managed
/// group itself (replication between members).
fn declared_sources(e: &Environment, n: &NetworkFacts) -> BTreeSet<String> {
    let network = &e.network;
    network
        .allowed_security_group_ids
        .iter()
        .chain(&network.allowed_cidrs)
        .chain(&n.managed_group)
        .map(|s| s.to_ascii_lowercase())
        .collect()
}

fn listed(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join("; ")
    }
}

/// PRD ST-03 as a property of the rules: a member of any group (or address) not declared cannot reach 5432
/// when no ingress rule of an attached group admits it. A group's self-reference admits its members, so only
/// the managed group's counts as declared (a default group's "all traffic from itself" does not).
fn st03(e: &Environment, f: &Facts) -> Outcome {
    network(e, f, |n| {
        let declared = declared_sources(e, n);
        let admitting: Vec<&IngressRule> = n.ingress.iter().filter(|r| r.admits_postgres()).collect();
        let undeclared: Vec<String> =
            admitting.iter().filter(|r| !declared.contains(&r.source)).map(|r| r.to_string()).collect();
        let ev = evidence(
            listed(&admitting.iter().map(|r| r.to_string()).collect::<Vec<_>>()),
            format!("5432 only from: {}", declared.iter().cloned().collect::<Vec<_>>().join(", ")),
            format!("EC2 DescribeSecurityGroupRules, groups {}", n.attached_groups.join(", ")),
        );
        if undeclared.is_empty() {
            pass(ev)
        } else {
            fail(format!("PostgreSQL is open to undeclared sources: {}", undeclared.join("; ")), ev)
        }
    })
}

/// GL-10: the instances carry only the managed group, and its ingress is exactly the declared rules (TCP 5432
/// from each allowed group and CIDR block, and from itself): nothing added by hand, nothing missing.
fn gl10(e: &Environment, f: &Facts) -> Outcome {
    network(e, f, |n| {
        let Some(managed) = &n.managed_group else {
            return Outcome::Error("no Terraform output `security_group_id` names the managed group".into());
        };
        let declared: BTreeSet<String> = declared_sources(e, n)
            .into_iter()
            .map(|source| IngressRule {
                group_id: managed.clone(),
                protocol: "tcp".into(),
                from_port: 5432,
                to_port: 5432,
                source,
            })
            .map(|r| r.to_string())
            .collect();
        let live: BTreeSet<String> = n.ingress.iter().map(|r| r.to_string()).collect();
        let foreign: Vec<String> = n.attached_groups.iter().filter(|g| *g != managed).cloned().collect();
        let extra: Vec<String> = live.difference(&declared).cloned().collect();
        let missing: Vec<String> = declared.difference(&live).cloned().collect();
        let ev = evidence(
            format!(
                "attached {}; ingress {}",
                n.attached_groups.join(", "),
                listed(&live.into_iter().collect::<Vec<_>>())
            ),
            format!("attached {managed}; ingress {}", declared.into_iter().collect::<Vec<_>>().join("; ")),
            "RDS DescribeDBInstances VpcSecurityGroups, EC2 DescribeSecurityGroupRules",
        );
        let mut problems = Vec::new();
        if !foreign.is_empty() {
            problems.push(format!("groups attached that glctl does not manage: {}", foreign.join(", ")));
        }
        if !extra.is_empty() {
            problems.push(format!("rules not declared: {}", extra.join("; ")));
        }
        if !missing.is_empty() {
            problems.push(format!("declared rules missing: {}", missing.join("; ")));
        }
        if problems.is_empty() {
            pass(ev)
        } else {
            fail(problems.join("; "), ev)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::facts::{BehaviourFacts, JobFact, SecretFact};

    fn env(yaml_extra: &str) -> Environment {
        let yaml = format!(
            "project: p\ntier: non-production\naws: {{ account_id: '123456789012', region: us-east-1 }}\n\
             engine: {{ kind: external, version: '16.6' }}\ntimeseries: {{ backend: native }}\n{yaml_extra}"
        );
        serde_yaml_ng::from_str(&yaml).unwrap()
    }

    fn behaviour_facts() -> BehaviourFacts {
        BehaviourFacts {
            target: "db:5432 as app".into(),
            tls_mode: TlsMode::VerifyFull,
            configured: Attempt::Succeeded("connected as app".into()),
            plaintext: Attempt::Refused("no pg_hba.conf entry for host, no encryption (28000)".into()),
            wrong_password: Attempt::Refused("password authentication failed (28P01)".into()),
            below_minimum_tls: Some(("TLSv1.3".into(), Attempt::Refused("protocol version".into()))),
            append_only: Ok(vec![("UPDATE audit_logs SET hash = hash".into(), Attempt::Refused("append-only".into()))]),
            append_only_triggers: vec![("audit_logs_no_update".into(), true)],
        }
    }

    fn facts() -> Facts {
        Facts {
            at: "2026-11-26T12:00:00Z".into(),
            database: Ok(DbFacts::default()),
            behaviour: Ok(behaviour_facts()),
            aws: Ok(AwsFacts { account: "123456789012".into(), kms_rotation: Some(true), ..AwsFacts::default() }),
            bench: None,
        }
    }

    fn by_id(id: &str) -> &'static Check {
        CHECKS.iter().find(|c| c.id == id).unwrap()
    }

    #[test]
    fn a_summary_populated_by_apply_is_fresh_until_its_schedule_lapses_even_before_its_first_job_run() {
        let e = env("hypertables: { t: { time_column: ts, chunk_interval: 1 day } }\n\
                     continuous_aggregates: { s: { source: t, bucket: 1 hour, \
                     refresh: { start_offset: 3 hours, end_offset: 1 hour, schedule_interval: 1 hour } } }\n");
        let job = |since: Option<i64>| JobFact {
            name: "glctl:db:refresh:s".into(),
            target: "s".into(),
            schedule_seconds: 3600,
            seconds_since_success: since,
            last_status: None,
        };
        let decide = |since: Option<i64>, populated: Option<i64>| {
            let mut d = DbFacts { jobs: vec![job(since)], ..DbFacts::default() };
            if let Some(age) = populated {
                d.populated_by_apply.insert("s".into(), age);
            }
            fa08(&e, &d)
        };
        assert!(matches!(decide(None, Some(60)), Outcome::Pass(_)), "apply's populate counts as a refresh");
        assert!(matches!(decide(Some(9000), Some(60)), Outcome::Pass(_)), "the newer of job and apply");
        assert!(matches!(decide(Some(60), None), Outcome::Pass(_)));
        let Outcome::Fail(_, ev) = decide(None, Some(7201)) else { panic!("stale after two periods") };
        assert!(ev[0].observed.contains("7201 s ago by glctl apply"), "{}", ev[0].observed);
        let Outcome::Fail(_, ev) = decide(None, None) else { panic!("never refreshed at all") };
        assert!(ev[0].observed.contains("never refreshed"), "{}", ev[0].observed);
    }

    #[test]
    fn every_criterion_of_prd_section_ten_has_a_check_with_a_unique_id() {
        for prefix in ["FA-", "PB-", "HA-", "BR-", "ST-"] {
            let count = CHECKS.iter().filter(|c| c.id.starts_with(prefix)).count();
            let wanted = match prefix {
                "FA-" => 10,
                "PB-" | "BR-" => 8,
                "HA-" => 6,
                _ => 7,
            };
            assert_eq!(count, wanted, "{prefix}");
        }
        let mut ids: Vec<&str> = CHECKS.iter().map(|c| c.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), CHECKS.len());
    }

    #[test]
    fn behaviour_checks_pass_on_refusals_and_fail_on_acceptance_with_evidence() {
        let e = env("");
        let mut f = facts();
        assert!(matches!((by_id("ST-01").decide)(&e, &f), Outcome::Pass(_)));
        assert!(matches!((by_id("ST-02").decide)(&e, &f), Outcome::Pass(_)));
        assert!(matches!((by_id("GL-08").decide)(&e, &f), Outcome::Pass(_)));
        f.behaviour.as_mut().unwrap().plaintext = Attempt::Succeeded("connected as app".into());
        let Outcome::Fail(why, evidence) = (by_id("ST-01").decide)(&e, &f) else { panic!("ST-01 must fail") };
        assert_eq!(why, "a plaintext connection was accepted");
        assert_eq!(evidence[0].observed, "connected as app");
    }

    #[test]
    fn an_unreadable_source_is_an_error_never_a_pass() {
        let e = env("");
        let f = Facts {
            at: String::new(),
            database: Err("cannot connect".into()),
            behaviour: Err("cannot connect".into()),
            aws: Err("no endpoint".into()),
            bench: None,
        };
        for check in CHECKS {
            let outcome = (check.decide)(&e, &f);
            assert!(!matches!(outcome, Outcome::Pass(_)), "{} passed without facts", check.id);
        }
    }

    #[test]
    fn the_append_only_check_names_what_the_application_may_do() {
        let e = env("");
        let mut f = facts();
        f.behaviour
            .as_mut()
            .unwrap()
            .append_only
            .as_mut()
            .unwrap()
            .push(("TRUNCATE audit_logs".into(), Attempt::Succeeded("allowed".into())));
        let Outcome::Fail(why, evidence) = (by_id("GL-07").decide)(&e, &f) else { panic!() };
        assert_eq!(why, "the application may TRUNCATE audit_logs");
        assert!(evidence[0].observed.contains("TRUNCATE audit_logs: ALLOWED"));
        let mut f = facts();
        f.behaviour.as_mut().unwrap().append_only_triggers[0].1 = false;
        let Outcome::Fail(why, _) = (by_id("GL-07").decide)(&e, &f) else { panic!() };
        assert!(why.ends_with("disabled: audit_logs_no_update"), "{why}");
    }

    #[test]
    fn a_tls_attempt_lost_to_the_network_is_not_a_refusal() {
        let mut f = facts();
        f.behaviour.as_mut().unwrap().below_minimum_tls =
            Some(("TLSv1.3".into(), Attempt::Refused("error connecting to server: Connection refused".into())));
        assert!(matches!((by_id("GL-08").decide)(&env(""), &f), Outcome::Error(_)));
    }

    /// A verifying user that may not act as app_service tried nothing: that is undecided, never a refusal.
    #[test]
    fn audit_changes_that_could_not_be_tried_decide_nothing() {
        let mut f = facts();
        f.behaviour.as_mut().unwrap().append_only =
            Err("could not act as app_service: permission denied to set role \"app_service\" (42501)".into());
        let Outcome::Error(why) = (by_id("GL-07").decide)(&env(""), &f) else { panic!("GL-07 must be undecided") };
        assert!(why.contains("permission denied to set role"), "{why}");
    }

    #[test]
    fn secrets_must_rotate_on_their_declared_schedule() {
        let e = env("");
        let mut f = facts();
        let secret = SecretFact {
            name: "app".into(),
            declared_rotation_days: Some(7),
            rotation_enabled: true,
            rotation_days: Some(7),
            days_since_rotation: None,
            days_since_creation: Some(2),
            kms_key: None,
        };
        f.aws.as_mut().unwrap().secrets = vec![secret.clone()];
        assert!(matches!((by_id("ST-06").decide)(&e, &f), Outcome::Pass(_)), "created 2 days ago, not due");
        f.aws.as_mut().unwrap().secrets = vec![SecretFact { days_since_creation: Some(30), ..secret.clone() }];
        assert!(matches!((by_id("ST-06").decide)(&e, &f), Outcome::Fail(..)), "never rotated in 30 days");
        f.aws.as_mut().unwrap().secrets = vec![SecretFact { rotation_enabled: false, ..secret }];
        assert!(matches!((by_id("ST-06").decide)(&e, &f), Outcome::Fail(..)));
    }

    fn rds_env(network: &str) -> Environment {
        let yaml = format!(
            "project: p\ntier: production\naws: {{ account_id: '123456789012', region: us-east-1 }}\n\
             engine: {{ kind: rds-postgresql, version: '16.6' }}\ntimeseries: {{ backend: native }}\nnetwork: {network}\n"
        );
        serde_yaml_ng::from_str(&yaml).unwrap()
    }

    fn rule(group: &str, protocol: &str, ports: (i32, i32), source: &str) -> IngressRule {
        IngressRule {
            group_id: group.into(),
            protocol: protocol.into(),
            from_port: ports.0,
            to_port: ports.1,
            source: source.into(),
        }
    }

    /// The managed group sg-db admitting the declared EKS group and CIDR, and itself.
    fn network_facts() -> NetworkFacts {
        NetworkFacts {
            managed_group: Some("sg-db".into()),
            attached_groups: vec!["sg-db".into()],
            ingress: vec![
                rule("sg-db", "tcp", (5432, 5432), "sg-eks"),
                rule("sg-db", "tcp", (5432, 5432), "10.0.0.0/16"),
                rule("sg-db", "tcp", (5432, 5432), "sg-db"),
            ],
        }
    }

    fn with_network(network: Result<NetworkFacts, String>) -> Facts {
        let mut f = facts();
        f.aws.as_mut().unwrap().network = Some(network);
        f
    }

    #[test]
    fn security_groups_pass_only_with_exactly_the_declared_sources() {
        let e = rds_env("{ allowed_security_group_ids: [sg-eks], allowed_cidrs: [10.0.0.0/16] }");
        let decide = |id: &str, f: &Facts| (by_id(id).decide)(&e, f);
        let f = with_network(Ok(network_facts()));
        assert!(matches!(decide("ST-03", &f), Outcome::Pass(_)));
        assert!(matches!(decide("GL-10", &f), Outcome::Pass(_)));

        // A rule added by hand that opens 5432 to the world: both fail and name it.
        let mut open = network_facts();
        open.ingress.push(rule("sg-db", "tcp", (0, 65535), "0.0.0.0/0"));
        let f = with_network(Ok(open));
        let Outcome::Fail(why, _) = decide("ST-03", &f) else { panic!("ST-03 must fail") };
        assert_eq!(why, "PostgreSQL is open to undeclared sources: sg-db: tcp 0-65535 from 0.0.0.0/0");
        let Outcome::Fail(why, _) = decide("GL-10", &f) else { panic!("GL-10 must fail") };
        assert_eq!(why, "rules not declared: sg-db: tcp 0-65535 from 0.0.0.0/0");

        // A rule that does not reach 5432 is not ST-03's business, but it is not declared either.
        let mut ssh = network_facts();
        ssh.ingress.push(rule("sg-db", "tcp", (22, 22), "0.0.0.0/0"));
        let f = with_network(Ok(ssh));
        assert!(matches!(decide("ST-03", &f), Outcome::Pass(_)));
        assert!(matches!(decide("GL-10", &f), Outcome::Fail(..)));

        // A declared rule gone: nothing undeclared can connect, but the state is not as declared.
        let mut missing = network_facts();
        missing.ingress.retain(|r| r.source != "10.0.0.0/16");
        let f = with_network(Ok(missing));
        assert!(matches!(decide("ST-03", &f), Outcome::Pass(_)));
        let Outcome::Fail(why, _) = decide("GL-10", &f) else { panic!("GL-10 must fail") };
        assert_eq!(why, "declared rules missing: sg-db: tcp 5432 from 10.0.0.0/16");

        // A default group attached too: its "all traffic from itself" admits every member of it.
        let mut default = network_facts();
        default.attached_groups.push("sg-default".into());
        default.ingress.push(rule("sg-default", "-1", (-1, -1), "sg-default"));
        let f = with_network(Ok(default));
        let Outcome::Fail(why, _) = decide("ST-03", &f) else { panic!("ST-03 must fail") };
        assert!(why.ends_with("sg-default: all traffic from sg-default"), "{why}");
        let Outcome::Fail(why, _) = decide("GL-10", &f) else { panic!("GL-10 must fail") };
        assert!(why.starts_with("groups attached that glctl does not manage: sg-default"), "{why}");

        // Rules that could not be read decide nothing.
        let f = with_network(Err("UnauthorizedOperation".into()));
        assert!(matches!(decide("ST-03", &f), Outcome::Error(why) if why.contains("UnauthorizedOperation")));
        assert!(matches!(decide("GL-10", &f), Outcome::Error(_)));
    }

    #[test]
    fn aws_posture_of_an_external_server_is_not_applicable_and_accepted_risks_are_waived() {
        let f = facts();
        assert!(matches!((by_id("ST-04").decide)(&env(""), &f), Outcome::Skip(Skip::NotApplicable, _)));
        assert!(matches!((by_id("ST-03").decide)(&env(""), &f), Outcome::Skip(Skip::NotApplicable, _)));
        let risky = env("accepted_risks: [no-deletion-protection]\ndeletion_protection: false\n");
        assert!(matches!((by_id("GL-03").decide)(&risky, &f), Outcome::Skip(Skip::Waived, _)));
        assert!(matches!((by_id("HA-06").decide)(&env(""), &f), Outcome::Skip(Skip::NotApplicable, _)));
    }
}
