//! `glctl upgrade check|plan` against the stack's PostgreSQL 15 with the native backend's schema (pg_partman
//! 4.7, pg_cron 1.4), as `local-native` (an external server, 15.18) declares it; and the requests refused
//! before anything is read.

use crate::migrate::Project;
use crate::native::in_cron_database;
use crate::support::stack::stack;
use crate::support::{glctl, Output};

/// A database with the native schema applied, a table without a key and a large object in it; its pg_cron
/// jobs and the database go when the test ends, however it ends (the stack is shared).
struct Prepared(Project);

impl std::ops::Deref for Prepared {
    type Target = Project;
    fn deref(&self) -> &Project {
        &self.0
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        let db = &self.0.database;
        in_cron_database(&format!("SELECT count(cron.unschedule(jobid)) FROM cron.job WHERE database = '{db}'"));
        let s = stack();
        let admin = format!(
            "host=localhost port={} user={} password={} dbname=postgres sslmode=require",
            s.var("GLCTL_PG_PORT"),
            s.var("GLCTL_PG_USER"),
            s.var("GLCTL_PG_PASSWORD")
        );
        let _ = std::process::Command::new("psql")
            .args([admin.as_str(), "-qc", &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")])
            .output();
    }
}

fn prepared(name: &str) -> Prepared {
    let p = Prepared(Project::new(name));
    p.use_repository_migrations();
    let apply = p.glctl_env("local-native", &["apply", "--only", "database"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    p.query("CREATE TABLE upgrade_no_key (note text)");
    p.query("SELECT lo_from_bytea(0, 'a large object')");
    p
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr))
}

fn item<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no item {id} in {report:#}"))
}

#[test]
fn upgrade_check_names_each_blue_green_blocker_on_the_native_schema() {
    let p = prepared("upgchk");
    let out =
        p.glctl_env("local-native", &["upgrade", "check", "--to", "16.6", "--window", "10 days", "--output", "json"]);
    assert_eq!(out.code, 1, "a blocker is exit 1: {}\n{}", out.stdout, out.stderr);
    let report = json(&out);
    assert_eq!(
        (&report["engine"], &report["from"], &report["to"], &report["change"], &report["method"]),
        (&"external".into(), &"15.18".into(), &"16.6".into(), &"major".into(), &"blue-green".into())
    );
    assert_eq!(report["window_seconds"], 864_000);
    for i in report["items"].as_array().unwrap() {
        for key in ["id", "title", "status", "blocks", "evidence"] {
            assert!(i[key].is_string(), "{key} in {i:#}");
        }
        assert!(["PASS", "FAIL", "UNKNOWN"].contains(&i["status"].as_str().unwrap()), "{i:#}");
    }
    assert!(report["blockers"].as_u64().unwrap() >= 4, "{report:#}");

    let fail = |id: &str| {
        let i = item(&report, id);
        assert_eq!(i["status"], "FAIL", "{i:#}");
        i["evidence"].as_str().unwrap().to_string()
    };
    let identity = fail("bg.replica-identity");
    assert!(identity.contains("public.upgrade_no_key"), "{identity}");
    assert!(!identity.contains("partman.template_"), "pg_partman's templates are never written: {identity}");
    assert!(fail("bg.large-objects").starts_with("1 large object(s)"));
    let maintenance = format!("glctl:{}:partman-maintenance", p.database);
    assert!(fail("bg.cron-jobs").contains(&maintenance), "{report:#}");
    assert!(fail("bg.partman-maintenance").contains(&maintenance));
    // sensor_readings: premake 7 × 1 day (and today's), shorter than 10 days; the 7-day sets (4 × 7 days) outlast it.
    let runway = fail("bg.partman-runway");
    assert!(runway.contains("window 10d 0h") && runway.contains("public.sensor_readings covers 7d"), "{runway}");
    assert!(!runway.contains("public.emission_measurements covers"), "{runway}");
    assert!(fail("bg.ddl-in-window").contains(&format!("{maintenance} (7 * * * *, in {})", p.database)));

    // What the server itself says.
    assert_eq!(item(&report, "pg.server-version")["status"], "PASS");
    assert_eq!(item(&report, "pg.prepared-transactions")["status"], "PASS");
    assert_eq!(item(&report, "bg.source-minimum")["status"], "PASS", "15.18 ≥ 15.4");
    // An external server's packages decide its extensions: not a pass.
    let partman = item(&report, "ext.pg_partman");
    assert_eq!(partman["status"], "UNKNOWN", "{partman:#}");

    // As RDS (dev, 16.6) declares it: the file and the server disagree, the extensions' paths come from glctl's
    // table, pg_partman 4 → 5 says what it changes and what glctl must migrate, and the managed master password
    // blocks Blue/Green.
    let rds = json(&p.glctl_env("dev", &["upgrade", "check", "--to", "17.4", "--output", "json"]));
    assert_eq!(item(&rds, "pg.server-version")["status"], "FAIL");
    assert!(item(&rds, "pg.server-version")["evidence"].as_str().unwrap().starts_with("server_version is 15.18"));
    let partman = item(&rds, "ext.pg_partman");
    let evidence = partman["evidence"].as_str().unwrap();
    assert_eq!(partman["status"], "PASS", "{partman:#}");
    assert!(
        evidence.contains(" → 5.1.0: after the engine change, ALTER EXTENSION pg_partman UPDATE TO '5.1.0'"),
        "{evidence}"
    );
    assert!(evidence.contains("changes its configuration table and functions"), "{evidence}");
    assert!(
        evidence.contains("read the installed version first (sql/migrations/0002_timeseries_tables.native.sql:122)"),
        "{evidence}"
    );
    assert_eq!(item(&rds, "bg.master-password")["status"], "FAIL");

    // The same database with a window the runway covers: the runway passes.
    let short =
        p.glctl_env("local-native", &["upgrade", "check", "--to", "16.6", "--window", "2 days", "--output", "json"]);
    assert_eq!(item(&json(&short), "bg.partman-runway")["status"], "PASS");

    // In place, the Blue/Green items do not block; the extensions nobody could confirm leave it unchecked (3).
    let in_place = p.glctl_env("local-native", &["upgrade", "check", "--to", "16.6", "--method", "in-place"]);
    assert_eq!(in_place.code, 3, "{}\n{}", in_place.stdout, in_place.stderr);
    assert!(in_place.stdout.contains("FAIL     bg.large-objects"), "{}", in_place.stdout);
    assert!(in_place.stdout.contains("(does not block an in-place upgrade)"), "{}", in_place.stdout);
    assert!(in_place.stdout.contains("0 blocker(s) for a in-place upgrade"), "{}", in_place.stdout);
}

#[test]
fn upgrade_plan_makes_partitions_for_the_window_then_pauses_the_jobs_before_the_engine_change() {
    let p = prepared("upgplan");
    let out =
        p.glctl_env("local-native", &["upgrade", "plan", "--to", "16.6", "--window", "10 days", "--output", "json"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let plan = json(&out);
    let steps = plan["steps"].as_array().unwrap();
    let titles: Vec<&str> = steps.iter().map(|s| s["title"].as_str().unwrap()).collect();
    assert_eq!(
        titles,
        [
            "Check readiness",
            "Make partitions for the window",
            "Pause pg_cron jobs and pg_partman maintenance",
            "Take the rollback snapshot",
            "Change the engine",
            "Update the extensions",
            "Run glctl's migrations for the new extension versions",
            "Refresh the planner's statistics",
            "Resume pg_cron jobs and pg_partman maintenance",
            "Verify",
        ]
    );
    assert_eq!(plan["rollback_point"], 4, "the snapshot before the engine change");
    let commands = |n: usize| {
        steps[n]["commands"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert!(
        commands(1).contains(
            &"UPDATE \"partman\".part_config SET premake = 11 WHERE parent_table = 'public.sensor_readings';  -- was 7"
                .to_string()
        ),
        "{:#?}",
        commands(1)
    );
    assert!(
        commands(2).iter().any(|c| c.starts_with("UPDATE cron.job SET active = false WHERE jobid IN (")),
        "{:#?}",
        commands(2)
    );
    assert!(commands(3)[0].starts_with("pgbackrest --stanza=glctl backup --type=full"), "{:#?}", commands(3));
    for s in steps {
        assert!(!s["effect"].as_str().unwrap().is_empty() && !s["rollback"].as_str().unwrap().is_empty(), "{s:#}");
    }
    // Nothing ran: premake and the jobs are as apply left them.
    assert_eq!(p.query("SELECT premake FROM partman.part_config WHERE parent_table = 'public.sensor_readings'"), "7");

    // A window the premade partitions already cover needs no maintenance run.
    let text = p.glctl_env("local-native", &["upgrade", "plan", "--to", "16.6", "--window", "2 days"]);
    assert_eq!(text.code, 0);
    assert!(text.stdout.contains("── rollback point"), "{}", text.stdout);
    assert!(
        text.stdout.contains("effect:   nothing to run: each partition set's newest partition already ends"),
        "{}",
        text.stdout
    );
    assert!(!text.stdout.contains("run_maintenance_proc"), "{}", text.stdout);
}

#[test]
fn upgrade_check_that_cannot_reach_the_database_is_unknown_not_pass() {
    let out = glctl(&[
        "-e",
        "local-native",
        "--database-url",
        "postgres://nobody@127.0.0.1:1/none?sslmode=disable",
        "upgrade",
        "check",
        "--to",
        "16.6",
        "--output",
        "json",
    ]);
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    let report = json(&out);
    let items = report["items"].as_array().unwrap();
    let read_from_the_database = items.iter().filter(|i| i["id"] != "bg.master-password");
    for i in read_from_the_database {
        assert_eq!(i["status"], "UNKNOWN", "{i:#}");
        assert!(i["evidence"].as_str().unwrap().contains("could not"), "{i:#}");
    }
}

#[test]
fn upgrade_plan_that_cannot_read_the_database_says_what_it_did_not_read_and_exits_3() {
    let out = glctl(&[
        "-e",
        "dev",
        "--database-url",
        "postgres://nobody@127.0.0.1:1/none?sslmode=disable",
        "upgrade",
        "plan",
        "--to",
        "17.4",
        "--method",
        "in-place",
    ]);
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("NOT READ: cron.job: "), "{}", out.stdout);
    // What the file alone decides is still planned: the flags a major version needs, the new family.
    assert!(out.stdout.contains("allow_major_version_upgrade = true"), "{}", out.stdout);
    assert!(out.stdout.contains("a parameter group of family postgres17"), "{}", out.stdout);
    assert!(out.stdout.contains("downtime: the whole pg_upgrade"), "{}", out.stdout);
}

#[test]
fn upgrade_refuses_an_unknown_version_a_downgrade_and_the_same_version_with_exit_2() {
    // No database is needed: the request is refused before anything connects.
    let unreachable = "postgres://nobody@127.0.0.1:1/none?sslmode=disable";
    let run = |env: &str, to: &str| glctl(&["-e", env, "--database-url", unreachable, "upgrade", "check", "--to", to]);
    let unknown = run("dev", "16.99");
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("--to 16.99: rds-postgresql has no version 16.99 in glctl's table (src/engine/versions.tsv); nearest known: 16.11, 16.12, 16.13"),
        "{}",
        unknown.stderr
    );
    let down = run("dev", "15.4");
    assert_eq!(down.code, 2);
    assert!(
        down.stderr.contains("--to 15.4 is a downgrade from 16.6 (engine.version of environment dev)"),
        "{}",
        down.stderr
    );
    let same = run("local-native", "15.18");
    assert_eq!(same.code, 2);
    assert!(
        same.stderr.contains("--to 15.18 is the version environment local-native already declares"),
        "{}",
        same.stderr
    );
    let not_a_version = run("local-native", "latest");
    assert_eq!(not_a_version.code, 2);
    assert!(not_a_version.stderr.contains("expected major.minor"), "{}", not_a_version.stderr);
    let window = glctl(&["-e", "dev", "upgrade", "plan", "--to", "17.4", "--window", "soon"]);
    assert_eq!(window.code, 2);
    assert!(window.stderr.contains("--window soon: expected a positive duration"), "{}", window.stderr);
    for out in [&unknown, &down, &same, &not_a_version, &window] {
        assert!(out.stdout.is_empty(), "nothing is reported: {}", out.stdout);
    }
}

#[test]
fn upgrade_check_reads_the_master_password_s_mode_from_rds() {
    use crate::support::stack::{aws_config, dedicated_moto};
    // moto answers MasterUserSecret as AWS documents it; the rest of the check is not asked of it.
    let moto = dedicated_moto();
    crate::support::runtime().block_on(async {
        let rds = aws_sdk_rds::Client::new(&aws_config(&moto).await);
        rds.create_db_cluster()
            .db_cluster_identifier("greenlang-prod")
            .engine("aurora-postgresql")
            .engine_version("16.6")
            .master_username("postgres")
            .manage_master_user_password(true)
            .send()
            .await
            .unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let out = crate::support::glctl_aws(
        &moto,
        dir.path(),
        &[
            "--root",
            crate::support::repo().to_str().unwrap(),
            "-e",
            "prod",
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none?sslmode=disable",
            "upgrade",
            "check",
            "--to",
            "17.4",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let report = json(&out);
    let password = item(&report, "bg.master-password");
    assert_eq!(password["status"], "FAIL");
    let evidence = password["evidence"].as_str().unwrap();
    assert!(evidence.starts_with("RDS reports MasterUserSecret arn:aws:secretsmanager:"), "{evidence}");
    assert!(evidence.contains("on cluster greenlang-prod"), "{evidence}");
}
