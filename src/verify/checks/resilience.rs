//! PRD §10.3 and §10.4 as far as AWS reports them without a drill: who elects a new writer, and whether
//! automated backups and point-in-time recovery exist (the drills live in `verify::backup`, `verify::restore`).

use super::{aws, evidence, fail, na, or_not_reported, pass};
use crate::config::model::{EngineKind, Environment};
use crate::verify::facts::{AwsFacts, Facts};
use crate::verify::Outcome;

pub(super) fn ha06(e: &Environment, _: &Facts) -> Outcome {
    match e.engine.kind {
        EngineKind::External => na("glctl does not manage an external server's failover"),
        _ => {
            na("Patroni does not exist on Aurora or RDS: the service elects the new writer itself (HA-01..04 drill it)")
        }
    }
}

pub(super) fn restorable_minutes(a: &AwsFacts) -> Option<i64> {
    a.cluster.as_ref().map_or_else(
        || a.instances.iter().filter_map(|i| i.minutes_since_restorable).min(),
        |c| c.minutes_since_restorable,
    )
}

pub(super) fn br01(e: &Environment, f: &Facts) -> Outcome {
    aws(e, f, |a| {
        let retention = a
            .cluster
            .as_ref()
            .and_then(|c| c.backup_retention_days)
            .or_else(|| a.instances.iter().find_map(|i| i.backup_retention_days));
        let restorable = restorable_minutes(a).map(|m| format!("{m} minutes ago"));
        let ev = evidence(
            format!(
                "retention {}, latest restorable time {}",
                retention.map_or_else(|| "not reported".to_string(), |d| format!("{d} days")),
                or_not_reported(restorable)
            ),
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

pub(super) fn br03(e: &Environment, f: &Facts) -> Outcome {
    aws(e, f, |a| {
        let minutes = restorable_minutes(a);
        let observed = minutes
            .map_or_else(|| "no latest restorable time reported".to_string(), |m| format!("{m} minutes behind now"));
        let ev = evidence(observed, "at most 15 minutes behind now", "RDS LatestRestorableTime");
        if minutes.is_some_and(|m| m <= 15) {
            pass(ev)
        } else {
            fail("point-in-time recovery lags or is missing", ev)
        }
    })
}
