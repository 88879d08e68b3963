//! BR-04/BR-05 on pgBackRest: a point-in-time restore to `acceptance.pitr_targets` (`now`, or an interval
//! back on the server's clock) into a scratch copy, checked against the source's heartbeat.
//!
//! Exact means: every heartbeat written at or before T − 60 s is in the copy (one heartbeat interval of slack:
//! a beat written just before T may commit after it, and recovery stops at commits), none written after T is
//! (a row's commit is never before its `written_at`, both on the server's clock), and its `seq` has no gap.
//! With the target `now` the drill writes its own markers into the source first — one row, then T, then one
//! more row — switches the WAL segment and waits until it is archived, so the copy must hold the first marker
//! and not the second: no waiting for the scheduler's minute ticks. A target outside the repository's restore
//! window (the oldest backup's end to the newest archived WAL) is refused before anything is created.

use tokio_postgres::Client;

use super::restore::{self, DrillError, Kind, Restored};
use super::scratch::Journal;
use super::{Evidence, Outcome};
use crate::config::pgbackrest::Pgbackrest;
use crate::config::pitr::PitrTarget;
use crate::database::connect;

/// One heartbeat interval: the slack allowed between a beat's `written_at` and its commit.
pub const SKEW_SECONDS: f64 = 60.0;

/// What the source says about T: the target, and the heartbeat rows the copy must and must not hold.
#[derive(Clone, Debug, PartialEq)]
pub struct Expected {
    /// T as pgBackRest takes it, UTC.
    pub target: String,
    pub target_epoch: f64,
    /// The highest `seq` written at or before T − SKEW_SECONDS (0: none).
    pub must_have: i64,
    /// The lowest `seq` written after T (None: none yet).
    pub must_not_have: Option<i64>,
    /// The drill's own markers when the target is `now`: (before, after) sources.
    pub markers: Option<(String, String)>,
}

/// The restore window of a repository, Unix seconds: the oldest backup's end (pgBackRest restores a time only
/// from a backup that stopped strictly before it) to the newest archived WAL.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    pub start: f64,
    pub end: f64,
}

pub fn utc(epoch: f64) -> String {
    aws_sdk_rds::primitives::DateTime::from_secs(epoch.floor() as i64)
        .fmt(aws_sdk_rds::primitives::DateTimeFormat::DateTime)
        .unwrap_or_else(|_| format!("{epoch} (Unix s)"))
}

/// Refuses a target outside the window, naming the setting that chose it.
pub fn refuse_outside(window: Option<Window>, target_epoch: f64, setting: &str, repo: u32) -> Option<Outcome> {
    let evidence = |observed: String| {
        vec![Evidence {
            observed,
            expected: "a target inside the restore window".into(),
            source: "pgbackrest info --output=json (backup stop times); pg_stat_archiver.last_archived_time".into(),
            at: String::new(),
        }]
    };
    match window {
        None => Some(Outcome::Fail(
            format!("{setting}: repo{repo} holds no backup to restore to {} from; nothing was created", utc(target_epoch)),
            evidence("no backup".into()),
        )),
        Some(w) if target_epoch < w.start || target_epoch > w.end => Some(Outcome::Fail(
            format!(
                "{setting} targets {}, outside repo{repo}'s restore window {} … {} (the oldest backup's end … the newest \
                 archived WAL); refused before anything was created",
                utc(target_epoch),
                utc(w.start),
                utc(w.end)
            ),
            evidence(format!("window {} … {}", utc(w.start), utc(w.end))),
        )),
        Some(_) => None,
    }
}

