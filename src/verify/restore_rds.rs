//! BR-04/BR-05 on RDS and Aurora with `--drills`: a point-in-time restore into a scratch instance of the
//! smallest sensible class (`db.t4g.micro` for RDS; Aurora PostgreSQL's smallest, `db.t4g.medium`), in the
//! source's DB subnet group and the environment's security group, encrypted with its key, then the heartbeat
//! read over TLS, then deleted with `SkipFinalSnapshot` and `DeleteAutomatedBackups`.
//!
//! RDS: `RestoreDBInstanceToPointInTime` (it takes no key: the copy keeps the source's, which is checked to
//! be the environment's). Aurora: `RestoreDBClusterToPointInTime` with `KmsKeyId`, then `CreateDBInstance` in
//! the scratch cluster. The target T is on glctl's clock (no server clock is reachable before the restore);
//! the window is the automated backups' `RestoreWindow`, else from the later of creation and
//! `now − BackupRetentionPeriod` to `LatestRestorableTime`: a target outside it is refused before anything is
//! created, naming the setting and `backup.retention_days`. What the drill created is deleted whatever
//! happened — success, failure, timeout, Ctrl-C — by the caller, from the list the drill keeps.
//!
//! A restore whose copy cannot be read (moto restores metadata and serves no database) is ERROR, with every
//! call made and what was read back: never PASS.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_rds::primitives::DateTime;
use aws_sdk_rds::types::{DbInstance, Tag};
use aws_sdk_rds::Client as Rds;

use super::pitr::{self, Expected};
use super::restore::{Heartbeat, Restored};
use super::scratch::Journal;
use super::wait::{Poll, Wait};
use super::{Evidence, Outcome};
use crate::config::model::{EngineKind, Environment};
use crate::config::pitr::PitrTarget;
use crate::config::Loaded;
use crate::database::connect;
use crate::database::stage::DatabaseStage;

// The run of every RDS drill lives in `restore_rds_drills`; the command calls it from here.
pub use super::restore_rds_drills::verify;

/// The scratch instance's class: the smallest that runs the engine (the heartbeat check needs no more).
pub fn scratch_class(kind: EngineKind) -> &'static str {
    match kind {
        EngineKind::AuroraPostgresql => "db.t4g.medium",
        _ => "db.t4g.micro",
    }
}

/// Most time one RDS drill may take (a restore of a large instance takes hours); then it is ERROR and what
/// it created is deleted.
pub const DRILL_LIMIT: Duration = Duration::from_secs(4 * 3600);

/// What a drill created in RDS, for the caller to delete.
#[derive(Clone, Debug, Default)]
pub struct Created(Arc<Mutex<Vec<(Resource, String)>>>);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Instance,
    Cluster,
}

impl Created {
    pub(super) fn add(&self, kind: Resource, id: &str) {
        self.0.lock().expect("created").push((kind, id.to_string()));
    }
    pub(super) fn all(&self) -> Vec<(Resource, String)> {
        self.0.lock().expect("created").clone()
    }
}

/// One line for a failed RDS call: the error code and message, or what kept the call from being answered;
/// never the SDK's debug structure.
pub(super) fn api<E, R>(call: &str) -> impl Fn(aws_smithy_runtime_api::client::result::SdkError<E, R>) -> String + '_
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    move |e| format!("RDS {call}: {}", crate::aws::sdk_error_line(&e, "the RDS endpoint"))
}

/// Deletes what a drill created: instances first (skip the final snapshot, drop automated backups), then
/// the cluster. Each step is journaled.
pub async fn delete(rds: &Rds, created: &Created, journal: &Journal) {
    let all = created.all();
    for (kind, id) in all.iter().filter(|c| c.0 == Resource::Instance) {
        debug_assert_eq!(*kind, Resource::Instance);
        let call = rds
            .delete_db_instance()
            .db_instance_identifier(id)
            .skip_final_snapshot(true)
            .delete_automated_backups(true);
        match call.send().await {
            Ok(_) => journal.note(format!("deleted instance {id} (SkipFinalSnapshot, DeleteAutomatedBackups)")),
            Err(e) => journal.note(format!("deleting instance {id} failed: {}", api("DeleteDBInstance")(e))),
        }
    }
    for (_, id) in all.iter().filter(|c| c.0 == Resource::Cluster) {
        let call =
            rds.delete_db_cluster().db_cluster_identifier(id).skip_final_snapshot(true).delete_automated_backups(true);
        match call.send().await {
            Ok(_) => journal.note(format!("deleted cluster {id} (SkipFinalSnapshot, DeleteAutomatedBackups)")),
            Err(e) => journal.note(format!("deleting cluster {id} failed: {}", api("DeleteDBCluster")(e))),
        }
    }
}

