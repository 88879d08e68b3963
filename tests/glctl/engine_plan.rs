//! `glctl plan` says what an engine change is (issue 28 item 1): a minor version, a major version and a static
//! parameter change on dev (RDS) and prod (Aurora), planned against the environments `terraform.rs` applied to
//! moto, each compared with a checked-in snapshot of the plan's "Engine changes" section. Bad input — a
//! downgrade, a major change without `engine.allow_major_version_upgrade`, a production engine change without
//! `--allow-engine-upgrade` — is refused by plan and apply with the located field or the flag, and nothing
//! changes. moto accepts all of these (a major change without the flag included): glctl decides from its own
//! tables, so none of this depends on the emulator.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::support::{assert_matches_file, glctl_aws, repo, Output};
use crate::terraform::{dev, dev_state, prod, prod_state, read, Applied};

/// `applied`'s environment with `extra` appended, under the same file name (so the same resource names and
/// the same state in its working directory).
fn changed(applied: &Applied, extra: &str) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{}.yaml", applied.name));
    std::fs::write(&file, format!("{}{extra}", read(&applied.env_file))).unwrap();
    (dir, file)
}

fn run(applied: &Applied, command: &str, file: &Path, more: &[&str]) -> Output {
    let mut args =
        vec![command, "-e", file.to_str().unwrap(), "--out", applied.out.to_str().unwrap(), "--only", "infra"];
    args.extend(more);
    glctl_aws(&applied.endpoint, &repo(), &args)
}

/// The "Engine changes" section of a text plan, with the temporary file's path made stable.
fn engine_section(stdout: &str, file: &Path) -> String {
    let Some(start) = stdout.find("Engine changes:\n") else { return String::new() };
    let mut lines = stdout[start..].lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    for line in lines.take_while(|l| l.starts_with("  ")) {
        out.push_str(line);
        out.push('\n');
    }
    out.replace(&file.display().to_string(), "ENV_FILE")
}

/// Plans `extra` on `applied` and compares its engine section with `tests/snapshots/engine_plan/NAME.txt`.
fn assert_plan_snapshot(applied: &Applied, extra: &str, name: &str) {
    let (_dir, file) = changed(applied, extra);
    let started = std::time::Instant::now();
    let out = run(applied, "plan", &file, &[]);
    // Reported with --nocapture: the numbers in docs/engine-changes.md.
    eprintln!("plan {name}: {:.1}s", started.elapsed().as_secs_f64());
    assert_eq!(out.code, 0, "{name}: {}\n{}", out.stdout, out.stderr);
    let section = engine_section(&out.stdout, &file);
    assert!(!section.is_empty(), "{name}: no engine section in\n{}", out.stdout);
    let snapshot = repo().join("tests/snapshots/engine_plan").join(format!("{name}.txt"));
    std::fs::create_dir_all(snapshot.parent().unwrap()).unwrap();
    assert_matches_file(&section, &snapshot);
}

const MINOR: &str = "engine: { version: \"16.8\" }\n";
const MAJOR: &str = "engine: { version: \"17.4\", allow_major_version_upgrade: true }\n";
const STATIC_PARAMETER: &str = "parameters: { max_connections: \"400\", work_mem: 128MB }\n";

#[test]
fn dev_rds_plans_a_minor_a_major_and_a_static_parameter_change_as_the_snapshots_say() {
    let dev = dev();
    let _state = dev_state();
    assert_plan_snapshot(dev, MINOR, "dev-minor");
    assert_plan_snapshot(dev, MAJOR, "dev-major");
    assert_plan_snapshot(dev, STATIC_PARAMETER, "dev-static-parameter");
}

#[test]
fn prod_aurora_plans_a_minor_a_major_and_a_static_parameter_change_as_the_snapshots_say() {
    let prod = prod();
    let _state = prod_state();
    assert_plan_snapshot(prod, MINOR, "prod-minor");
    assert_plan_snapshot(prod, MAJOR, "prod-major");
    assert_plan_snapshot(prod, STATIC_PARAMETER, "prod-static-parameter");
}

#[test]
fn the_json_plan_carries_each_engine_change_with_its_class_and_downtime() {
    let prod = prod();
    let _state = prod_state();
    let (_dir, file) = changed(prod, STATIC_PARAMETER);
    let out = run(prod, "plan", &file, &["--output", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let record: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let changes = record["summary"]["engine"]["changes"].as_array().unwrap();
    let by_class: Vec<(&str, &str, &str)> = changes
        .iter()
        .map(|c| (c["class"].as_str().unwrap(), c["subject"].as_str().unwrap(), c["downtime"].as_str().unwrap()))
        .collect();
    assert_eq!(
        by_class,
        [
            ("static-parameter", "max_connections 500 → 400", "restart"),
            ("dynamic-parameter", "work_mem 65536 → 131072", "none"),
        ]
    );
}

/// A refused plan or apply: exit `code`, every `needles` in its output, and the state as it was (a plan of
/// the applied file still has no engine version change).
fn assert_refused(applied: &Applied, out: &Output, code: i32, needles: &[&str], file: &Path) {
    let text = format!("{}{}", out.stdout, out.stderr).replace(&file.display().to_string(), "ENV_FILE");
    assert_eq!(out.code, code, "{text}");
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} missing from\n{text}");
    }
    let again = run(applied, "plan", &applied.env_file, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(!again.stdout.contains("engine 16.6 →"), "the engine version changed:\n{}", again.stdout);
}

#[test]
fn a_downgrade_is_refused_by_plan_and_apply_at_the_located_version_and_changes_nothing() {
    let dev = dev();
    let _state = dev_state();
    let (_dir, file) = changed(dev, "engine: { version: \"15.10\" }\n");
    let located = "ENV_FILE:";
    let why =
        "engine.version: AWS cannot move an engine to an older version (16.6 → 15.10): set engine.version back to 16.6";
    let plan = run(dev, "plan", &file, &[]);
    assert_refused(dev, &plan, 2, &["DOWNGRADE: engine 16.6 → 15.10", located, why], &file);
    let apply = run(dev, "apply", &file, &["--yes"]);
    assert_refused(dev, &apply, 2, &["refusing to apply the engine change", why, "nothing was changed"], &file);
}

#[test]
fn a_major_change_without_its_field_is_refused_naming_the_field_although_moto_would_accept_it() {
    let dev = dev();
    let _state = dev_state();
    let (_dir, file) = changed(dev, "engine: { version: \"17.4\" }\n");
    let why = "AWS refuses a major version change without AllowMajorVersionUpgrade";
    let field = "set engine.allow_major_version_upgrade: true in the environment file";
    let plan = run(dev, "plan", &file, &[]);
    assert_refused(dev, &plan, 2, &["MAJOR version: engine 16.6 → 17.4", why, field], &file);
    let apply = run(dev, "apply", &file, &["--yes"]);
    assert_refused(dev, &apply, 2, &[why, field], &file);
}

#[test]
fn a_production_engine_change_is_refused_without_the_flag_the_plan_names() {
    let prod = prod();
    let _state = prod_state();
    let (_dir, file) = changed(prod, MINOR);
    let plan = run(prod, "plan", &file, &[]);
    assert!(
        plan.stdout.contains("production: `glctl apply` refuses this without --allow-engine-upgrade"),
        "{}",
        plan.stdout
    );
    let apply = run(prod, "apply", &file, &["--yes"]);
    assert_refused(
        prod,
        &apply,
        1,
        &[
            "refusing to apply: the plan changes the engine version of production environment",
            "re-run with --allow-engine-upgrade",
        ],
        &file,
    );
}
