//! `upgrade plan`'s steps: pure, from the request and the facts read. Each step says what it runs, what it
//! should change, and how to undo it; the rollback point is the last step that can be undone without a
//! restore. Nothing here runs them.

use serde::Serialize;

use super::check::duration;
use super::facts::{Facts, Job};
use super::knowledge::{self, Known};
use super::{Change, Method, Options, Request};
use crate::config::interval::Interval;
use crate::config::Loaded;
use crate::engine::kinds::EngineKind;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    pub number: usize,
    pub title: String,
    /// What would run, in order (SQL, glctl or AWS commands).
    pub commands: Vec<String>,
    /// What should be true after it.
    pub effect: String,
    /// How to undo it.
    pub rollback: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct UpgradePlan {
    #[serde(flatten)]
    pub subject: super::Subject,
    pub steps: Vec<Step>,
    /// The step after which the way back is a restore.
    pub rollback_point: usize,
    /// Facts that could not be read: the steps that need them say so.
    pub not_read: Vec<String>,
}

impl UpgradePlan {
    pub fn is_complete(&self) -> bool {
        self.not_read.is_empty()
    }
}

/// The premake that makes a set of `interval` cover `window` seconds, with one partition to spare.
fn premake_for_window(interval: &str, window: i64) -> Option<i64> {
    let each = Interval::parse_postgres(interval).ok()?.approx_seconds();
    if each <= 0 {
        return None;
    }
    window.checked_add(each - 1)?.checked_div(each)?.checked_add(1)
}

fn active_jobs(facts: &Facts) -> Vec<&Job> {
    facts.cron_jobs.iter().flatten().flatten().filter(|j| j.active).collect()
}

