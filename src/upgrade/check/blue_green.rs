//! The Blue/Green readiness items: what logical replication from the old version to the new cannot carry,
//! and what glctl itself would run during the deployment. Pure, like the rest of the check.

use super::{duration, from_list, list, Blocks, Item, Status};
use crate::engine::kinds::EngineKind;
use crate::engine::versions;
use crate::upgrade::facts::{Facts, Job};
use crate::upgrade::knowledge;
use crate::upgrade::Request;

/// pg_cron commands that change the schema when they run.
fn runs_ddl(command: &str) -> bool {
    let c = command.to_ascii_lowercase();
    ["run_maintenance", "create_parent", "create table", "alter table", "drop table", "create index", "truncate"]
        .iter()
        .any(|k| c.contains(k))
}

/// How often a simple cron schedule fires in `seconds`: every minute, every N minutes, or hourly.
fn runs_in(schedule: &str, seconds: i64) -> Option<i64> {
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    let [minute, "*", "*", "*", "*"] = fields[..] else { return None };
    let every = match minute {
        "*" => 60,
        m if m.parse::<u32>().is_ok_and(|m| m < 60) => 3600,
        m => 60 * m.strip_prefix("*/")?.parse::<i64>().ok().filter(|n| *n > 0)?,
    };
    Some(seconds / every)
}

fn job_line(j: &Job) -> String {
    let name = if j.name.is_empty() { format!("job {}", j.id) } else { j.name.clone() };
    format!("{name} ({}, in {})", j.schedule, j.database)
}

pub(super) fn items(request: &Request, window: i64, facts: &Facts) -> Vec<Item> {
    let bg = Blocks::BlueGreen;
    // pg_partman's template tables are never written: no UPDATE or DELETE to replicate.
    let templates = match &facts.partman {
        Ok(Some(p)) => Some(format!("{}.template_", p.schema)),
        _ => None,
    };
    let without_identity = facts.tables_without_identity.as_ref().map_err(Clone::clone).map(|names| {
        names.iter().filter(|n| templates.as_ref().is_none_or(|t| !n.starts_with(t.as_str()))).cloned().collect()
    });
    let mut items = vec![
        from_list(
            "bg.replica-identity",
            "Every table has a primary key or a replica identity",
            bg,
            &without_identity,
            "every ordinary table has a primary key or REPLICA IDENTITY FULL/USING INDEX",
            |names| format!("UPDATE and DELETE on these are not replicated to green: {names} (add a primary key, or ALTER TABLE … REPLICA IDENTITY FULL)"),
        ),
        match &facts.large_objects {
            Err(why) => Item::new("bg.large-objects", "No large objects", bg, Status::Unknown, format!("could not read: {why}")),
            Ok((0, _)) => Item::new("bg.large-objects", "No large objects", bg, Status::Pass, "pg_largeobject_metadata is empty".into()),
            Ok((n, oids)) => Item::new(
                "bg.large-objects",
                "No large objects",
                bg,
                Status::Fail,
                format!(
                    "{n} large object(s), not replicated to green (OIDs {}{}): move them into bytea columns or copy them after the switchover",
                    oids.iter().map(u32::to_string).collect::<Vec<_>>().join(", "),
                    if *n > oids.len() as i64 { ", …" } else { "" }
                ),
            ),
        },
        from_list(
            "bg.unlogged-tables",
            "No unlogged tables",
            bg,
            &facts.unlogged_tables,
            "no unlogged table",
            |names| format!("unlogged tables are not replicated; green has them empty: {names}"),
        ),
    ];
    items.push(match &facts.cron_jobs {
        Err(why) => Item::new("bg.cron-jobs", "No active pg_cron jobs", bg, Status::Unknown, format!("could not read cron.job: {why}")),
        Ok(None) => Item::new("bg.cron-jobs", "No active pg_cron jobs", bg, Status::Pass, "pg_cron is not created on this server".into()),
        Ok(Some(jobs)) => {
            let active: Vec<String> = jobs.iter().filter(|j| j.active).map(job_line).collect();
            if active.is_empty() {
                Item::new("bg.cron-jobs", "No active pg_cron jobs", bg, Status::Pass, format!("{} job(s), none active", jobs.len()))
            } else {
                Item::new(
                    "bg.cron-jobs",
                    "No active pg_cron jobs",
                    bg,
                    Status::Fail,
                    format!("active: {}; pause them before the deployment and keep pg_cron off on green until the switchover (`glctl upgrade plan` lists the commands)", list(&active)),
                )
            }
        }
    });
    items.push(partman_maintenance(facts));
    items.push(runway(window, facts));
    items.push(ddl_in_window(window, facts));
    items.push(master_password(request, facts));
    items.push(source_minimum(facts));
    items.push(match &facts.wal_level {
        Err(why) => {
            Item::new("bg.wal-level", "wal_level is logical", bg, Status::Unknown, format!("could not read: {why}"))
        }
        Ok(level) if level == "logical" => {
            Item::new("bg.wal-level", "wal_level is logical", bg, Status::Pass, "wal_level = logical".into())
        }
        Ok(level) => Item::new(
            "bg.wal-level",
            "wal_level is logical",
            bg,
            Status::Fail,
            format!(
                "wal_level = {level}; {}",
                if request.kind == EngineKind::External {
                    "set wal_level = logical (a restart)"
                } else {
                    "set rds.logical_replication = 1 in the parameter group (static: a reboot)"
                }
            ),
        ),
    });
    items
}