/// The source, as RDS describes it.
#[derive(Clone, Debug, Default)]
pub struct Source {
    pub id: String,
    pub subnet_group: Option<String>,
    pub kms_key: Option<String>,
    pub window: Option<pitr::Window>,
    /// `AllocatedStorage`, GiB (BR-08's size when the database's own cannot be read; Aurora reports 1).
    pub allocated_gib: Option<i32>,
    /// The instance's or cluster's ARN (what AWS Backup's recovery points name as their resource).
    pub arn: Option<String>,
}

fn secs(t: Option<&DateTime>) -> Option<f64> {
    t.map(|d| d.secs() as f64)
}

/// The later of creation and now − retention, to the latest restorable time.
fn window(created: Option<f64>, retention_days: Option<i32>, latest: Option<f64>, now: f64) -> Option<pitr::Window> {
    let retention = now - f64::from(retention_days.unwrap_or(0).max(0)) * 86_400.0;
    Some(pitr::Window { start: created.map_or(retention, |c| c.max(retention)), end: latest? })
}

pub(super) async fn source(
    rds: &Rds,
    env: &Environment,
    name: &str,
    outputs: &serde_json::Value,
    now: f64,
) -> Result<Source, String> {
    if env.engine.kind == EngineKind::AuroraPostgresql {
        let id = format!("{}-{name}", env.project);
        let found =
            rds.describe_db_clusters().db_cluster_identifier(&id).send().await.map_err(api("DescribeDBClusters"))?;
        let c = found.db_clusters().first().ok_or_else(|| format!("RDS lists no cluster {id}"))?;
        let earliest = secs(c.earliest_restorable_time());
        let w =
            window(secs(c.cluster_create_time()), c.backup_retention_period(), secs(c.latest_restorable_time()), now);
        return Ok(Source {
            id,
            subnet_group: c.db_subnet_group().map(str::to_string),
            kms_key: c.kms_key_id().map(str::to_string),
            window: w.map(|w| pitr::Window { start: earliest.unwrap_or(w.start).max(w.start), ..w }),
            allocated_gib: c.allocated_storage(),
            arn: c.db_cluster_arn().map(str::to_string),
        });
    }
    let id = outputs["instance_identifiers"]["value"]["primary"]
        .as_str()
        .ok_or("the Terraform outputs name no primary instance (instance_identifiers.primary)")?
        .to_string();
    let found =
        rds.describe_db_instances().db_instance_identifier(&id).send().await.map_err(api("DescribeDBInstances"))?;
    let i = found.db_instances().first().ok_or_else(|| format!("RDS lists no instance {id}"))?;
    let backups = rds.describe_db_instance_automated_backups().db_instance_identifier(&id).send().await;
    let restore_window = backups.ok().and_then(|b| {
        let w = b.db_instance_automated_backups().first()?.restore_window()?.clone();
        Some(pitr::Window { start: secs(w.earliest_time())?, end: secs(w.latest_time())? })
    });
    Ok(Source {
        subnet_group: i.db_subnet_group().and_then(|g| g.db_subnet_group_name()).map(str::to_string),
        kms_key: i.kms_key_id().map(str::to_string),
        window: restore_window.or_else(|| {
            window(secs(i.instance_create_time()), i.backup_retention_period(), secs(i.latest_restorable_time()), now)
        }),
        allocated_gib: i.allocated_storage(),
        arn: i.db_instance_arn().map(str::to_string),
        id,
    })
}

