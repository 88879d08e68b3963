//! The judgement of BR-04/BR-05 (pgBackRest, RDS and Aurora alike): a point-in-time restore to `acceptance.pitr_targets` (`now`, or an interval
//! back on the server's clock) into a scratch copy, checked against the source's heartbeat.
//!
//! Exact means: every heartbeat written at or before T − 60 s is in the copy (one heartbeat interval of slack:
//! a beat written just before T may commit after it, and recovery stops at commits), none written after T is
//! (a row's commit is never before its `written_at`, both on the server's clock), and its `seq` has no gap.
//! With the target `now` the drill writes its own markers into the source first — one row, then T, then one
//! more row — switches the WAL segment and waits until it is archived, so the copy must hold the first marker
//! and not the second: no waiting for the scheduler's minute ticks. A target outside the repository's restore
//! window (the oldest backup's end to the newest archived WAL) is refused before anything is created.

use super::restore_verdict::Restored;
use super::{Evidence, Outcome};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::restore_verdict::Heartbeat;

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
}
