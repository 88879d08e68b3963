//! `verify --drills` decides HA-01 by a failover drill measured from the client's side. The real failovers
//! (scripts/failover) run in one test on a stack of its own, stopped at its end, so the shared stack keeps its writer;
//! the drills that cause no failover (a failing, hanging or idle command, an interruption, a refusal) and the
//! RDS/Aurora API calls against moto run on the shared stack and change nothing there but a drill table.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::stack::stack;
use crate::support::{repo, runtime};

type Vars = HashMap<String, String>;

fn parse_env(text: &str) -> Vars {
    text.lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.split('\'').nth(1).unwrap_or(v).to_string()))
        .collect()
}

fn shared() -> Vars {
    let s = stack();
    [
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "GLCTL_PG_PORT",
        "GLCTL_PG_SYNC_PORT",
        "GLCTL_PG_ASYNC_PORT",
        "GLCTL_PG_USER",
        "GLCTL_PG_PASSWORD",
        "GLCTL_PG_CA",
    ]
    .iter()
    .map(|k| (k.to_string(), s.var(k).to_string()))
    .collect()
}

/// A stack of this test's own, for the drills that really fail over (an odd number of failovers swaps which
/// port writes), stopped when dropped (its watchdog is the backstop if the test process dies).
struct OwnStack {
    dir: tempfile::TempDir,
    vars: Vars,
}

impl OwnStack {
    fn start() -> OwnStack {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(repo().join("scripts/stack"))
            .args(["start", "--dir"])
            .arg(dir.path().join("stack"))
            .args(["--watch-pid", &std::process::id().to_string()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let vars = parse_env(&std::fs::read_to_string(dir.path().join("stack/env")).unwrap());
        OwnStack { dir, vars }
    }

    fn dir(&self) -> PathBuf {
        self.dir.path().join("stack")
    }
}

impl Drop for OwnStack {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("scripts/stack")).args(["stop", "--dir"]).arg(self.dir()).output();
    }
}

fn url(v: &Vars) -> String {
    format!(
        "postgres://{}:{}@localhost:{}/glctl?sslmode=verify-full&sslrootcert={}",
        v["GLCTL_PG_USER"], v["GLCTL_PG_PASSWORD"], v["GLCTL_PG_PORT"], v["GLCTL_PG_CA"]
    )
}