/// The scratch instance as RDS reports it: (class, subnet group, security groups, key, encrypted, endpoint).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadBack {
    pub class: String,
    pub subnet_group: String,
    pub security_groups: Vec<String>,
    pub kms_key: String,
    pub encrypted: bool,
    pub endpoint: Option<(String, u16)>,
}

impl std::fmt::Display for ReadBack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "class {}, subnet group {}, security groups {}, encrypted {} with {}",
            self.class,
            self.subnet_group,
            self.security_groups.join(","),
            self.encrypted,
            self.kms_key
        )
    }
}

/// How long a restored copy may take to become `available`. A restore of a large instance takes hours on
/// AWS; the whole drill is bounded by `DRILL_LIMIT` besides.
pub const AVAILABLE_LIMIT: Duration = Duration::from_secs(3 * 3600);

/// How long `LatestRestorableTime` may take to pass a target of `now`: RDS ships the transaction log every
/// 5 minutes, so three shipments.
pub const SHIPPED_LIMIT: Duration = Duration::from_secs(15 * 60);

/// An instance's status while a restored copy comes up: `available` (ready), one RDS moves on from by itself
/// (waiting), or one it does not leave without someone acting — the restore failed or the copy is going
/// away (gone, naming the status).
pub fn judge_status(instance: &str, status: Option<&str>) -> Poll<(), String> {
    const STUCK: [&str; 9] = [
        "failed",
        "restore-error",
        "storage-full",
        "insufficient-capacity",
        "deleting",
        "delete-precheck",
        "stopped",
        "stopping",
        "inaccessible-encryption-credentials",
    ];
    match status {
        Some("available") => Poll::Ready(()),
        Some(s) if s.starts_with("incompatible-") || STUCK.iter().any(|stuck| s.starts_with(stuck)) => {
            Poll::Gone(format!(
                "RDS reports the scratch copy {instance} as {s}: a status it does not leave by itself, so it will not \
                 become available"
            ))
        }
        Some(s) => Poll::Waiting(format!("{instance} is {s}")),
        None => Poll::Waiting(format!("RDS reports no status for {instance}")),
    }
}

/// Waits until `describe` reports the instance `available`, within `limit`, looking every `every`; a status
/// RDS does not leave by itself, or a failed call, ends it at once.
pub(super) async fn until_available<F, Fut>(
    instance: &str,
    limit: Duration,
    every: Duration,
    mut describe: F,
) -> Result<DbInstance, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<DbInstance, String>>,
{
    Wait::new(format!("the scratch copy {instance} to become available"), limit, every)
        .attempt(Duration::from_secs(120))
        .until(|| {
            let described = describe();
            async move {
                match described.await {
                    Err(e) => Poll::Gone(e),
                    Ok(i) => match judge_status(instance, i.db_instance_status()) {
                        Poll::Ready(()) => Poll::Ready(i),
                        Poll::Waiting(seen) => Poll::Waiting(seen),
                        Poll::Gone(why) => Poll::Gone(why),
                    },
                }
            }
        })
        .await
        .map_err(|e| e.text())
}

