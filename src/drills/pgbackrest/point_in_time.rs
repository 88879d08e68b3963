//! BR-04/BR-05 on pgBackRest: a point-in-time restore to `acceptance.pitr_targets` (`now`, or an interval
//! back on the server's clock) into a scratch copy, judged by `verify::point_in_time`. With the target `now`
//! the drill writes its own markers into the source first (`drills::point_in_time`), switches the WAL segment
//! and waits until it is archived. A target outside the repository's restore window (the oldest backup's end
//! to the newest archived WAL) is refused before anything is created.

use tokio_postgres::Client;

use super::restore::{self, Kind};
use crate::config::pgbackrest::Pgbackrest;
use crate::config::pitr::PitrTarget;
use crate::drills::journal::Journal;
use crate::drills::point_in_time::{expected_rows, server_time, sql, write_markers};
use crate::verify::backup::archiver;
use crate::verify::point_in_time::{judge, refuse_outside, Expected, Window};
use crate::verify::restore_verdict::DrillError;
use crate::verify::{Evidence, Outcome};

/// How long the markers' commit and the archiving of their segment may take. A commit waits for a synchronous
/// standby, and the archiver retries a failing segment forever: without a bound the drill would wait with them.
const MARK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// The markers, then the WAL segment switched and waited for until archived (pgBackRest), within
/// `MARK_TIMEOUT`; past it, an error saying what was awaited and what the archiver last reported.
async fn mark_now(client: &Client, check: &str, journal: &Journal) -> Result<(String, f64, String, String), String> {
    let marked = tokio::time::timeout(MARK_TIMEOUT, write_markers(client, check, journal)).await.map_err(|_| {
        format!(
            "the source did not commit the drill's markers within {} s (a synchronous standby that does not \
             acknowledge commits makes every commit wait)",
            MARK_TIMEOUT.as_secs()
        )
    })??;
    let segment: String = client
        .query_one("SELECT pg_walfile_name(pg_switch_wal())", &[])
        .await
        .map_err(sql("switching the WAL segment (pg_switch_wal)"))?
        .get(0);
    let started = std::time::Instant::now();
    loop {
        let archived: bool = client
            .query_one(
                "SELECT coalesce(substr(last_archived_wal, 1, 24) >= $1, false) FROM pg_stat_archiver",
                &[&segment],
            )
            .await
            .map_err(sql("reading pg_stat_archiver"))?
            .get(0);
        if archived {
            break;
        }
        if started.elapsed() > MARK_TIMEOUT {
            let seen = match archiver(client).await {
                Ok(a) => format!(
                    "pg_stat_archiver: last archived {}, {} failure(s), last failed {}",
                    a.last_archived_wal.as_deref().unwrap_or("none"),
                    a.failed_count,
                    a.last_failed_wal.as_deref().unwrap_or("none")
                ),
                Err(e) => e,
            };
            return Err(format!(
                "{segment} (the markers' WAL segment) was not archived within {} s; {seen}",
                MARK_TIMEOUT.as_secs()
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    journal.note(format!("{segment} archived"));
    Ok(marked)
}

/// The point-in-time drill of `check` to `target` from `config.repo`: the window, the markers (for `now`),
/// the restore, the judgement. `window_start` is the oldest backup's end in that repository, if any; `gaps`
/// the segments missing from its archive (named when recovery stops short).
#[allow(clippy::too_many_arguments)]
pub async fn drill(
    client: &Client,
    config: &Pgbackrest,
    check: &str,
    setting: &str,
    target: PitrTarget,
    window_start: Option<f64>,
    gaps: &[String],
    bin_dir: &str,
    database: &str,
    limit: std::time::Duration,
    journal: &Journal,
) -> Outcome {
    let error = |why: String| Outcome::Error(why);
    let repo = config.repo;
    // The window first: a target outside it is refused before anything is written or created.
    let (target_text, target_epoch, markers) = match target {
        PitrTarget::Now => {
            let (_, now) = match server_time(client, 0.0).await {
                Ok(t) => t,
                Err(e) => return error(e),
            };
            if let Some(refused) =
                refuse_outside(window_start.map(|start| Window { start, end: now }), now, setting, repo)
            {
                return refused;
            }
            match mark_now(client, check, journal).await {
                Ok((text, epoch, before, after)) => (text, epoch, Some((before, after))),
                Err(e) => return error(e),
            }
        }
        PitrTarget::SecondsAgo(seconds) => {
            let (text, epoch) = match server_time(client, seconds as f64).await {
                Ok(t) => t,
                Err(e) => return error(e),
            };
            let end = match archiver(client).await {
                Ok(a) => a.last_archived_time.unwrap_or(f64::NEG_INFINITY),
                Err(e) => return error(e),
            };
            if let Some(refused) = refuse_outside(window_start.map(|start| Window { start, end }), epoch, setting, repo)
            {
                return refused;
            }
            (text, epoch, None)
        }
    };
    let (must_have, must_not_have) = match expected_rows(client, &target_text).await {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    let expected = Expected { target: target_text.clone(), target_epoch, must_have, must_not_have, markers };
    let kind = Kind::Time(target_text.clone());
    match restore::restore(config, check, repo, &kind, bin_dir, database, limit, journal).await {
        Ok(restored) => judge(&restored, &expected),
        Err(DrillError::RecoveryEnded(log)) => stopped_short(&target_text, repo, &log, gaps, journal),
        Err(DrillError::Other(why)) => error(format!(
            "the point-in-time restore to {target_text} from repo{repo} failed: {why}; {}",
            journal.text()
        )),
    }
}

/// A restore whose recovery ended before its target: FAIL, with the restored server's own log lines as
/// evidence (how far it got, and that it stopped short) and the segments the archive is known to lack.
pub fn stopped_short(target: &str, repo: u32, log: &str, gaps: &[String], journal: &Journal) -> Outcome {
    let lacks =
        if gaps.is_empty() { String::new() } else { format!("; repo{repo}'s archive lacks {}", gaps.join(", ")) };
    Outcome::Fail(
        format!(
            "the restore to {target} from repo{repo} stopped short: recovery ran out of archived WAL before the target \
             ({log}){lacks}; {}",
            journal.text()
        ),
        vec![Evidence {
            observed: format!("the restored server's log: {log}"),
            expected: format!("recovery reaches {target} and the copy is promoted"),
            source: "the scratch server's log (drill.log) after pgbackrest restore --type=time".into(),
            at: String::new(),
        }],
    )
}