/// An external environment on a stack's PostgreSQL 15 (named `name`), with its standbys unless `alone`,
/// and `extra` YAML (drills, tier, acceptance).
fn environment(dir: &Path, name: &str, v: &Vars, alone: bool, extra: &str) -> PathBuf {
    let standbys = if alone {
        String::new()
    } else {
        format!(
            "replication:\n  standbys:\n    - {{ name: standby_sync, mode: sync, port: {} }}\n    - {{ name: standby_async, mode: async, port: {} }}\n",
            v["GLCTL_PG_SYNC_PORT"], v["GLCTL_PG_ASYNC_PORT"]
        )
    };
    let yaml = format!(
        "project: greenlang
aws: {{ account_id: \"123456789012\", region: us-east-1 }}
engine: {{ kind: external, version: \"15.8\" }}
timeseries: {{ backend: native }}
connection: {{ host: localhost, port: {}, database: glctl, tls_mode: verify-full, credentials_secret: admin }}
secrets:
  admin: {{ name: greenlang/{name}/admin, username: glctl_admin }}
{standbys}{extra}",
        v["GLCTL_PG_PORT"]
    );
    let file = dir.join(format!("{name}.yaml"));
    std::fs::write(&file, yaml).unwrap();
    file
}

struct Run {
    code: i32,
    results: HashMap<String, serde_json::Value>,
    stdout: String,
    stderr: String,
}

/// `glctl verify -e ENV --drills --only ONLY --format json` against the stack of `v`; the database URL goes
/// through GLCTL_DATABASE_URL, and PGPASSWORD is set too, so the failover command's environment is tested.
fn command(dir: &Path, env: &Path, v: &Vars, only: &str, extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_glctl"));
    c.args(["--root", repo().to_str().unwrap(), "verify", "-e", env.to_str().unwrap(), "--out"])
        .arg(dir.join("out"))
        .args(["--drills", "--only", only, "--format", "json"])
        .args(extra)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("GLCTL_DATABASE_URL", url(v))
        .env("PGPASSWORD", &v["GLCTL_PG_PASSWORD"]);
    for var in ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] {
        c.env(var, &v[var]);
    }
    // What `source DIR/env` gives the shipped local-replicated environment and scripts/failover.
    for var in ["GLCTL_PG_SYNC_PORT", "GLCTL_PG_ASYNC_PORT", "GLCTL_STACK_DIR"] {
        match v.get(var) {
            Some(value) => c.env(var, value),
            None => c.env_remove(var),
        };
    }
    c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    c
}

fn finish(out: std::process::Output) -> Run {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let results = serde_json::from_str::<serde_json::Value>(&stdout)
        .ok()
        .and_then(|p| p["results"].as_array().cloned())
        .unwrap_or_default()
        .into_iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r))
        .collect();
    Run { code: out.status.code().unwrap_or(-1), results, stdout, stderr }
}

fn verify(dir: &Path, env: &Path, v: &Vars, only: &str, extra: &[&str]) -> Run {
    finish(command(dir, env, v, only, extra).output().unwrap())
}

fn evidence(r: &serde_json::Value) -> String {
    r["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["observed"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The RTO in seconds from HA-01's evidence ("RTO 2.71 s (…").
fn rto(r: &serde_json::Value) -> f64 {
    let text = evidence(r);
    let after = text.split("RTO ").nth(1).unwrap_or_else(|| panic!("no RTO in {text}"));
    after.split(' ').next().unwrap().parse().unwrap()
}

/// Drill tables left in the stack's database.
fn drill_tables(v: &Vars) -> String {
    let conninfo = format!(
        "host=localhost port={} user={} password={} dbname=glctl sslmode=require",
        v["GLCTL_PG_PORT"], v["GLCTL_PG_USER"], v["GLCTL_PG_PASSWORD"]
    );
    let out = Command::new("psql")
        .args([
            conninfo.as_str(),
            "-At",
            "-c",
            "SELECT string_agg(tablename, ',') FROM pg_tables WHERE tablename LIKE 'glctl_failover_drill%'",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The shipped `local-replicated` environment on a stack of this file's own, as the README runs it: its
/// failover command holds the writer down 2 s, and HA-01 PASSes with an RTO that covers the hold and fits
/// inside the verify run that measured it (no timing margin to lose on a busy machine) and RPO 0; a second drill (the same file with `drills.simulate_with_failover`) fails
/// back with a real failover too and decides HA-02…HA-04 by it, saying so; the topology is whole afterwards
/// (FA-02 and FA-03 pass on the original ports again).
#[test]
fn two_drills_in_a_row_each_measure_a_real_failover_with_rpo_0_and_leave_the_topology_whole() {
    let own = OwnStack::start();
    let (stack_dir, v) = (own.dir(), &own.vars);
    let dir = tempfile::tempdir().unwrap();
    let env = repo().join("environments/local-replicated.yaml");
    let shipped = std::fs::read_to_string(&env).unwrap();
    assert!(shipped.contains("failover_command: [scripts/failover, --hold, \"2\"]"), "the hold this test expects");
    let hold = 2.0;
    let simulated = dir.path().join("local-replicated-simulated.yaml");
    std::fs::write(&simulated, format!("extends: {}\ndrills: {{ simulate_with_failover: true }}\n", env.display()))
        .unwrap();
    let mut writers = Vec::new();
    for (round, (env, only)) in [(&env, "HA-01"), (&simulated, "HA-01,HA-02,HA-03,HA-04")].into_iter().enumerate() {
        let started = std::time::Instant::now();
        let run = verify(dir.path(), env, v, only, &[]);
        let whole_run = started.elapsed().as_secs_f64();
        let r = &run.results["HA-01"];
        assert_eq!((run.code, r["status"].as_str()), (0, Some("PASS")), "round {round}: {r:#}\n{}", run.stderr);
        let text = evidence(r);
        let measured = rto(r);
        assert!(
            (hold..whole_run).contains(&measured),
            "round {round}: RTO {measured} s for a {hold} s hold in a run of {whole_run:.1} s\n{text}"
        );
        assert!(text.contains("RPO: 0 committed markers missing of "), "{text}");
        assert!(text.contains("standby_async streaming/async, standby_sync streaming/sync"), "{text}");
        assert!(text.contains("dropped on"), "{text}");
        let new_writer = text.split("first on ").nth(1).unwrap().split(' ').next().unwrap().to_string();
        writers.push(new_writer);
        for id in ["HA-02", "HA-03", "HA-04"].into_iter().filter(|_| round == 1) {
            let r = &run.results[id];
            assert_eq!(r["status"], "PASS", "{r:#}");
            assert!(
                r["evidence"][0]["source"].as_str().unwrap().starts_with("simulated by a forced failover: "),
                "{r:#}"
            );
            assert!((rto(r) - measured).abs() < 1e-9, "one failover decides them all");
        }
    }
    assert!(
        writers[0].ends_with(&format!(":{}", v["GLCTL_PG_SYNC_PORT"])),
        "the sync standby took over first: {writers:?}"
    );
    assert!(writers[1].ends_with(&format!(":{}", v["GLCTL_PG_PORT"])), "and the first writer came back: {writers:?}");
    assert_eq!(drill_tables(v), "");
    let whole = verify(dir.path(), &env, v, "FA-02,FA-03", &[]);
    assert_eq!(whole.code, 0, "{:#?}", whole.results);

    // A third drill, interrupted (SIGTERM) while scripts/failover runs: the command is left to finish, the
    // table is dropped on the new writer, and HA-01 says the cluster is writable.
    // scripts/failover starts each run with a `== <time> failover` line in its log (where the rebuilt
    // servers also log).
    let log = stack_dir.join("failover.log");
    let runs = || std::fs::read_to_string(&log).unwrap_or_default().lines().filter(|l| l.starts_with("== ")).count();
    let before = runs();
    let child = command(dir.path(), &env, v, "HA-01", &[]).spawn().unwrap();
    for _ in 0..600 {
        if runs() > before {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let run = finish(child.wait_with_output().unwrap());
    let r = run.results.get("HA-01").unwrap_or_else(|| panic!("exit {}\n{}\n{}", run.code, run.stdout, run.stderr));
    assert_eq!((run.code, r["status"].as_str()), (3, Some("ERROR")), "{r:#}\n{}", run.stderr);
    let reason = r["reason"].as_str().unwrap();
    let wanted =
        "interrupted: stopped after the failover command ended: the cluster is writable; drill table glctl_failover_drill_";
    assert!(reason.starts_with(wanted), "{reason}");
    assert!(reason.ends_with(&format!(":{} (the file's standby standby_sync)", v["GLCTL_PG_SYNC_PORT"])), "{reason}");
}

/// A failing, a hanging and an idle command on the shared stack: each is ERROR with its output, the
/// cluster is left writable, and the drill table is gone. The command sees neither PGPASSWORD nor
/// GLCTL_DATABASE_URL, and its output never shows the password.
#[test]
fn a_failing_a_hanging_and_an_idle_failover_command_are_errors_with_their_output() {
    let v = shared();
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str]); 3] = [
        (
            "[sh, -c, 'echo \"pw=$PGPASSWORD url=$GLCTL_DATABASE_URL\"; echo no standby to promote >&2; exit 4']",
            &["the failover command exited with exit status: 4; its output: ", "pw= url=", "no standby to promote"],
        ),
        (
            "[sh, -c, 'echo holding; sleep 60']",
            &["did not finish within 2 s (drills.failover_timeout_seconds) and was killed; its output: holding"],
        ),
        ("['true']", &["no failover happened: every committed marker", "no RTO can be measured"]),
    ];
    for (i, (command, wanted)) in cases.iter().enumerate() {
        let extra =
            format!("tier: non-production\ndrills: {{ failover_command: {command}, failover_timeout_seconds: 2 }}\n");
        let env = environment(dir.path(), &format!("ha-drill-fault-{i}"), &v, false, &extra);
        let started = std::time::Instant::now();
        let run = verify(dir.path(), &env, &v, "HA-01", &[]);
        let r = &run.results["HA-01"];
        let reason = r["reason"].as_str().unwrap_or_default();
        assert_eq!((run.code, r["status"].as_str()), (3, Some("ERROR")), "{r:#}\n{}", run.stderr);
        for w in *wanted {
            assert!(reason.contains(w), "{w}\n{reason}");
        }
        assert!(reason.contains("the cluster is writable") || reason.contains("dropped on"), "{reason}");
        assert!(!run.stdout.contains(&v["GLCTL_PG_PASSWORD"]), "{}", run.stdout);
        assert!(started.elapsed().as_secs() < 30, "{command} took {:?}", started.elapsed());
    }
}

/// No standby: HA-01 FAILs, refused before anything happened (the command never ran). A production tier
/// needs --allow-production or `acceptance.drills: allowed`.
#[test]
fn a_drill_without_a_standby_is_refused_and_production_needs_permission() {
    let v = shared();
    let dir = tempfile::tempdir().unwrap();
    let ran = dir.path().join("ran");
    let command = format!("drills: {{ failover_command: [touch, '{}'] }}\n", ran.display());
    let alone = environment(dir.path(), "ha-drill-alone", &v, true, &format!("tier: non-production\n{command}"));
    let run = verify(dir.path(), &alone, &v, "HA-01", &[]);
    let r = &run.results["HA-01"];
    assert_eq!((run.code, r["status"].as_str()), (1, Some("FAIL")), "{r:#}\n{}", run.stderr);
    let reason = r["reason"].as_str().unwrap();
    assert!(reason.contains("refused before anything happened: the topology has no standby to fail over to (replication.standbys declares none)"), "{reason}");
    assert!(!ran.exists(), "the failover command never ran");

    let production = environment(dir.path(), "ha-drill-prod", &v, true, &format!("tier: production\n{command}"));
    let refused = verify(dir.path(), &production, &v, "HA-01", &[]);
    assert_eq!(refused.code, 2, "{}\n{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains("pass --allow-production, or declare `acceptance.drills: allowed`"),
        "{}",
        refused.stderr
    );
    assert!(refused.results.is_empty(), "nothing was verified");
    let flagged = verify(dir.path(), &production, &v, "HA-01", &["--allow-production"]);
    assert_eq!(flagged.results["HA-01"]["status"], "FAIL", "{}", flagged.stderr);
    let allowed = environment(
        dir.path(),
        "ha-drill-prod-allowed",
        &v,
        true,
        &format!("tier: production\nacceptance: {{ drills: allowed }}\n{command}"),
    );
    assert_eq!(verify(dir.path(), &allowed, &v, "HA-01", &[]).results["HA-01"]["status"], "FAIL");
    assert!(!ran.exists());
}

/// SIGTERM while the failover command runs: the writer stops, the command ends on its own, the drill table
/// is dropped and HA-01 is ERROR saying the cluster is writable.
#[test]
fn an_interrupted_drill_leaves_the_cluster_writable_and_says_so() {
    let v = shared();
    let dir = tempfile::tempdir().unwrap();
    let started = dir.path().join("started");
    let extra = format!(
        "tier: non-production\ndrills: {{ failover_command: [sh, -c, 'touch {}; sleep 2'] }}\n",
        started.display()
    );
    let env = environment(dir.path(), "ha-drill-interrupted", &v, false, &extra);
    let child = command(dir.path(), &env, &v, "HA-01", &[]).spawn().unwrap();
    for _ in 0..300 {
        if started.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(started.exists(), "the drill reached its failover command");
    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let run = finish(child.wait_with_output().unwrap());
    let r = &run.results["HA-01"];
    assert_eq!((run.code, r["status"].as_str()), (3, Some("ERROR")), "{r:#}\n{}", run.stderr);
    let reason = r["reason"].as_str().unwrap();
    assert!(reason.starts_with("interrupted: stopped after the failover command ended: the cluster is writable; drill table glctl_failover_drill_"), "{reason}");
    let table = reason.split("drill table ").nth(1).unwrap().split(' ').next().unwrap();
    assert!(!drill_tables(&v).split(',').any(|t| t == table), "{table} was dropped");
}

/// A stand-in for RDS (moto): RebootDBInstance ForceFailover and FailoverDBCluster are called with the
/// modules' identifiers (moto flips the Aurora writer to the declared target), but no server moves, so
/// no RTO is measured and HA-01 is ERROR, never PASS.
#[test]
fn against_moto_the_rds_and_aurora_failover_calls_are_made_and_the_result_is_not_pass() {
    let v = shared();
    let dir = tempfile::tempdir().unwrap();
    // Names of this process's own: the shared moto outlives a test run, and a drill flips its writer.
    let (aurora_name, rds_name) =
        (format!("ha-aurora-{}", std::process::id()), format!("ha-rds-{}", std::process::id()));
    runtime().block_on(seed_moto(&v["AWS_ENDPOINT_URL"], &aurora_name, &rds_name));
    let base = repo().join("tests/fixtures/_valid.yaml");
    let aurora = dir.path().join(format!("{aurora_name}.yaml"));
    std::fs::write(
        &aurora,
        format!(
            "extends: {}\nacceptance: {{ drills: allowed }}\ndrills: {{ failover_target: replica1, failover_timeout_seconds: 2 }}\n",
            base.display()
        ),
    )
    .unwrap();
    let run = verify(dir.path(), &aurora, &v, "HA-01", &[]);
    let r = &run.results["HA-01"];
    assert_eq!(r["status"], "ERROR", "{r:#}\n{}", run.stderr);
    let reason = r["reason"].as_str().unwrap();
    for wanted in [
        "no failover happened",
        "no RTO can be measured",
        &format!("RDS FailoverDBCluster DBClusterIdentifier=greenlang-{aurora_name} TargetDBInstanceIdentifier=greenlang-{aurora_name}-replica1: accepted for greenlang-{aurora_name}"),
        &format!("writer before: greenlang-{aurora_name}-writer"),
        &format!("writer after: greenlang-{aurora_name}-replica1 in "),
        // moto's cluster endpoint is not a name DNS knows: said so, and nothing passes on it.
        &format!("the endpoint greenlang-{aurora_name}.cluster-"),
        "could not be resolved: ",
    ] {
        assert!(reason.contains(wanted), "{wanted}\n{reason}");
    }

    let rds = dir.path().join(format!("{rds_name}.yaml"));
    std::fs::write(
        &rds,
        format!(
            "extends: {}\nengine: {{ kind: rds-postgresql, multi_az: true, replicas: [] }}\nstorage: {{ type: gp3, allocated_gb: 100, max_allocated_gb: 200 }}\n\
             acceptance: {{ drills: allowed }}\ndrills: {{ failover_timeout_seconds: 2 }}\n",
            base.display()
        ),
    )
    .unwrap();
    let run = verify(dir.path(), &rds, &v, "HA-01", &[]);
    let r = &run.results["HA-01"];
    assert_eq!(r["status"], "ERROR", "{r:#}\n{}", run.stderr);
    let reason = r["reason"].as_str().unwrap();
    for wanted in [
        "no failover happened",
        &format!("RDS RebootDBInstance DBInstanceIdentifier=greenlang-{rds_name}-primary ForceFailover=true: accepted for greenlang-{rds_name}-primary"),
        "failover events: none reported",
        &format!("the endpoint greenlang-{rds_name}-primary."),
        "could not be resolved: ",
    ] {
        assert!(reason.contains(wanted), "{wanted}\n{reason}");
    }
}

/// The RDS instance `greenlang-RDS-primary` and the Aurora cluster `greenlang-AURORA` (its `writer` first,
/// then `replica1`) the drills fail over, in moto.
async fn seed_moto(endpoint: &str, aurora: &str, rds_name: &str) {
    let config = crate::support::stack::aws_config(endpoint).await;
    let rds = aws_sdk_rds::Client::new(&config);
    rds.create_db_instance()
        .db_instance_identifier(format!("greenlang-{rds_name}-primary"))
        .engine("postgres")
        .db_instance_class("db.m6g.large")
        .allocated_storage(100)
        .multi_az(true)
        .master_username("postgres")
        .master_user_password("not-a-secret-moto")
        .send()
        .await
        .unwrap();
    let cluster = format!("greenlang-{aurora}");
    rds.create_db_cluster()
        .db_cluster_identifier(&cluster)
        .engine("aurora-postgresql")
        .master_username("postgres")
        .master_user_password("not-a-secret-moto")
        .send()
        .await
        .unwrap();
    for member in ["writer", "replica1"] {
        rds.create_db_instance()
            .db_instance_identifier(format!("{cluster}-{member}"))
            .db_cluster_identifier(&cluster)
            .engine("aurora-postgresql")
            .db_instance_class("db.r6g.xlarge")
            .send()
            .await
            .unwrap();
    }
}