pub(super) async fn read_back(rds: &Rds, instance: &str, cluster: Option<&str>) -> Result<ReadBack, String> {
    // Until it is available (minutes on AWS; at once on moto).
    let i = until_available(instance, AVAILABLE_LIMIT, Duration::from_secs(10), || async {
        let found = rds
            .describe_db_instances()
            .db_instance_identifier(instance)
            .send()
            .await
            .map_err(api("DescribeDBInstances"))?;
        found.db_instances().first().cloned().ok_or_else(|| format!("RDS lists no instance {instance}"))
    })
    .await?;
    let mut back = ReadBack {
        class: i.db_instance_class().unwrap_or_default().to_string(),
        subnet_group: i.db_subnet_group().and_then(|g| g.db_subnet_group_name()).unwrap_or_default().to_string(),
        security_groups: i
            .vpc_security_groups()
            .iter()
            .filter_map(|g| g.vpc_security_group_id())
            .map(str::to_string)
            .collect(),
        kms_key: i.kms_key_id().unwrap_or_default().to_string(),
        encrypted: i.storage_encrypted().unwrap_or(false),
        endpoint: i.endpoint().and_then(|e| Some((e.address()?.to_string(), u16::try_from(e.port()?).ok()?))),
    };
    if let Some(cluster) = cluster {
        let found = rds
            .describe_db_clusters()
            .db_cluster_identifier(cluster)
            .send()
            .await
            .map_err(api("DescribeDBClusters"))?;
        if let Some(c) = found.db_clusters().first() {
            // An Aurora instance lives in its cluster's subnet group.
            back.subnet_group = c.db_subnet_group().unwrap_or_default().to_string();
            back.kms_key = c.kms_key_id().unwrap_or_default().to_string();
            back.encrypted = c.storage_encrypted().unwrap_or(false);
            back.security_groups =
                c.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id()).map(str::to_string).collect();
            back.endpoint =
                c.endpoint().map(|e| (e.to_string(), u16::try_from(c.port().unwrap_or(5432)).unwrap_or(5432)));
        }
    }
    Ok(back)
}

/// The differences between what was asked and what RDS reports: `groups` are the only security groups the
/// copy may have, `key` the KMS key it must be encrypted with, or `None` where any encryption will do (a DR
/// copy keeps its vault's or recovery point's key).
pub fn mismatches(
    back: &ReadBack,
    class: &str,
    subnet_group: &str,
    groups: &[String],
    key: Option<&str>,
) -> Vec<String> {
    let mut out = Vec::new();
    if back.class != class {
        out.push(format!("class {} (asked {class})", back.class));
    }
    if back.subnet_group != subnet_group {
        out.push(format!("subnet group {} (asked {subnet_group})", back.subnet_group));
    }
    let (mut got, mut want) = (back.security_groups.clone(), groups.to_vec());
    got.sort();
    want.sort();
    if got != want {
        out.push(format!("security groups {} (asked only {})", back.security_groups.join(","), groups.join(",")));
    }
    match key {
        Some(key) if !back.encrypted || back.kms_key != key => {
            out.push(format!("encrypted {} with {} (asked {key})", back.encrypted, back.kms_key))
        }
        None if !back.encrypted => out.push("not encrypted".into()),
        _ => {}
    }
    out
}

/// The heartbeat of the scratch copy, over TLS with the source's credentials.
pub(super) async fn heartbeat(target: &connect::Target, endpoint: &(String, u16)) -> Result<Heartbeat, String> {
    let scratch = connect::Target { host: endpoint.0.clone(), hostaddr: None, port: endpoint.1, ..target.clone() };
    let client = tokio::time::timeout(Duration::from_secs(20), connect::connect(&scratch))
        .await
        .map_err(|_| format!("no connection to {}:{} within 20 s", endpoint.0, endpoint.1))?
        .map_err(|e| format!("connecting to {}:{}: {e}", endpoint.0, endpoint.1))?;
    let row = client
        .query_one(
            "SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0), \
             coalesce(extract(epoch FROM max(written_at))::bigint, 0), \
             coalesce(array_agg(source ORDER BY seq) FILTER (WHERE source LIKE 'glctl-drill:%'), '{}') FROM glctl_heartbeat",
            &[],
        )
        .await
        .map_err(|e| format!("reading the copy's glctl_heartbeat: {}", connect::reason(&e)))?;
    Ok(Heartbeat { rows: row.get(0), min: row.get(1), max: row.get(2), newest: row.get(3), markers: row.get(4) })
}

