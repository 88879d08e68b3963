use std::path::Path;

use super::{lint, lint_sql, Finding, Knowledge, Rule, Severity};
use crate::config::model::Backend;
use crate::database::migrate::discover;

/// Tables an earlier migration made (so they hold rows): a pg_partman-style parent, a plain table, a summary.
const EARLIER: &str = "
CREATE TABLE emission_measurements (id bigint, measurement_time timestamptz NOT NULL, scope varchar(20),
    PRIMARY KEY (measurement_time, id)) PARTITION BY RANGE (measurement_time);
CREATE TABLE readings (id bigint, note varchar(50), amount numeric(20, 6), legacy text);
CREATE MATERIALIZED VIEW summary AS SELECT 1 AS x WITH NO DATA;
CREATE TABLE plain_parent (id bigint, t timestamptz) PARTITION BY RANGE (t);
";

fn native() -> Knowledge {
    let tables = ["emission_measurements".to_string()].into_iter().collect::<std::collections::BTreeSet<_>>();
    Knowledge {
        backend: Some(Backend::Native),
        partitioned: tables.clone(),
        default_partition: tables,
        compatibility_previous: false,
        runner_bounds_lock_wait: false,
        sizes: None,
    }
}

fn timescale() -> Knowledge {
    Knowledge { backend: Some(Backend::Timescaledb), ..Knowledge::default() }
}

/// `(line, column, rule id)` of each finding.
fn found(findings: &[Finding]) -> Vec<(usize, usize, &'static str)> {
    findings.iter().map(|f| (f.line, f.column, f.rule.id())).collect()
}

fn in_tx(sql: &str) -> Vec<(usize, usize, &'static str)> {
    found(&lint_sql(sql, false, &native(), EARLIER))
}

fn alone(sql: &str) -> Vec<(usize, usize, &'static str)> {
    found(&lint_sql(sql, true, &native(), EARLIER))
}

const BOUNDED: &str = "SET lock_timeout = '2s';\n";

#[test]
fn ml001_an_index_without_concurrently_on_a_table_that_holds_rows() {
    let f = lint_sql("-- why\n  CREATE INDEX readings_note ON readings (note);", false, &native(), EARLIER);
    assert_eq!(found(&f), vec![(2, 3, "ML001")]);
    assert_eq!(f[0].severity, Severity::Error);
    assert_eq!(f[0].file, "m.sql");
    assert!(f[0].message.contains("index readings_note on readings is built without CONCURRENTLY"), "{}", f[0]);
    assert!(f[0].recipe.contains("CREATE INDEX CONCURRENTLY"));
    assert_eq!(alone("CREATE INDEX CONCURRENTLY readings_note ON readings (note);"), vec![]);
    // A table made by the same migration is empty; a materialized view has no writers but its refresh.
    assert_eq!(in_tx("CREATE TABLE t (a int);\nCREATE INDEX t_a ON t (a);"), vec![]);
    assert_eq!(in_tx("CREATE UNIQUE INDEX summary_x ON summary (x);"), vec![]);
}

#[test]
fn ml002_concurrently_inside_a_transaction() {
    assert_eq!(in_tx("CREATE INDEX CONCURRENTLY readings_note ON readings (note);"), vec![(1, 1, "ML002")]);
    assert_eq!(in_tx("DROP INDEX CONCURRENTLY readings_note;"), vec![(1, 1, "ML002")]);
    assert_eq!(
        alone("BEGIN;\nCREATE INDEX CONCURRENTLY readings_note ON readings (note);\nCOMMIT;"),
        vec![(2, 1, "ML002")]
    );
    assert_eq!(alone("DROP INDEX CONCURRENTLY readings_note;"), vec![]);
}

