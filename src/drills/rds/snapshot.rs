//! BR-06 on RDS and Aurora with `--drills`: a full restore of the source's newest **automated** snapshot into
//! a scratch instance, exactly as the point-in-time drills do it (`point_in_time`: the same smallest class,
//! subnet group, security group, key, read-back, heartbeat over TLS, deletion with `SkipFinalSnapshot` and
//! `DeleteAutomatedBackups`, leftovers listing and Ctrl-C handling, all from there).
//!
//! Which backup: the environments declare no weekly AWS Backup plan (`templates/modules/backup_copy` is a
//! *daily* plan, and only with `backup.cross_region_copy`), so the "weekly backup" of PRD §10.4 is the newest
//! automated snapshot RDS keeps for every environment (`DescribeDBSnapshots` / `DescribeDBClusterSnapshots`,
//! `SnapshotType=automated`, status `available`). Restoring AWS Backup recovery points is BR-07's business.
//!
//! RDS: `RestoreDBInstanceFromDBSnapshot` takes no key (the copy keeps the snapshot's), so a snapshot not
//! encrypted with the environment's key FAILs before anything is created. Aurora:
//! `RestoreDBClusterFromSnapshot` with `KmsKeyId`, then `CreateDBInstance` in the scratch cluster.
//! The copy's heartbeat must have no gap and nothing written after the snapshot's `SnapshotCreateTime` + 60 s
//! (the pgBackRest `--set` judgement, `verify::restore_verdict::judge_set`). Against moto (metadata only, no database)
//! the result is ERROR, never PASS.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_rds::Client as Rds;

use super::scratch::{checked_copy, heartbeat, scratch_class, scratch_name, writer_in, Asked, Created, Resource};
use crate::config::model::EngineKind;
use crate::config::Loaded;
use crate::database::stage::DatabaseStage;
use crate::drills::journal::Journal;
use crate::verify::point_in_time as pitr;
use crate::verify::rds_source::{self, Source};
use crate::verify::restore_size::Measured;
use crate::verify::restore_verdict::{judge_set, Restored};
use crate::verify::Outcome;

/// The newest available automated snapshot: (identifier, creation time in Unix seconds, KMS key).
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub id: String,
    pub created: i64,
    pub kms_key: Option<String>,
}

/// The newest of `(id, status, created, key)`; only `available` ones count.
pub fn newest(
    all: impl IntoIterator<Item = (String, Option<String>, Option<i64>, Option<String>)>,
) -> Option<Snapshot> {
    all.into_iter()
        .filter(|s| s.1.as_deref() == Some("available"))
        .filter_map(|(id, _, created, kms_key)| Some(Snapshot { id, created: created?, kms_key }))
        .max_by_key(|s| s.created)
}

async fn automated_snapshot(rds: &Rds, aurora: bool, source: &str) -> Result<Option<Snapshot>, String> {
    if aurora {
        let found = rds
            .describe_db_cluster_snapshots()
            .db_cluster_identifier(source)
            .snapshot_type("automated")
            .send()
            .await
            .map_err(rds_source::api("DescribeDBClusterSnapshots"))?;
        Ok(newest(found.db_cluster_snapshots().iter().filter_map(|s| {
            Some((
                s.db_cluster_snapshot_identifier()?.to_string(),
                s.status().map(str::to_string),
                s.snapshot_create_time().map(|t| t.secs()),
                s.kms_key_id().map(str::to_string),
            ))
        })))
    } else {
        let found = rds
            .describe_db_snapshots()
            .db_instance_identifier(source)
            .snapshot_type("automated")
            .send()
            .await
            .map_err(rds_source::api("DescribeDBSnapshots"))?;
        Ok(newest(found.db_snapshots().iter().filter_map(|s| {
            Some((
                s.db_snapshot_identifier()?.to_string(),
                s.status().map(str::to_string),
                s.snapshot_create_time().map(|t| t.secs()),
                s.kms_key_id().map(str::to_string),
            ))
        })))
    }
}