/// Scratch copies of earlier runs (`glctl-drill-…`) RDS still lists, each with the command that deletes it.
/// They are not deleted here: another glctl, elsewhere, may be using one right now.
pub async fn leftovers(rds: &Rds) -> Result<Vec<String>, String> {
    let own = format!("-{}", std::process::id());
    let mine = |id: &str| id.starts_with("glctl-drill-") && !id.ends_with(&own) && !id.contains(&format!("{own}-"));
    let mut out = Vec::new();
    let instances = rds.describe_db_instances().send().await.map_err(api("DescribeDBInstances"))?;
    for id in instances.db_instances().iter().filter_map(|i| i.db_instance_identifier()).filter(|id| mine(id)) {
        out.push(format!(
            "RDS instance {id}, left by an earlier drill: delete it with `aws rds delete-db-instance \
             --db-instance-identifier {id} --skip-final-snapshot --delete-automated-backups`"
        ));
    }
    let clusters = rds.describe_db_clusters().send().await.map_err(api("DescribeDBClusters"))?;
    for id in clusters.db_clusters().iter().filter_map(|c| c.db_cluster_identifier()).filter(|id| mine(id)) {
        out.push(format!(
            "RDS cluster {id}, left by an earlier drill: delete its instances, then `aws rds delete-db-cluster \
             --db-cluster-identifier {id} --skip-final-snapshot --delete-automated-backups`"
        ));
    }
    Ok(out)
}

/// The outputs `apply` wrote (`outputs.json` in the work directory).
pub(super) fn outputs_json(loaded: &Loaded, work_dir: &std::path::Path) -> Result<serde_json::Value, String> {
    crate::infra::outputs::read(work_dir).map_err(|_| {
        format!("no Terraform outputs in {} (run `glctl apply -e {}` first)", work_dir.display(), loaded.name)
    })
}