fn partman_maintenance(facts: &Facts) -> Item {
    let (id, title, bg) = ("bg.partman-maintenance", "pg_partman maintenance is paused", Blocks::BlueGreen);
    let partman = match &facts.partman {
        Err(why) => return Item::new(id, title, bg, Status::Unknown, format!("could not read pg_partman: {why}")),
        Ok(None) => return Item::new(id, title, bg, Status::Pass, "pg_partman is not installed".into()),
        Ok(Some(p)) => p,
    };
    let mut running = Vec::new();
    match &facts.cron_jobs {
        Err(why) => return Item::new(id, title, bg, Status::Unknown, format!("could not read cron.job: {why}")),
        Ok(jobs) => running
            .extend(jobs.iter().flatten().filter(|j| j.active && j.command.contains("run_maintenance")).map(job_line)),
    }
    match &facts.preload {
        Err(why) => {
            return Item::new(id, title, bg, Status::Unknown, format!("could not read shared_preload_libraries: {why}"))
        }
        Ok(preload) if preload.contains("pg_partman_bgw") => {
            running.push("pg_partman_bgw (shared_preload_libraries)".into())
        }
        Ok(_) => {}
    }
    if running.is_empty() {
        Item::new(
            id,
            title,
            bg,
            Status::Pass,
            format!("pg_partman {}: no active maintenance job, no background worker", partman.version),
        )
    } else {
        Item::new(
            id,
            title,
            bg,
            Status::Fail,
            format!(
                "pg_partman {} maintenance runs: {}; Blue/Green needs it off and no partition created during the deployment",
                partman.version,
                list(&running)
            ),
        )
    }
}

fn runway(window: i64, facts: &Facts) -> Item {
    let (id, title, bg) = ("bg.partman-runway", "Premade partitions outlast the window", Blocks::BlueGreen);
    let window_text = duration(window);
    let partman = match &facts.partman {
        Err(why) => return Item::new(id, title, bg, Status::Unknown, format!("could not read pg_partman: {why}")),
        Ok(None) => {
            return Item::new(id, title, bg, Status::Pass, "pg_partman is not installed: no partition sets".into())
        }
        Ok(Some(p)) => p,
    };
    let mut short = Vec::new();
    let mut covered = Vec::new();
    for r in &partman.runways {
        match r.seconds {
            None => short.push(format!("{} has no partition yet", r.parent)),
            Some(s) if s < window => short.push(format!(
                "{} covers {} (newest {}, premake {} × {})",
                r.parent,
                duration(s),
                r.newest.as_deref().unwrap_or("?"),
                r.premake,
                r.interval
            )),
            Some(s) => covered.push(format!("{} {}", r.parent, duration(s))),
        }
    }
    if partman.runways.is_empty() {
        Item::new(id, title, bg, Status::Pass, "part_config is empty: no partition sets".into())
    } else if short.is_empty() {
        Item::new(id, title, bg, Status::Pass, format!("window {window_text}; runway: {}", list(&covered)))
    } else {
        Item::new(
            id,
            title,
            bg,
            Status::Fail,
            format!(
                "window {window_text}, but {}: rows past a set's newest partition land in its default partition \
                 while maintenance is paused (raise premake and run maintenance first: `glctl upgrade plan`)",
                list(&short)
            ),
        )
    }
}

fn ddl_in_window(window: i64, facts: &Facts) -> Item {
    let (id, title, bg) = ("bg.ddl-in-window", "glctl's jobs run no DDL in the window", Blocks::BlueGreen);
    let jobs = match &facts.cron_jobs {
        Err(why) => return Item::new(id, title, bg, Status::Unknown, format!("could not read cron.job: {why}")),
        Ok(None) => return Item::new(id, title, bg, Status::Pass, "pg_cron is not created: glctl runs no jobs".into()),
        Ok(Some(jobs)) => jobs,
    };
    let ddl: Vec<String> = jobs
        .iter()
        .filter(|j| j.active && j.name.starts_with("glctl:") && runs_ddl(&j.command))
        .map(|j| match runs_in(&j.schedule, window) {
            Some(n) => format!("{} runs `{}` {n} time(s) in {}", job_line(j), j.command, duration(window)),
            None => format!("{} runs `{}`", job_line(j), j.command),
        })
        .collect();
    if ddl.is_empty() {
        Item::new(id, title, bg, Status::Pass, "no active glctl job creates, alters or drops tables".into())
    } else {
        Item::new(
            id,
            title,
            bg,
            Status::Fail,
            format!("DDL on blue degrades replication: {} (each run may create or drop partitions)", list(&ddl)),
        )
    }
}

