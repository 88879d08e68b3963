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

use std::time::Duration;

use aws_sdk_rds::primitives::DateTime;
use aws_sdk_rds::Client as Rds;

use super::scratch::{
    checked_copy, heartbeat, scratch_class, scratch_name, writer_in, Asked, Created, Resource, SHIPPED_LIMIT,
};
use crate::config::model::EngineKind;
use crate::config::pitr::PitrTarget;
use crate::config::Loaded;
use crate::database::stage::DatabaseStage;
use crate::drills::journal::Journal;
use crate::drills::point_in_time::{expected_rows, write_markers};
use crate::drills::wait::Wait;
use crate::verify::point_in_time::{self as pitr, Expected};
use crate::verify::poll::Poll;
use crate::verify::rds_source::{api, source, terraform_outputs};
use crate::verify::restore_verdict::Restored;
use crate::verify::Outcome;

#[allow(clippy::too_many_arguments)]
pub(crate) async fn drill(
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
        match write_markers(client, check, journal).await {
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
    let (must_have, must_not_have) = match expected_rows(&client, &target_text).await {
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
