//! `glctl migrate lint`: the shipped migrations lint clean for every shipped environment; a plain index on a
//! partitioned table is flagged, located, with the partitioned recipe; SQL that does not parse is located;
//! and `migrate apply` refuses a pending migration with a lint error before running anything.

use std::path::Path;

use tempfile::TempDir;

use crate::support::{glctl_in, repo, Output};

/// A copy of the project's environments and migrations, to add a migration to.
fn project_copy() -> TempDir {
    let root = tempfile::tempdir().unwrap();
    for dir in ["environments", "sql/migrations"] {
        std::fs::create_dir_all(root.path().join(dir)).unwrap();
        for entry in std::fs::read_dir(repo().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(&path, root.path().join(dir).join(path.file_name().unwrap())).unwrap();
            }
        }
    }
    root
}

fn lint(root: &Path, env: &str, extra: &[&str]) -> Output {
    let mut args = vec!["--root", root.to_str().unwrap(), "-e", env, "migrate", "lint"];
    args.extend_from_slice(extra);
    glctl_in(root, &args)
}

#[test]
fn the_shipped_migrations_lint_clean_for_every_shipped_environment() {
    let root = project_copy();
    for env in ["dev", "staging", "prod", "local", "local-native", "local-staging"] {
        let out = lint(root.path(), env, &[]);
        assert_eq!(out.code, 0, "{env}: {}\n{}", out.stdout, out.stderr);
        assert!(out.stdout.contains("migration(s): 0 error(s), 0 warning(s)"), "{env}: {}", out.stdout);
    }
}