#[test]
fn ml003_an_index_on_a_partitioned_parent_has_the_backends_recipe() {
    let f = lint_sql("CREATE INDEX em_source ON emission_measurements (scope);", false, &native(), EARLIER);
    assert_eq!(found(&f), vec![(1, 1, "ML003")]);
    assert!(f[0].message.contains("partitioned table emission_measurements"), "{}", f[0]);
    assert!(f[0].recipe.contains("ON ONLY") && f[0].recipe.contains("ATTACH PARTITION"), "{}", f[0].recipe);
    // Known from the migrations too (PARTITION BY), and CONCURRENTLY does not make it safe.
    assert_eq!(alone("CREATE INDEX CONCURRENTLY p_t ON plain_parent (t);"), vec![(1, 1, "ML003")]);
    // The recipe's own first step is fine.
    assert_eq!(in_tx("CREATE INDEX em_source ON ONLY emission_measurements (scope);"), vec![]);

    let hyper = "CREATE TABLE m (t timestamptz NOT NULL, v int);\nSELECT create_hypertable('m', by_range('t'));";
    let f = lint_sql("CREATE INDEX m_v ON m (v);", false, &timescale(), hyper);
    assert_eq!(found(&f), vec![(1, 1, "ML003")]);
    assert!(f[0].message.contains("hypertable m"), "{}", f[0]);
    assert!(f[0].recipe.contains("timescaledb.transaction_per_chunk"), "{}", f[0].recipe);
    let per_chunk = "CREATE INDEX m_v ON m (v) WITH (timescaledb.transaction_per_chunk);";
    assert_eq!(found(&lint_sql(per_chunk, true, &timescale(), hyper)), vec![]);
    assert_eq!(found(&lint_sql(per_chunk, false, &timescale(), hyper)), vec![(1, 1, "ML002")]);
}

#[test]
fn ml004_add_column_with_a_volatile_default() {
    let f = lint_sql(
        &format!("{BOUNDED}ALTER TABLE readings ADD COLUMN r float8 DEFAULT random();"),
        false,
        &native(),
        EARLIER,
    );
    assert_eq!(found(&f), vec![(2, 1, "ML004")]);
    assert!(f[0].message.contains("volatile default (random())"), "{}", f[0]);
    assert_eq!(
        in_tx(&format!("{BOUNDED}ALTER TABLE readings ADD COLUMN u uuid DEFAULT gen_random_uuid();")),
        vec![(2, 1, "ML004")]
    );
    assert_eq!(in_tx(&format!("{BOUNDED}ALTER TABLE readings ADD COLUMN n bigserial;")), vec![(2, 1, "ML004")]);
    assert_eq!(in_tx(&format!("{BOUNDED}ALTER TABLE readings ADD COLUMN at timestamptz DEFAULT now();")), vec![]);
}

#[test]
fn ml005_not_null_without_a_default() {
    let f = lint_sql(&format!("{BOUNDED}ALTER TABLE readings ADD COLUMN c int NOT NULL;"), false, &native(), EARLIER);
    assert_eq!(found(&f), vec![(2, 1, "ML005")]);
    assert!(f[0].message.contains("ADD COLUMN c NOT NULL without a default fails on readings"), "{}", f[0]);
    assert_eq!(in_tx(&format!("{BOUNDED}ALTER TABLE readings ADD COLUMN c int NOT NULL DEFAULT 0;")), vec![]);
}

#[test]
fn ml006_a_constraint_added_with_a_scan() {
    let f = lint_sql(
        &format!("{BOUNDED}ALTER TABLE readings ADD CONSTRAINT pos CHECK (amount > 0);"),
        false,
        &native(),
        EARLIER,
    );
    assert_eq!(found(&f), vec![(2, 1, "ML006")]);
    assert!(f[0].message.contains("constraint pos to readings without NOT VALID"), "{}", f[0]);
    assert_eq!(
        in_tx(&format!("{BOUNDED}ALTER TABLE readings ADD CONSTRAINT pos CHECK (amount > 0) NOT VALID;")),
        vec![]
    );
    assert_eq!(in_tx(&format!("{BOUNDED}ALTER TABLE readings ALTER COLUMN note SET NOT NULL;")), vec![(2, 1, "ML006")]);
    assert_eq!(in_tx(&format!("{BOUNDED}ALTER TABLE readings ADD CONSTRAINT u UNIQUE (id);")), vec![(2, 1, "ML006")]);
    assert_eq!(
        in_tx(&format!("{BOUNDED}ALTER TABLE readings ADD CONSTRAINT u UNIQUE USING INDEX readings_id;")),
        vec![]
    );
}

