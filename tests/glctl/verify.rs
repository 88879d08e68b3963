//! `glctl verify` against the real stack: the local environment signs off (every applicable check PASS, the
//! rest SKIP with a reason), deliberate breakage FAILs exactly the checks it should with the offending value
//! as evidence, the JUnit report matches a schema, and an unreachable target yields not a single PASS.

use std::path::Path;

use crate::migrate::Project;
use crate::support::stack::{dedicated_moto, dedicated_timescaledb};
use crate::support::{glctl_aws, glctl_in, repo};

fn parse_results(json: &str) -> Vec<serde_json::Value> {
    let run: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    run["results"].as_array().unwrap().clone()
}

fn with_status<'a>(results: &'a [serde_json::Value], status: &str) -> Vec<&'a str> {
    results.iter().filter(|r| r["status"] == status).map(|r| r["id"].as_str().unwrap()).collect()
}

pub(crate) fn xmllint(xml: &Path) {
    let schema = repo().join("tests/fixtures/junit/junit.xsd");
    let out = std::process::Command::new("xmllint").arg("--noout").arg("--schema").arg(schema).arg(xml).output();
    let out = out.expect("xmllint runs (scripts/setup installs libxml2-utils)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_local_environment_signs_off_with_every_applicable_check_passing() {
    let endpoint = dedicated_moto();
    let port = dedicated_timescaledb();
    let url = format!("postgres://postgres:postgres@127.0.0.1:{port}/postgres?sslmode=disable");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tf");
    let out = out.to_str().unwrap();
    let apply = glctl_aws(&endpoint, &repo(), &["apply", "-e", "local", "--out", out, "--yes", "--database-url", &url]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);

    let junit = dir.path().join("verify.xml");
    let markdown = dir.path().join("signoff.md");
    let verify = glctl_aws(
        &endpoint,
        &repo(),
        &[
            "verify",
            "-e",
            "local",
            "--out",
            out,
            "--database-url",
            &url,
            "--format",
            "json",
            "--report",
            &format!("junit={}", junit.display()),
            "--report",
            &format!("markdown={}", markdown.display()),
        ],
    );
    assert_eq!(verify.code, 0, "{}\n{}", verify.stdout, verify.stderr);
    let results = parse_results(&verify.stdout);
    assert!(with_status(&results, "FAIL").is_empty() && with_status(&results, "ERROR").is_empty(), "{results:#?}");
    let passed = with_status(&results, "PASS");
    for id in ["FA-01", "FA-04", "FA-05", "FA-06", "FA-07", "GL-02", "GL-05", "GL-07"] {
        assert!(passed.contains(&id), "{id} should pass: {passed:?}");
    }
    // moto's account is the same for any credentials: GL-01 is neither PASS nor FAIL against it, and what
    // only reads back Terraform's configuration (the key's rotation, the secret's key) says so.
    let run: serde_json::Value = serde_json::from_str(&verify.stdout).unwrap();
    assert_eq!(run["aws_emulator"]["name"], "moto", "{}", run["aws_emulator"]);
    let by_id = |id: &str| results.iter().find(|r| r["id"] == id).unwrap().clone();
    let gl01 = by_id("GL-01");
    assert_eq!((gl01["status"].as_str(), gl01["skip"].as_str()), (Some("SKIP"), Some("emulated")), "{gl01}");
    let why = gl01["reason"].as_str().unwrap();
    assert!(why.starts_with(&format!("decided by an emulator (moto at {endpoint}): ")), "{why}");
    assert!(why.ends_with("it reported PASS: 123456789012"), "{why}");
    let read_back = format!("configuration read back from moto at {endpoint}");
    for id in ["GL-02", "GL-05"] {
        assert!(by_id(id)["emulated"].as_str().unwrap().starts_with(&read_back), "{}", by_id(id));
    }
    assert!(by_id("FA-04").get("emulated").is_none(), "PostgreSQL is not emulated");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains(&format!("name=\"aws_emulator\" value=\"moto at {endpoint}\"")), "{xml}");
    assert!(xml.contains(&format!("<skipped message=\"decided by an emulator (moto at {endpoint})")), "{xml}");
    assert!(xml.contains(&format!("<system-out>[{read_back}")), "{xml}");
    let signoff = std::fs::read_to_string(&markdown).unwrap();
    assert!(signoff.contains(&format!("| AWS | **emulated by moto at {endpoint}**")), "{signoff}");
    assert!(signoff.contains(&format!("| **PASS** | **[{read_back}")), "{signoff}");
    for skipped in results.iter().filter(|r| r["status"] == "SKIP") {
        assert!(skipped["reason"].as_str().is_some_and(|r| r.len() > 10), "a skip without a reason: {skipped}");
    }
    xmllint(&junit);
    let md = std::fs::read_to_string(&markdown).unwrap();
    assert!(md.starts_with("# Acceptance verification: local"), "{md}");
    assert!(md.contains("0001_roles.sql") && md.contains("## Sign-off"), "{md}");
    let saved: Vec<_> = std::fs::read_dir(dir.path().join("tf/verify")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(saved.len(), 2, "the run is saved for promotion, with its checksum: {saved:?}");
    let json = saved.iter().find(|p| p.extension().is_some_and(|x| x == "json")).unwrap();
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    assert_eq!(run["bundle"]["digest"].as_str().map(str::len), Some(64), "the run records the bundle it verified");
    assert!(md.contains("| Bundle (SHA-256) |"), "{md}");
    let fa08 = results.iter().find(|r| r["id"] == "FA-08").unwrap();
    assert_eq!(fa08["status"], "PASS", "a fresh environment passes FA-08 without a waiver: {fa08}");

    // The text a person reads says the same on each result's line and in the summary.
    let text = glctl_aws(
        &endpoint,
        &repo(),
        &["verify", "-e", "local", "--out", out, "--database-url", &url, "--only", "GL-01,GL-02,FA-04"],
    );
    assert_eq!(text.code, 0, "{}\n{}", text.stdout, text.stderr);
    let line = |id: &str| text.stdout.lines().find(|l| l.contains(id)).unwrap_or_else(|| panic!("{}", text.stdout));
    assert!(line("GL-01").starts_with("SKIP") && line("GL-01").contains("decided by an emulator (moto at"));
    assert!(line("GL-02").starts_with("PASS") && line("GL-02").contains(&format!("[{read_back}")), "{}", text.stdout);
    assert!(!line("FA-04").contains("emulat"), "{}", text.stdout);
    assert!(
        text.stdout.contains(&format!("; AWS emulated by moto at {endpoint} (1 not decided there)")),
        "{}",
        text.stdout
    );

    // Without its waivers the same target fails exactly what the local stack cannot do, with the evidence.
    let unwaived = dir.path().join("local-unwaived.yaml");
    let local = std::fs::read_to_string(repo().join("environments/local.yaml")).unwrap();
    let cut = local.find("\nacceptance:").expect("local.yaml has waivers");
    std::fs::write(&unwaived, &local[..cut]).unwrap();
    let strict = glctl_aws(
        &endpoint,
        &repo(),
        &[
            "verify",
            "-e",
            unwaived.to_str().unwrap(),
            "--out",
            out,
            "--database-url",
            &url,
            "--only",
            "ST-01,ST-02",
            "--format",
            "json",
        ],
    );
    assert_eq!(strict.code, 1, "{}", strict.stderr);
    let strict = parse_results(&strict.stdout);
    assert_eq!(with_status(&strict, "FAIL"), ["ST-01", "ST-02"]);
    assert_eq!(strict[0]["evidence"][0]["observed"], "connected as postgres");
}

/// Deliberate damage on the native backend (PostgreSQL 15): the append-only trigger disabled and a
/// retention removed by hand FAIL GL-07 and FA-07, each naming what is wrong; the rest stays PASS.
#[test]
fn deliberate_damage_fails_exactly_the_checks_it_should() {
    let p = Project::new("verify_damage");
    p.use_repository_migrations();
    assert_eq!(p.glctl_env("dev", &["apply", "--only", "database"]).code, 0);
    let checks = ["--only", "FA-01,FA-04,FA-05,FA-07,ST-01,ST-02,GL-07,GL-08", "--format", "json"];
    let mut args = vec!["verify", "--out", p.root.path().to_str().unwrap()];
    args.extend_from_slice(&checks);
    let clean = p.glctl_env("dev", &args);
    assert_eq!(clean.code, 0, "{}\n{}", clean.stdout, clean.stderr);
    assert_eq!(with_status(&parse_results(&clean.stdout), "PASS").len(), 8, "{}", clean.stdout);

    p.query("ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_immutable");
    p.query("UPDATE partman.part_config SET retention = NULL WHERE parent_table = 'public.sensor_readings'");
    let damaged = p.glctl_env("dev", &args);
    assert_eq!(damaged.code, 1, "{}", damaged.stderr);
    let results = parse_results(&damaged.stdout);
    assert_eq!(with_status(&results, "FAIL"), ["FA-07", "GL-07"], "{results:#?}");
    let evidence = |id: &str| results.iter().find(|r| r["id"] == id).unwrap()["evidence"][0]["observed"].to_string();
    assert!(evidence("FA-07").contains("sensor_readings retention: (none) -> 14 days"), "{}", evidence("FA-07"));
    assert!(evidence("GL-07").contains("audit_logs_immutable DISABLED"), "{}", evidence("GL-07"));
}

/// Issue 25: on a fresh, empty PostgreSQL 15 database (no tables, no pg_partman) the native backend's
/// retention is not "as declared": FA-07 FAILs with FA-04 and FA-05, naming why each retention is not in
/// place (it passed, "retention policies match the environment file", because the diff said nothing).
#[test]
fn retention_on_an_empty_database_is_not_in_place() {
    let p = Project::new("verify_empty");
    let root = p.root.path().to_str().unwrap();
    let out = p.glctl_env("dev", &["verify", "--out", root, "--only", "FA-04,FA-05,FA-07", "--format", "json"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let results = parse_results(&out.stdout);
    assert_eq!(with_status(&results, "FAIL"), ["FA-04", "FA-05", "FA-07"], "{results:#?}");
    let fa07 = results.iter().find(|r| r["id"] == "FA-07").unwrap();
    let observed = fa07["evidence"][0]["observed"].as_str().unwrap();
    assert!(
        observed.contains("sensor_readings retention: declared, but not in place: pg_partman is not installed"),
        "{observed}"
    );
}

/// Nothing reachable: not a single PASS, and the exit code says "incomplete".
#[test]
fn an_unreachable_target_yields_no_pass_and_exits_incomplete() {
    let closed = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgres://x:y@127.0.0.1:{}/z?sslmode=disable", closed());
    let endpoint = format!("http://127.0.0.1:{}", closed());
    let dir = tempfile::tempdir().unwrap();
    let out = glctl_aws(
        &endpoint,
        &repo(),
        &["verify", "-e", "local", "--out", dir.path().to_str().unwrap(), "--database-url", &url, "--format", "json"],
    );
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    let results = parse_results(&out.stdout);
    assert!(with_status(&results, "PASS").is_empty(), "{results:#?}");
    assert!(with_status(&results, "ERROR").len() >= 5);
    let unknown = glctl_in(&repo(), &["verify", "-e", "local", "--only", "SX-"]);
    assert_eq!(unknown.code, 2, "a selection that names no check is a usage error: {}", unknown.stderr);
}
