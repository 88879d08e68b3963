//! The registry of checks: every acceptance criterion of PRD §10 and what a careful reviewer adds (`GL-*`),
//! each decided by a pure function of the environment and the gathered facts, so the rules are unit-tested
//! without a server. A check never passes on a fact it could not read, nor on facts read but empty (the
//! guard `no_check_passes_on_readable_but_empty_facts`): a policy passes on what the reconciler read as
//! declared, not on a diff that said nothing. The table is here, the decisions live
//! by PRD section in `functional` (§10.1), `resilience` (§10.3–10.4), `security` (§10.5, GL-10) and `posture`
//! (the other GL-*); the drills and benchmarks in `verify::{replication, backup, restore, bench_checks}`.

use super::facts::{AwsFacts, BehaviourFacts, ClusterFact, DbFacts, Facts, InstanceFact};
use super::{bench_checks, failover_verdict, pgbouncer_checks, Evidence, Outcome, Skip};
use crate::config::model::{EngineKind, Environment};

mod functional;
mod posture;
mod resilience;
mod security;

use functional::*;
use posture::*;
use resilience::*;
use security::*;

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
        fa05
    ),
    check!(
        "FA-06",
        "10.1",
        "Compression policies are active as declared",
        "the policy reconciler's diff: compression, compress_after",
        fa06
    ),
    check!("FA-07", "10.1", "Retention is configured as declared", "the policy reconciler's diff: retention", fa07),
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
        pgbouncer_checks::fa09
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
        pgbouncer_checks::pb08
    ),
    check!(
        "HA-01",
        "10.3",
        "Failover after the writer's process dies",
        "drill: fail over and time the writer's return",
        |_, _| drill()
    ),
    check!("HA-02", "10.3", "Failover after a network partition", "drill", |e, _| {
        failover_verdict::partition_storage_az(e, "a network partition")
    }),
    check!("HA-03", "10.3", "Failover after a storage failure", "drill", |e, _| {
        failover_verdict::partition_storage_az(e, "a storage (EBS volume) failure")
    }),
    check!("HA-04", "10.3", "Failover to another AZ", "drill", |e, _| {
        failover_verdict::partition_storage_az(e, "the loss of an availability zone")
    }),
    check!(
        "HA-05",
        "10.3",
        "Retry through another PgBouncer",
        "drill: stop one PgBouncer, time the clients' reconnect through the other (multi-host URL)",
        pgbouncer_checks::ha05
    ),
    check!("HA-06", "10.3", "Patroni leader election", "drill (an external server with drills.patroni)", |e, f| {
        if e.drills.patroni {
            failover_verdict::ha06(e)
        } else {
            ha06(e, f)
        }
    }),
    check!(
        "BR-01",
        "10.4",
        "Automated backups exist",
        "automated backup, restore window and automated snapshots (RDS/Aurora backup APIs)",
        br01
    ),
    check!(
        "BR-02",
        "10.4",
        "Incremental backups",
        "automated snapshots: the first full, the later ones incremental (RDS/Aurora backup APIs)",
        |e, _| provisioned(e).unwrap_or_else(|| Outcome::Error(
            "decided from the RDS backup APIs by `glctl verify` (verify::backup_rds), which did not run".into()
        ))
    ),
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
        "drill: restore to acceptance.pitr_targets.br04 into a scratch copy; the heartbeat exact to it",
        |_, _| drill()
    ),
    check!(
        "BR-05",
        "10.4",
        "Point-in-time restore, 24 hours ago",
        "drill: restore to acceptance.pitr_targets.br05 into a scratch copy; the heartbeat exact to it",
        |_, _| drill()
    ),
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
        "pg_settings pending_restart; RDS ParameterApplyStatus, DBClusterParameterGroupStatus, PendingModifiedValues",
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

/// Why a check of declared secrets cannot be decided: secrets the environment declares (those `wanted`)
/// that were not read from Secrets Manager. `None` when every one was.
fn secrets_not_read(
    e: &Environment,
    a: &AwsFacts,
    wanted: impl Fn(&crate::config::model::Secret) -> bool,
) -> Option<String> {
    let missing: Vec<&str> = e
        .secrets
        .values()
        .filter(|s| wanted(s))
        .filter(|s| !a.secrets.iter().any(|read| read.name == s.name))
        .map(|s| s.name.as_str())
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "declared but not read from Secrets Manager: {} (a provisioned master secret is found through the \
             Terraform output `master_secret_arn`)",
            missing.join(", ")
        )
    })
}