#[test]
fn a_plain_index_on_a_partitioned_table_is_flagged_with_the_partitioned_recipe() {
    let root = project_copy();
    std::fs::write(
        root.path().join("sql/migrations/0009_emissions_source.sql"),
        "-- Find measurements by source.\nCREATE INDEX idx_emissions_source ON emission_measurements (source_id);\n",
    )
    .unwrap();
    let out = lint(root.path(), "local-native", &[]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    let file = root.path().join("sql/migrations/0009_emissions_source.sql");
    let expected = format!(
        "{}:2:1: error[ML003]: index idx_emissions_source on partitioned table emission_measurements",
        file.display()
    );
    assert!(out.stdout.contains(&expected), "{}", out.stdout);
    assert!(out.stdout.contains("safe: CREATE INDEX … ON ONLY the parent"), "{}", out.stdout);
    assert!(out.stdout.contains("1 error(s), 0 warning(s)"), "{}", out.stdout);

    let json = lint(root.path(), "local-native", &["--output", "json"]);
    assert_eq!(json.code, 2);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let finding = &report["findings"][0];
    assert_eq!(finding["rule"], "ML003");
    assert_eq!(finding["severity"], "error");
    assert_eq!((finding["line"].as_u64(), finding["column"].as_u64()), (Some(2), Some(1)));

    // A silence with a reason is accepted; one without is an error of its own.
    std::fs::write(
        &file,
        "-- glctl:allow ML003: emission_measurements has no rows yet in any environment\n\
         CREATE INDEX idx_emissions_source ON emission_measurements (source_id);\n",
    )
    .unwrap();
    assert_eq!(lint(root.path(), "local-native", &[]).code, 0);
    std::fs::write(
        &file,
        "-- glctl:allow ML003\nCREATE INDEX idx_emissions_source ON emission_measurements (source_id);\n",
    )
    .unwrap();
    let out = lint(root.path(), "local-native", &[]);
    assert_eq!(out.code, 2);
    assert!(out.stdout.contains(":1:1: error[ML090]: `-- glctl:allow ML003` gives no reason"), "{}", out.stdout);
}

#[test]
fn sql_that_does_not_parse_is_located() {
    let root = project_copy();
    let file = root.path().join("sql/migrations/0009_broken.sql");
    std::fs::write(&file, "SELECT 1;\nALTER TABLE sensor_readings ADD COLUMN note text DEFALT 'x';\n").unwrap();
    let out = lint(root.path(), "local-native", &[]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    let expected = format!("{}:2:", file.display());
    assert!(
        out.stdout.contains(&expected) && out.stdout.contains("error[ML000]: does not parse: syntax error"),
        "{}",
        out.stdout
    );
}

/// Against the stack's PostgreSQL: a pending migration with a lint error stops `migrate apply` (exit 2,
/// naming file:line and rule) before anything runs, also the good migration before it.
#[test]
fn apply_refuses_a_pending_migration_with_a_lint_error_and_runs_nothing() {
    let p = crate::migrate::Project::new("lint_refuse");
    std::fs::write(
        p.root.path().join("sql/migrations/0001_create.sql"),
        "CREATE TABLE readings (at timestamptz, v int);",
    )
    .unwrap();
    let applied = p.glctl_env("local", &["migrate", "apply"]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    std::fs::write(p.root.path().join("sql/migrations/0002_fine.sql"), "CREATE TABLE other (x int);").unwrap();
    std::fs::write(p.root.path().join("sql/migrations/0003_index.sql"), "CREATE INDEX readings_at ON readings (at);")
        .unwrap();
    let out = p.glctl_env("local", &["migrate", "apply"]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("nothing was run"), "{}", out.stderr);
    assert!(out.stderr.contains("0003_index.sql:1:1 ML001"), "{}", out.stderr);
    assert_eq!(p.query("SELECT count(*) FROM glctl.schema_migrations"), "1");
    assert_eq!(p.query("SELECT to_regclass('other') IS NULL"), "t");
}

/// `migrations.compatibility: previous` makes a drop the running release may use an error; a misspelt value
/// is a located configuration error.
#[test]
fn a_drop_breaks_the_previous_release_when_the_environment_promises_compatibility() {
    let root = project_copy();
    let env = root.path().join("environments/dev.yaml");
    let text = std::fs::read_to_string(&env).unwrap();
    let file = root.path().join("sql/migrations/0009_drop.sql");
    std::fs::write(&file, "SET lock_timeout = '2s';\nALTER TABLE sensor_readings DROP COLUMN meter_serial;\n").unwrap();
    assert_eq!(lint(root.path(), "dev", &[]).code, 0, "no promise made: dropping is the team's call");
    std::fs::write(&env, format!("{text}\nmigrations:\n  compatibility: previous\n")).unwrap();
    let out = lint(root.path(), "dev", &[]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    let expected = format!("{}:2:1: error[ML010]: drops column sensor_readings.meter_serial", file.display());
    assert!(out.stdout.contains(&expected), "{}", out.stdout);
    std::fs::write(&env, format!("{text}\nmigrations:\n  compatibility: previus\n")).unwrap();
    let out = lint(root.path(), "dev", &[]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("migrations.compatibility: 'previus' is not allowed; expected one of: none, previous"),
        "{}",
        out.stderr
    );
}

/// The case on the native backend, end to end: the shipped schema applied, then a plain index on
/// `emission_measurements` pending: `plan` shows the finding (exit 2) and `apply` refuses it, naming the file,
/// line and rule, with nothing run.
#[test]
fn plan_shows_and_apply_refuses_a_plain_index_on_a_pg_partman_parent() {
    let p = crate::migrate::Project::new("lint_native");
    p.use_repository_migrations();
    let apply = p.glctl_env("dev", &["apply", "--only", "database"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    std::fs::write(
        p.root.path().join("sql/migrations/0009_emissions_source.sql"),
        "CREATE INDEX idx_emissions_source ON emission_measurements (source_id);\n",
    )
    .unwrap();
    let plan = p.glctl_env("dev", &["plan", "--only", "database"]);
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("+ 0009_emissions_source.sql"), "{}", plan.stdout);
    assert!(plan.stdout.contains("  LINT "), "{}", plan.stdout);
    assert!(plan.stdout.contains("0009_emissions_source.sql:1:1: error[ML003]"), "{}", plan.stdout);
    let refused = p.glctl_env("dev", &["apply", "--only", "database"]);
    assert_eq!(refused.code, 2, "{}\n{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains("0009_emissions_source.sql:1:1 ML003: index idx_emissions_source"),
        "{}",
        refused.stderr
    );
    assert_eq!(p.query("SELECT max(version) FROM glctl.schema_migrations"), "8");
    assert_eq!(p.query("SELECT to_regclass('idx_emissions_source') IS NULL"), "t");
}

/// The runner's bounded lock wait (`migrations.lock_timeout`, `lock_retries`): a migration blocked by another
/// session's lock gives up after its retries, rolled back, with nothing of it applied; with the lock released
/// during the retries it applies.
#[test]
fn a_migration_blocked_by_another_sessions_lock_is_retried_and_then_gives_up_or_applies() {
    let p = crate::migrate::Project::new("lint_lockwait");
    let migrations = p.root.path().join("sql/migrations");
    std::fs::write(migrations.join("0001_create.sql"), "CREATE TABLE held (x int);").unwrap();
    let local = std::fs::read_to_string(repo().join("environments/local.yaml")).unwrap();
    let env = p.root.path().join("bounded.yaml");
    let with_wait = |retries: u32| {
        std::fs::write(&env, format!("{local}\nmigrations:\n  lock_timeout: 1s\n  lock_retries: {retries}\n")).unwrap()
    };
    with_wait(1);
    let env_arg = env.to_str().unwrap().to_string();
    let first = p.glctl_env(&env_arg, &["migrate", "apply"]);
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    std::fs::write(migrations.join("0002_alter.sql"), "ALTER TABLE held ADD COLUMN y int;").unwrap();

    let hold = |seconds: u32| {
        holding(
            &p,
            "held",
            &format!("BEGIN; LOCK TABLE held IN ACCESS SHARE MODE; SELECT pg_sleep({seconds}); COMMIT;"),
        )
    };

    let mut holder = hold(8);
    let holder_pid = p.query("SELECT pid FROM pg_stat_activity WHERE query LIKE 'BEGIN; LOCK TABLE held%'");
    let started = std::time::Instant::now();
    let gave_up = p.glctl_env(&env_arg, &["migrate", "apply"]);
    let took = started.elapsed();
    assert_eq!(gave_up.code, 1, "{}\n{}", gave_up.stdout, gave_up.stderr);
    // Within its bound: two waits of 1 s and one backoff of 0.5–0.75 s, plus glctl's own start.
    assert!(took >= std::time::Duration::from_millis(2500), "gave up after {took:?}, before its bound");
    assert!(took < std::time::Duration::from_secs(7), "gave up after {took:?}: the bound did not hold");
    for expected in [
        "0002_alter.sql: statement 1 of 1 (line 1) failed: canceling statement due to lock timeout (55P03); it \
         waited 1000 ms for a lock 2 time(s) (migrations.lock_timeout; lock_retries: 1) and gave up",
        "\n  statement: ALTER TABLE held ADD COLUMN y int\n",
        // The lock it wanted and who held it, as seen from a second connection while it waited.
        "\n  it wanted: AccessExclusiveLock on table held\n",
        &format!("\n  held by pid {holder_pid} (user "),
        "application 'psql', state 'active', query started 20",
        "holding AccessShareLock; its query: BEGIN; LOCK TABLE held IN ACCESS SHARE MODE; SELECT pg_sleep(8); COMMIT;",
        "rolled back, nothing of it applied (the ledger has no row for it)",
        "applied before the failure: none",
    ] {
        assert!(gave_up.stderr.contains(expected), "missing {expected:?} in:\n{}", gave_up.stderr);
    }
    assert_eq!(p.query("SELECT max(version) FROM glctl.schema_migrations"), "1");
    assert_eq!(
        p.query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'held' AND column_name = 'y'"),
        "0"
    );
    holder.wait().unwrap();

    with_wait(5);
    let mut holder = hold(2);
    let applied = p.glctl_env(&env_arg, &["migrate", "apply"]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    assert_eq!(p.query("SELECT max(version) FROM glctl.schema_migrations"), "2");
    holder.wait().unwrap();
}

/// A `CREATE INDEX CONCURRENTLY` that times out waiting for a writer's transaction leaves no INVALID index
/// behind: it is dropped (concurrently, so that waits for the writer without blocking anyone) before the
/// failure, as it is before each retry.
#[test]
fn a_concurrent_index_build_that_times_out_leaves_no_invalid_index() {
    let p = crate::migrate::Project::new("lint_cic");
    let migrations = p.root.path().join("sql/migrations");
    std::fs::write(migrations.join("0001_create.sql"), "CREATE TABLE busy (x int);").unwrap();
    let local = std::fs::read_to_string(repo().join("environments/local.yaml")).unwrap();
    let env = p.root.path().join("bounded.yaml");
    std::fs::write(&env, format!("{local}\nmigrations:\n  lock_timeout: 1s\n  lock_retries: 1\n")).unwrap();
    let env_arg = env.to_str().unwrap().to_string();
    assert_eq!(p.glctl_env(&env_arg, &["migrate", "apply"]).code, 0);
    std::fs::write(
        migrations.join("0002_index.sql"),
        "-- glctl:no-transaction\nCREATE INDEX CONCURRENTLY busy_x ON busy (x);\n",
    )
    .unwrap();

    // A writer's open transaction: the build waits for it (a lock wait, so lock_timeout ends it), is retried
    // once (its INVALID index dropped first) and gives up.
    let mut writer = holding(&p, "busy", "BEGIN; INSERT INTO busy VALUES (1); SELECT pg_sleep(6); COMMIT;");
    let held = held_lock("busy");
    assert_eq!(p.query(&held), "1", "the writer holds its lock");
    let writer_pid = p.query("SELECT pid FROM pg_stat_activity WHERE query LIKE 'BEGIN; INSERT INTO busy%'");
    let out = p.glctl_env(&env_arg, &["migrate", "apply"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    for expected in [
        "0002_index.sql: statement 1 of 1 (line 2) failed: canceling statement due to lock timeout (55P03); it \
         waited 1000 ms for a lock 2 time(s)",
        "\n  it wanted: ShareLock on the end of transaction ",
        &format!("\n  held by pid {writer_pid} (user "),
        "its query: BEGIN; INSERT INTO busy VALUES (1);",
        "\n  the INVALID index public.busy_x it left was dropped",
        "the ledger records it as partial: 0 of 1 statement(s) ran outside a transaction; the next apply resumes at \
         statement 1",
    ] {
        assert!(out.stderr.contains(expected), "missing {expected:?} in:\n{}", out.stderr);
    }
    assert_eq!(p.query("SELECT count(*) FROM pg_class WHERE relname = 'busy_x'"), "0", "no INVALID index left");
    assert_eq!(
        p.query("SELECT complete, statements_done, statements_total, stopped_by LIKE 'statement 1 of 1 (line 2): %' FROM glctl.schema_migrations WHERE version = 2"),
        "f|0|1|t"
    );
    writer.wait().unwrap();
    // The writer is gone: the next apply resumes the file and builds a valid index.
    let resumed = p.glctl_env(&env_arg, &["migrate", "apply"]);
    assert_eq!(resumed.code, 0, "{}\n{}", resumed.stdout, resumed.stderr);
    assert_eq!(
        p.query(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'busy_x'"
        ),
        "t"
    );
    assert_eq!(p.query("SELECT complete, statements_done FROM glctl.schema_migrations WHERE version = 2"), "t|1");
}

/// A psql session of the stack running `sql` in `p`'s database, returned once it holds a lock on `table`
/// (after at most 5 s of looking).
pub(crate) fn holding(p: &crate::migrate::Project, table: &str, sql: &str) -> std::process::Child {
    let s = crate::support::stack::stack();
    let conn = format!(
        "host=localhost port={} user={} password={} dbname={} sslmode=require",
        s.var("GLCTL_PG_PORT"),
        s.var("GLCTL_PG_USER"),
        s.var("GLCTL_PG_PASSWORD"),
        p.database
    );
    let holder = std::process::Command::new("psql")
        .args([conn.as_str(), "-c", sql])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let held = held_lock(table);
    for _ in 0..100 {
        if p.query(&held) == "1" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    holder
}

/// How many granted locks another session holds on `table`.
fn held_lock(table: &str) -> String {
    format!(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
         WHERE c.relname = '{table}' AND l.granted AND l.pid <> pg_backend_pid()"
    )
}

/// A statement inside a `DO $$ … $$` block is linted like any other, located at its line and column in the file.
#[test]
fn a_statement_inside_a_do_block_is_flagged_where_it_is() {
    let root = project_copy();
    let file = root.path().join("sql/migrations/0009_backfill.sql");
    std::fs::write(
        &file,
        "-- Index sensor readings by meter, if not there yet.\nDO $$\nBEGIN\n  IF to_regclass('idx_meter') IS NULL THEN\n    CREATE INDEX idx_meter ON sensor_readings (meter_serial);\n  END IF;\nEND\n$$;\n",
    )
    .unwrap();
    let out = lint(root.path(), "local-native", &[]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    let expected =
        format!("{}:5:5: error[ML003]: index idx_meter on partitioned table sensor_readings", file.display());
    assert!(out.stdout.contains(&expected), "{}", out.stdout);
    assert!(out.stdout.contains("(inside a DO block)"), "{}", out.stdout);
}

/// `migrate lint` with a database reads table sizes (partitions summed in): the same plain index is a warning
/// on a small table and an error on one of 10 MiB or more, and a partitioned table counts all its partitions.
#[test]
fn with_a_database_findings_are_graded_by_table_size() {
    let p = crate::migrate::Project::new("lint_sizes");
    let migrations = p.root.path().join("sql/migrations");
    std::fs::write(
        migrations.join("0001_tables.sql"),
        "CREATE TABLE small_t (x int, pad text);\nCREATE TABLE big_t (x int, pad text);\n\
         CREATE TABLE parted (at date NOT NULL, x int, pad text) PARTITION BY RANGE (at);\n\
         CREATE TABLE parted_a PARTITION OF parted FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');\n\
         CREATE TABLE parted_b PARTITION OF parted FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');\n",
    )
    .unwrap();
    assert_eq!(p.glctl_env("dev", &["migrate", "apply"]).code, 0);
    // About 14 MB in big_t; about 7 MB in each partition of parted (each below 10 MiB, together above).
    p.query("INSERT INTO small_t SELECT g, 'x' FROM generate_series(1, 100) g");
    p.query("INSERT INTO big_t SELECT g, repeat('x', 100) FROM generate_series(1, 100000) g");
    p.query(
        "INSERT INTO parted SELECT date '2026-01-01' + (g % 59), g, repeat('x', 100) FROM generate_series(1, 100000) g",
    );
    std::fs::write(
        migrations.join("0002_indexes.sql"),
        "CREATE INDEX small_x ON small_t (x);\nCREATE INDEX big_x ON big_t (x);\nCREATE INDEX parted_x ON parted (x);\n",
    )
    .unwrap();
    let file = migrations.join("0002_indexes.sql");
    let out = p.glctl_env("dev", &["migrate", "lint"]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    for expected in [
        format!("{}:1:1: warning[ML001]: index small_x on small_t", file.display()),
        "below 10 MiB, a short lock, so a warning]".to_string(),
        format!("{}:2:1: error[ML001]: index big_x on big_t", file.display()),
        format!("{}:3:1: error[ML003]: index parted_x on partitioned table parted", file.display()),
        "10 MiB or more, so an error]".to_string(),
        "table sizes: read from the database (".to_string(),
        "2 error(s), 1 warning(s)".to_string(),
    ] {
        assert!(out.stdout.contains(&expected), "missing {expected:?} in:\n{}", out.stdout);
    }
    // Without a database the sizes are not read, and every finding stays an error.
    let root = p.root.path().to_str().unwrap();
    let env = repo().join("environments/dev.yaml");
    let offline = glctl_in(p.root.path(), &["--root", root, "-e", env.to_str().unwrap(), "migrate", "lint"]);
    assert_eq!(offline.code, 2);
    assert!(offline.stdout.contains("table sizes: not read (no --database-url)"), "{}", offline.stdout);
    assert!(offline.stdout.contains("3 error(s), 0 warning(s)"), "{}", offline.stdout);
}
