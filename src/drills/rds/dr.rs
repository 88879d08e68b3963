//! BR-07 on RDS and Aurora with `--drills`: a restore of the DR copy. The copy is AWS Backup's
//! (`templates/modules/backup_copy`: a daily plan whose rule copies each recovery point into the
//! `<project>-<env>-database-dr` vault of `aws.dr_region`; RDS cross-region automated-backup replication
//! would not cover Aurora). In the DR region, with a second client of the run's one AWS context:
//!
//! 1. `DescribeBackupVault` of the DR vault; `ListRecoveryPointsByBackupVault` filtered by the source's ARN;
//!    the newest `COMPLETED` recovery point.
//! 2. `GetRecoveryPointRestoreMetadata`, overridden for a scratch copy (`override_metadata`): named
//!    `glctl-drill-br-07-<pid>` like the other drills' copies, the smallest class, the DB subnet group and
//!    security groups of `backup.cross_region_copy.restore_into`, not public, single-AZ, no deletion
//!    protection; the source region's availability zones and parameter and option groups dropped (they do
//!    not exist in the DR region; its defaults apply).
//! 3. `StartRestoreJob` with the plan's role (`<project>-<env>-database-backup`), then `DescribeRestoreJob`
//!    every 15 s until it completes (bounded by the drill limit); Aurora gets its writer (`CreateDBInstance`).
//! 4. The copy read back and held to what was asked, its heartbeat read over TLS with the source's
//!    credentials and judged as BR-06's (no gap, nothing after the recovery point's completion + 60 s), then
//!    deleted by the caller (`SkipFinalSnapshot`, `DeleteAutomatedBackups`) whatever happened.
//!
//! AWS Backup has no SDK crate in this build (its clean-build cost): the four calls are signed REST requests
//! (`aws::rest`). Without `restore_into` BR-07 is ERROR naming it, before any call. moto 5.2.5 implements
//! AWS Backup plans and vaults only: the calls are made, and the first it does not implement makes the
//! result ERROR saying so — never PASS.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_rds::Client as Rds;
use serde_json::{json, Value};

use super::scratch::{heartbeat, mismatches, read_back, scratch_class, scratch_name, writer_in, Created, Resource};
use crate::aws::rest::{encode, Answer, RestJson};
use crate::config::dr_restore::RestoreInto;
use crate::config::model::EngineKind;
use crate::config::Loaded;
use crate::database::stage::DatabaseStage;
use crate::drills::journal::Journal;
use crate::drills::wait::{Ended, Wait};
use crate::verify::point_in_time as pitr;
use crate::verify::poll::Poll;
use crate::verify::rds_source;
use crate::verify::restore_verdict::{judge_job, judge_set, Restored};
use crate::verify::{Evidence, Outcome};

/// The DR vault's name, as `templates/modules/backup_copy` names it.
pub fn dr_vault(project: &str, environment: &str) -> String {
    format!("{project}-{environment}-database-dr")
}