pub fn plan(loaded: &Loaded, options: &Options, facts: &Facts) -> UpgradePlan {
    let request = &options.request;
    let env = &loaded.name;
    let window = options.window_seconds;
    let mut not_read = Vec::new();
    for (what, fact) in [
        ("cron.job", facts.cron_jobs.as_ref().err()),
        ("pg_partman", facts.partman.as_ref().err()),
        ("pg_extension", facts.extensions.as_ref().err()),
    ] {
        if let Some(why) = fact {
            not_read.push(format!("{what}: {why}"));
        }
    }
    let mut steps: Vec<Step> = Vec::new();
    fn push(steps: &mut Vec<Step>, title: &str, commands: Vec<String>, effect: String, rollback: &str) {
        steps.push(Step { number: 0, title: title.into(), commands, effect, rollback: rollback.into() })
    }

    push(
        &mut steps,
        "Check readiness",
        vec![format!(
            "glctl upgrade check -e {env} --to {} --window '{}' --method {}",
            request.to,
            options.window,
            match options.method {
                Method::BlueGreen => "blue-green",
                Method::InPlace => "in-place",
            }
        )],
        "no FAIL: every blocker fixed before anything changes".into(),
        "nothing changed",
    );

    // Partitions first: once maintenance is paused nothing makes new ones, so they must outlast the window.
    let jobs = active_jobs(facts);
    match &facts.partman {
        Ok(Some(partman)) if !partman.runways.is_empty() => {
            let s = crate::database::policies::ident(&partman.schema);
            let mut commands: Vec<String> = partman
                .runways
                .iter()
                .filter_map(|r| {
                    let premake = premake_for_window(&r.interval, window)?;
                    (premake > i64::from(r.premake)).then(|| {
                        format!(
                            "UPDATE {s}.part_config SET premake = {premake} WHERE parent_table = '{}';  -- was {}",
                            r.parent, r.premake
                        )
                    })
                })
                .collect();
            let short = partman.runways.iter().any(|r| r.seconds.is_none_or(|s| s < window));
            if short {
                commands.push(format!("CALL {s}.run_maintenance_proc();"));
            }
            let effect = if short {
                format!("each partition set's newest partition ends more than {} from now", duration(window))
            } else {
                format!(
                    "nothing to run: each partition set's newest partition already ends more than {} from now",
                    duration(window)
                )
            };
            push(
                &mut steps,
                "Make partitions for the window",
                commands,
                effect,
                "nothing to undo: extra empty partitions are harmless; the next `glctl apply --only database` sets \
                 premake back to the file's value",
            );
        }
        Ok(_) => {}
        Err(why) => push(
            &mut steps,
            "Make partitions for the window",
            vec![],
            format!("not planned: pg_partman could not be read ({why})"),
            "nothing changed",
        ),
    }

    let ids = jobs.iter().map(|j| j.id.to_string()).collect::<Vec<_>>().join(", ");
    let preload_bgw = facts.preload.as_ref().is_ok_and(|p| p.contains("pg_partman_bgw"));
    if !jobs.is_empty() || preload_bgw {
        let mut commands = Vec::new();
        if !jobs.is_empty() {
            commands.push(format!(
                "-- in pg_cron's database: {}",
                jobs.iter()
                    .map(|j| if j.name.is_empty() { j.id.to_string() } else { j.name.clone() })
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            commands.push(format!("UPDATE cron.job SET active = false WHERE jobid IN ({ids});"));
        }
        if preload_bgw {
            commands.push("remove pg_partman_bgw from shared_preload_libraries (static: a restart)".into());
        }
        push(
            &mut steps,
            "Pause pg_cron jobs and pg_partman maintenance",
            commands,
            "no job runs and no partition is created or dropped until the jobs are resumed".into(),
            &format!("UPDATE cron.job SET active = true WHERE jobid IN ({ids});"),
        );
    }

    // The engine change is where the way back becomes a restore: the snapshot right before it is the rollback point.
    let snapshot = match request.kind {
        EngineKind::RdsPostgresql => format!("aws rds create-db-snapshot --db-instance-identifier <{env} writer> --db-snapshot-identifier <{env}-before-{}>", request.to.replace('.', "-")),
        EngineKind::AuroraPostgresql => format!("aws rds create-db-cluster-snapshot --db-cluster-identifier <{env} cluster> --db-cluster-snapshot-identifier <{env}-before-{}>", request.to.replace('.', "-")),
        EngineKind::External => match &loaded.environment.backup.pgbackrest {
            Some(p) => format!("pgbackrest --stanza={} backup --type=full", p.stanza),
            None => "a base backup of the old server (pg_basebackup), kept until the upgrade is verified".into(),
        },
    };
    push(
        &mut steps,
        "Take the rollback snapshot",
        vec![snapshot],
        "a restorable copy of the database as it is before the engine change".into(),
        "delete the snapshot once the upgrade is verified",
    );
    let rollback_point = steps.len();

    push(
        &mut steps,
        "Change the engine",
        engine_commands(loaded, request, options.method),
        engine_effect(request, options.method),
        "restore the snapshot of the step before: PostgreSQL cannot move back to an older version in place",
    );

    let mut updates = Vec::new();
    let mut migrations = vec![format!("glctl apply -e {env} --only database")];
    if let Ok(installed) = &facts.extensions {
        for e in installed {
            let target = match knowledge::lookup(request.kind, &request.to, &e.name) {
                Known::Version(row) if request.kind != EngineKind::External => row.version.to_string(),
                _ => String::new(),
            };
            if e.name == "timescaledb" {
                updates.push(format!(
                    "psql -X -d {} -c 'ALTER EXTENSION timescaledb UPDATE'  -- the first command of a fresh session",
                    e.database
                ));
                updates.push(
                    "recycle every session opened before it (PgBouncer: RECONNECT; restart the applications' pools)"
                        .into(),
                );
            } else if !target.is_empty() && knowledge::compare(&e.version, &target).is_lt() {
                updates.push(format!(
                    "-- in {}: ALTER EXTENSION {} UPDATE TO '{target}';  -- from {}",
                    e.database, e.name, e.version
                ));
                if e.name == "pg_partman" && !knowledge::path_notes(&e.name, &e.version, &target).is_empty() {
                    migrations.push(format!("-- {}", super::check::native_calls(&facts.native_create_parent)));
                }
            } else if target.is_empty() {
                updates.push(format!(
                    "-- in {}: ALTER EXTENSION {} UPDATE;  -- {} {}: to the newest the new server offers",
                    e.database, e.name, e.name, e.version
                ));
            }
        }
    }
    push(
        &mut steps,
        "Update the extensions",
        updates,
        "every extension at the version the new engine offers (AWS never updates one with the engine)".into(),
        "restore the rollback snapshot: extensions have no downgrade scripts",
    );
    push(
        &mut steps,
        "Run glctl's migrations for the new extension versions",
        migrations,
        "pending migrations applied; pg_partman's part_config and pg_cron's jobs as the file says under the new versions".into(),
        "restore the rollback snapshot",
    );
    if request.change == Change::Major {
        push(
            &mut steps,
            "Refresh the planner's statistics",
            vec!["vacuumdb --all --analyze-in-stages  -- pg_upgrade does not carry statistics".into()],
            "query plans as before the upgrade".into(),
            "nothing to undo",
        );
    }
    if !jobs.is_empty() || preload_bgw {
        let mut commands = Vec::new();
        if !jobs.is_empty() {
            commands.push(format!("UPDATE cron.job SET active = true WHERE jobid IN ({ids});"));
        }
        if preload_bgw {
            commands.push("put pg_partman_bgw back into shared_preload_libraries (a restart)".into());
        }
        commands.push(format!("glctl apply -e {env} --only database  -- premake back to the file's value"));
        push(
            &mut steps,
            "Resume pg_cron jobs and pg_partman maintenance",
            commands,
            "maintenance makes and drops partitions again; the runway is back to the file's premake".into(),
            "pause them again (the pause step's commands)",
        );
    }
    push(
        &mut steps,
        "Verify",
        vec![format!("glctl verify -e {env}"), format!("glctl drift -e {env}")],
        "every acceptance check passes on the new version; no drift".into(),
        "restore the rollback snapshot if a check fails and cannot be fixed forward",
    );
    for (i, s) in steps.iter_mut().enumerate() {
        s.number = i + 1;
    }
    UpgradePlan { subject: super::Subject::new(env, options), steps, rollback_point, not_read }
}

fn engine_commands(loaded: &Loaded, request: &Request, method: Method) -> Vec<String> {
    let env = &loaded.name;
    if request.kind == EngineKind::External {
        return vec![format!(
            "move the server to PostgreSQL {} (pg_upgrade, or logical replication to a new server); glctl does not run it",
            request.to
        )];
    }
    let mut commands = vec![format!("set engine.version: \"{}\" in environment {env}", request.to)];
    if let Some((from, to)) = request.families.filter(|(a, b)| a != b) {
        commands.push(format!("a parameter group of family {to} (glctl renders it next to the {from} one, created before the old one goes)"));
    }
    if request.change == Change::Major {
        commands.push("allow_major_version_upgrade = true (AWS refuses a major version change without it)".into());
    }
    match method {
        Method::BlueGreen => commands.push(format!(
            "aws rds create-blue-green-deployment --target-engine-version {} (green from blue), then switchover-blue-green-deployment",
            request.to
        )),
        Method::InPlace => commands.push(format!("glctl plan -e {env}; glctl apply -e {env} (apply_immediately)")),
    }
    if request.kind == EngineKind::AuroraPostgresql {
        commands.push("Aurora: the cluster's engine version first; AWS then upgrades its instances".into());
    } else if !loaded.environment.engine.replicas.is_empty() && request.change == Change::Major {
        commands.push("RDS: the read replicas are upgraded with their primary for a major version".into());
    }
    commands
}

fn engine_effect(request: &Request, method: Method) -> String {
    let downtime = match (method, request.change) {
        (Method::BlueGreen, _) => "downtime: the switchover, usually under a minute",
        (Method::InPlace, Change::Minor) => "downtime: a restart of each instance (minutes)",
        (Method::InPlace, Change::Major) => "downtime: the whole pg_upgrade, tens of minutes, writes refused",
    };
    format!("the server runs PostgreSQL {}; {downtime}", request.to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn premake_covers_the_window_with_one_partition_to_spare() {
        assert_eq!(premake_for_window("1 day", 10 * 86_400), Some(11));
        assert_eq!(premake_for_window("7 days", 10 * 86_400), Some(3));
        assert_eq!(premake_for_window("nonsense", 10), None);
    }
}