#[test]
fn ml007_a_type_change_that_rewrites() {
    let f = lint_sql(
        &format!("{BOUNDED}ALTER TABLE readings ALTER COLUMN note TYPE int USING note::int;"),
        false,
        &native(),
        EARLIER,
    );
    assert_eq!(found(&f), vec![(2, 1, "ML007")]);
    assert!(f[0].message.contains("type of readings.note to int4"), "{}", f[0]);
    assert_eq!(
        in_tx(&format!("{BOUNDED}ALTER TABLE readings ALTER COLUMN note TYPE varchar(20);")),
        vec![(2, 1, "ML007")]
    );
    assert_eq!(in_tx(&format!("{BOUNDED}ALTER TABLE readings ALTER COLUMN note TYPE varchar(100);")), vec![]);
    assert_eq!(in_tx(&format!("{BOUNDED}ALTER TABLE readings ALTER COLUMN note TYPE text;")), vec![]);
    assert_eq!(in_tx(&format!("{BOUNDED}ALTER TABLE readings ALTER COLUMN amount TYPE decimal(30, 6);")), vec![]);
}

#[test]
fn ml008_and_ml009_detach_partition() {
    let f = lint_sql(
        &format!("{BOUNDED}ALTER TABLE emission_measurements DETACH PARTITION em_p2020;"),
        false,
        &native(),
        EARLIER,
    );
    assert_eq!(found(&f), vec![(2, 1, "ML008")]);
    assert!(f[0].recipe.contains("default partition"), "{}", f[0].recipe);
    let f =
        lint_sql("ALTER TABLE emission_measurements DETACH PARTITION em_p2020 CONCURRENTLY;", true, &native(), EARLIER);
    assert_eq!(found(&f), vec![(1, 1, "ML009")]);
    assert!(f[0].message.contains("PostgreSQL refuses it"), "{}", f[0]);
    // No default partition there: CONCURRENTLY outside a transaction is the safe form.
    assert_eq!(alone("ALTER TABLE plain_parent DETACH PARTITION pp_2020 CONCURRENTLY;"), vec![]);
    let default = "CREATE TABLE pp_default PARTITION OF plain_parent DEFAULT;\n";
    let f = lint_sql(
        "ALTER TABLE plain_parent DETACH PARTITION pp_2020 CONCURRENTLY;",
        true,
        &native(),
        &format!("{EARLIER}{default}"),
    );
    assert_eq!(found(&f), vec![(1, 1, "ML009")]);
}

#[test]
fn ml010_drop_or_rename_when_the_previous_version_must_keep_working() {
    let previous = Knowledge { compatibility_previous: true, ..native() };
    let f = lint_sql(&format!("{BOUNDED}ALTER TABLE readings DROP COLUMN legacy;"), false, &previous, EARLIER);
    assert_eq!(found(&f), vec![(2, 1, "ML010")]);
    assert!(f[0].message.contains("drops column readings.legacy"), "{}", f[0]);
    let f =
        lint_sql(&format!("{BOUNDED}ALTER TABLE readings RENAME COLUMN note TO remark;"), false, &previous, EARLIER);
    assert_eq!(found(&f), vec![(2, 1, "ML010")]);
    assert_eq!(
        found(&lint_sql(&format!("{BOUNDED}DROP TABLE readings;"), false, &previous, EARLIER)),
        vec![(2, 1, "ML010")]
    );
    // Not declared: dropping is the team's call.
    assert_eq!(in_tx(&format!("{BOUNDED}ALTER TABLE readings DROP COLUMN legacy;")), vec![]);
}