/// The newest completed recovery point of a `ListRecoveryPointsByBackupVault` page: (ARN, when it
/// completed, Unix seconds).
pub fn newest_recovery_point(page: &Value) -> Option<(String, f64)> {
    page["RecoveryPoints"]
        .as_array()?
        .iter()
        .filter(|p| p["Status"] == "COMPLETED")
        .filter_map(|p| {
            let at = p["CompletionDate"].as_f64().or_else(|| p["CreationDate"].as_f64())?;
            Some((p["RecoveryPointArn"].as_str()?.to_string(), at))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// The recovery point's restore metadata, overridden for a scratch copy in the DR region.
pub fn override_metadata(
    metadata: &serde_json::Map<String, Value>,
    aurora: bool,
    scratch: &str,
    class: &str,
    into: &RestoreInto,
) -> BTreeMap<String, String> {
    // The source region's placement and groups do not exist in the DR region: its defaults apply.
    const DROPPED: [&str; 6] = [
        "AvailabilityZone",
        "AvailabilityZones",
        "DBParameterGroupName",
        "DBClusterParameterGroupName",
        "OptionGroupName",
        "DBInstanceIdentifier",
    ];
    let mut out: BTreeMap<String, String> = metadata
        .iter()
        .filter(|(k, _)| !DROPPED.iter().any(|d| d.eq_ignore_ascii_case(k)))
        .filter(|(k, _)| !k.eq_ignore_ascii_case("DBClusterIdentifier"))
        .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string)))
        .collect();
    // AWS Backup's metadata keys are not case sensitive: replace whatever spelling the metadata used.
    let mut set = |key: &str, value: String| {
        out.retain(|k, _| !k.eq_ignore_ascii_case(key));
        out.insert(key.to_string(), value);
    };
    set(if aurora { "DBClusterIdentifier" } else { "DBInstanceIdentifier" }, scratch.to_string());
    set("DBSubnetGroupName", into.db_subnet_group.clone());
    // Lists are JSON arrays inside the string value, as GetRecoveryPointRestoreMetadata reports them.
    set("VpcSecurityGroupIds", Value::from(into.security_group_ids.clone()).to_string());
    set("DeletionProtection", "false".into());
    if !aurora {
        set("DBInstanceClass", class.to_string());
        set("MultiAZ", "false".into());
        set("PubliclyAccessible", "false".into());
    }
    out
}

/// What an answer means when it is not a success: an AWS error, or an endpoint that does not implement
/// the call (HTTP 404 without an AWS error: moto 5.2.5 has AWS Backup plans and vaults only).
fn refused(call: &str, region: &str, a: &Answer) -> Outcome {
    match a.aws_error() {
        Some(e) if e == "ResourceNotFoundException" => Outcome::Fail(
            format!("AWS Backup {call} in {region}: {e}: {}", a.json["Message"].as_str().unwrap_or_default()),
            vec![],
        ),
        Some(e) => Outcome::Error(format!(
            "AWS Backup {call} in {region} answered HTTP {} {e}: {}",
            a.status,
            a.json["Message"].as_str().or(a.json["message"].as_str()).unwrap_or_default()
        )),
        None => Outcome::Error(format!(
            "not decided: the endpoint does not implement AWS Backup {call} in {region} (HTTP {} without an AWS \
             error; moto 5.2.5 implements AWS Backup plans and vaults only)",
            a.status
        )),
    }
}

async fn call(
    api: &RestJson,
    name: &str,
    method: &'static str,
    path: &str,
    body: Option<&Value>,
    journal: &Journal,
) -> Result<Value, Outcome> {
    let a = api.call(method, path, body).await.map_err(Outcome::Error)?;
    if (200..300).contains(&a.status) {
        return Ok(a.json);
    }
    journal.note(format!("AWS Backup {name} in {}: HTTP {}", api.region(), a.status));
    Err(refused(name, api.region(), &a))
}

