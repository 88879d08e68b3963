//! `upgrade check`'s judgements: pure functions from the request, the window and the facts read to one item
//! each, PASS, FAIL or UNKNOWN with its evidence. A fact that could not be read is UNKNOWN, never PASS.

mod blue_green;

use serde::Serialize;

use super::facts::{Facts, Installed};
use super::knowledge::{self, Known};
use super::{Change, Method, Request};
use crate::engine::kinds::EngineKind;

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
    #[serde(flatten)]
    pub subject: super::Subject,
    /// The declared window in seconds.
    pub window_seconds: i64,
    pub items: Vec<Item>,
}

impl CheckReport {
    /// FAIL items that stop the chosen method.
    pub fn blockers(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| i.status == Status::Fail && i.counts_for(self.subject.method))
    }

    pub fn unknown(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| i.status == Status::Unknown && i.counts_for(self.subject.method))
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
    items.extend(blue_green::items(request, window_seconds, facts));
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

#[cfg(test)]
mod tests {
    use super::super::facts::{Job, Partman, Runway};
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
            aws: None,
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
}