#[test]
fn ml011_access_exclusive_without_a_bounded_wait() {
    let f = lint_sql("ALTER TABLE readings ADD COLUMN c int;", false, &native(), EARLIER);
    assert_eq!(found(&f), vec![(1, 1, "ML011")]);
    assert!(f[0].message.contains("ACCESS EXCLUSIVE lock on readings"), "{}", f[0]);
    assert_eq!(in_tx(&format!("{BOUNDED}ALTER TABLE readings ADD COLUMN c int;")), vec![]);
    assert_eq!(in_tx("SET LOCAL lock_timeout TO '1s';\nALTER TABLE readings ADD COLUMN c int;"), vec![]);
    assert_eq!(in_tx("SET lock_timeout = 0;\nALTER TABLE readings ADD COLUMN c int;"), vec![(2, 1, "ML011")]);
    assert_eq!(in_tx("SET lock_timeout = '1s';\nRESET lock_timeout;\nTRUNCATE readings;"), vec![(3, 1, "ML011")]);
    // migrations.lock_timeout: the runner bounds the wait of every migration.
    let bounded = Knowledge { runner_bounds_lock_wait: true, ..native() };
    assert_eq!(found(&lint_sql("ALTER TABLE readings ADD COLUMN c int;", false, &bounded, EARLIER)), vec![]);
    assert_eq!(found(&lint_sql("ALTER TABLE readings ADD COLUMN c int;", true, &bounded, EARLIER)), vec![]);
    // A SET LOCAL outside any transaction holds for nothing after it.
    assert_eq!(alone("SET LOCAL lock_timeout = '1s';\nALTER TABLE readings ADD COLUMN c int;"), vec![(2, 1, "ML011")]);
    // A foreign key takes SHARE ROW EXCLUSIVE; a new table is nobody else's yet.
    assert_eq!(in_tx("ALTER TABLE readings ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES x (id) NOT VALID;"), vec![]);
    assert_eq!(in_tx("CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN b int NOT NULL;"), vec![]);
}

#[test]
fn ml012_alter_extension_update() {
    let f = lint_sql("ALTER EXTENSION pg_partman UPDATE TO '5.1.0';", false, &native(), EARLIER);
    assert_eq!(found(&f), vec![(1, 1, "ML012")]);
    assert_eq!(in_tx("CREATE EXTENSION IF NOT EXISTS pg_partman;"), vec![]);
}

#[test]
fn a_silence_with_a_reason_silences_that_rule_for_the_next_statement_only() {
    let sql = "-- glctl:allow ML001: readings is empty in every environment until the import job runs\n\
               CREATE INDEX a ON readings (note);\n\
               CREATE INDEX b ON readings (amount);";
    assert_eq!(in_tx(sql), vec![(3, 1, "ML001")]);
    // One comment may name several rules; it is used when any of them fires.
    let two = "-- glctl:allow ML001, ML011: reason\nALTER TABLE readings ADD COLUMN c int;";
    assert_eq!(in_tx(two), vec![]);
    assert_eq!(in_tx("-- glctl:allow ML011: the table is only read by a nightly job\nTRUNCATE readings;"), vec![]);
}

#[test]
fn a_silence_without_a_reason_is_an_error_and_silences_nothing() {
    let f =
        lint_sql("SELECT 1;\n  -- glctl:allow ML001\nCREATE INDEX a ON readings (note);", false, &native(), EARLIER);
    assert_eq!(found(&f), vec![(2, 3, "ML090"), (3, 1, "ML001")]);
    assert!(f[0].message.contains("gives no reason"), "{}", f[0]);
    assert_eq!(
        in_tx("-- glctl:allow ML001:   \nCREATE INDEX a ON readings (note);"),
        vec![(1, 1, "ML090"), (2, 1, "ML001")]
    );
    assert_eq!(in_tx("-- glctl:allow ML999: because\nSELECT 1;"), vec![(1, 1, "ML091")]);
    let unused = lint_sql("-- glctl:allow ML001: nothing here\nSELECT 1;", false, &native(), EARLIER);
    assert_eq!(found(&unused), vec![(1, 1, "ML092")]);
    assert_eq!(unused[0].severity, Severity::Warning);
}

#[test]
fn sql_that_does_not_parse_is_located_in_its_statement() {
    let f = lint_sql("SELECT 1;\n\nCREATE INDEX a ON readings (note;\nSELECT 2;", false, &native(), EARLIER);
    assert_eq!(found(&f), vec![(3, 33, "ML000")]);
    assert!(f[0].message.contains("syntax error"), "{}", f[0]);
    let f = lint_sql("SELECT 1;\nCREAT TABLE t (a int);", false, &native(), EARLIER);
    assert_eq!(found(&f), vec![(2, 1, "ML000")]);
    assert!(f[0].message.contains("\"CREAT\""), "{}", f[0]);
}