/// A flag AWS reports, as a reader wants it: yes, no, or not reported.
fn yes_no(value: Option<bool>) -> String {
    match value {
        Some(true) => "yes".into(),
        Some(false) => "no".into(),
        None => "not reported".into(),
    }
}

/// A value AWS reports, or "not reported".
fn or_not_reported<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "not reported".into(), |v| v.to_string())
}

/// The environment file's name of a TLS mode (`verify-full`).
fn tls_mode(mode: crate::config::model::TlsMode) -> String {
    serde_json::to_value(mode).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// The cluster and every instance, as (id, value) pairs of one attribute.
fn each_member<T>(
    a: &AwsFacts,
    cluster: impl Fn(&ClusterFact) -> T,
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
    let shown = |(id, v): &(String, String)| format!("{id}: {v}");
    let observed = values.iter().map(shown).collect::<Vec<_>>().join("; ");
    let wrong: Vec<String> = values.iter().filter(|(_, v)| !ok(v)).map(shown).collect();
    let ev = evidence(observed, expected, source);
    if wrong.is_empty() {
        pass(ev)
    } else {
        fail(format!("expected {expected} on every member, but {}", wrong.join("; ")), ev)
    }
}

#[cfg(test)]
mod gl06_stand_in;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::TlsMode;
    use crate::verify::facts::{
        Attempt, BehaviourFacts, ClusterFact, IngressRule, InstanceFact, JobFact, NetworkFacts, SecretFact,
    };

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
            pending_restart: Ok(crate::verify::facts::PendingRestart { settings_read: 350, pending: vec![] }),
            bench: None,
            aws_emulator: None,
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
            pending_restart: Err("cannot connect".into()),
            bench: None,
            aws_emulator: None,
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
        let e = env("secrets: { app: { name: app, username: app_service, rotation_days: 7 } }\n");
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

    /// Environments that declare everything a check could look at: tables with retention and compression,
    /// summaries, standbys, replicas, secrets with rotation, a pooler.
    fn declaring_everything() -> Vec<Environment> {
        let tables =
            "hypertables:\n  readings:\n    time_column: t\n    chunk_interval: 1 day\n    retention: 30 days\n\
            \x20   compression: { segment_by: [device], order_by: [t DESC], after: 7 days }\n\
            continuous_aggregates:\n  hourly:\n    source: readings\n    bucket: 1 hour\n\
            \x20   refresh: { start_offset: 3 hours, end_offset: 1 hour, schedule_interval: 1 hour }\n\
            secrets: { app: { name: greenlang/app, username: app_service, rotation_days: 7 } }\n\
            pooling: { kind: pgbouncer }\n";
        let standbys = "replication:\n  standbys:\n    - { name: s1, mode: sync, port: 5433 }\n\
                        \x20   - { name: a1, mode: async, port: 5434 }\n";
        let replicas = "replicas: [{ name: r1, instance_class: db.r6g.large, availability_zone: us-east-1b }]";
        [
            format!("engine: {{ kind: external, version: '16.6' }}\ntimeseries: {{ backend: native }}\n{standbys}"),
            "engine: { kind: external, version: '17.5' }\ntimeseries: { backend: timescaledb }\n".to_string(),
            format!(
                "engine: {{ kind: rds-postgresql, version: '16.6', multi_az: true, {replicas} }}\n\
                 timeseries: {{ backend: native }}\n"
            ),
            format!("engine: {{ kind: aurora-postgresql, version: '16.6', {replicas} }}\ntimeseries: {{ backend: native }}\n"),
        ]
        .iter()
        .map(|engine| {
            let yaml = format!(
                "project: p\ntier: production\naws: {{ account_id: '123456789012', region: us-east-1 }}\n{engine}{tables}"
            );
            serde_yaml_ng::from_str(&yaml).unwrap_or_else(|e| panic!("{e}: {yaml}"))
        })
        .collect()
    }

    /// What the reconciler says of a database with nothing in it, for `e`'s backend.
    fn diff_of_an_empty_database(e: &Environment) -> crate::database::policies::PolicyPlan {
        use crate::database::native::{diff, Cron, NativeLive};
        match e.timeseries.backend {
            crate::config::model::Backend::Native => diff(
                e,
                &NativeLive {
                    database: "app".into(),
                    partman: None,
                    partitioned: Default::default(),
                    configs: Default::default(),
                    default_rows: Default::default(),
                    summaries: Default::default(),
                    cron: Cron::NotLoaded,
                },
            ),
            crate::config::model::Backend::Timescaledb => crate::database::policies::diff_of_an_empty_database(e),
        }
    }

    /// Every source read, and nothing in it: no tables, no jobs, no standbys, no backups, no replication,
    /// no members, every list empty, every optional value unreported, every attempt without a word.
    fn readable_but_empty(e: &Environment, policies: crate::database::policies::PolicyPlan, members: bool) -> Facts {
        let nothing = Attempt::Refused(String::new());
        let mut aws = AwsFacts { network: Some(Ok(NetworkFacts::default())), ..AwsFacts::default() };
        if members {
            aws.instances = vec![InstanceFact { id: "db".into(), ..InstanceFact::default() }];
            aws.cluster = Some(ClusterFact { id: "cluster".into(), ..ClusterFact::default() });
            aws.secrets = e
                .secrets
                .values()
                .map(|s| SecretFact {
                    name: s.name.clone(),
                    declared_rotation_days: s.rotation_days,
                    rotation_enabled: false,
                    rotation_days: None,
                    days_since_rotation: None,
                    days_since_creation: None,
                    kms_key: None,
                })
                .collect();
            aws.network =
                Some(Ok(NetworkFacts { managed_group: None, attached_groups: vec!["sg-db".into()], ingress: vec![] }));
        }
        Facts {
            at: "2026-11-26T12:00:00Z".into(),
            database: Ok(DbFacts {
                policies,
                replication: Some(crate::verify::replication::ReplicationFacts::default()),
                ..DbFacts::default()
            }),
            behaviour: Ok(BehaviourFacts {
                target: String::new(),
                tls_mode: TlsMode::VerifyFull,
                configured: nothing.clone(),
                plaintext: nothing.clone(),
                wrong_password: nothing,
                below_minimum_tls: None,
                append_only: Ok(vec![]),
                append_only_triggers: vec![],
            }),
            aws: Ok(aws),
            pending_restart: Ok(crate::verify::facts::PendingRestart::default()),
            bench: None,
            aws_emulator: None,
        }
    }

    /// The guard of "PASS on evidence that does not exist": every check over facts that were read and
    /// hold nothing, on every engine and backend, with the empty database's own diff and with a diff that
    /// compared nothing. None passes.
    #[test]
    fn no_check_passes_on_readable_but_empty_facts() {
        let all = crate::verify::Selection::default();
        for e in declaring_everything() {
            for (policies, members) in [
                (diff_of_an_empty_database(&e), false),
                (diff_of_an_empty_database(&e), true),
                (crate::database::policies::PolicyPlan::default(), false),
            ] {
                let facts = readable_but_empty(&e, policies, members);
                for r in crate::verify::decide(&e, &facts, &all, "2026-11-26") {
                    assert_ne!(
                        r.status,
                        crate::verify::Status::Pass,
                        "{} passed on nothing ({:?}, {:?}): {:?}",
                        r.id,
                        e.engine.kind,
                        e.timeseries.backend,
                        r.evidence
                    );
                }
            }
        }
    }

    /// The report from the issue: a fresh, empty PostgreSQL 15 database on the native backend (no
    /// tables, no pg_partman) FAILs FA-07, naming why each declared retention is not in place.
    #[test]
    fn retention_on_an_empty_native_database_is_not_in_place() {
        let e = &declaring_everything()[0];
        let f = readable_but_empty(e, diff_of_an_empty_database(e), false);
        let Outcome::Fail(why, ev) = (by_id("FA-07").decide)(e, &f) else { panic!("FA-07 must fail") };
        assert_eq!(why, "retention policies differ from the environment file");
        assert_eq!(
            ev[0].observed,
            "readings retention: declared, but not in place: pg_partman is not installed (migration 0002 creates it)"
        );
        let none_declared = env("hypertables: { t: { time_column: ts, chunk_interval: 1 day } }\n");
        assert!(matches!((by_id("FA-07").decide)(&none_declared, &f), Outcome::Skip(Skip::NotApplicable, _)));
    }

    /// Text a reader sees must not carry Rust's debug formatting.
    fn debug_formatting(text: &str) -> Option<&'static str> {
        ["Some(", "None", "ServiceError", "Ok(", "Err("].into_iter().find(|t| text.contains(t))
    }

    /// Every check's reason and evidence over sample facts (readable but empty, and with members whose
    /// values are reported or not), through every report: yes/no, the value, or "not reported".
    #[test]
    fn no_reason_or_evidence_shows_debug_formatting() {
        let all = crate::verify::Selection::default();
        for e in declaring_everything() {
            let mut samples = vec![
                readable_but_empty(&e, diff_of_an_empty_database(&e), false),
                readable_but_empty(&e, diff_of_an_empty_database(&e), true),
            ];
            let mut reported = readable_but_empty(&e, diff_of_an_empty_database(&e), true);
            let a = reported.aws.as_mut().unwrap();
            a.kms_key_arn = Some("arn:key".into());
            a.kms_rotation = Some(true);
            a.instances[0] = InstanceFact {
                id: "db".into(),
                availability_zone: Some("us-east-1a".into()),
                publicly_accessible: Some(false),
                encrypted: Some(true),
                kms_key: Some("arn:key".into()),
                iam_auth: Some(true),
                deletion_protection: Some(false),
                backup_retention_days: Some(7),
                multi_az: Some(true),
                parameter_status: vec!["pg: in-sync".into()],
                pending_modified: vec![],
                minutes_since_restorable: Some(3),
                security_groups: vec!["sg-db".into()],
            };
            samples.push(reported);
            for facts in samples {
                let results = crate::verify::decide(&e, &facts, &all, "2026-11-26");
                for r in &results {
                    let mut texts = vec![r.reason.clone().unwrap_or_default()];
                    for ev in &r.evidence {
                        texts.extend([ev.observed.clone(), ev.expected.clone(), ev.source.clone()]);
                    }
                    for text in texts {
                        assert_eq!(debug_formatting(&text), None, "{}: {text}", r.id);
                    }
                }
                let run = crate::verify::VerifyRun::of(results);
                let table = crate::verify::report::table(&run, &|_, s| s.to_string());
                for text in [table, crate::verify::report::markdown(&run), crate::verify::report::junit(&run)] {
                    assert_eq!(debug_formatting(&text), None, "{text}");
                }
            }
        }
    }

    fn gl06_env(kind: &str) -> Environment {
        let yaml = format!(
            "project: p\ntier: non-production\naws: {{ account_id: '123456789012', region: us-east-1 }}\n\
             engine: {{ kind: {kind}, version: '16.6' }}\ntimeseries: {{ backend: native }}\n"
        );
        serde_yaml_ng::from_str(&yaml).unwrap()
    }

    pub(super) fn server(pending: &[(&str, &str)]) -> Result<crate::verify::facts::PendingRestart, String> {
        Ok(crate::verify::facts::PendingRestart {
            settings_read: 350,
            pending: pending.iter().map(|(n, s)| (n.to_string(), s.to_string())).collect(),
        })
    }

    pub(super) fn instance(id: &str, status: &str, pending: &[&str]) -> InstanceFact {
        InstanceFact {
            id: id.into(),
            parameter_status: vec![format!("p-{id}: {status}")],
            pending_modified: pending.iter().map(|p| p.to_string()).collect(),
            ..InstanceFact::default()
        }
    }

    pub(super) fn gl06_facts(
        pending_restart: Result<crate::verify::facts::PendingRestart, String>,
        aws: Result<AwsFacts, String>,
        emulated: bool,
    ) -> Facts {
        Facts {
            pending_restart,
            aws,
            aws_emulator: emulated.then(|| crate::verify::emulator::Emulator {
                name: "moto".into(),
                endpoint: "http://127.0.0.1:5000".into(),
            }),
            ..facts()
        }
    }

    pub(super) fn in_sync() -> Result<AwsFacts, String> {
        Ok(AwsFacts { instances: vec![instance("p-dev", "in-sync", &[])], ..AwsFacts::default() })
    }

    pub(super) fn gl06_of(kind: &str, f: &Facts) -> Outcome {
        (by_id("GL-06").decide)(&gl06_env(kind), f)
    }

    #[test]
    fn gl06_a_setting_pending_a_restart_on_the_server_fails_naming_it_on_every_engine_and_against_an_emulator() {
        for kind in ["external", "rds-postgresql", "aurora-postgresql"] {
            for emulated in [false, true] {
                let f = gl06_facts(server(&[("shared_buffers", "16384")]), in_sync(), emulated);
                match gl06_of(kind, &f) {
                    Outcome::Fail(why, ev) => {
                        assert_eq!(why, "needs a restart to take effect: shared_buffers (running with 16384)");
                        assert!(ev[0].source.contains("pending_restart"), "{ev:?}");
                    }
                    other => panic!("{kind} emulated {emulated}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn gl06_a_pending_reboot_or_modification_on_aws_fails_naming_the_member() {
        let reboot = Ok(AwsFacts { instances: vec![instance("p-dev", "pending-reboot", &[])], ..AwsFacts::default() });
        let Outcome::Fail(why, _) = gl06_of("rds-postgresql", &gl06_facts(server(&[]), reboot, false)) else {
            panic!("pending-reboot passed")
        };
        assert_eq!(why, "a reboot or modification is pending on AWS: p-dev: p-p-dev: pending-reboot");
        let modified = Ok(AwsFacts {
            instances: vec![instance("p-dev", "in-sync", &["DBInstanceClass db.r6g.large"])],
            ..AwsFacts::default()
        });
        let Outcome::Fail(why, _) = gl06_of("rds-postgresql", &gl06_facts(server(&[]), modified, false)) else {
            panic!("PendingModifiedValues passed")
        };
        assert!(why.ends_with("p-dev PendingModifiedValues DBInstanceClass db.r6g.large"), "{why}");
        let cluster = Ok(AwsFacts {
            instances: vec![instance("p-dev-1", "in-sync", &[])],
            cluster: Some(ClusterFact {
                id: "p-dev".into(),
                parameter_status: vec!["p-dev-1: pending-reboot".into()],
                ..ClusterFact::default()
            }),
            ..AwsFacts::default()
        });
        let Outcome::Fail(why, _) = gl06_of("aurora-postgresql", &gl06_facts(server(&[]), cluster, false)) else {
            panic!("a cluster parameter group pending a reboot passed")
        };
        assert!(why.contains("p-dev cluster parameter group on p-dev-1: pending-reboot"), "{why}");
    }

    #[test]
    fn gl06_passes_only_with_every_side_read_and_clean() {
        assert!(
            matches!(gl06_of("rds-postgresql", &gl06_facts(server(&[]), in_sync(), false)), Outcome::Pass(ev) if ev.len() == 2)
        );
        assert!(
            matches!(gl06_of("external", &gl06_facts(server(&[]), Err("no AWS".into()), false)), Outcome::Pass(ev) if ev.len() == 1)
        );
        let no_members = Ok(AwsFacts::default());
        let no_group = Ok(AwsFacts {
            instances: vec![InstanceFact { id: "p-dev".into(), ..InstanceFact::default() }],
            ..AwsFacts::default()
        });
        let nothing_read = Ok(crate::verify::facts::PendingRestart::default());
        for (what, f) in [
            ("PostgreSQL unread", gl06_facts(Err("refused".into()), in_sync(), false)),
            ("pg_settings empty", gl06_facts(nothing_read, in_sync(), false)),
            ("AWS unread", gl06_facts(server(&[]), Err("no credentials".into()), false)),
            ("no member", gl06_facts(server(&[]), no_members, false)),
        ] {
            match gl06_of("rds-postgresql", &f) {
                Outcome::Error(why) => assert!(why.starts_with("not decided: "), "{what}: {why}"),
                other => panic!("{what}: {other:?}"),
            }
        }
        assert!(matches!(
            gl06_of("rds-postgresql", &gl06_facts(server(&[]), no_group, false)),
            Outcome::Fail(why, _) if why.contains("no parameter group reported")
        ));
        assert!(matches!(gl06_of("external", &gl06_facts(Err("refused".into()), in_sync(), false)), Outcome::Error(_)));
    }

    #[test]
    fn gl06_against_an_emulator_the_aws_side_is_never_a_pass_and_says_why() {
        for kind in ["rds-postgresql", "aurora-postgresql"] {
            match gl06_of(kind, &gl06_facts(server(&[]), in_sync(), true)) {
                Outcome::Skip(Skip::Emulated, why) => {
                    assert!(why.starts_with("PostgreSQL reports no setting pending a restart, but the AWS side is not decided: decided by an emulator (moto at http://127.0.0.1:5000): moto reports every parameter group `in-sync` forever and never fills PendingModifiedValues"), "{why}");
                    assert!(why.ends_with("it reported p-dev: p-p-dev: in-sync"), "{why}");
                }
                other => panic!("{kind}: {other:?}"),
            }
        }
        // What the emulator says never fails it either; the server's unread side leaves it not decided.
        let reboot = Ok(AwsFacts { instances: vec![instance("p-dev", "pending-reboot", &[])], ..AwsFacts::default() });
        assert!(matches!(
            gl06_of("rds-postgresql", &gl06_facts(server(&[]), reboot, true)),
            Outcome::Skip(Skip::Emulated, _)
        ));
        assert!(matches!(
            gl06_of("rds-postgresql", &gl06_facts(Err("refused".into()), in_sync(), true)),
            Outcome::Error(_)
        ));
    }
}
