//! The RDS and Aurora scratch copies of the restore drills: their names and class, what a drill created (and
//! deleting it, whatever happened), waiting until a copy is available (`verify::restore_verdict::judge_status`
//! decides each look), reading it back and holding it to what was asked, its heartbeat, and the copies an
//! earlier run left.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_rds::types::{DbInstance, Tag};
use aws_sdk_rds::Client as Rds;

use crate::config::model::EngineKind;
use crate::database::connect;
use crate::drills::journal::Journal;
use crate::drills::wait::Wait;
use crate::verify::poll::Poll;
use crate::verify::rds_source::api;
use crate::verify::restore_verdict::{judge_status, Heartbeat};
use crate::verify::{Evidence, Outcome};

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
    pub(crate) fn add(&self, kind: Resource, id: &str) {
        self.0.lock().expect("created").push((kind, id.to_string()));
    }
    pub(crate) fn all(&self) -> Vec<(Resource, String)> {
        self.0.lock().expect("created").clone()
    }
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

/// Waits until `describe` reports the instance `available`, within `limit`, looking every `every`; a status
/// RDS does not leave by itself, or a failed call, ends it at once.
pub(crate) async fn until_available<F, Fut>(
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

pub(crate) async fn read_back(rds: &Rds, instance: &str, cluster: Option<&str>) -> Result<ReadBack, String> {
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
pub(crate) async fn heartbeat(target: &connect::Target, endpoint: &(String, u16)) -> Result<Heartbeat, String> {
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

/// The scratch copy's name (`glctl-drill-<check>-<pid>`, how leftovers are found) and the tag naming its run.
pub(crate) fn scratch_name(check: &str, environment: &str) -> (String, Tag) {
    let scratch = format!("glctl-drill-{}-{}", check.to_ascii_lowercase(), std::process::id());
    let tag = Tag::builder()
        .key("glctl:drill")
        .value(format!("{check} of {environment} by pid {}", std::process::id()))
        .build();
    (scratch, tag)
}

/// An Aurora cluster restored as `scratch` has no instance yet: creates its writer (`<scratch>-1`), recorded
/// for deletion before anything else can fail.
pub(crate) async fn writer_in(
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
pub(crate) struct Asked<'a> {
    pub class: &'a str,
    pub subnet_group: &'a str,
    pub group: &'a str,
    pub key: &'a str,
}

impl Asked<'_> {
    /// The copy's settings as read back, as evidence beside the heartbeat's.
    pub(crate) fn evidence(&self, back: &ReadBack) -> Evidence {
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
pub(crate) async fn checked_copy(
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