/// BR-06: restore the newest automated snapshot into a scratch copy; what it created is in `created` for the
/// caller (`drills::rds::run`) to delete, whatever happens.
pub async fn drill(
    rds: &Rds,
    loaded: &Loaded,
    work_dir: &std::path::Path,
    stage: &DatabaseStage<'_>,
    journal: &Journal,
    created: &Created,
    measured: &Mutex<Option<Measured>>,
) -> Outcome {
    let env = &loaded.environment;
    let aurora = env.engine.kind == EngineKind::AuroraPostgresql;
    let (outputs, group, key) = match rds_source::terraform_outputs(loaded, work_dir) {
        Ok(o) => o,
        Err(e) => return Outcome::Error(e),
    };
    let now = crate::clock::now().1 as f64;
    let src = match rds_source::source(rds, env, &loaded.name, &outputs, now).await {
        Ok(s) => s,
        Err(e) => return Outcome::Error(e),
    };
    let snapshot = match automated_snapshot(rds, aurora, &src.id).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Outcome::Fail(
                format!(
                    "RDS keeps no available automated snapshot of {} to restore (backup.retention_days = {}); \
                     nothing was created",
                    src.id, env.backup.retention_days
                ),
                vec![],
            )
        }
        Err(e) => return Outcome::Error(e),
    };
    journal.note(format!(
        "newest automated snapshot {} of {}, taken {}",
        snapshot.id,
        src.id,
        pitr::utc(snapshot.created as f64)
    ));
    if !aurora && snapshot.kms_key.as_deref() != Some(key.as_str()) {
        return Outcome::Fail(
            format!(
                "the snapshot {} is encrypted with {}, not the environment's key {key}: its copy would be too \
                 (RestoreDBInstanceFromDBSnapshot takes no key); nothing was created",
                snapshot.id,
                snapshot.kms_key.as_deref().unwrap_or("no key")
            ),
            vec![],
        );
    }
    let Some(subnet_group) = src.subnet_group.clone() else {
        return Outcome::Error(format!("RDS reports no DB subnet group for {}", src.id));
    };
    let (scratch, tag) = scratch_name("BR-06", &loaded.name);
    let class = scratch_class(env.engine.kind);
    // BR-08's time: from the restore call to the copy being available and read back.
    let started = Instant::now();
    let (instance, cluster) = if aurora {
        let call = rds
            .restore_db_cluster_from_snapshot()
            .db_cluster_identifier(&scratch)
            .snapshot_identifier(&snapshot.id)
            .engine("aurora-postgresql")
            .db_subnet_group_name(&subnet_group)
            .vpc_security_group_ids(&group)
            .kms_key_id(&key)
            .deletion_protection(false)
            .tags(tag.clone());
        if let Err(e) = call.send().await {
            return Outcome::Error(rds_source::api("RestoreDBClusterFromSnapshot")(e));
        }
        created.add(Resource::Cluster, &scratch);
        journal.note(format!("RestoreDBClusterFromSnapshot {} → {scratch}", snapshot.id));
        let instance = match writer_in(rds, &scratch, class, tag, created, journal).await {
            Ok(i) => i,
            Err(outcome) => return outcome,
        };
        (instance, Some(scratch))
    } else {
        let call = rds
            .restore_db_instance_from_db_snapshot()
            .db_instance_identifier(&scratch)
            .db_snapshot_identifier(&snapshot.id)
            .db_instance_class(class)
            .db_subnet_group_name(&subnet_group)
            .vpc_security_group_ids(&group)
            .publicly_accessible(false)
            .multi_az(false)
            .deletion_protection(false)
            .tags(tag);
        if let Err(e) = call.send().await {
            return Outcome::Error(rds_source::api("RestoreDBInstanceFromDBSnapshot")(e));
        }
        created.add(Resource::Instance, &scratch);
        journal.note(format!("RestoreDBInstanceFromDBSnapshot {} → {scratch} ({class})", snapshot.id));
        (scratch, None)
    };
    let asked = Asked { class, subnet_group: &subnet_group, group: &group, key: &key };
    let back = match checked_copy(rds, &instance, cluster.as_deref(), &asked, journal).await {
        Ok(b) => b,
        Err(outcome) => return outcome,
    };
    let restore_seconds = started.elapsed().as_secs_f64();
    let source_db = tokio::time::timeout(Duration::from_secs(20), stage.connect_with_target()).await;
    let heartbeat = match (&source_db, &back.endpoint) {
        (Ok(Ok((_, target))), Some(endpoint)) => heartbeat(target, endpoint).await,
        (Ok(Err(e)), _) => Err(format!("the source's credentials are not at hand (its database: {e})")),
        (Err(_), _) => Err("the source's credentials are not at hand (its database did not answer within 20 s)".into()),
        (_, None) => Err("RDS reports no endpoint for the copy".into()),
    };
    let read_seconds = started.elapsed().as_secs_f64() - restore_seconds;
    let (bytes, bytes_from) = match &source_db {
        Ok(Ok((client, _))) => database_size(client, &src).await,
        _ => allocated(&src, "its database could not be reached"),
    };
    measured.lock().expect("measured").replace(Measured {
        what: format!("{instance} from {}", snapshot.id),
        bytes,
        bytes_from,
        restore_seconds,
        start_seconds: read_seconds,
        start_label: "heartbeat read-back",
        not_a_restore: heartbeat.as_ref().err().map(|why| {
            format!("the copy's data was never read back ({why}; an emulator such as moto restores metadata only)")
        }),
    });
    let h = match heartbeat {
        Ok(h) => h,
        Err(why) => {
            return Outcome::Error(format!(
                "not decided: the snapshot restore calls were made and the copy checked ({back}), but its data could \
                 not be read ({why}); an emulator such as moto restores metadata only"
            ))
        }
    };
    let restored = Restored {
        restore_seconds,
        ..Restored::read_back_from_aws(format!("{instance} from {} ({back})", snapshot.id), &instance, h)
    };
    let mut outcome = judge_set(&restored, snapshot.created);
    if let Outcome::Pass(e) | Outcome::Fail(_, e) = &mut outcome {
        for ev in e.iter_mut() {
            ev.source = if aurora {
                "RDS RestoreDBClusterFromSnapshot + CreateDBInstance; SELECT … FROM glctl_heartbeat".into()
            } else {
                "RDS RestoreDBInstanceFromDBSnapshot; SELECT … FROM glctl_heartbeat".into()
            };
        }
        e.push(asked.evidence(&back));
    }
    outcome
}

