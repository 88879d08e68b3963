//! Declared indexes on the native backend (the stack's PostgreSQL 15, pg_partman 4.7): `apply` builds them on
//! every partition without blocking writes, pg_partman's next partition has them, a build that fails leaves
//! no INVALID partition index, and `plan`, `drift` and `verify` see what is missing, INVALID or extra.

use crate::migrate::Project;

/// dev (native, pg_partman) with two indexes declared on emission_measurements.
fn declared(p: &Project, extra: &str) -> String {
    let file = p.root.path().join("dev-indexes.yaml");
    let dev = crate::support::repo().join("environments/dev.yaml");
    std::fs::write(
        &file,
        format!(
            "extends: {}
hypertables:
  emission_measurements:
    indexes:
      - name: em_facility_time
        columns: [facility_id, measurement_time DESC]
      - name: em_scope1
        columns: [organization_id]
        method: brin
        where: \"scope = 'scope_1'\"
{extra}",
            dev.display()
        ),
    )
    .unwrap();
    file.to_str().unwrap().to_string()
}

/// (partitions, partitions whose index is attached to `index` and valid).
fn coverage(p: &Project, index: &str) -> String {
    p.query(&format!(
        "SELECT count(*) || ' ' || count(ci.oid) FILTER (WHERE cx.indisvalid)
           FROM pg_inherits h
           LEFT JOIN pg_inherits hi ON hi.inhparent = '{index}'::regclass
                AND hi.inhrelid IN (SELECT indexrelid FROM pg_index WHERE indrelid = h.inhrelid)
           LEFT JOIN pg_class ci ON ci.oid = hi.inhrelid
           LEFT JOIN pg_index cx ON cx.indexrelid = ci.oid
          WHERE h.inhparent = 'emission_measurements'::regclass"
    ))
}

fn invalid_indexes(p: &Project) -> String {
    p.query(
        "SELECT coalesce(string_agg(indexrelid::regclass::text, ', ' ORDER BY 1), '') FROM pg_index
          WHERE NOT indisvalid AND indrelid IN (SELECT inhrelid FROM pg_inherits
                WHERE inhparent = 'emission_measurements'::regclass)",
    )
}

/// Runs `sql` in the project's database and expects the server to refuse it.
fn query_fails(p: &Project, sql: &str) {
    let s = crate::support::stack::stack();
    let conninfo = format!(
        "host=localhost port={} user={} password={} dbname={} sslmode=require",
        s.var("GLCTL_PG_PORT"),
        s.var("GLCTL_PG_USER"),
        s.var("GLCTL_PG_PASSWORD"),
        p.database
    );
    let out = std::process::Command::new("psql").args([conninfo.as_str(), "-c", sql]).output().unwrap();
    assert!(!out.status.success(), "{sql} should fail");
}

fn emission_rows(p: &Project, at: &str, lineage: &str, count: u32) {
    p.query(&format!(
        "INSERT INTO emission_measurements (measurement_time, organization_id, facility_id, scope, activity_type,
             activity_value, activity_unit, co2_equivalent_kg, emission_factor_id, emission_factor_value,
             emission_factor_unit, calculation_method, lineage_hash)
         SELECT {at}, gen_random_uuid(), gen_random_uuid(), 'scope_1', 'fuel', 1, 'l', 1, gen_random_uuid(), 1,
             'kg/l', 'factor', '{lineage}'
         FROM generate_series(1, {count})"
    ));
}

