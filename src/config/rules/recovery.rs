//! Rules for backups and recovery: retention, windows, the pgBackRest repository and the RTO/RPO targets the
//! topology can meet.

use super::p;
use crate::config::model::{EngineKind, Risk};
use crate::engine::capabilities;

impl super::Rules<'_> {
    pub(super) fn backup(&mut self) {
        let b = &self.env.backup;
        let kind = self.env.engine.kind;
        let caps = capabilities::of(kind);
        if caps.provisioned {
            let max = caps.max_backup_retention_days;
            if !(1..=max).contains(&b.retention_days) {
                self.error(
                    p("backup.retention_days"),
                    format!(
                        "{} days is out of range; {} keeps automated backups 1 to {max} days",
                        b.retention_days,
                        capabilities::engine_label(kind)
                    ),
                );
            } else if self.production() && b.retention_days < 7 {
                self.error(
                    p("backup.retention_days"),
                    format!("{} days is too short for production; expected at least 7", b.retention_days),
                );
            }
        }
        let window = parse_daily_window(&b.window);
        match window {
            None => self.error(
                p("backup.window"),
                format!("'{}' is not a window; expected 'hh:mm-hh:mm' in UTC such as '02:00-04:00'", b.window),
            ),
            Some((start, end)) => {
                let length = (end + 1440 - start) % 1440;
                if length < 30 {
                    self.error(
                        p("backup.window"),
                        format!("'{}' is {length} minutes; AWS needs a backup window of at least 30 minutes", b.window),
                    );
                }
            }
        }
        match parse_weekly_window(&self.env.maintenance_window) {
            None => self.error(
                p("maintenance_window"),
                format!(
                    "'{}' is not a window; expected 'ddd:hh:mm-ddd:hh:mm' in UTC such as 'sun:04:30-sun:05:30'",
                    self.env.maintenance_window
                ),
            ),
            Some((mstart, mend)) => {
                if let Some((bstart, bend)) = window {
                    // The backup window recurs daily; check it against every day of the week.
                    let overlaps = (0..14).any(|day| {
                        let (s, e) = (day * 1440 + bstart, day * 1440 + bstart + (bend + 1440 - bstart) % 1440);
                        s < mend && mstart < e
                    });
                    if overlaps {
                        self.error(
                            p("maintenance_window"),
                            format!(
                                "'{}' overlaps the daily backup window '{}'; AWS rejects overlapping windows",
                                self.env.maintenance_window, b.window
                            ),
                        );
                    }
                }
            }
        }
        let copy = &b.cross_region_copy;
        if copy.enabled {
            if self.env.aws.dr_region.is_none() {
                self.error(
                    p("backup.cross_region_copy.enabled"),
                    "copies need a destination; expected `aws.dr_region`",
                );
            }
            if let Some(days) = copy.retention_days {
                if !(1..=3650).contains(&days) {
                    self.error(
                        p("backup.cross_region_copy.retention_days"),
                        format!("{days} days is out of range; expected 1 to 3650"),
                    );
                }
            }
        }
        if !b.final_snapshot && caps.provisioned {
            self.risk(
                Risk::NoFinalSnapshot,
                p("backup.final_snapshot"),
                "destroying the database keeps no final snapshot",
            );
        }
        if !self.env.deletion_protection && caps.provisioned {
            self.risk(
                Risk::NoDeletionProtection,
                p("deletion_protection"),
                "the database can be deleted without first turning protection off",
            );
        }
    }

    pub(super) fn pgbackrest(&mut self) {
        if let Some(pgbackrest) = &self.env.backup.pgbackrest {
            self.out.extend(crate::config::pgbackrest::check(pgbackrest, self.env.engine.kind));
        }
        self.out.extend(crate::config::pitr::check(&self.env.acceptance.pitr_targets));
        if let Some(into) = &self.env.backup.cross_region_copy.restore_into {
            self.out.extend(crate::config::dr_restore::check(into));
        }
    }

    /// Acceptance targets the topology cannot meet, with what would (warnings: the target may be a goal).
    pub(super) fn recovery_targets(&mut self) {
        let env = self.env;
        let caps = capabilities::of(env.engine.kind);
        if !caps.provisioned {
            return;
        }
        let rto = env.acceptance.failover_rto_seconds;
        let standby = env.engine.kind == EngineKind::AuroraPostgresql && !env.engine.replicas.is_empty()
            || env.engine.kind == EngineKind::RdsPostgresql && env.engine.multi_az;
        match caps.documented_failover_seconds {
            _ if !standby => self.warning(
                p("acceptance.failover_rto_seconds"),
                format!(
                    "{rto} s cannot be met: with no standby ({}) there is no automatic failover, only instance \
                     recovery; add a Multi-AZ standby or an Aurora reader",
                    if env.engine.kind == EngineKind::AuroraPostgresql {
                        "no reader"
                    } else {
                        "engine.multi_az: false"
                    }
                ),
            ),
            Some(documented) if documented > rto => self.warning(
                p("acceptance.failover_rto_seconds"),
                format!(
                    "{rto} s is below what AWS documents for {} failover (up to {documented} s); expect HA drills \
                     to miss it, or move to {}",
                    capabilities::engine_label(env.engine.kind),
                    if env.engine.kind == EngineKind::RdsPostgresql {
                        "an RDS Multi-AZ DB cluster (under 35 s) or Aurora"
                    } else {
                        "a target of at least 60 s"
                    }
                ),
            ),
            _ => {}
        }
        let copy = &env.backup.cross_region_copy;
        if copy.enabled && env.acceptance.dr_rpo_minutes < 24 * 60 {
            self.warning(
                p("acceptance.dr_rpo_minutes"),
                format!(
                    "{} minutes cannot be met by a daily AWS Backup copy (up to 24 h of data lost); use Aurora Global \
                     Database or RDS cross-region automated-backup replication for minutes",
                    env.acceptance.dr_rpo_minutes
                ),
            );
        }
    }
}

/// `hh:mm-hh:mm` → minutes since midnight.
fn parse_daily_window(text: &str) -> Option<(u32, u32)> {
    let (a, b) = text.split_once('-')?;
    Some((hhmm(a)?, hhmm(b)?))
}

/// `ddd:hh:mm-ddd:hh:mm` → minutes since Monday 00:00.
fn parse_weekly_window(text: &str) -> Option<(u32, u32)> {
    let (a, b) = text.split_once('-')?;
    let point = |s: &str| -> Option<u32> {
        let (day, time) = s.split_once(':')?;
        let index = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].iter().position(|d| *d == day)? as u32;
        Some(index * 1440 + hhmm(time)?)
    };
    let (start, mut end) = (point(a)?, point(b)?);
    if end <= start {
        end += 7 * 1440;
    }
    Some((start, end))
}

fn hhmm(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}