/// The decision over a restored copy against what the source says.
pub fn judge(restored: &Restored, expected: &Expected) -> Outcome {
    let h = &restored.heartbeat;
    let observed = format!(
        "{}: {} heartbeat row(s), seq {}..{}; must hold seq ≤ {} (written at or before T − {SKEW_SECONDS:.0} s) and \
         none from {}{}; {}; restore {:.1} s, start and recovery {:.1} s, {} bytes; scratch {} removed",
        restored.what,
        h.rows,
        h.min,
        h.max,
        expected.must_have,
        expected.must_not_have.map_or("(none written after T yet)".into(), |s| s.to_string()),
        match &expected.markers {
            Some((before, after)) => format!(
                "; the drill's marker before T ({before}) held: {}, its marker after T ({after}) held: {}",
                h.markers.contains(before),
                h.markers.contains(after)
            ),
            None => String::new(),
        },
        restored.stopped_at.as_deref().unwrap_or("recovery reached the end of the archived WAL"),
        restored.restore_seconds,
        restored.start_seconds,
        restored.bytes,
        restored.scratch.display()
    );
    let e = vec![Evidence {
        observed,
        expected: format!(
            "every heartbeat at or before {} (less {SKEW_SECONDS:.0} s of slack), none after, no gap in seq",
            expected.target
        ),
        source: format!(
            "pgbackrest restore --type=time --target='{}'; SELECT … FROM glctl_heartbeat (copy and source)",
            expected.target
        ),
        at: String::new(),
    }];
    if let Some((before, after)) = &expected.markers {
        if !h.markers.contains(before) {
            return Outcome::Fail(format!("the copy lacks the drill's marker {before}, committed before T"), e);
        }
        if h.markers.contains(after) {
            return Outcome::Fail(format!("the copy holds the drill's marker {after}, written after T"), e);
        }
    }
    if h.rows <= 0 {
        return Outcome::Fail("the restored copy holds no heartbeat rows".into(), e);
    }
    if h.max - h.min + 1 != h.rows {
        return Outcome::Fail(
            format!("the restored heartbeat has a gap: {} rows for seq {}..{}", h.rows, h.min, h.max),
            e,
        );
    }
    if h.max < expected.must_have {
        return Outcome::Fail(
            format!(
                "the copy stops at seq {} but the source wrote seq {} before T: it is stale",
                h.max, expected.must_have
            ),
            e,
        );
    }
    if let Some(first_after) = expected.must_not_have {
        if h.max >= first_after {
            return Outcome::Fail(
                format!("the copy holds seq {}, but seq {first_after} and later were written after T", h.max),
                e,
            );
        }
    }
    if expected.must_have == 0 && expected.markers.is_none() {
        return Outcome::Fail(
            "the source has no heartbeat written before T: nothing proves the copy exact (is the heartbeat job \
             running?)"
                .into(),
            e,
        );
    }
    Outcome::Pass(e)
}

fn sql(what: &'static str) -> impl Fn(tokio_postgres::Error) -> String {
    move |e| format!("{what}: {}", connect::reason(&e))
}

/// The newest archived WAL segment and when (Unix seconds), and whether archiving is failing now.
#[derive(Clone, Debug, Default)]
pub struct Archiver {
    pub archived_count: i64,
    pub failed_count: i64,
    pub last_archived_wal: Option<String>,
    pub last_archived_time: Option<f64>,
    pub last_failed_wal: Option<String>,
    pub last_failed_time: Option<f64>,
}

impl Archiver {
    /// The last attempt failed: a failure after the last success.
    pub fn failing(&self) -> bool {
        match (self.last_failed_time, self.last_archived_time) {
            (Some(failed), Some(archived)) => failed > archived,
            (Some(_), None) => true,
            _ => false,
        }
    }
}

pub async fn archiver(client: &Client) -> Result<Archiver, String> {
    let row = client
        .query_one(
            "SELECT archived_count, failed_count, last_archived_wal, extract(epoch FROM last_archived_time)::float8, \
             last_failed_wal, extract(epoch FROM last_failed_time)::float8 FROM pg_stat_archiver",
            &[],
        )
        .await
        .map_err(sql("reading pg_stat_archiver"))?;
    Ok(Archiver {
        archived_count: row.get(0),
        failed_count: row.get(1),
        last_archived_wal: row.get(2),
        last_archived_time: row.get(3),
        last_failed_wal: row.get(4),
        last_failed_time: row.get(5),
    })
}

/// T on the server's clock, `seconds` back (as text pgBackRest takes, and Unix seconds).
async fn server_time(client: &Client, seconds: f64) -> Result<(String, f64), String> {
    let row = client
        .query_one(
            "SELECT to_char((clock_timestamp() - make_interval(secs => $1)) AT TIME ZONE 'UTC', \
             'YYYY-MM-DD HH24:MI:SS.US') || '+00', extract(epoch FROM clock_timestamp() - make_interval(secs => $1))::float8",
            &[&seconds],
        )
        .await
        .map_err(sql("reading the server's clock"))?;
    Ok((row.get(0), row.get(1)))
}

/// Writes the drill's markers into the source's heartbeat around T = now (the server's clock): one row, T,
/// one more row. Returns (T as text, T in Unix seconds, the first marker's source, the second's).
pub async fn write_markers(
    client: &Client,
    check: &str,
    journal: &Journal,
) -> Result<(String, f64, String, String), String> {
    let tag = format!("glctl-drill:{}:{}", std::process::id(), check.to_ascii_lowercase());
    let (before, after) = (format!("{tag}:before"), format!("{tag}:after"));
    let insert = "INSERT INTO glctl_heartbeat (source) VALUES ($1)";
    client.execute(insert, &[&before]).await.map_err(sql("writing the drill's marker into glctl_heartbeat"))?;
    let (target, epoch) = server_time(client, 0.0).await?;
    client.execute(insert, &[&after]).await.map_err(sql("writing the drill's marker into glctl_heartbeat"))?;
    journal.note(format!("wrote markers {before} and {after} into the source around {target}"));
    Ok((target, epoch, before, after))
}

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

