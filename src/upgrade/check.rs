//! `upgrade check`'s judgements: pure functions from the request, the window and the facts read to one item
//! each, PASS, FAIL or UNKNOWN with its evidence. A fact that could not be read is UNKNOWN, never PASS.

use serde::Serialize;

use super::facts::{Facts, Installed, Job};
use super::knowledge::{self, Known};
use super::{Change, Method, Request};
use crate::engine::kinds::EngineKind;
use crate::engine::versions;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Pass,
    Fail,
    Unknown,
}

/// What a FAIL stands in the way of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Blocks {
    /// Any upgrade to the target version, in place or Blue/Green.
    Upgrade,
    /// A Blue/Green deployment (logical replication from the old version to the new); not an in-place upgrade.
    BlueGreen,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Item {
    pub id: String,
    pub title: String,
    pub status: Status,
    pub blocks: Blocks,
    pub evidence: String,
}

impl Item {
    fn new(id: impl Into<String>, title: impl Into<String>, blocks: Blocks, status: Status, evidence: String) -> Item {
        Item { id: id.into(), title: title.into(), status, blocks, evidence }
    }

    /// Whether this item counts for `method` (Blue/Green items do not stop an in-place upgrade).
    pub fn counts_for(&self, method: Method) -> bool {
        self.blocks == Blocks::Upgrade || method == Method::BlueGreen
    }
}

/// `upgrade check`'s whole answer.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    pub environment: String,
    pub engine: &'static str,
    pub from: String,
    pub to: String,
    pub change: Change,
    pub method: Method,
    /// The declared window, as typed, and in seconds.
    pub window: String,
    pub window_seconds: i64,
    pub items: Vec<Item>,
}

impl CheckReport {
    /// FAIL items that stop the chosen method.
    pub fn blockers(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| i.status == Status::Fail && i.counts_for(self.method))
    }

    pub fn unknown(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| i.status == Status::Unknown && i.counts_for(self.method))
    }
}

/// `n` seconds as `6d 23h`, `5h 3m`, `42s`.
pub fn duration(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    let n = n.unsigned_abs();
    let (d, h, m) = (n / 86_400, n % 86_400 / 3600, n % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{sign}{n}s"),
        (0, 0, m) => format!("{sign}{m}m"),
        (0, h, m) => format!("{sign}{h}h {m}m"),
        (d, h, _) => format!("{sign}{d}d {h}h"),
    }
}

fn list(names: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut text = names.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}

/// An item from a list fact: PASS when empty, FAIL naming each entry, UNKNOWN when unread.
fn from_list(
    id: &str,
    title: &str,
    blocks: Blocks,
    fact: &Result<Vec<String>, String>,
    none: &str,
    found: impl Fn(&str) -> String,
) -> Item {
    match fact {
        Err(why) => Item::new(id, title, blocks, Status::Unknown, format!("could not read: {why}")),
        Ok(names) if names.is_empty() => Item::new(id, title, blocks, Status::Pass, none.to_string()),
        Ok(names) => Item::new(id, title, blocks, Status::Fail, found(&list(names))),
    }
}

/// Every item for `request`, in the order the report shows them.
pub fn decide(request: &Request, window_seconds: i64, facts: &Facts) -> Vec<Item> {
    let mut items = vec![server_version(request, facts)];
    if request.change == Change::Major {
        items.extend(pg_upgrade_blockers(facts));
    }
    items.extend(extensions(request, facts));
    items.extend(blue_green(request, window_seconds, facts));
    items
}

fn server_version(request: &Request, facts: &Facts) -> Item {
    let (id, title) = ("pg.server-version", "The server runs the version the file declares");
    match &facts.server_version {
        Err(why) => Item::new(id, title, Blocks::Upgrade, Status::Unknown, format!("could not read: {why}")),
        Ok(live) if *live == request.from => {
            Item::new(id, title, Blocks::Upgrade, Status::Pass, format!("server_version {live}"))
        }
        Ok(live) => Item::new(
            id,
            title,
            Blocks::Upgrade,
            Status::Fail,
            format!(
                "server_version is {live}, the file's engine.version {}: the check and the plan start from the \
                 file; make engine.version say what runs",
                request.from
            ),
        ),
    }
}

