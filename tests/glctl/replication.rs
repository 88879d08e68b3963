//! The stack's PostgreSQL 15 streams over TLS to a synchronous and an asynchronous standby; `verify` decides
//! FA-02 and FA-03 from the writer's `pg_stat_replication` and from each standby's own side, and a stopped
//! standby FAILs by name (on a stack of the test's own, so the shared one stays whole).

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use crate::support::stack::stack;
use crate::support::{glctl_aws, repo};

/// The settings of a stack's env file.
fn vars(dir: &Path) -> HashMap<String, String> {
    let text = std::fs::read_to_string(dir.join("env")).unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.split('\'').nth(1).unwrap_or(v).to_string()))
        .collect()
}

/// An external environment on the stack's PostgreSQL 15 that declares its two standbys.
fn environment(dir: &Path, v: &dyn Fn(&str) -> String) -> std::path::PathBuf {
    let file = dir.join("replicated.yaml");
    let yaml = format!(
        "project: greenlang
tier: non-production
aws: {{ account_id: \"123456789012\", region: us-east-1 }}
engine: {{ kind: external, version: \"15.8\" }}
timeseries: {{ backend: native }}
connection: {{ host: localhost, port: {}, database: glctl, tls_mode: verify-full, credentials_secret: admin }}
secrets:
  admin: {{ name: greenlang/replicated/admin, username: glctl_admin }}
replication:
  standbys:
    - {{ name: standby_sync, mode: sync, port: {} }}
    - {{ name: standby_async, mode: async, port: {} }}
",
        v("GLCTL_PG_PORT"),
        v("GLCTL_PG_SYNC_PORT"),
        v("GLCTL_PG_ASYNC_PORT")
    );
    std::fs::write(&file, yaml).unwrap();
    file
}

fn url(v: &dyn Fn(&str) -> String) -> String {
    format!(
        "postgres://{}:{}@localhost:{}/glctl?sslmode=verify-full&sslrootcert={}",
        v("GLCTL_PG_USER"),
        v("GLCTL_PG_PASSWORD"),
        v("GLCTL_PG_PORT"),
        v("GLCTL_PG_CA")
    )
}

/// FA-02 and FA-03 of `glctl verify --only FA-02,FA-03` (exit code, results by id).
fn verify(dir: &Path, v: &dyn Fn(&str) -> String) -> (i32, HashMap<String, serde_json::Value>, String) {
    let env = environment(dir, v);
    let out = dir.join("out");
    let run = glctl_aws(
        &v("AWS_ENDPOINT_URL"),
        dir,
        &[
            "--root",
            repo().to_str().unwrap(),
            "verify",
            "-e",
            env.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--database-url",
            &url(v),
            "--only",
            "FA-02,FA-03",
            "--format",
            "json",
        ],
    );
    let parsed: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    let results = parsed["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r.clone()))
        .collect();
    (run.code, results, run.stderr)
}

#[test]
fn fa02_and_fa03_pass_on_the_streaming_topology_with_evidence_from_both_sides() {
    let s = stack();
    let v = |name: &str| s.var(name).to_string();
    let dir = tempfile::tempdir().unwrap();
    let (code, results, stderr) = verify(dir.path(), &v);
    assert_eq!(code, 0, "{results:#?}\n{stderr}");
    for (id, name, mode) in [("FA-02", "standby_sync", "sync"), ("FA-03", "standby_async", "async")] {
        let r = &results[id];
        assert_eq!(r["status"], "PASS", "{r:#}");
        let evidence = r["evidence"].to_string();
        assert!(evidence.contains(&format!("{name}: streaming/{mode}")), "{evidence}");
        assert!(evidence.contains("in recovery true, replayed up to "), "{evidence}");
    }
}

/// A stack of this test's own: its async standby is stopped, and FA-03 FAILs naming it while FA-02 still
/// passes; the sync standby stopped too, FA-02 FAILs naming it. `stop` then stops what is left.
#[test]
fn a_stopped_standby_fails_its_check_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let stack_dir = dir.path().join("stack");
    let script = repo().join("scripts/stack");
    let start = Command::new(&script).args(["start", "--dir"]).arg(&stack_dir).output().unwrap();
    assert!(start.status.success(), "{}", String::from_utf8_lossy(&start.stderr));
    let vars = vars(&stack_dir);
    let v = |name: &str| vars[name].clone();
    let pg_home = std::fs::read_to_string(stack_dir.join("pg-home")).unwrap().trim().to_string();
    let stop_standby = |name: &str| {
        let data = format!("{pg_home}/{name}/data");
        let pg_ctl = "/usr/lib/postgresql/15/bin/pg_ctl";
        let mut command = if nix_is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", pg_ctl]);
            c.current_dir(&pg_home);
            c
        } else {
            Command::new(pg_ctl)
        };
        let out = command.args(["-D", &data, "-m", "fast", "-w", "stop"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };

    stop_standby("standby_async");
    let (code, results, stderr) = verify(dir.path(), &v);
    assert_eq!(code, 1, "{results:#?}\n{stderr}");
    assert_eq!(results["FA-02"]["status"], "PASS", "{:#}", results["FA-02"]);
    assert_eq!(results["FA-03"]["status"], "FAIL", "{:#}", results["FA-03"]);
    let reason = results["FA-03"]["reason"].as_str().unwrap();
    assert!(reason.contains("standby_async is not streaming"), "{reason}");
    assert!(
        reason.contains(&format!("standby_async at localhost:{} cannot be reached", v("GLCTL_PG_ASYNC_PORT"))),
        "{reason}"
    );
    // A failover drill never starts on a broken topology: HA-01 is ERROR, its command never ran.
    let ran = dir.path().join("ran");
    let drill = dir.path().join("drill.yaml");
    let yaml = std::fs::read_to_string(environment(dir.path(), &v)).unwrap();
    std::fs::write(&drill, format!("{yaml}drills: {{ failover_command: [touch, '{}'] }}\n", ran.display())).unwrap();
    let run = glctl_aws(
        &v("AWS_ENDPOINT_URL"),
        dir.path(),
        &["--root", repo().to_str().unwrap(), "verify", "-e", drill.to_str().unwrap(), "--out"]
            .into_iter()
            .chain([dir.path().join("out").to_str().unwrap(), "--database-url", &url(&v)])
            .chain(["--drills", "--only", "HA-01"])
            .collect::<Vec<_>>(),
    );
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "the topology is not whole before the drill, nothing was caused: after 5 s: not streaming: standby_async"
        ),
        "{}",
        run.stdout
    );
    assert!(!ran.exists(), "the failover command never ran");

    stop_standby("standby_sync");
    let (_, results, _) = verify(dir.path(), &v);
    assert_eq!(results["FA-02"]["status"], "FAIL", "{:#}", results["FA-02"]);
    assert!(results["FA-02"]["reason"].as_str().unwrap().contains("standby_sync is not streaming"));

    let stop = Command::new(&script).args(["stop", "--dir"]).arg(&stack_dir).output().unwrap();
    assert!(stop.status.success(), "{}", String::from_utf8_lossy(&stop.stderr));
    assert!(!Path::new(&pg_home).exists(), "stop removes the private directory with the standbys' data");
}

fn nix_is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}