/// What the source's heartbeat says the copy must hold for T.
pub async fn expected_rows(client: &Client, target: &str) -> Result<(i64, Option<i64>), String> {
    let row = client
        .query_one(
            "SELECT coalesce(max(seq) FILTER (WHERE written_at <= $1::text::timestamptz - make_interval(secs => $2)), 0), \
             min(seq) FILTER (WHERE written_at > $1::text::timestamptz) FROM glctl_heartbeat",
            &[&target, &SKEW_SECONDS],
        )
        .await
        .map_err(sql("reading the source's glctl_heartbeat"))?;
    Ok((row.get(0), row.get(1)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::restore::Heartbeat;

    fn restored(rows: i64, min: i64, max: i64, markers: &[&str]) -> Restored {
        Restored {
            what: "repo1 to T".into(),
            scratch: "/tmp/glctl-drill.glctl.1.br-04".into(),
            restore_seconds: 1.0,
            start_seconds: 1.0,
            bytes: 1,
            heartbeat: Heartbeat {
                rows,
                min,
                max,
                newest: 0,
                markers: markers.iter().map(|m| m.to_string()).collect(),
            },
            stopped_at: None,
        }
    }

    fn expected(must_have: i64, must_not_have: Option<i64>, markers: bool) -> Expected {
        Expected {
            target: "2026-12-01 14:08:11.941962+00".into(),
            target_epoch: 0.0,
            must_have,
            must_not_have,
            markers: markers.then(|| ("m:before".into(), "m:after".into())),
        }
    }

    #[test]
    fn exact_is_every_beat_before_none_after_no_gap() {
        assert!(matches!(judge(&restored(10, 1, 10, &[]), &expected(9, Some(11), false)), Outcome::Pass(_)));
        assert!(matches!(judge(&restored(10, 1, 10, &["m:before"]), &expected(5, Some(11), true)), Outcome::Pass(_)));
        let stale = judge(&restored(8, 1, 8, &[]), &expected(9, Some(11), false));
        assert!(matches!(&stale, Outcome::Fail(why, _) if why.contains("stale")), "{stale:?}");
        let late = judge(&restored(11, 1, 11, &[]), &expected(9, Some(11), false));
        assert!(matches!(&late, Outcome::Fail(why, _) if why.contains("after T")), "{late:?}");
        let gap = judge(&restored(9, 1, 10, &[]), &expected(9, None, false));
        assert!(matches!(&gap, Outcome::Fail(why, _) if why.contains("gap")), "{gap:?}");
        let no_marker = judge(&restored(10, 1, 10, &[]), &expected(5, None, true));
        assert!(matches!(&no_marker, Outcome::Fail(why, _) if why.contains("m:before")), "{no_marker:?}");
        let past_marker = judge(&restored(11, 1, 11, &["m:before", "m:after"]), &expected(5, None, true));
        assert!(matches!(&past_marker, Outcome::Fail(why, _) if why.contains("m:after")), "{past_marker:?}");
        let unproven = judge(&restored(3, 1, 3, &[]), &expected(0, None, false));
        assert!(matches!(unproven, Outcome::Fail(..)), "no beat before T proves nothing");
    }

    #[test]
    fn a_target_outside_the_window_is_refused_naming_the_setting_and_the_window() {
        let w = Some(Window { start: 1_796_134_078.0, end: 1_796_134_378.0 });
        let Some(Outcome::Fail(why, _)) = refuse_outside(w, 1_796_047_978.0, "acceptance.pitr_targets.br05", 1) else {
            panic!("a day before the oldest backup must be refused")
        };
        assert!(why.starts_with("acceptance.pitr_targets.br05 targets 2026-11-30T"), "{why}");
        assert!(why.contains("2026-12-01T14:07:58Z … 2026-12-01T14:12:58Z"), "{why}");
        assert!(refuse_outside(w, 1_796_134_200.0, "s", 1).is_none());
        assert!(matches!(refuse_outside(None, 1.0, "s", 1), Some(Outcome::Fail(..))));
    }

    #[test]
    fn archiving_fails_when_the_last_failure_is_newer_than_the_last_success() {
        let a = Archiver { last_archived_time: Some(10.0), last_failed_time: Some(11.0), ..Default::default() };
        assert!(a.failing());
        assert!(!Archiver { last_failed_time: Some(9.0), ..a.clone() }.failing());
        assert!(!Archiver::default().failing());
    }
}