/// What `apply` wrote: the outputs, the environment's security group and its KMS key.
pub(super) fn terraform_outputs(
    loaded: &Loaded,
    work_dir: &std::path::Path,
) -> Result<(serde_json::Value, String, String), String> {
    let outputs = outputs_json(loaded, work_dir)?;
    let (Some(group), Some(key)) =
        (outputs["security_group_id"]["value"].as_str(), outputs["kms_key_arn"]["value"].as_str())
    else {
        return Err("the Terraform outputs lack security_group_id or kms_key_arn".into());
    };
    let (group, key) = (group.to_string(), key.to_string());
    Ok((outputs, group, key))
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn drill(
    rds: &Rds,
    loaded: &Loaded,
    work_dir: &std::path::Path,
    stage: &DatabaseStage<'_>,
    check: &str,
    setting: &str,
    text: &str,
    journal: &Journal,
    created: &Created,
) -> Outcome {
    let env = &loaded.environment;
    let target = match PitrTarget::parse(text) {
        Ok(t) => t,
        Err(e) => return Outcome::Error(format!("{setting}: {e}")),
    };
    let (outputs, group, key) = match terraform_outputs(loaded, work_dir) {
        Ok(o) => o,
        Err(e) => return Outcome::Error(e),
    };
    let (group, key) = (group.as_str(), key.as_str());
    let now = crate::clock::now().1 as f64;
    let t = match target {
        PitrTarget::Now => now,
        PitrTarget::SecondsAgo(s) => now - s as f64,
    };
    let src = match source(rds, env, &loaded.name, &outputs, now).await {
        Ok(s) => s,
        Err(e) => return Outcome::Error(e),
    };
    // `now` is restorable once the log reaching it is shipped (the drill waits for that below).
    let window = match target {
        PitrTarget::Now => src.window.map(|w| pitr::Window { end: w.end.max(t), ..w }),
        PitrTarget::SecondsAgo(_) => src.window,
    };
    if let Some(Outcome::Fail(why, e)) = pitr::refuse_outside(window, t, setting, 0) {
        let why = why.replace("repo0's restore window", &format!("{}'s restore window", src.id)).replace(
            "(the oldest backup's end … the newest archived WAL)",
            &format!("(backup.retention_days = {} days … LatestRestorableTime)", env.backup.retention_days),
        );
        return Outcome::Fail(why, e);
    }
    if env.engine.kind != EngineKind::AuroraPostgresql && src.kms_key.as_deref() != Some(key) {
        // RestoreDBInstanceToPointInTime takes no key: the copy would be encrypted like the source.
        return Outcome::Fail(
            format!(
                "{} is encrypted with {}, not the environment's key {key}: its copy would be too; nothing was created",
                src.id,
                src.kms_key.as_deref().unwrap_or("no key")
            ),
            vec![],
        );
    }
    let Some(subnet_group) = src.subnet_group.clone() else {
        return Outcome::Error(format!("RDS reports no DB subnet group for {}", src.id));
    };
    // The source's database, for the drill's markers (target `now`) and the credentials the copy shares.
    let source_db = tokio::time::timeout(Duration::from_secs(20), stage.connect_with_target()).await;
    let source_db = match source_db {
        Ok(Ok(pair)) => Some(pair),
        Ok(Err(e)) => {
            journal
                .note(format!("the source database could not be reached ({e}): no markers, no heartbeat comparison"));
            None
        }
        Err(_) => {
            journal.note("the source database did not answer within 20 s: no markers, no heartbeat comparison");
            None
        }
    };
    let mut markers = None;
    let mut t = t;
    if let (PitrTarget::Now, Some((client, _))) = (target, &source_db) {
        match pitr::write_markers(client, check, journal).await {
            Ok((_, epoch, before, after)) => {
                (t, markers) = (epoch, Some((before, after)));
            }
            Err(e) => return Outcome::Error(e),
        }
    }
    if target == PitrTarget::Now {
        // RDS ships the log every 5 minutes: restore to T once it is restorable.
        let shipped = Wait::new(
            format!("LatestRestorableTime of {} to pass {}", src.id, pitr::utc(t)),
            SHIPPED_LIMIT,
            Duration::from_secs(30),
        )
        .attempt(Duration::from_secs(120))
        .journal(journal)
        .until(|| async {
            match source(rds, env, &loaded.name, &outputs, now).await {
                Ok(s) if s.window.is_some_and(|w| w.end >= t) => Poll::Ready(()),
                Ok(s) => Poll::Waiting(match s.window {
                    Some(w) => format!("LatestRestorableTime {}", pitr::utc(w.end)),
                    None => "no LatestRestorableTime".into(),
                }),
                Err(e) => Poll::Gone(e),
            }
        })
        .await;
        if let Err(ended) = shipped {
            return Outcome::Error(format!("{}; {}", ended.text(), journal.text()));
        }
        journal.note(format!("LatestRestorableTime passed {}", pitr::utc(t)));
    }
    let restore_time = DateTime::from_secs(t.floor() as i64);
    let (scratch, tag) = scratch_name(check, &loaded.name);
    let class = scratch_class(env.engine.kind);
    let (instance, cluster) = if env.engine.kind == EngineKind::AuroraPostgresql {
        let call = rds
            .restore_db_cluster_to_point_in_time()
            .db_cluster_identifier(&scratch)
            .source_db_cluster_identifier(&src.id)
            .restore_to_time(restore_time)
            .db_subnet_group_name(&subnet_group)
            .vpc_security_group_ids(group)
            .kms_key_id(key)
            .deletion_protection(false)
            .tags(tag.clone());
        if let Err(e) = call.send().await {
            return Outcome::Error(api("RestoreDBClusterToPointInTime")(e));
        }
        created.add(Resource::Cluster, &scratch);
        journal.note(format!("RestoreDBClusterToPointInTime {} → {scratch} at {}", src.id, pitr::utc(t)));
        let instance = match writer_in(rds, &scratch, class, tag, created, journal).await {
            Ok(i) => i,
            Err(outcome) => return outcome,
        };
        (instance, Some(scratch))
    } else {
        let call = rds
            .restore_db_instance_to_point_in_time()
            .source_db_instance_identifier(&src.id)
            .target_db_instance_identifier(&scratch)
            .restore_time(restore_time)
            .db_instance_class(class)
            .db_subnet_group_name(&subnet_group)
            .vpc_security_group_ids(group)
            .publicly_accessible(false)
            .multi_az(false)
            .deletion_protection(false)
            .tags(tag);
        if let Err(e) = call.send().await {
            return Outcome::Error(api("RestoreDBInstanceToPointInTime")(e));
        }
        created.add(Resource::Instance, &scratch);
        journal.note(format!("RestoreDBInstanceToPointInTime {} → {scratch} ({class}) at {}", src.id, pitr::utc(t)));
        (scratch, None)
    };
    let asked = Asked { class, subnet_group: &subnet_group, group, key };
    let back = match checked_copy(rds, &instance, cluster.as_deref(), &asked, journal).await {
        Ok(b) => b,
        Err(outcome) => return outcome,
    };
    let heartbeat = match (&source_db, &back.endpoint) {
        (Some((_, target)), Some(endpoint)) => heartbeat(target, endpoint).await,
        (None, _) => Err("the source's credentials are not at hand (its database could not be reached)".into()),
        (_, None) => Err("RDS reports no endpoint for the copy".into()),
    };
    let (client, h) = match (source_db, heartbeat) {
        (Some((client, _)), Ok(h)) => (client, h),
        (_, Err(why)) => {
            return Outcome::Error(format!(
                "not decided: the restore calls were made and the copy checked ({back}), but its data could not be \
                 read ({why}); an emulator such as moto restores metadata only"
            ))
        }
        (None, Ok(_)) => unreachable!("a heartbeat needs the source's credentials"),
    };
    let target_text = pitr::utc(t);
    let (must_have, must_not_have) = match pitr::expected_rows(&client, &target_text).await {
        Ok(r) => r,
        Err(e) => return Outcome::Error(e),
    };
    let expected = Expected { target: target_text, target_epoch: t, must_have, must_not_have, markers };
    let restored = Restored::read_back_from_aws(format!("{instance} ({back})"), &instance, h);
    let mut outcome = pitr::judge(&restored, &expected);
    if let Outcome::Pass(e) | Outcome::Fail(_, e) = &mut outcome {
        e.push(asked.evidence(&back));
    }
    outcome
}

/// The scratch copy's name (`glctl-drill-<check>-<pid>`, how leftovers are found) and the tag naming its run.
pub(super) fn scratch_name(check: &str, environment: &str) -> (String, Tag) {
    let scratch = format!("glctl-drill-{}-{}", check.to_ascii_lowercase(), std::process::id());
    let tag = Tag::builder()
        .key("glctl:drill")
        .value(format!("{check} of {environment} by pid {}", std::process::id()))
        .build();
    (scratch, tag)
}

/// An Aurora cluster restored as `scratch` has no instance yet: creates its writer (`<scratch>-1`), recorded
/// for deletion before anything else can fail.
pub(super) async fn writer_in(
    rds: &Rds,
    scratch: &str,
    class: &str,
    tag: Tag,
    created: &Created,
    journal: &Journal,
) -> Result<String, Outcome> {
    let instance = format!("{scratch}-1");
    let call = rds
        .create_db_instance()
        .db_instance_identifier(&instance)
        .db_cluster_identifier(scratch)
        .engine("aurora-postgresql")
        .db_instance_class(class)
        .publicly_accessible(false)
        .tags(tag);
    call.send().await.map_err(|e| Outcome::Error(api("CreateDBInstance")(e)))?;
    created.add(Resource::Instance, &instance);
    journal.note(format!("CreateDBInstance {instance} ({class}) in {scratch}"));
    Ok(instance)
}

/// What a drill asked of its scratch copy: the smallest class, the source's subnet group, only the managed
/// security group, the environment's key.
pub(super) struct Asked<'a> {
    pub class: &'a str,
    pub subnet_group: &'a str,
    pub group: &'a str,
    pub key: &'a str,
}