#[test]
fn declared_indexes_are_built_on_every_partition_and_pg_partman_s_next_partition_has_them() {
    let p = Project::new("idx");
    p.use_repository_migrations();
    let env = declared(&p, "");

    let apply = p.glctl_env(&env, &["apply", "--only", "database"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert!(apply.stdout.contains("built without blocking writes"), "{}", apply.stdout);

    // Every partition, the default one included, carries each index, attached to the parent's, which is valid.
    let partitions: String =
        p.query("SELECT count(*) FROM pg_inherits WHERE inhparent = 'emission_measurements'::regclass");
    assert!(partitions.parse::<u32>().unwrap() >= 5, "premake 4 + default: {partitions}");
    for index in ["em_facility_time", "em_scope1"] {
        assert_eq!(coverage(&p, index), format!("{partitions} {partitions}"), "{index}");
        assert_eq!(p.query(&format!("SELECT indisvalid FROM pg_index WHERE indexrelid = '{index}'::regclass")), "t");
    }
    assert_eq!(p.query("SELECT count(*) FROM pg_indexes WHERE indexname = 'em_facility_time_default'"), "1");
    assert_eq!(
        p.query("SELECT indexdef FROM pg_indexes WHERE indexname = 'em_scope1_default'"),
        "CREATE INDEX em_scope1_default ON public.emission_measurements_default USING brin (organization_id) \
         WHERE ((scope)::text = 'scope_1'::text)"
    );
    // pg_partman's template table has them too.
    let template =
        p.query("SELECT template_table FROM partman.part_config WHERE parent_table = 'public.emission_measurements'");
    assert_eq!(
        p.query(&format!("SELECT count(*) FROM pg_indexes WHERE schemaname || '.' || tablename = '{template}'")),
        "2",
        "{template}"
    );

    // A partition pg_partman makes later (as its maintenance does, past the premake horizon) has every
    // index, once.
    p.query("SELECT partman.create_partition_time('public.emission_measurements', ARRAY[now() + interval '90 days'])");
    let newest = p.query(
        "SELECT c.relname FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
          WHERE h.inhparent = 'emission_measurements'::regclass AND c.relname <> 'emission_measurements_default'
          ORDER BY c.relname DESC LIMIT 1",
    );
    let more: String = p.query("SELECT count(*) FROM pg_inherits WHERE inhparent = 'emission_measurements'::regclass");
    assert!(more.parse::<u32>().unwrap() > partitions.parse::<u32>().unwrap(), "maintenance made partitions");
    assert_eq!(coverage(&p, "em_facility_time"), format!("{more} {more}"), "the new ones have it: {newest}");
    assert_eq!(
        p.query(&format!(
            "SELECT count(*) FROM pg_index x WHERE x.indrelid = '{newest}'::regclass
                AND pg_get_indexdef(x.indexrelid) LIKE '%(facility_id, measurement_time DESC)%'"
        )),
        "1",
        "exactly one copy on {newest}"
    );

    // Plan: present on every partition, nothing to do.
    let plan = p.glctl_env(&env, &["plan", "--only", "database", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains(&format!("= emission_measurements.em_facility_time: present ({more} of {more} partitions)")),
        "{}",
        plan.stdout
    );

    // verify FA-05 holds the indexes as evidence; drift is clean.
    let out = p.root.path().to_str().unwrap().to_string();
    let fa05 = p.glctl_env(&env, &["verify", "--out", &out, "--only", "FA-05", "--format", "json"]);
    assert_eq!(fa05.code, 0, "{}\n{}", fa05.stdout, fa05.stderr);
    assert!(fa05.stdout.contains("em_scope1: present"), "{}", fa05.stdout);
    let drift = p.glctl_env(&env, &["drift", "--only", "database", "--output", "json"]);
    assert_eq!(drift.code, 0, "{}\n{}", drift.stdout, drift.stderr);

    // By hand: one partition's index dropped, an index nobody declared. Drift, plan and verify see both.
    p.query("CREATE INDEX em_by_hand ON ONLY emission_measurements (scope)");
    p.query("ALTER INDEX em_facility_time_default RENAME TO em_renamed; DROP INDEX em_scope1");
    let drift = p.glctl_env(&env, &["drift", "--only", "database", "--output", "json"]);
    assert_eq!(drift.code, 1, "{}\n{}", drift.stdout, drift.stderr);
    assert!(drift.stdout.contains("indexes: emission_measurements.em_by_hand"), "{}", drift.stdout);
    assert!(drift.stdout.contains("indexes: emission_measurements.em_scope1"), "{}", drift.stdout);
    let fa05 = p.glctl_env(&env, &["verify", "--out", &out, "--only", "FA-05", "--format", "json"]);
    assert_eq!(fa05.code, 1, "{}\n{}", fa05.stdout, fa05.stderr);
    assert!(fa05.stdout.contains("em_scope1: to create"), "{}", fa05.stdout);
    let apply = p.glctl_env(&env, &["apply", "--only", "database"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert_eq!(coverage(&p, "em_scope1"), format!("{more} {more}"));
    assert_eq!(invalid_indexes(&p), "");
}

#[test]
fn a_build_that_fails_on_one_partition_leaves_no_invalid_index_and_the_next_apply_finishes_it() {
    let p = Project::new("idxfail");
    p.use_repository_migrations();
    let plain = declared(&p, "");
    let apply = p.glctl_env(&plain, &["apply", "--only", "database"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);

    // Two rows one unique index cannot hold, in the default partition (a year ahead of every partition).
    emission_rows(&p, "now() + interval '1 year'", "same", 2);
    let unique = declared(
        &p,
        "      - name: em_lineage_unique\n        columns: [lineage_hash, measurement_time]\n        unique: true\n",
    );
    let failed = p.glctl_env(&unique, &["apply", "--only", "database"]);
    assert_ne!(failed.code, 0, "{}\n{}", failed.stdout, failed.stderr);
    assert!(
        failed.stderr.contains("building index em_lineage_unique on emission_measurements_default failed")
            && failed.stderr.contains("could not create unique index")
            && failed.stderr.contains("half-built INVALID index was dropped"),
        "{}",
        failed.stderr
    );
    assert_eq!(invalid_indexes(&p), "", "no INVALID partition index is left behind");
    let plan = p.glctl_env(&unique, &["plan", "--only", "database", "--detailed-exitcode"]);
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("~ emission_measurements.em_lineage_unique: incomplete"), "{}", plan.stdout);

    // A build killed mid-way (here: one run by hand that fails) leaves an INVALID index under the name glctl
    // gives that partition's index: plan names it, the next apply drops it before building.
    query_fails(
        &p,
        "CREATE UNIQUE INDEX CONCURRENTLY em_lineage_unique_default ON emission_measurements_default (lineage_hash, measurement_time)",
    );
    assert_eq!(invalid_indexes(&p), "em_lineage_unique_default");
    let plan = p.glctl_env(&unique, &["plan", "--only", "database"]);
    assert!(plan.stdout.contains("INVALID on emission_measurements_default"), "{}", plan.stdout);

    // The duplicate gone, the next apply builds only what is missing and the parent's index turns valid.
    p.query("DELETE FROM emission_measurements WHERE lineage_hash = 'same'");
    let again = p.glctl_env(&unique, &["apply", "--only", "database"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(again.stdout.contains("emission_measurements_default.em_lineage_unique_default"), "{}", again.stdout);
    assert_eq!(p.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'em_lineage_unique'::regclass"), "t");
    let n: String = p.query("SELECT count(*) FROM pg_inherits WHERE inhparent = 'emission_measurements'::regclass");
    assert_eq!(coverage(&p, "em_lineage_unique"), format!("{n} {n}"));
    assert_eq!(invalid_indexes(&p), "");
}

/// TimescaleDB on PGlite, the stand-in: PGlite cannot run `timescaledb.transaction_per_chunk` (one backend
/// that cannot commit mid-statement; tried: "tuple concurrently deleted", then a catalog that refuses DROP
/// INDEX), and it serves one connection, so glctl builds there in one transaction — no other writer exists.
/// The index is valid on every chunk, and drift stays clean (TimescaleDB's own time index and the
/// migrations' indexes are not extra). The per-chunk SQL itself is a unit test of `database::indexes`.
#[test]
fn on_timescaledb_stand_in_pglite_a_declared_index_is_valid_on_every_chunk_and_drift_stays_clean() {
    use crate::support::stack::{dedicated_timescaledb, timescaledb_connect_to};
    use crate::support::{glctl_in, repo};
    let port = dedicated_timescaledb();
    let url = format!("postgres://postgres:postgres@127.0.0.1:{port}/postgres?sslmode=disable");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap().to_string();
    let env = dir.path().join("local-indexes.yaml");
    std::fs::write(
        &env,
        format!(
            "extends: {}\nhypertables:\n  sensor_readings:\n    indexes:\n      - name: sr_device_time\n        columns: [device_id, reading_time DESC]\n",
            repo().join("environments/local.yaml").display()
        ),
    )
    .unwrap();
    let glctl = |env: &str, args: &[&str]| {
        let mut all = vec!["-e", env, "--database-url", &url];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--out", &out]);
        glctl_in(&repo(), &all)
    };
    let sql = |statement: &str| -> String {
        crate::support::runtime().block_on(async {
            let (client, task) = timescaledb_connect_to(port).await;
            let rows = client.simple_query(statement).await.unwrap();
            drop(client);
            let _ = task.await;
            rows.iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join(",")
        })
    };
    let apply = glctl("local", &["apply", "--only", "database"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    // Rows in three chunks (a day each) before the index is declared.
    sql("INSERT INTO sensor_readings (reading_time, organization_id, facility_id, device_id, metric_type, value, unit)
         SELECT now() - (i || ' days')::interval, gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'kwh', 1, 'kWh'
         FROM generate_series(0, 2) AS i");
    let env = env.to_str().unwrap();
    let plan = glctl(env, &["plan", "--only", "database"]);
    assert!(plan.stdout.contains("+ sensor_readings.sr_device_time: to create"), "{}\n{}", plan.stdout, plan.stderr);

    let apply = glctl(env, &["apply", "--only", "database"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert!(
        apply.stdout.contains("sensor_readings.sr_device_time (one transaction: a single-backend"),
        "{}",
        apply.stdout
    );
    assert_eq!(sql("SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'sr_device_time'::regclass"), "true");
    let chunks =
        sql("SELECT count(*)::text FROM timescaledb_information.chunks WHERE hypertable_name = 'sensor_readings'");
    assert!(chunks.parse::<u32>().unwrap() >= 3, "{chunks}");
    assert_eq!(
        sql("SELECT count(*)::text FROM pg_indexes WHERE schemaname = '_timescaledb_internal'
              AND indexname LIKE '%sr_device_time'"),
        chunks,
        "one index per chunk"
    );
    let drift = glctl(env, &["drift", "--only", "database", "--output", "json"]);
    assert_eq!(drift.code, 0, "{}\n{}", drift.stdout, drift.stderr);
    let again = glctl(env, &["plan", "--only", "database"]);
    assert!(again.stdout.contains("= sensor_readings.sr_device_time: present"), "{}", again.stdout);
}

/// A long write transaction on the parent: the parent's `ON ONLY` index waits at most `lock_timeout` (2 s by
/// default) each time, so writers queued behind it wait no longer, and is tried again after a backoff. Held
/// 3 s, a retry gets the lock and the build finishes; held past every retry, apply fails naming the index,
/// the table and the lock timeout, and leaves no INVALID index.
#[test]
fn a_write_transaction_on_the_parent_is_waited_out_within_the_bound_or_named() {
    let p = Project::new("idxlock");
    p.use_repository_migrations();
    let apply = p.glctl_env("dev", &["apply", "--only", "database"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let env = declared(&p, "");
    let insert = "INSERT INTO emission_measurements (measurement_time, organization_id, facility_id, scope,
        activity_type, activity_value, activity_unit, co2_equivalent_kg, emission_factor_id, emission_factor_value,
        emission_factor_unit, calculation_method, lineage_hash) VALUES (now(), gen_random_uuid(), gen_random_uuid(),
        'scope_1', 'fuel', 1, 'l', 1, gen_random_uuid(), 1, 'kg/l', 'factor', 'held')";

    let mut writer =
        crate::lint::holding(&p, "emission_measurements", &format!("BEGIN; {insert}; SELECT pg_sleep(3); COMMIT;"));
    let started = std::time::Instant::now();
    let apply = p.glctl_env(&env, &["apply", "--only", "database"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert!(started.elapsed() >= std::time::Duration::from_secs(2), "it waited for the writer");
    writer.wait().unwrap();
    let n: String = p.query("SELECT count(*) FROM pg_inherits WHERE inhparent = 'emission_measurements'::regclass");
    assert_eq!(coverage(&p, "em_facility_time"), format!("{n} {n}"));

    p.query("DROP INDEX em_facility_time; DROP INDEX em_scope1");
    let mut writer =
        crate::lint::holding(&p, "emission_measurements", &format!("BEGIN; {insert}; SELECT pg_sleep(30); COMMIT;"));
    let apply = p.glctl_env(&env, &["apply", "--only", "database"]);
    writer.kill().unwrap();
    let _ = writer.wait();
    assert_eq!(apply.code, 1, "{}\n{}", apply.stdout, apply.stderr);
    assert!(
        apply.stderr.contains("building index em_facility_time on emission_measurements failed")
            && apply.stderr.contains("lock timeout (55P03)"),
        "{}",
        apply.stderr
    );
    assert_eq!(invalid_indexes(&p), "");
}