/// BR-07: restore the newest DR copy of the source into a scratch copy in the DR region; what it created
/// is in `created` for the caller to delete there (`dr`'s region), whatever happens.
#[allow(clippy::too_many_arguments)]
pub async fn drill(
    rds: &Rds,
    dr: &SdkConfig,
    account: &str,
    loaded: &Loaded,
    work_dir: &std::path::Path,
    stage: &DatabaseStage<'_>,
    journal: &Journal,
    created: &Created,
) -> Outcome {
    let env = &loaded.environment;
    let aurora = env.engine.kind == EngineKind::AuroraPostgresql;
    let Some(into) = env.backup.cross_region_copy.restore_into.clone() else {
        return Outcome::Error(not_declared(env.aws.dr_region.as_deref().unwrap_or("aws.dr_region")));
    };
    let outputs = match rds_source::outputs_json(loaded, work_dir) {
        Ok(o) => o,
        Err(e) => return Outcome::Error(e),
    };
    let src = match rds_source::source(rds, env, &loaded.name, &outputs, crate::clock::now().1 as f64).await {
        Ok(s) => s,
        Err(e) => return Outcome::Error(e),
    };
    let Some(arn) = src.arn.clone() else {
        return Outcome::Error(format!("RDS reports no ARN for {}", src.id));
    };
    let api = match RestJson::new(dr, "backup", "Backup") {
        Ok(a) => a,
        Err(e) => return Outcome::Error(e),
    };
    let region = api.region().to_string();
    let vault = dr_vault(&env.project, &loaded.name);
    let path = format!("/backup-vaults/{}", encode(&vault));
    let described = match call(&api, "DescribeBackupVault", "GET", &path, None, journal).await {
        Ok(v) => v,
        Err(Outcome::Fail(why, e)) => {
            return Outcome::Fail(
                format!("{why}: the DR vault is missing (backup.cross_region_copy); nothing was created"),
                e,
            )
        }
        Err(other) => return with_journal(other, journal),
    };
    journal.note(format!(
        "DescribeBackupVault {vault} in {region}: {}",
        described["BackupVaultArn"].as_str().unwrap_or("(no ARN)")
    ));
    // ListRecoveryPointsByBackupVault, every page (bounded), filtered by the source's ARN.
    let mut newest: Option<(String, f64)> = None;
    let mut token: Option<String> = None;
    for _ in 0..50 {
        let mut path = format!("/backup-vaults/{}/recovery-points/?resourceArn={}", encode(&vault), encode(&arn));
        if let Some(t) = &token {
            path.push_str(&format!("&nextToken={}", encode(t)));
        }
        let page = match call(&api, "ListRecoveryPointsByBackupVault", "GET", &path, None, journal).await {
            Ok(p) => p,
            Err(other) => return with_journal(other, journal),
        };
        if let Some(p) = newest_recovery_point(&page) {
            newest = Some(match newest {
                Some(n) if n.1 >= p.1 => n,
                _ => p,
            });
        }
        token = page["NextToken"].as_str().filter(|t| !t.is_empty()).map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let Some((point, completed)) = newest else {
        return Outcome::Fail(
            format!(
                "the DR vault {vault} in {region} holds no completed recovery point of {arn}: the backup plan's copy \
                 rule has not copied one (backup.cross_region_copy); nothing was created"
            ),
            vec![],
        );
    };
    journal.note(format!("newest DR recovery point {point}, completed {}", pitr::utc(completed)));
    let path = format!("/backup-vaults/{}/recovery-points/{}/restore-metadata", encode(&vault), encode(&point));
    let metadata = match call(&api, "GetRecoveryPointRestoreMetadata", "GET", &path, None, journal).await {
        Ok(m) => m,
        Err(other) => return with_journal(other, journal),
    };
    let (scratch, tag) = scratch_name("BR-07", &loaded.name);
    let class = scratch_class(env.engine.kind);
    let empty = serde_json::Map::new();
    let asked =
        override_metadata(metadata["RestoreMetadata"].as_object().unwrap_or(&empty), aurora, &scratch, class, &into);
    let role = format!("arn:aws:iam::{account}:role/{}-{}-database-backup", env.project, loaded.name);
    let body = json!({
        "RecoveryPointArn": point,
        "Metadata": asked,
        "IamRoleArn": role,
        "ResourceType": if aurora { "Aurora" } else { "RDS" },
        "IdempotencyToken": scratch,
    });
    let started = match call(&api, "StartRestoreJob", "PUT", "/restore-jobs", Some(&body), journal).await {
        Ok(s) => s,
        Err(other) => return with_journal(other, journal),
    };
    created.add(if aurora { Resource::Cluster } else { Resource::Instance }, &scratch);
    let Some(job) = started["RestoreJobId"].as_str().map(str::to_string) else {
        return Outcome::Error(format!(
            "AWS Backup StartRestoreJob in {region} returned no RestoreJobId; {}",
            journal.text()
        ));
    };
    journal.note(format!("StartRestoreJob {job}: {point} → {scratch} in {region} ({})", describe(&asked)));
    // DescribeRestoreJob until it ends, within JOB_LIMIT (the caller bounds the whole drill besides).
    let path = format!("/restore-jobs/{}", encode(&job));
    let ended = Wait::new(format!("the restore job {job} to complete"), JOB_LIMIT, Duration::from_secs(15))
        .attempt(Duration::from_secs(120))
        .journal(journal)
        .until(|| async {
            match call(&api, "DescribeRestoreJob", "GET", &path, None, journal).await {
                Ok(state) => judge_job(&job, &state),
                Err(other) => Poll::Gone(other),
            }
        })
        .await;
    match ended {
        Ok(()) => {}
        Err(Ended::Gone(outcome, _)) => return with_journal(outcome, journal),
        Err(Ended::TimedOut(waited)) => return Outcome::Error(format!("{waited}; {}", journal.text())),
    }
    journal.note(format!("restore job {job} completed"));
    let dr_rds = Rds::new(dr);
    let (instance, cluster) = if aurora {
        match writer_in(&dr_rds, &scratch, class, tag, created, journal).await {
            Ok(i) => (i, Some(scratch.clone())),
            Err(outcome) => return outcome,
        }
    } else {
        (scratch.clone(), None)
    };
    let back = match read_back(&dr_rds, &instance, cluster.as_deref()).await {
        Ok(b) => b,
        Err(e) => return Outcome::Error(format!("{e}; {}", journal.text())),
    };
    journal.note(format!("read back {instance} in {region}: {back}"));
    let wrong = mismatches(&back, class, &into.db_subnet_group, &into.security_group_ids, None);
    if !wrong.is_empty() {
        return Outcome::Fail(
            format!("the scratch copy {instance} is not as asked: {}; {}", wrong.join("; "), journal.text()),
            vec![],
        );
    }
    let source_db = tokio::time::timeout(Duration::from_secs(20), stage.connect_with_target()).await;
    let heartbeat = match (&source_db, &back.endpoint) {
        (Ok(Ok((_, target))), Some(endpoint)) => heartbeat(target, endpoint).await,
        (Ok(Err(e)), _) => Err(format!("the source's credentials are not at hand (its database: {e})")),
        (Err(_), _) => Err("the source's credentials are not at hand (its database did not answer within 20 s)".into()),
        (_, None) => Err("RDS reports no endpoint for the copy".into()),
    };
    let h = match heartbeat {
        Ok(h) => h,
        Err(why) => {
            return Outcome::Error(format!(
                "not decided: the DR copy was restored in {region} and checked ({back}), but its data could not be \
                 read ({why}); {}",
                journal.text()
            ))
        }
    };
    let restored = Restored::read_back_from_aws(format!("{instance} in {region} from {point} ({back})"), &instance, h);
    let mut outcome = judge_set(&restored, completed.floor() as i64);
    if let Outcome::Pass(e) | Outcome::Fail(_, e) = &mut outcome {
        for ev in e.iter_mut() {
            ev.source = "AWS Backup StartRestoreJob (DR vault); SELECT … FROM glctl_heartbeat".into();
        }
        e.push(Evidence {
            observed: back.to_string(),
            expected: format!(
                "class {class}, subnet group {}, only {}, encrypted",
                into.db_subnet_group,
                into.security_group_ids.join(",")
            ),
            source: format!("RDS DescribeDBInstances / DescribeDBClusters in {region}"),
            at: String::new(),
        });
    }
    outcome
}

/// How long AWS Backup's restore job may run: a large instance takes hours (the drill's `DRILL_LIMIT` bounds
/// the whole drill besides).
pub const JOB_LIMIT: Duration = Duration::from_secs(3 * 3600);

/// Why BR-07 cannot run without `restore_into`.
pub fn not_declared(region: &str) -> String {
    format!(
        "backup.cross_region_copy.restore_into is not set: restoring the DR copy needs a DB subnet group and \
         security groups in {region} (restore_into: {{ db_subnet_group, security_group_ids }}); nothing was created"
    )
}

fn with_journal(outcome: Outcome, journal: &Journal) -> Outcome {
    match outcome {
        Outcome::Error(why) => Outcome::Error(format!("{why}; {}", journal.text())),
        Outcome::Fail(why, e) => Outcome::Fail(format!("{why}; {}", journal.text()), e),
        other => other,
    }
}

fn describe(asked: &BTreeMap<String, String>) -> String {
    asked.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn into() -> RestoreInto {
        RestoreInto { db_subnet_group: "dr-subnets".into(), security_group_ids: vec!["sg-0123abcd".into()] }
    }

    #[test]
    fn the_restore_metadata_is_overridden_for_a_scratch_copy_in_the_dr_region() {
        let metadata = json!({
            "DBInstanceIdentifier": "greenlang-dev",
            "DBInstanceClass": "db.r6g.large",
            "dbsubnetgroupname": "greenlang-dev-subnets",
            "VpcSecurityGroupIds": "[\"sg-source\"]",
            "AvailabilityZone": "us-east-1a",
            "DBParameterGroupName": "greenlang-dev-pg",
            "MultiAZ": "true",
            "Engine": "postgres",
            "Port": 5432,
        });
        let m = override_metadata(metadata.as_object().unwrap(), false, "glctl-drill-br-07-1", "db.t4g.micro", &into());
        assert_eq!(m["DBInstanceIdentifier"], "glctl-drill-br-07-1");
        assert_eq!(m["DBInstanceClass"], "db.t4g.micro");
        assert_eq!(m["DBSubnetGroupName"], "dr-subnets");
        assert!(!m.contains_key("dbsubnetgroupname"), "the source's spelling is replaced: {m:?}");
        assert_eq!(m["VpcSecurityGroupIds"], "[\"sg-0123abcd\"]");
        assert_eq!((m["MultiAZ"].as_str(), m["PubliclyAccessible"].as_str()), ("false", "false"));
        assert_eq!(m["DeletionProtection"], "false");
        assert!(!m.contains_key("AvailabilityZone") && !m.contains_key("DBParameterGroupName"), "{m:?}");
        assert_eq!((m["Engine"].as_str(), m["Port"].as_str()), ("postgres", "5432"), "the rest is kept");
    }

    #[test]
    fn an_aurora_recovery_point_restores_a_scratch_cluster() {
        let metadata = json!({"DBClusterIdentifier": "greenlang-prod", "AvailabilityZones": "[\"us-east-1a\"]",
                              "DBClusterParameterGroupName": "greenlang-prod", "KmsKeyId": "arn:dr-key"});
        let m = override_metadata(metadata.as_object().unwrap(), true, "glctl-drill-br-07-1", "db.t4g.medium", &into());
        assert_eq!(m["DBClusterIdentifier"], "glctl-drill-br-07-1");
        assert!(!m.contains_key("DBInstanceClass") && !m.contains_key("AvailabilityZones"), "{m:?}");
        assert_eq!(m["KmsKeyId"], "arn:dr-key");
    }

    #[test]
    fn the_newest_completed_recovery_point_is_restored() {
        let page = json!({"RecoveryPoints": [
            {"RecoveryPointArn": "a", "Status": "COMPLETED", "CreationDate": 100.0, "CompletionDate": 150.0},
            {"RecoveryPointArn": "b", "Status": "PARTIAL", "CreationDate": 300.0},
            {"RecoveryPointArn": "c", "Status": "COMPLETED", "CreationDate": 200.0},
        ]});
        assert_eq!(newest_recovery_point(&page), Some(("c".into(), 200.0)));
        assert_eq!(newest_recovery_point(&json!({"RecoveryPoints": []})), None);
    }

    #[test]
    fn an_endpoint_without_the_call_is_not_decided_and_a_missing_vault_fails() {
        let html = Answer { status: 404, json: Value::Null };
        let Outcome::Error(why) = refused("StartRestoreJob", "us-west-2", &html) else { panic!() };
        assert!(why.starts_with("not decided: the endpoint does not implement AWS Backup StartRestoreJob in us-west-2"));
        let missing =
            Answer { status: 404, json: json!({"__type": "ResourceNotFoundException", "Message": "no vault"}) };
        assert!(matches!(refused("DescribeBackupVault", "us-west-2", &missing), Outcome::Fail(..)));
    }
}