impl Asked<'_> {
    /// The copy's settings as read back, as evidence beside the heartbeat's.
    pub(super) fn evidence(&self, back: &ReadBack) -> Evidence {
        let Asked { class, subnet_group, group, key } = self;
        Evidence {
            observed: back.to_string(),
            expected: format!("class {class}, subnet group {subnet_group}, only {group}, encrypted with {key}"),
            source: "RDS DescribeDBInstances / DescribeDBClusters of the scratch copy".into(),
            at: String::new(),
        }
    }
}

/// Reads the scratch copy back once it is available and holds it to what was asked: a copy that is not as
/// asked FAILs naming what differs (and what the drill did), before any data is read from it.
pub(super) async fn checked_copy(
    rds: &Rds,
    instance: &str,
    cluster: Option<&str>,
    asked: &Asked<'_>,
    journal: &Journal,
) -> Result<ReadBack, Outcome> {
    let back = read_back(rds, instance, cluster).await.map_err(Outcome::Error)?;
    journal.note(format!("read back {instance}: {back}"));
    let wrong = mismatches(&back, asked.class, asked.subnet_group, &[asked.group.to_string()], Some(asked.key));
    if !wrong.is_empty() {
        return Err(Outcome::Fail(
            format!("the scratch copy {instance} is not as asked: {}; {}", wrong.join("; "), journal.text()),
            vec![],
        ));
    }
    Ok(back)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_runs_from_creation_or_retention_to_the_latest_restorable_time() {
        let w = window(Some(1000.0), Some(7), Some(5000.0), 10_000.0).unwrap();
        assert_eq!((w.start, w.end), (1000.0, 5000.0));
        let w = window(Some(1000.0), Some(1), Some(200_000.0), 200_000.0).unwrap();
        assert_eq!(w.start, 200_000.0 - 86_400.0, "retention bounds it");
        assert!(window(Some(1.0), Some(1), None, 2.0).is_none(), "no latest restorable time: no window");
    }

    #[test]
    fn a_scratch_copy_not_as_asked_is_named() {
        let back = ReadBack {
            class: "db.r6g.large".into(),
            subnet_group: "sg-db".into(),
            security_groups: vec!["sg-1".into(), "sg-2".into()],
            kms_key: "arn:k".into(),
            encrypted: true,
            endpoint: None,
        };
        let wrong = mismatches(&back, "db.t4g.micro", "sg-db", &["sg-1".into()], Some("arn:k"));
        assert_eq!(wrong.len(), 2, "{wrong:?}");
        assert!(wrong[0].contains("db.t4g.micro") && wrong[1].contains("asked only sg-1"));
        let right = ReadBack { class: "db.t4g.micro".into(), security_groups: vec!["sg-1".into()], ..back };
        assert!(mismatches(&right, "db.t4g.micro", "sg-db", &["sg-1".into()], Some("arn:k")).is_empty());
    }

    #[test]
    fn a_copy_in_a_status_rds_does_not_leave_ends_the_wait_naming_it() {
        assert_eq!(judge_status("c", Some("available")), Poll::Ready(()));
        assert_eq!(judge_status("c", Some("creating")), Poll::Waiting("c is creating".into()));
        assert_eq!(judge_status("c", Some("backing-up")), Poll::Waiting("c is backing-up".into()));
        for stuck in [
            "incompatible-restore",
            "incompatible-parameters",
            "failed",
            "restore-error",
            "storage-full",
            "inaccessible-encryption-credentials-recoverable",
            "deleting",
            "stopped",
        ] {
            let Poll::Gone(why) = judge_status("glctl-drill-br-04-1", Some(stuck)) else { panic!("{stuck}") };
            assert!(why.contains(&format!("glctl-drill-br-04-1 as {stuck}")), "{why}");
        }
    }

    fn instance(status: &str) -> DbInstance {
        DbInstance::builder().db_instance_status(status).build()
    }

    #[test]
    fn a_restore_stuck_in_incompatible_restore_ends_at_once_and_one_never_available_at_its_deadline() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let started = std::time::Instant::now();
        let mut seen = vec!["creating", "incompatible-restore"].into_iter();
        let got = rt.block_on(until_available("c", Duration::from_secs(60), Duration::from_millis(1), || {
            let status = seen.next().unwrap_or("incompatible-restore");
            async move { Ok(instance(status)) }
        }));
        let why = got.unwrap_err();
        assert!(why.starts_with("RDS reports the scratch copy c as incompatible-restore"), "{why}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let got = rt.block_on(until_available("c", Duration::from_millis(100), Duration::from_millis(10), || async {
            Ok(instance("creating"))
        }));
        assert_eq!(
            got.unwrap_err(),
            "the scratch copy c to become available did not happen within 0.1 s; last seen: c is creating"
        );
    }
}