fn pg_upgrade_blockers(facts: &Facts) -> Vec<Item> {
    vec![
        from_list(
            "pg.prepared-transactions",
            "No prepared transactions",
            Blocks::Upgrade,
            &facts.prepared_transactions,
            "pg_prepared_xacts is empty",
            |names| {
                format!("pg_upgrade refuses a server with prepared transactions: {names} (COMMIT PREPARED or ROLLBACK PREPARED each)")
            },
        ),
        from_list(
            "pg.reg-columns",
            "No reg* columns pg_upgrade cannot carry",
            Blocks::Upgrade,
            &facts.reg_columns,
            "no user column of type regproc, regprocedure, regoper, regoperator, regconfig, regdictionary, \
             regnamespace or regcollation",
            |names| {
                format!("pg_upgrade refuses user columns of reg* types whose OIDs it does not keep: {names} (store the name as text instead)")
            },
        ),
        from_list(
            "pg.invalid-databases",
            "Every database is valid and accepts connections",
            Blocks::Upgrade,
            &facts.invalid_databases,
            "no invalid database; every database but template0 allows connections",
            |names| {
                format!(
                    "pg_upgrade refuses: {names} (drop an invalid database; ALTER DATABASE … ALLOW_CONNECTIONS true)"
                )
            },
        ),
    ]
}

fn extensions(request: &Request, facts: &Facts) -> Vec<Item> {
    match &facts.extensions {
        Err(why) => vec![Item::new(
            "ext.installed",
            "Installed extensions",
            Blocks::Upgrade,
            Status::Unknown,
            format!("could not read pg_extension: {why}"),
        )],
        Ok(installed) => installed.iter().map(|e| extension(request, e, facts)).collect(),
    }
}

/// What the project's migrations need for pg_partman 5: the calls that pass p_type 'native'.
pub(super) fn native_calls(calls: &[(String, bool)]) -> String {
    let must: Vec<String> = calls.iter().filter(|(_, branches)| !branches).map(|(at, _)| at.clone()).collect();
    let fine: Vec<String> = calls.iter().filter(|(_, branches)| *branches).map(|(at, _)| at.clone()).collect();
    match (must.is_empty(), fine.is_empty()) {
        (true, true) => "no migration passes p_type 'native'".into(),
        (true, false) => format!(
            "the migrations' p_type 'native' calls read the installed version first ({}): nothing to migrate there",
            list(&fine)
        ),
        (false, _) => format!("glctl must migrate these calls to the 5.x form (no p_type): {}", list(&must)),
    }
}

fn extension(request: &Request, e: &Installed, facts: &Facts) -> Item {
    let id = format!("ext.{}", e.name);
    let title = format!("{} {} (in {}) has a path to {}", e.name, e.version, e.database, request.to);
    let with_notes = |text: String, to: &str| {
        let mut notes = knowledge::path_notes(&e.name, &e.version, to);
        if e.name == "pg_partman" && !notes.is_empty() {
            notes.push(native_calls(&facts.native_create_parent));
        }
        if notes.is_empty() {
            text
        } else {
            format!("{text}; {}", notes.join("; "))
        }
    };
    let engine = knowledge::engine_name(request.kind);
    match (request.kind, knowledge::lookup(request.kind, &request.to, &e.name)) {
        (EngineKind::External, Known::Version(row)) => {
            if knowledge::compare(&e.version, row.version).is_lt() {
                let text = format!(
                    "{} {} does not support PostgreSQL {}: the oldest release that does is {} ({}); update it on \
                     the old server first",
                    e.name, e.version, request.to_major, row.version, row.source
                );
                Item::new(id, title, Blocks::Upgrade, Status::Fail, with_notes(text, row.version))
            } else {
                let text = format!(
                    "{} {} supports PostgreSQL {} (from {}, {})",
                    e.name, e.version, request.to_major, row.version, row.source
                );
                Item::new(id, title, Blocks::Upgrade, Status::Pass, with_notes(text, &e.version))
            }
        }
        (EngineKind::External, _) => {
            let mut text = format!(
                "an external server's packages decide which {} versions PostgreSQL {} has: read \
                 pg_available_extension_versions on the new server",
                e.name, request.to_major
            );
            if e.name == "pg_partman"
                && knowledge::split_version(&e.version).first() < Some(&5)
                && request.to_major >= 17
            {
                text = with_notes(
                    format!("{text}; packages for PostgreSQL 17 ship pg_partman 5 (Debian's postgresql-17-partman)"),
                    "5.0.0",
                );
            }
            Item::new(id, title, Blocks::Upgrade, Status::Unknown, text)
        }
        (_, Known::Untracked) => Item::new(
            id,
            title,
            Blocks::Upgrade,
            Status::Unknown,
            format!(
                "glctl's table (src/upgrade/extensions.tsv) does not track {} on {engine}: read \
                 pg_available_extension_versions on a {} instance",
                e.name, request.to
            ),
        ),
        (_, Known::NotOffered) => Item::new(
            id,
            title,
            Blocks::Upgrade,
            Status::Fail,
            format!(
                "{engine} {} does not offer {} (src/upgrade/extensions.tsv): drop it first or pick another version",
                request.to, e.name
            ),
        ),
        (_, Known::Version(row)) if knowledge::compare(&e.version, row.version).is_gt() => Item::new(
            id,
            title,
            Blocks::Upgrade,
            Status::Fail,
            format!(
                "{} {} is newer than the {} that {engine} {} offers ({}): the new version cannot load it",
                e.name, e.version, row.version, request.to, row.source
            ),
        ),
        (_, Known::Version(row)) => {
            let text = if knowledge::compare(&e.version, row.version).is_eq() {
                format!("{engine} {} offers {} {} ({}): no update needed", request.to, e.name, row.version, row.source)
            } else {
                format!(
                    "{} → {}: after the engine change, ALTER EXTENSION {} UPDATE TO '{}' ({}; AWS never updates an \
                     extension with the engine)",
                    e.version, row.version, e.name, row.version, row.source
                )
            };
            Item::new(id, title, Blocks::Upgrade, Status::Pass, with_notes(text, row.version))
        }
    }
}

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

