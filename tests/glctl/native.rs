//! The native backend as RDS and Aurora run it (no TimescaleDB): the stack's PostgreSQL 15 with Debian's
//! pg_partman 4.7 and pg_cron 1.4 (preloaded, jobs in the database `glctl`), driven by the shipped dev file.

use crate::migrate::Project;
use crate::support::stack::stack;

/// Rows of `sql` in pg_cron's database, one line each.
pub(crate) fn in_cron_database(sql: &str) -> String {
    let s = stack();
    let conninfo = format!(
        "host=localhost port={} user={} password={} dbname=glctl sslmode=require",
        s.var("GLCTL_PG_PORT"),
        s.var("GLCTL_PG_USER"),
        s.var("GLCTL_PG_PASSWORD")
    );
    let out = std::process::Command::new("psql").args([conninfo.as_str(), "-At", "-c", sql]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn sensor_row(at: &str) -> String {
    format!(
        "INSERT INTO sensor_readings (reading_time, organization_id, facility_id, device_id, metric_type, value, unit)
         VALUES ({at}, gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'kwh', 1, 'kWh')"
    )
}

#[test]
fn the_native_backend_keeps_partitions_retention_summaries_and_jobs_as_the_file_says() {
    let p = Project::new("nat");
    p.use_repository_migrations();
    let apply = p.glctl_env("dev", &["apply", "--only", "database"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);

    // pg_partman configured from the environment file (dev's retentions, base's intervals).
    assert_eq!(
        p.query(
            "SELECT string_agg(concat_ws(' ', parent_table, partition_interval, premake, retention, retention_keep_table,
                     infinite_time_partitions, ignore_default_data), ', ' ORDER BY parent_table) FROM partman.part_config"
        ),
        "public.audit_logs 1 day 7 90 days f t t, public.calculation_results 7 days 4 90 days f t t, \
         public.emission_measurements 7 days 4 8 months f t t, public.sensor_readings 1 day 7 14 days f t t"
    );

    // Partitions ahead of now for the premake horizon: tomorrow and six days out land in real partitions, ten
    // days out (past 7 × 1 day) in the default partition, which plan reports as a problem.
    for at in ["now() + interval '1 day'", "now() + interval '6 days'", "now() + interval '10 days'"] {
        p.query(&sensor_row(at));
    }
    assert_eq!(p.query("SELECT count(*) FROM ONLY sensor_readings_default"), "1");
    let plan = p.glctl_env("dev", &["plan", "--only", "database", "--detailed-exitcode"]);
    assert_eq!(plan.code, 1, "{}", plan.stdout);
    assert!(
        plan.stdout.contains("PROBLEM 1 row(s) of sensor_readings are in its default partition"),
        "{}",
        plan.stdout
    );
    p.query("DELETE FROM ONLY sensor_readings_default");

    // Retention: a month-old row moved out of the default partition into its own partition is dropped with
    // that partition by maintenance (14 days in dev); recent rows stay.
    p.query(&sensor_row("now() - interval '30 days'"));
    p.query("CALL partman.partition_data_proc('public.sensor_readings')");
    assert_eq!(p.query("SELECT count(*) FROM sensor_readings WHERE reading_time < now() - interval '14 days'"), "1");
    p.query("SELECT partman.run_maintenance('public.sensor_readings')");
    assert_eq!(p.query("SELECT count(*) FROM sensor_readings WHERE reading_time < now() - interval '14 days'"), "0");
    assert_eq!(p.query("SELECT count(*) FROM sensor_readings"), "2", "recent rows are kept");

    // Summaries are selectable right after apply, and the jobs' concurrent refresh gives the aggregates.
    assert_eq!(p.query("SELECT count(*) FROM emissions_hourly_summary"), "0");
    p.query(
        "INSERT INTO emission_measurements (measurement_time, organization_id, facility_id, scope, activity_type,
             activity_value, activity_unit, co2_equivalent_kg, emission_factor_id, emission_factor_value,
             emission_factor_unit, calculation_method, lineage_hash)
         SELECT date_trunc('hour', now()) + (i || ' minutes')::interval, '00000000-0000-0000-0000-000000000001',
             '00000000-0000-0000-0000-000000000002', 'scope1', 'fuel', 1, 'l', i * 10, gen_random_uuid(), 1, 'kg/l',
             'factor', 'h'
         FROM generate_series(1, 3) AS i",
    );
    p.query("REFRESH MATERIALIZED VIEW CONCURRENTLY emissions_hourly_summary");
    assert_eq!(p.query("SELECT total_co2e_kg::int || ' ' || measurement_count FROM emissions_hourly_summary"), "60 3");

    // pg_cron jobs, in pg_cron's database, for this database, with the declared schedules.
    let prefix = format!("glctl:{}:", p.database);
    assert_eq!(
        in_cron_database(&format!(
            "SELECT string_agg(jobname || ' ' || schedule || ' ' || database, ', ' ORDER BY jobname) FROM cron.job
             WHERE jobname LIKE '{prefix}%'"
        )),
        format!(
            "{prefix}heartbeat * * * * * {db}, {prefix}partman-maintenance 7 * * * * {db}, {prefix}refresh:emissions_daily_summary */15 * * * * {db}, \
             {prefix}refresh:emissions_hourly_summary 0 * * * * {db}, {prefix}refresh:emissions_quarterly_report 0 * * * * {db}",
            db = p.database
        )
    );

    // A second apply has nothing to do.
    let again = p.glctl_env("dev", &["plan", "--only", "database", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}", again.stdout);
    assert!(again.stdout.contains("policies: match the environment file"), "{}", again.stdout);
    assert!(again.stdout.contains("note: sensor_readings: premake 7"), "the plan states its premake: {}", again.stdout);

    // A longer retention in the file plans and applies exactly one change; a shorter one needs --allow-destroy.
    let changed = |retention: &str| {
        let file = p.root.path().join("dev-changed.yaml");
        let dev = crate::support::repo().join("environments/dev.yaml");
        std::fs::write(
            &file,
            format!("extends: {}\nhypertables:\n  sensor_readings: {{ retention: {retention} }}\n", dev.display()),
        )
        .unwrap();
        file.to_str().unwrap().to_string()
    };
    let longer = changed("30 days");
    let plan = p.glctl_env(&longer, &["plan", "--only", "database", "--output", "json"]);
    let json: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap_or_else(|e| panic!("{e}: {}", plan.stdout));
    let changes = json["database"]["policies"]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(
        (changes[0]["object"].as_str(), changes[0]["setting"].as_str()),
        (Some("sensor_readings"), Some("retention"))
    );
    assert_eq!(p.glctl_env(&longer, &["apply", "--only", "database"]).code, 0);
    assert_eq!(
        p.query("SELECT retention FROM partman.part_config WHERE parent_table = 'public.sensor_readings'"),
        "30 days"
    );
    let shorter = changed("7 days");
    let refused = p.glctl_env(&shorter, &["apply", "--only", "database"]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("drops partitions older than 7 days"), "{}", refused.stderr);
    assert_eq!(p.glctl_env(&shorter, &["apply", "--only", "database", "--allow-destroy"]).code, 0);

    // The same database under an environment that says `timescaledb` is refused, with the reason.
    let switched = p.glctl_env("local", &["apply", "--only", "database"]);
    assert_eq!(switched.code, 1, "{}", switched.stdout);
    assert!(switched.stderr.contains("nothing was run"), "{}", switched.stderr);
    assert!(switched.stderr.contains("ran here as its `native` variant"), "{}", switched.stderr);
}

/// The same rows give the same summaries on both backends: materialized views on PostgreSQL 15 with
/// pg_partman, continuous aggregates on TimescaleDB (PGlite).
#[test]
fn both_backends_summarise_the_same_rows_alike() {
    let rows = "INSERT INTO emission_measurements (measurement_time, organization_id, facility_id, scope, \
        activity_type, activity_value, activity_unit, co2_equivalent_kg, emission_factor_id, emission_factor_value, \
        emission_factor_unit, calculation_method, lineage_hash, category, uncertainty_pct, data_quality_score) \
        SELECT timestamptz '2026-11-20 00:00:00+00' + make_interval(mins => i * 37), \
        '00000000-0000-0000-0000-000000000001', ('00000000-0000-0000-0000-00000000000' || (i % 3))::uuid, \
        CASE WHEN i % 2 = 0 THEN 'scope_1' ELSE 'scope_2' END, 'diesel', i, 'l', i * 2.5, \
        '00000000-0000-0000-0000-0000000000ef', 2.68, 'kg/l', 'tier_1', 'h', \
        CASE WHEN i % 5 = 0 THEN NULL ELSE 'fuel' END, i % 7, i % 5 \
        FROM generate_series(1, 400) AS i";
    let queries = [
        "SELECT bucket, organization_id, facility_id, scope, round(total_co2e_kg, 4), measurement_count, \
         round(avg_uncertainty, 4), min_quality, max_quality FROM emissions_hourly_summary ORDER BY 1, 2, 3, 4",
        "SELECT bucket, organization_id, facility_id, scope, coalesce(category, '-'), round(total_co2e_kg, 4), measurement_count, \
         round(avg_uncertainty, 4), round(p95_co2e::numeric, 4) FROM emissions_daily_summary ORDER BY 1, 2, 3, 4, 5",
        "SELECT quarter, organization_id, scope, coalesce(category, '-'), round(total_co2e_kg, 4), facility_count, measurement_count, \
         round(avg_quality, 4) FROM emissions_quarterly_report ORDER BY 1, 2, 3, 4",
    ];

    let p = Project::new("native_alike");
    p.use_repository_migrations();
    let apply = p.glctl_env("dev", &["apply", "--only", "database"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    p.query(rows);
    for view in ["emissions_hourly_summary", "emissions_daily_summary", "emissions_quarterly_report"] {
        p.query(&format!("REFRESH MATERIALIZED VIEW CONCURRENTLY {view}"));
    }
    // psql answers the SET with a line of its own.
    let native: Vec<String> = queries
        .iter()
        .map(|q| {
            p.query(&format!("SET TIME ZONE 'UTC'; {q}")).lines().filter(|l| *l != "SET").collect::<Vec<_>>().join("\n")
        })
        .collect();

    let tsdb = crate::schema::Database::migrated();
    tsdb.rows(rows);
    for view in ["emissions_hourly_summary", "emissions_daily_summary", "emissions_quarterly_report"] {
        tsdb.rows(&format!("CALL refresh_continuous_aggregate('{view}', NULL, NULL)"));
    }
    for (query, native) in queries.iter().zip(native) {
        let timescaledb = tsdb.rows(&format!("SET TIME ZONE 'UTC'; {query}")).join("\n");
        assert!(native.lines().count() > 3, "{query}: {} rows", native.lines().count());
        let first_difference = native.lines().zip(timescaledb.lines()).find(|(a, b)| a != b);
        assert_eq!(first_difference, None, "{query}: native | timescaledb");
        assert_eq!(native.lines().count(), timescaledb.lines().count(), "{query}");
    }
}

/// The shipped staging and prod files (dev is above) apply to the native backend and plan clean afterwards.
#[test]
fn staging_and_prod_apply_on_the_native_backend_and_plan_clean() {
    for env in ["staging", "prod"] {
        let p = Project::new(&format!("native_{env}"));
        p.use_repository_migrations();
        let apply = p.glctl_env(env, &["apply", "--only", "database"]);
        assert_eq!(apply.code, 0, "{env}: {}\n{}", apply.stdout, apply.stderr);
        let plan = p.glctl_env(env, &["plan", "--only", "database", "--detailed-exitcode"]);
        assert_eq!(plan.code, 0, "{env}: {}", plan.stdout);
        assert_eq!(p.query("SELECT count(*) FROM partman.part_config WHERE infinite_time_partitions"), "4", "{env}");
    }
}