fn master_password(request: &Request, facts: &Facts) -> Item {
    let (id, title, bg) =
        ("bg.master-password", "The master password is not managed by Secrets Manager", Blocks::BlueGreen);
    const TEMPLATES: &str = "glctl's templates set manage_master_user_password = true (templates/modules/*/main.tf)";
    const WAY: &str = "Blue/Green Deployments do not support a master password Secrets Manager manages; upgrade in \
                       place (--method in-place) or turn the managed password off for the deployment";
    match (request.kind, &facts.aws) {
        (EngineKind::External, _) => {
            Item::new(id, title, bg, Status::Pass, "an external server has no RDS-managed master password".into())
        }
        (_, Some(Ok(aws))) => match &aws.master_user_secret {
            Some(secret) => Item::new(
                id,
                title,
                bg,
                Status::Fail,
                format!("RDS reports MasterUserSecret {secret} on {}: {WAY}", aws.resource),
            ),
            None => Item::new(
                id,
                title,
                bg,
                Status::Pass,
                format!("RDS reports no MasterUserSecret on {} (though {TEMPLATES}: drift?)", aws.resource),
            ),
        },
        // AWS could not be asked: the file decides, and glctl's templates always ask for a managed password.
        (_, aws) => {
            let why = match aws {
                Some(Err(why)) => why.as_str(),
                _ => "not asked",
            };
            Item::new(id, title, bg, Status::Fail, format!("{TEMPLATES} (AWS not read: {why}): {WAY}"))
        }
    }
}

fn source_minimum(facts: &Facts) -> Item {
    let (id, title, bg) = ("bg.source-minimum", "The source version can replicate logically", Blocks::BlueGreen);
    // The running server decides, not the file: a server behind its file is exactly what this catches.
    let version = match &facts.server_version {
        Err(why) => return Item::new(id, title, bg, Status::Unknown, format!("could not read server_version: {why}")),
        Ok(v) => v,
    };
    let Some((major, minor)) = versions::split(version) else {
        return Item::new(id, title, bg, Status::Unknown, format!("server_version {version} is not major.minor"));
    };
    match knowledge::logical_replication_minimum(major) {
        None => Item::new(
            id,
            title,
            bg,
            Status::Pass,
            format!("server_version {version}: AWS lists no minimum for {major}"),
        ),
        Some((_, min)) if minor >= min => Item::new(
            id,
            title,
            bg,
            Status::Pass,
            format!("server_version {version} ≥ {major}.{min}, AWS's minimum for logical replication"),
        ),
        Some((_, min)) => Item::new(
            id,
            title,
            bg,
            Status::Fail,
            format!(
                "server_version {version} is below {major}.{min}, AWS's minimum for Blue/Green's logical \
                 replication: a minor upgrade first"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_count_their_runs_in_the_window() {
        assert_eq!(runs_in("7 * * * *", 86_400), Some(24));
        assert_eq!(runs_in("* * * * *", 3600), Some(60));
        assert_eq!(runs_in("*/15 * * * *", 3600), Some(4));
        assert_eq!(runs_in("0 3 * * *", 86_400), None);
        assert_eq!(duration(6 * 86_400 + 3600), "6d 1h");
        assert_eq!(duration(42), "42s");
    }
}

#[cfg(test)]
mod master_password_tests {
    use super::*;
    use crate::upgrade::facts::AwsFacts;

    fn facts(aws: Option<Result<AwsFacts, String>>) -> Facts {
        let mut f = Facts::unread("not needed");
        f.aws = aws;
        f
    }

    #[test]
    fn the_master_password_s_mode_is_what_rds_reports_and_the_templates_when_rds_cannot_be_asked() {
        let r = crate::upgrade::resolve_versions(EngineKind::AuroraPostgresql, "16.6", "17.4").unwrap();
        let managed = AwsFacts {
            resource: "cluster greenlang-prod".into(),
            engine_version: Some("16.6".into()),
            master_user_secret: Some("arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!x (active)".into()),
        };
        let item = master_password(&r, &facts(Some(Ok(managed.clone()))));
        assert_eq!(item.status, Status::Fail);
        assert!(item.evidence.starts_with("RDS reports MasterUserSecret arn:aws:secretsmanager"), "{}", item.evidence);
        let own = AwsFacts { master_user_secret: None, ..managed };
        assert_eq!(master_password(&r, &facts(Some(Ok(own)))).status, Status::Pass);
        let unread = master_password(&r, &facts(Some(Err("no AWS credentials".into()))));
        assert_eq!(unread.status, Status::Fail);
        assert!(unread.evidence.contains("AWS not read: no AWS credentials"), "{}", unread.evidence);
    }
}