/// The source's size for BR-08: `pg_database_size` over its normal connection, else `AllocatedStorage`
/// (which Aurora always reports as 1: its storage grows by itself), labelled as such.
async fn database_size(client: &tokio_postgres::Client, src: &Source) -> (u64, String) {
    let size = client.query_one("SELECT pg_database_size(current_database())", &[]);
    match tokio::time::timeout(Duration::from_secs(20), size).await {
        Ok(Ok(row)) => match u64::try_from(row.get::<_, i64>(0)) {
            Ok(bytes) => (bytes, format!("pg_database_size of {}'s database", src.id)),
            Err(_) => allocated(src, "pg_database_size was negative"),
        },
        Ok(Err(e)) => allocated(src, &format!("pg_database_size failed: {}", crate::database::connect::reason(&e))),
        Err(_) => allocated(src, "pg_database_size did not answer within 20 s"),
    }
}

fn allocated(src: &Source, why: &str) -> (u64, String) {
    let gib = src.allocated_gib.and_then(|g| u64::try_from(g).ok()).unwrap_or(0);
    (gib.saturating_mul(1 << 30), format!("AllocatedStorage {gib} GiB of {}, not its database size ({why})", src.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_available_snapshot_is_restored() {
        let s = |id: &str, status: &str, t: i64| (id.to_string(), Some(status.to_string()), Some(t), None);
        let all = vec![s("rds:a-1", "available", 100), s("rds:a-3", "creating", 300), s("rds:a-2", "available", 200)];
        assert_eq!(newest(all).map(|s| s.id), Some("rds:a-2".into()), "a snapshot still being taken is not one");
        assert_eq!(newest(vec![s("rds:a-3", "creating", 300)]), None);
    }
}