#[test]
fn findings_print_file_line_column_rule_and_recipe() {
    let f = lint_sql("CREATE INDEX a ON readings (note);", false, &native(), EARLIER);
    let text = f[0].to_string();
    assert!(text.starts_with("m.sql:1:1: error[ML001]: index a on readings"), "{text}");
    assert!(text.contains("\n  safe: CREATE INDEX CONCURRENTLY"), "{text}");
}

#[test]
fn every_rule_id_is_unique_and_read_back() {
    for rule in Rule::ALL {
        assert_eq!(Rule::from_id(rule.id()), Some(rule));
    }
}

#[test]
fn the_shipped_migrations_lint_clean_on_both_backends() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/migrations");
    let tables = ["emission_measurements", "sensor_readings", "calculation_results", "audit_logs"];
    for backend in [Backend::Native, Backend::Timescaledb] {
        let partitioned: std::collections::BTreeSet<String> = tables.iter().map(|t| t.to_string()).collect();
        let default_partition = if backend == Backend::Native { partitioned.clone() } else { Default::default() };
        let knowledge = Knowledge {
            backend: Some(backend),
            partitioned,
            default_partition,
            compatibility_previous: true,
            runner_bounds_lock_wait: false,
            sizes: None,
        };
        let report = lint(&discover(&dir, backend).unwrap(), &knowledge);
        let lines: Vec<String> = report.findings.iter().map(Finding::to_string).collect();
        assert!(lines.is_empty(), "{backend:?}:\n{}", lines.join("\n"));
        assert!(report.statements > 30, "{}", report.statements);
    }
}

fn migration(version: i32, sql: &str) -> crate::database::migrate::Migration {
    crate::database::migrate::Migration {
        version,
        name: format!("m{version}"),
        path: format!("sql/migrations/{version:04}_m{version}.sql").into(),
        sql: sql.to_string(),
        checksum: String::new(),
        no_transaction: false,
        requires: vec![],
        other_variants: vec![],
    }
}

#[test]
fn a_table_made_earlier_in_the_same_run_of_apply_is_still_empty() {
    let all = [
        migration(1, "CREATE TABLE readings (at timestamptz NOT NULL, v int);"),
        migration(2, "CREATE INDEX readings_at ON readings (at);"),
    ];
    // Each on its own (migrate lint, no database): 0001 may have been applied long ago.
    let alone = lint(&all, &native());
    assert_eq!(found(&alone.findings), vec![(1, 1, "ML001")]);
    assert_eq!(alone.findings[0].file, "sql/migrations/0002_m2.sql");
    let both: std::collections::BTreeSet<String> = all.iter().map(|m| m.path.display().to_string()).collect();
    assert_eq!(super::lint_run(&all, &native(), &both).findings, vec![]);
    let only_second = [all[1].path.display().to_string()].into_iter().collect();
    let report = super::lint_run(&all, &native(), &only_second);
    assert_eq!(found(&report.findings), vec![(1, 1, "ML001")]);
    assert_eq!(report.files, 1);
}

/// A DO block's statements are linted where they are: line and column of the statement inside the body.
#[test]
fn statements_inside_a_do_block_are_linted_and_located() {
    let sql = "DO $$\nBEGIN\n  IF true THEN\n    CREATE INDEX readings_note ON readings (note);\n  END IF;\n  EXECUTE 'ALTER TABLE readings ADD COLUMN u uuid DEFAULT gen_random_uuid()';\nEND\n$$;";
    let bounded = Knowledge { runner_bounds_lock_wait: true, ..native() };
    let findings = lint_sql(sql, false, &bounded, EARLIER);
    assert_eq!(found(&findings), [(4, 5, "ML001"), (6, 12, "ML004")]);
    assert!(findings[0].message.ends_with("(inside a DO block)"), "{}", findings[0].message);
    // A silence before the DO statement covers what is inside it.
    let silenced = format!("-- glctl:allow ML001, ML004: readings is empty in every environment\n{sql}");
    assert_eq!(found(&lint_sql(&silenced, false, &bounded, EARLIER)), []);
    // A body PL/pgSQL's grammar refuses is located at the DO statement.
    let broken = lint_sql("SELECT 1;\nDO $$ BEGIN IF THEN END $$;", false, &native(), EARLIER);
    assert_eq!(found(&broken), [(2, 1, "ML000")]);
}