fn blue_green(request: &Request, window: i64, facts: &Facts) -> Vec<Item> {
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
    items.push(master_password(request));
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

fn master_password(request: &Request) -> Item {
    let (id, title, bg) =
        ("bg.master-password", "The master password is not managed by Secrets Manager", Blocks::BlueGreen);
    match request.kind {
        EngineKind::External => {
            Item::new(id, title, bg, Status::Pass, "an external server has no RDS-managed master password".into())
        }
        _ => Item::new(
            id,
            title,
            bg,
            Status::Fail,
            "glctl's templates set manage_master_user_password = true (templates/modules/*/main.tf): Secrets \
             Manager manages the master password, which Blue/Green Deployments do not support; upgrade in place \
             (--method in-place) or turn the managed password off for the deployment"
                .into(),
        ),
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
    use super::super::facts::{Partman, Runway};
    use super::*;

    fn request(kind: EngineKind, from: &str, to: &str) -> Request {
        super::super::resolve_versions(kind, from, to).unwrap()
    }

    fn clean() -> Facts {
        Facts {
            server_version: Ok("16.6".into()),
            prepared_transactions: Ok(vec![]),
            reg_columns: Ok(vec![]),
            invalid_databases: Ok(vec![]),
            extensions: Ok(vec![]),
            tables_without_identity: Ok(vec![]),
            large_objects: Ok((0, vec![])),
            unlogged_tables: Ok(vec![]),
            cron_jobs: Ok(None),
            partman: Ok(None),
            preload: Ok(String::new()),
            wal_level: Ok("logical".into()),
            native_create_parent: vec![("sql/migrations/0009_more.sql:4".into(), false)],
        }
    }

    fn item<'a>(items: &'a [Item], id: &str) -> &'a Item {
        items.iter().find(|i| i.id == id).unwrap_or_else(|| panic!("no {id} in {items:#?}"))
    }

    #[test]
    fn a_clean_external_server_passes_everything_but_what_its_packages_decide() {
        let r = request(EngineKind::External, "16.6", "17.2");
        let items = decide(&r, 86_400, &clean());
        assert!(items.iter().all(|i| i.status == Status::Pass), "{items:#?}");
        assert!(item(&items, "pg.prepared-transactions").evidence.contains("empty"));
    }

    #[test]
    fn each_blocker_is_named_and_an_unread_fact_is_unknown_not_pass() {
        let r = request(EngineKind::External, "15.18", "16.6");
        let mut f = clean();
        f.server_version = Ok("15.18".into());
        f.tables_without_identity = Ok(vec!["partman.template_public_sensor_readings".into(), "public.no_key".into()]);
        f.large_objects = Ok((2, vec![16_401, 16_402]));
        f.prepared_transactions = Ok(vec!["tx1 in app".into()]);
        f.unlogged_tables = Err("permission denied (42501)".into());
        f.cron_jobs = Ok(Some(vec![Job {
            id: 3,
            name: "glctl:app:partman-maintenance".into(),
            schedule: "7 * * * *".into(),
            command: "CALL partman.run_maintenance_proc()".into(),
            database: "app".into(),
            active: true,
        }]));
        f.partman = Ok(Some(Partman {
            schema: "partman".into(),
            version: "4.7.0".into(),
            runways: vec![Runway {
                parent: "public.sensor_readings".into(),
                interval: "1 day".into(),
                premake: 7,
                seconds: Some(6 * 86_400 + 3600),
                newest: Some("public.sensor_readings_p2026_12_14".into()),
            }],
        }));
        let items = decide(&r, 10 * 86_400, &f);
        let fail = |id: &str| {
            let i = item(&items, id);
            assert_eq!(i.status, Status::Fail, "{i:?}");
            i.evidence.clone()
        };
        let identity = fail("bg.replica-identity");
        assert!(identity.contains("public.no_key") && !identity.contains("template"), "{identity}");
        assert!(fail("bg.large-objects").contains("16401, 16402"));
        assert!(fail("pg.prepared-transactions").contains("tx1 in app"));
        assert!(fail("bg.cron-jobs").contains("glctl:app:partman-maintenance"));
        assert!(fail("bg.partman-maintenance").contains("glctl:app:partman-maintenance"));
        let runway = fail("bg.partman-runway");
        assert!(runway.contains("window 10d 0h") && runway.contains("public.sensor_readings covers 6d 1h"), "{runway}");
        assert!(fail("bg.ddl-in-window").contains("240 time(s)"));
        assert_eq!(item(&items, "bg.unlogged-tables").status, Status::Unknown);
        assert!(item(&items, "bg.unlogged-tables").evidence.contains("permission denied"));
    }

    #[test]
    fn a_minor_change_skips_pg_upgrade_s_checks_and_rds_names_its_managed_master_password() {
        let r = request(EngineKind::RdsPostgresql, "16.6", "16.8");
        let items = decide(&r, 3600, &clean());
        assert!(items.iter().all(|i| !i.id.starts_with("pg.") || i.id == "pg.server-version"));
        let pw = item(&items, "bg.master-password");
        assert_eq!((pw.status, pw.blocks), (Status::Fail, Blocks::BlueGreen));
        assert!(!pw.counts_for(Method::InPlace) && pw.counts_for(Method::BlueGreen));
    }

    #[test]
    fn an_extension_s_path_comes_from_the_table() {
        let r = request(EngineKind::RdsPostgresql, "16.2", "17.4");
        let mut f = clean();
        f.server_version = Ok("16.2".into());
        f.extensions = Ok(vec![
            Installed { database: "app".into(), name: "pg_partman".into(), version: "4.7.3".into() },
            Installed { database: "app".into(), name: "hstore".into(), version: "1.8".into() },
            Installed { database: "app".into(), name: "pg_cron".into(), version: "9.0".into() },
        ]);
        let items = decide(&r, 3600, &f);
        let partman = item(&items, "ext.pg_partman");
        assert_eq!(partman.status, Status::Pass);
        assert!(partman
            .evidence
            .starts_with("4.7.3 → 5.1.0: after the engine change, ALTER EXTENSION pg_partman UPDATE TO '5.1.0'"));
        assert!(
            partman
                .evidence
                .contains("glctl must migrate these calls to the 5.x form (no p_type): sql/migrations/0009_more.sql:4"),
            "{}",
            partman.evidence
        );
        assert_eq!(item(&items, "ext.hstore").status, Status::Unknown);
        assert_eq!(item(&items, "ext.pg_cron").status, Status::Fail, "newer than the target offers");
        let ts = request(EngineKind::External, "15.18", "17.2");
        let mut f = clean();
        f.server_version = Ok("15.18".into());
        f.extensions =
            Ok(vec![Installed { database: "app".into(), name: "timescaledb".into(), version: "2.14.2".into() }]);
        let ts = item(&decide(&ts, 3600, &f), "ext.timescaledb").clone();
        assert_eq!(ts.status, Status::Fail);
        assert!(
            ts.evidence.contains("2.17.0") && ts.evidence.contains("first command of a fresh session"),
            "{}",
            ts.evidence
        );
    }

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
