//! Terraform: every environment renders deterministically and validates with the real provider; dev and
//! prod apply against moto and read back as configured; plans after apply, after a change and before a
//! replacement say what they should; no secret leaks into anything glctl writes or prints.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tempfile::TempDir;

use crate::support::stack::{aws_config, dedicated_moto, seed, stack};
use crate::support::{assert_matches_file, glctl, glctl_aws, glctl_aws_env, repo, runtime};

pub(crate) fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_environment_renders_byte_identical_files_matching_the_snapshot() {
    for env in ["dev", "staging", "prod", "local"] {
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        for dir in [&first, &second] {
            let out = glctl(&["render", "-e", env, "--out", dir.path().to_str().unwrap()]);
            assert_eq!(out.code, 0, "{env}: {}", out.stderr);
        }
        for file in ["main.tf", "versions.tf", "outputs.tf"] {
            let text = read(&first.path().join(file));
            assert_eq!(text, read(&second.path().join(file)), "{env}/{file} differs between renders");
            let snapshot = repo().join("tests/snapshots/render").join(env).join(file);
            std::fs::create_dir_all(snapshot.parent().unwrap()).unwrap();
            assert_matches_file(&text, &snapshot);
        }
    }
}

#[test]
fn every_environment_validates_with_the_real_provider() {
    for env in ["dev", "staging", "prod", "local"] {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(glctl(&["render", "-e", env, "--out", dir.path().to_str().unwrap()]).code, 0);
        let plugin_dir = std::env::var("GLCTL_TF_PLUGIN_DIR").unwrap_or_else(|_| "/opt/tf-plugins".into());
        let init = std::process::Command::new("terraform")
            .args(["init", "-backend=false", "-input=false", "-no-color", &format!("-plugin-dir={plugin_dir}")])
            .current_dir(dir.path())
            .output()
            .expect("terraform runs");
        assert!(init.status.success(), "{env}: {}", String::from_utf8_lossy(&init.stderr));
        let validate = std::process::Command::new("terraform")
            .args(["validate", "-no-color"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(validate.status.success(), "{env}: {}", String::from_utf8_lossy(&validate.stdout));
        let fmt = std::process::Command::new("terraform")
            .args(["fmt", "-check", "-recursive", "-no-color"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(fmt.status.success(), "{env}: not fmt-clean: {}", String::from_utf8_lossy(&fmt.stdout));
    }
}

#[test]
fn hand_written_modules_are_fmt_clean() {
    let fmt = std::process::Command::new("terraform")
        .args(["fmt", "-check", "-recursive", "-no-color", "templates/modules"])
        .current_dir(repo())
        .output()
        .expect("terraform runs");
    assert!(fmt.status.success(), "not fmt-clean: {}", String::from_utf8_lossy(&fmt.stdout));
}

/// An environment applied to moto: its overlay file (the shipped environment with INFRA-001's ids from
/// moto) and its working directory.
pub(crate) struct Applied {
    _dir: TempDir,
    /// Environment name, unique to this test process so reruns against one moto never share state.
    pub(crate) name: String,
    /// The moto it lives in.
    pub(crate) endpoint: String,
    pub(crate) env_file: PathBuf,
    pub(crate) out: PathBuf,
    apply_stdout: String,
}

/// The shipped environment `parent` with INFRA-001's ids from moto and secret names of its own.
/// moto 5.2.5 has no CreateBackupSelection (it answers 500 and the provider retries for ever), so the
/// overlays switch off `backup.cross_region_copy`; its module is covered by `terraform validate` and checkov.
const MOTO_LACKS_BACKUP_SELECTIONS: &str = "backup: { cross_region_copy: { enabled: false } }\n";

/// Tests keep state in the working directory: under a loaded machine moto answers slowly enough that the
/// AWS SDK retries a DynamoDB lock write that had already succeeded, leaving a lock nobody holds. The S3
/// backend itself is rendered and validated like every other file.
const LOCAL_STATE: &str = "terraform: { state_backend: local }\n";

/// Operations on prod's one state run one at a time (plans of changed files share its working directory).
pub(crate) fn prod_state() -> std::sync::MutexGuard<'static, ()> {
    static STATE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    STATE.lock().unwrap_or_else(|p| p.into_inner())
}

fn overlay(endpoint: &str, dir: &Path, name: &str, parent: &str) -> PathBuf {
    let seed = seed(endpoint);
    let file = dir.join(format!("{name}.yaml"));
    let secrets: String = ["master", "app", "readonly"]
        .iter()
        .map(|role| format!("  {role}: {{ name: greenlang/{name}/database/{role} }}\n"))
        .collect();
    let text = format!(
        "extends: {}\nnetwork:\n  vpc_id: {}\n  database_subnet_ids: [{}]\n  allowed_security_group_ids: [{}]\nrotation_lambda_arn: {}\nsecrets:\n{secrets}{MOTO_LACKS_BACKUP_SELECTIONS}{LOCAL_STATE}",
        repo().join("environments").join(parent).display(),
        seed.vpc_id,
        seed.subnet_ids.join(", "),
        seed.eks_nodes_sg,
        seed.rotation_lambda_arn
    );
    std::fs::write(&file, text).unwrap();
    file
}

fn apply(endpoint: String, base: &str, parent: &str) -> Result<Applied, String> {
    let name = format!("{base}{}", std::process::id());
    let name = name.as_str();
    let dir = tempfile::tempdir().unwrap();
    let env_file = overlay(&endpoint, dir.path(), name, parent);
    let out = dir.path().join("tf");
    let result = glctl_aws(
        &endpoint,
        &repo(),
        &["apply", "-e", env_file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--yes", "--only", "infra"],
    );
    if result.code != 0 {
        return Err(format!("apply {name} failed (exit {}):\n{}\n{}", result.code, result.stdout, result.stderr));
    }
    Ok(Applied { _dir: dir, name: name.to_string(), endpoint, env_file, out, apply_stdout: result.stdout })
}

// Applied once per test process; a failed apply is remembered, not retried by every test that needs it.
pub(crate) fn dev() -> &'static Applied {
    static DEV: OnceLock<Result<Applied, String>> = OnceLock::new();
    // moto 5.2.5 ignores the `dbi-resource-id` filter the provider reads aws_db_instance by, so the read
    // finds every instance in moto and fails unless dev's primary is alone: dev gets a moto of its own.
    DEV.get_or_init(|| apply(dedicated_moto(), "dev", "dev.yaml")).as_ref().unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn prod() -> &'static Applied {
    static PROD: OnceLock<Result<Applied, String>> = OnceLock::new();
    PROD.get_or_init(|| apply(stack().var("AWS_ENDPOINT_URL").to_string(), "prod", "prod.yaml"))
        .as_ref()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn outputs(applied: &Applied) -> serde_json::Value {
    serde_json::from_str(&read(&applied.out.join("outputs.json"))).unwrap()
}

fn output(applied: &Applied, name: &str) -> String {
    outputs(applied)[name]["value"].as_str().unwrap_or_else(|| panic!("no output {name}")).to_string()
}

#[test]
fn prod_without_the_dr_backup_copy_moto_lacks_applies_to_moto_and_reads_back_as_configured() {
    let prod = prod();
    assert!(prod.apply_stdout.contains("infrastructure: applied"), "{}", prod.apply_stdout);
    let kms_key = output(prod, "kms_key_arn");
    runtime().block_on(async {
        let config = aws_config(&prod.endpoint).await;
        let rds = aws_sdk_rds::Client::new(&config);
        let cluster_id = format!("greenlang-{}", prod.name);
        let clusters = rds.describe_db_clusters().db_cluster_identifier(&cluster_id).send().await.unwrap();
        let cluster = &clusters.db_clusters()[0];
        assert_eq!(cluster.engine(), Some("aurora-postgresql"));
        assert_eq!(cluster.storage_encrypted(), Some(true));
        assert_eq!(cluster.kms_key_id(), Some(kms_key.as_str()));
        assert_eq!(cluster.iam_database_authentication_enabled(), Some(true));
        assert_eq!(cluster.backup_retention_period(), Some(35));
        assert_eq!(cluster.deletion_protection(), Some(true));
        assert!(cluster.master_user_secret().is_some(), "master password managed by RDS");
        let instances = rds.describe_db_instances().send().await.unwrap();
        let ours: Vec<_> = instances
            .db_instances()
            .iter()
            .filter(|i| i.db_cluster_identifier() == Some(cluster_id.as_str()))
            .collect();
        assert_eq!(ours.len(), 3, "writer and two readers");
        let mut zones: Vec<&str> = ours.iter().filter_map(|i| i.availability_zone()).collect();
        zones.sort();
        assert_eq!(zones, ["us-east-1a", "us-east-1b", "us-east-1c"]);
        assert!(ours.iter().all(|i| i.publicly_accessible() == Some(false)), "no public access");

        let kms = aws_sdk_kms::Client::new(&config);
        let rotation = kms.get_key_rotation_status().key_id(&kms_key).send().await.unwrap();
        assert!(rotation.key_rotation_enabled(), "KMS key rotates");

        let secrets = aws_sdk_secretsmanager::Client::new(&config);
        for (role, days) in [("app", 7), ("readonly", 7)] {
            let name = format!("greenlang/{}/database/{role}", prod.name);
            let secret = secrets.describe_secret().secret_id(&name).send().await.unwrap();
            assert_eq!(secret.rotation_enabled(), Some(true), "{name} rotates");
            assert_eq!(secret.rotation_rules().and_then(|r| r.automatically_after_days()), Some(days), "{name}");
            assert_eq!(secret.kms_key_id(), Some(kms_key.as_str()), "{name} encrypted with the environment's key");
        }
        let master = secrets.describe_secret().secret_id(output(prod, "master_secret_arn")).send().await.unwrap();
        assert_eq!(
            master.rotation_rules().and_then(|r| r.automatically_after_days()),
            Some(30),
            "master rotation from the environment"
        );
    });
}

#[test]
fn dev_applies_to_moto_and_reads_back_as_configured() {
    let dev = dev();
    let kms_key = output(dev, "kms_key_arn");
    runtime().block_on(async {
        let config = aws_config(&dev.endpoint).await;
        let rds = aws_sdk_rds::Client::new(&config);
        let prefix = format!("greenlang-{}", dev.name);
        let found =
            rds.describe_db_instances().db_instance_identifier(format!("{prefix}-primary")).send().await.unwrap();
        let primary = &found.db_instances()[0];
        assert_eq!(primary.engine(), Some("postgres"));
        assert_eq!(primary.db_instance_class(), Some("db.t4g.medium"));
        assert_eq!(primary.storage_encrypted(), Some(true));
        assert_eq!(primary.kms_key_id(), Some(kms_key.as_str()));
        assert_eq!(primary.publicly_accessible(), Some(false));
        assert_eq!(primary.iam_database_authentication_enabled(), Some(true));
        assert_eq!(primary.backup_retention_period(), Some(7));
        assert_eq!(primary.deletion_protection(), Some(false), "dev accepts the risk explicitly");
        let groups = primary.db_parameter_groups();
        let group = format!("{prefix}-postgres16");
        assert_eq!(groups[0].db_parameter_group_name(), Some(group.as_str()));
        let params = rds.describe_db_parameters().db_parameter_group_name(&group).send().await.unwrap();
        let shared_buffers = params
            .parameters()
            .iter()
            .find(|p| p.parameter_name() == Some("shared_buffers"))
            .expect("shared_buffers set");
        assert_eq!(
            shared_buffers.parameter_value(),
            Some("{DBInstanceClassMemory/32768}"),
            "25% of the instance's memory in 8 kB pages, as AWS computes formulas"
        );
        let work_mem =
            params.parameters().iter().find(|p| p.parameter_name() == Some("work_mem")).expect("work_mem set");
        assert_eq!(work_mem.parameter_value(), Some("65536"), "64MB in kB");

        let kms = aws_sdk_kms::Client::new(&config);
        assert!(kms.get_key_rotation_status().key_id(&kms_key).send().await.unwrap().key_rotation_enabled());
        let secrets = aws_sdk_secretsmanager::Client::new(&config);
        let app =
            secrets.describe_secret().secret_id(format!("greenlang/{}/database/app", dev.name)).send().await.unwrap();
        assert_eq!(app.rotation_enabled(), Some(true));
    });
}

/// Plans again after apply: only changes glctl explains as emulator drift may remain.
fn assert_second_plan_is_clean(applied: &Applied) {
    let out = glctl_aws(
        &applied.endpoint,
        &repo(),
        &[
            "plan",
            "-e",
            applied.env_file.to_str().unwrap(),
            "--out",
            applied.out.to_str().unwrap(),
            "--output",
            "json",
            "--only",
            "infra",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let record: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let unexplained: Vec<&serde_json::Value> =
        record["summary"]["changes"].as_array().unwrap().iter().filter(|c| c.get("emulator_drift").is_none()).collect();
    assert!(unexplained.is_empty(), "a second plan after apply changes: {unexplained:#?}");
}

#[test]
fn a_second_plan_after_applying_prod_has_no_real_changes() {
    let prod = prod();
    let _state = prod_state();
    assert_second_plan_is_clean(prod);
}

#[test]
fn a_second_plan_after_applying_dev_has_no_real_changes() {
    let _state = dev_state();
    assert_second_plan_is_clean(dev());
}

/// A `terraform` first on PATH that notes each subcommand glctl starts in `log`, then runs the real one.
fn logging_terraform(bin: &Path, log: &Path) -> std::ffi::OsString {
    use std::os::unix::fs::PermissionsExt;
    let real = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|dir| dir.join("terraform"))
        .find(|p| p.is_file())
        .expect("terraform on PATH");
    std::fs::create_dir_all(bin).unwrap();
    let shim = bin.join("terraform");
    let script = format!("#!/bin/sh\necho \"$1\" >>'{}'\nexec '{}' \"$@\"\n", log.display(), real.display());
    std::fs::write(&shim, script).unwrap();
    std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::env::join_paths(
        std::iter::once(bin.to_path_buf()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap()
}

/// Issue 30: a plan with nothing to change costs one `terraform plan` and nothing more once the work
/// directory has been planned in: no `init` (the init stamp), no `fmt` (the same rendering), no `show -json`
/// (terraform's exit code says nothing changes). Its summary is what `show -json` would have said: every
/// resource change in the saved plan is a no-op. A rendering that changed is formatted again, and a plan
/// with changes is still read with `show -json`.
#[test]
fn a_plan_with_nothing_to_change_runs_terraform_plan_and_nothing_else() {
    let endpoint = dedicated_moto();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tf");
    let out = out.to_str().unwrap();
    let applied = glctl_aws(&endpoint, &repo(), &["apply", "-e", "local", "--only", "infra", "--out", out, "--yes"]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let log = dir.path().join("terraform-calls");
    let path = logging_terraform(&dir.path().join("bin"), &log);
    let env = [("PATH", path.as_os_str())];
    let calls = || -> Vec<String> {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        text.lines().map(str::to_string).collect()
    };

    let plan = ["plan", "-e", "local", "--only", "infra", "--out", out, "--detailed-exitcode"];
    // The logging terraform is another executable than the one that formatted the files during apply.
    let first = glctl_aws_env(&endpoint, &repo(), &plan, &env);
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    assert_eq!(calls(), ["fmt", "fmt", "fmt", "plan"], "another terraform formats the three root files again");
    let text = glctl_aws_env(&endpoint, &repo(), &plan, &env);
    assert_eq!(text.code, 0, "{}\n{}", text.stdout, text.stderr);
    assert!(text.stdout.contains("No changes: the infrastructure matches the environment file."), "{}", text.stdout);
    assert_eq!(calls(), ["plan"], "a plan with nothing to change starts terraform plan alone");
    let json = glctl_aws_env(&endpoint, &repo(), &[&plan[..], &["--output", "json"]].concat(), &env);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let record: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(record["summary"], serde_json::json!({ "changes": [] }), "{}", json.stdout);
    assert_eq!(calls(), ["plan"]);
    let show = std::process::Command::new("terraform")
        .args(["show", "-json", "-no-color", "plan.tfplan"])
        .current_dir(out)
        .output()
        .unwrap();
    assert!(show.status.success(), "{}", String::from_utf8_lossy(&show.stderr));
    let shown: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    let resources = shown["resource_changes"].as_array().expect("resource changes");
    assert!(!resources.is_empty());
    for rc in resources {
        assert!(
            matches!(rc["change"]["actions"].as_array().unwrap().as_slice(), [a] if a == "no-op" || a == "read"),
            "the skipped show would have listed a change: {rc}"
        );
    }

    let env_dir = dir.path().join("environments");
    std::fs::create_dir_all(&env_dir).unwrap();
    let tagged = env_dir.join("local.yaml");
    let parent = repo().join("environments/local.yaml");
    std::fs::write(&tagged, format!("extends: {}\ntags: {{ Owner: issue-30 }}\n", parent.display())).unwrap();
    let changed = ["plan", "-e", tagged.to_str().unwrap(), "--only", "infra", "--out", out, "--output", "json"];
    let changed = glctl_aws_env(&endpoint, &repo(), &changed, &env);
    assert_eq!(changed.code, 0, "{}", changed.stderr);
    let record: serde_json::Value = serde_json::from_str(&changed.stdout).unwrap();
    let updates = record["summary"]["changes"].as_array().unwrap();
    assert!(updates.iter().any(|c| c["action"] == "update"), "a new tag updates resources: {}", changed.stdout);
    let calls = calls();
    assert!(calls.contains(&"fmt".to_string()), "the changed rendering is formatted again: {calls:?}");
    // (versions.tf carries the tags too, and init_cache digests it whole: this one also initialises again.)
    assert!(calls.ends_with(&["plan".to_string(), "show".to_string()]), "{calls:?}");
}

/// Tests that change dev's applied resources by hand run one at a time, and never during its second plan.
pub(crate) fn dev_state() -> std::sync::MutexGuard<'static, ()> {
    static STATE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    STATE.lock().unwrap_or_else(|p| p.into_inner())
}

/// ST-03 and GL-10 judge the live rules (RDS VpcSecurityGroups, EC2 DescribeSecurityGroupRules): dev as
/// applied passes both; a rule added by hand that opens 5432 to 0.0.0.0/0 fails both, naming it; once it
/// is revoked they pass again. The database is not reachable on moto, so only these two checks are selected.
/// `glctl drift --only infra` sees the same rule, and nothing else: named with its group's address (text and
/// JSON, exit 1).
#[test]
fn verify_judges_the_live_security_group_rules_and_fails_on_one_added_by_hand() {
    let dev = dev();
    let _state = dev_state();
    let group = output(dev, "security_group_id");
    let verify = || {
        let args = [
            "verify",
            "-e",
            dev.env_file.to_str().unwrap(),
            "--out",
            dev.out.to_str().unwrap(),
            "--only",
            "ST-03,GL-10",
            "--format",
            "json",
        ];
        let out = glctl_aws(&dev.endpoint, &repo(), &args);
        let run: serde_json::Value =
            serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr));
        let results = run["results"].as_array().unwrap().clone();
        let status = |id: &str| {
            let r = results.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no {id} in {results:#?}"));
            (r["status"].as_str().unwrap().to_string(), r["reason"].as_str().unwrap_or("").to_string())
        };
        (out.code, status("ST-03"), status("GL-10"))
    };
    let (code, st03, gl10) = verify();
    assert_eq!((code, st03.0.as_str(), gl10.0.as_str()), (0, "PASS", "PASS"), "{st03:?} {gl10:?}");

    let ec2 = |add: bool| {
        let group = group.clone();
        runtime().block_on(async move {
            let config = aws_config(&dev.endpoint).await;
            let ec2 = aws_sdk_ec2::Client::new(&config);
            let range = aws_sdk_ec2::types::IpRange::builder().cidr_ip("0.0.0.0/0").build();
            let permission = aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(5432)
                .to_port(5432)
                .ip_ranges(range)
                .build();
            use aws_sdk_ec2::error::DisplayErrorContext as Shown;
            let done = if add {
                let call = ec2.authorize_security_group_ingress().group_id(group).ip_permissions(permission);
                call.send().await.map(|_| ()).map_err(|e| Shown(e).to_string())
            } else {
                let call = ec2.revoke_security_group_ingress().group_id(group).ip_permissions(permission);
                call.send().await.map(|_| ()).map_err(|e| Shown(e).to_string())
            };
            done.unwrap_or_else(|e| panic!("{e}"))
        })
    };
    ec2(true);
    let (code, st03, gl10) = verify();
    let (drift_code, found, text) = drift(dev);
    ec2(false);
    assert_eq!((code, st03.0.as_str(), gl10.0.as_str()), (1, "FAIL", "FAIL"), "{st03:?} {gl10:?}");
    let opened = format!("{group}: tcp 5432 from 0.0.0.0/0");
    assert!(st03.1.contains(&opened) && gl10.1.contains(&opened), "{st03:?} {gl10:?}");
    // drift sees the same rule: in the JSON (name and detail) and in the text, and exits 1. Nothing else
    // counts, so dev as applied has no other drift (moto's gaps are labelled, AWS-computed attributes noted).
    assert_eq!(drift_code, 1, "{found:#?}\n{text}");
    let counted: Vec<&serde_json::Value> =
        found.iter().filter(|d| d.get("acknowledged").is_none() && d.get("emulator").is_none()).collect();
    assert_eq!(counted.len(), 1, "only the added rule: {found:#?}");
    let name = counted[0]["name"].as_str().unwrap();
    let detail = counted[0]["detail"].as_str().unwrap();
    assert_eq!(
        name, "infrastructure: module.network_access.aws_security_group.database ingress tcp 5432 from 0.0.0.0/0",
        "{found:#?}"
    );
    assert!(detail.contains(&group) && detail.contains("added outside glctl"), "{detail}");
    assert!(text.contains(&format!("DRIFT  {name}: {detail}")), "{text}");
    let (code, st03, gl10) = verify();
    assert_eq!((code, st03.0.as_str(), gl10.0.as_str()), (0, "PASS", "PASS"), "{st03:?} {gl10:?}");
}

/// `glctl drift --only infra` of an applied environment: exit code, the infrastructure layer's differences
/// (from `--output json`) and the text report.
fn drift(applied: &Applied) -> (i32, Vec<serde_json::Value>, String) {
    let env = applied.env_file.to_str().unwrap();
    let out = applied.out.to_str().unwrap();
    let run = |output: &str| {
        let args = ["drift", "-e", env, "--out", out, "--only", "infra", "--output", output];
        glctl_aws(&applied.endpoint, &repo(), &args)
    };
    let json = run("json");
    let report: serde_json::Value =
        serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", json.stdout, json.stderr));
    let layer = report["layers"].as_array().unwrap().iter().find(|l| l["layer"] == "infrastructure").unwrap();
    assert!(layer.get("not_read").is_none(), "{layer:#}");
    let text = run("text");
    assert_eq!(text.code, json.code, "{}\n{}", text.stdout, text.stderr);
    (json.code, layer["differences"].as_array().unwrap().clone(), text.stdout)
}

#[test]
fn a_changed_backup_retention_plans_one_in_place_update() {
    let prod = prod();
    let _state = prod_state();
    let dir = tempfile::tempdir().unwrap();
    // Same file name and working directory, so the same state; only the retention differs.
    let changed = dir.path().join(format!("{}.yaml", prod.name));
    let applied = read(&prod.env_file);
    let with_retention =
        applied.replace("backup: { cross_region_copy", "backup: { retention_days: 30, cross_region_copy");
    assert_ne!(applied, with_retention, "the overlay's backup line is where the retention goes");
    std::fs::write(&changed, with_retention).unwrap();
    // The working directory holds the (local) state the change is planned against.
    let out_dir = prod.out.clone();
    let args = [
        "plan",
        "-e",
        changed.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--output",
        "json",
        "--only",
        "infra",
    ];
    let out = glctl_aws(&prod.endpoint, &repo(), &args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let record: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let real: Vec<&serde_json::Value> =
        record["summary"]["changes"].as_array().unwrap().iter().filter(|c| c.get("emulator_drift").is_none()).collect();
    assert_eq!(real.len(), 1, "{real:#?}");
    assert_eq!(real[0]["address"], "module.database.aws_rds_cluster.this");
    assert_eq!(real[0]["action"], "update");
    assert!(real[0]["changed_attributes"].as_array().unwrap().contains(&"backup_retention_period".into()), "{real:#?}");
}

#[test]
fn a_change_that_replaces_the_cluster_is_flagged_and_refused_without_allow_destroy() {
    let prod = prod();
    let _state = prod_state();
    let dir = tempfile::tempdir().unwrap();
    let changed = dir.path().join(format!("{}.yaml", prod.name));
    std::fs::write(&changed, format!("{}connection: {{ database: greenlang_v2 }}\n", read(&prod.env_file))).unwrap();
    // The working directory holds the (local) state the change is planned against.
    let out_dir = prod.out.clone();
    let plan = glctl_aws(
        &prod.endpoint,
        &repo(),
        &["plan", "-e", changed.to_str().unwrap(), "--out", out_dir.to_str().unwrap(), "--only", "infra"],
    );
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stdout.contains("DESTRUCTIVE: module.database.aws_rds_cluster.this will be replaced"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("forced by database_name"), "{}", plan.stdout);
    let apply = glctl_aws(
        &prod.endpoint,
        &repo(),
        &["apply", "-e", changed.to_str().unwrap(), "--out", out_dir.to_str().unwrap(), "--yes", "--only", "infra"],
    );
    assert_eq!(apply.code, 1, "{}\n{}", apply.stdout, apply.stderr);
    assert!(
        apply.stderr.contains("refusing to apply") && apply.stderr.contains("aws_rds_cluster.this"),
        "{}",
        apply.stderr
    );
}

/// The SQL stage (and later the rotation function) writes credentials into the application secret through
/// the Secrets Manager API. Such a value must never come back through Terraform: not into the state, the
/// rendered files, the plan record, the outputs or anything glctl prints.
#[test]
fn a_credential_in_a_secret_never_reaches_state_files_plans_or_logs() {
    let prod = prod();
    let _state = prod_state();
    let credential = format!("pw-{}-{}", std::process::id(), prod.name.len() * 7919);
    let app_secret = format!("greenlang/{}/database/app", prod.name);
    runtime().block_on(async {
        let config = aws_config(&prod.endpoint).await;
        let secrets = aws_sdk_secretsmanager::Client::new(&config);
        let value = serde_json::json!({ "username": "app_service", "password": credential }).to_string();
        secrets.put_secret_value().secret_id(&app_secret).secret_string(value).send().await.unwrap();
    });
    let plan = glctl_aws(
        &prod.endpoint,
        &repo(),
        &["plan", "-e", prod.env_file.to_str().unwrap(), "--out", prod.out.to_str().unwrap(), "--only", "infra"],
    );
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let apply = glctl_aws(
        &prod.endpoint,
        &repo(),
        &[
            "apply",
            "-e",
            prod.env_file.to_str().unwrap(),
            "--out",
            prod.out.to_str().unwrap(),
            "--yes",
            "--only",
            "infra",
        ],
    );
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    let state = std::process::Command::new("terraform")
        .args(["state", "pull"])
        .current_dir(&prod.out)
        .env("AWS_ENDPOINT_URL", &prod.endpoint)
        .env("AWS_DEFAULT_REGION", "us-east-1") // boto3 reads this, not AWS_REGION
        .envs(aws_env())
        .output()
        .unwrap();
    assert!(state.status.success(), "{}", String::from_utf8_lossy(&state.stderr));
    let state = String::from_utf8_lossy(&state.stdout).into_owned();
    assert!(state.contains(&app_secret), "the state is the one that holds the secret");
    let mut haystacks = vec![
        ("plan output".to_string(), format!("{}{}", plan.stdout, plan.stderr)),
        ("apply output".to_string(), format!("{}{}", apply.stdout, apply.stderr)),
        ("terraform state".to_string(), state),
    ];
    for entry in walk(&prod.out) {
        if entry.extension().is_some_and(|x| x == "tf" || x == "json") {
            haystacks.push((entry.display().to_string(), read(&entry)));
        }
    }
    assert!(haystacks.len() > 20, "scanned the rendered module, plan record and outputs");
    for (name, text) in haystacks {
        assert!(!text.contains(&credential), "the credential appears in {name}");
    }
}

fn aws_env() -> Vec<(String, String)> {
    let s = crate::support::stack::stack();
    ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"]
        .iter()
        .map(|k| (k.to_string(), s.var(k).to_string()))
        .collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()) {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == ".terraform") {
            continue;
        }
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// checkov (PyPI) over the rendered production module: no failed check; every skip carries its reason next
/// to the resource.
#[test]
fn checkov_finds_no_failed_check_in_production() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(glctl(&["render", "-e", "prod", "--out", dir.path().to_str().unwrap()]).code, 0);
    let checkov = repo().join(".tools/checkov/bin/checkov");
    assert!(checkov.is_file(), "checkov is not installed; run scripts/setup");
    let out = std::process::Command::new(checkov)
        .args(["--framework", "terraform", "--compact", "-o", "json", "-d"])
        .arg(dir.path())
        .env("BC_SKIP_MAPPING", "TRUE") // no network here: do not fetch guideline mappings
        .output()
        .expect("checkov runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("checkov JSON: {e}\n{}", String::from_utf8_lossy(&out.stderr)));
    let results = &report["results"];
    let failed: Vec<String> = results["failed_checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{} {}", c["check_id"], c["resource"]))
        .collect();
    assert!(failed.is_empty(), "checkov failed checks: {failed:#?}");
    let skipped = results["skipped_checks"].as_array().unwrap();
    assert!(report["summary"]["passed"].as_u64().unwrap() > 50, "checkov really ran");
    for skip in skipped {
        let reason = skip["check_result"]["suppress_comment"].as_str().unwrap_or_default();
        assert!(reason.len() > 20, "skip of {} on {} has no real reason", skip["check_id"], skip["resource"]);
    }
}

/// `glctl plan|apply -e local` run with credentials of another account (moto answering as 210987654321)
/// stops before terraform or Secrets Manager is asked anything, naming both accounts; nothing is created.
#[test]
fn credentials_of_another_account_stop_plan_and_apply_before_anything_exists() {
    let endpoint = crate::support::stack::dedicated_moto_for_account("210987654321");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tf");
    let out = out.to_str().unwrap();
    for args in [
        vec!["plan", "-e", "local", "--out", out],
        vec!["apply", "-e", "local", "--out", out, "--yes"],
        vec!["apply", "-e", "local", "--out", out, "--yes", "--only", "database"],
    ] {
        let run = glctl_aws(&endpoint, &repo(), &args);
        assert_eq!(run.code, 2, "{args:?}: {}\n{}", run.stdout, run.stderr);
        for expected in ["belong to account 210987654321", "lives in account 123456789012", "nothing was done"] {
            assert!(run.stderr.contains(expected), "{args:?}: missing '{expected}' in {}", run.stderr);
        }
    }
    assert!(!dir.path().join("tf/plan.tfplan").exists(), "terraform never planned");
    runtime().block_on(async {
        let config = aws_config(&endpoint).await;
        let keys = aws_sdk_kms::Client::new(&config).list_keys().send().await.unwrap();
        assert!(keys.keys().is_empty(), "no KMS key was created: {:?}", keys.keys());
        let secrets = aws_sdk_secretsmanager::Client::new(&config).list_secrets().send().await.unwrap();
        assert!(secrets.secret_list().is_empty(), "no secret was created");
    });
}

/// terraform refuses on its own too: the rendered provider names the environment's account.
#[test]
fn the_rendered_provider_allows_only_the_environment_s_account() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(glctl(&["render", "-e", "prod", "--out", dir.path().to_str().unwrap()]).code, 0);
    let versions = read(&dir.path().join("versions.tf"));
    assert_eq!(versions.matches("allowed_account_ids = [\"123456789012\"]").count(), 2, "{versions}");
}

/// Secrets Manager is read in the environment's region (`aws.region`), not the shell's AWS_REGION: the same
/// secret name exists in both regions with different users, and glctl connects as the one from the file's.
#[test]
fn secrets_are_read_in_the_environment_s_region_not_the_shell_s() {
    let endpoint = dedicated_moto();
    runtime().block_on(async {
        for (region, user) in [("us-east-1", "user_from_us_east_1"), ("eu-west-1", "user_from_eu_west_1")] {
            let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .endpoint_url(&endpoint)
                .region(aws_sdk_rds::config::Region::new(region))
                .credentials_provider(aws_sdk_rds::config::Credentials::new("test", "test", None, None, "tests"))
                .load()
                .await;
            let value = serde_json::json!({ "username": user, "password": "pw" }).to_string();
            aws_sdk_secretsmanager::Client::new(&config)
                .create_secret()
                .name("greenlang/local/database/app")
                .secret_string(value)
                .send()
                .await
                .unwrap();
        }
    });
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_glctl"))
        .args(["migrate", "status", "-e", "local"])
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("GLCTL_DATABASE_URL")
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_DEFAULT_REGION", "eu-west-1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Nothing listens as local.yaml's database here: the status is incomplete, naming who it tried as.
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("NOT CHECKED: cannot connect to 127.0.0.1:5432 as user_from_us_east_1"), "{stderr}");
}

/// An IPv6 block is planned into `cidr_ipv6` (AWS refuses one in `cidr_ipv4`), next to an IPv4 block.
#[test]
fn ipv6_and_ipv4_cidrs_are_planned_into_their_own_attributes() {
    let endpoint = stack().var("AWS_ENDPOINT_URL").to_string();
    let dir = tempfile::tempdir().unwrap();
    let name = format!("ipsix{}", std::process::id());
    let parent = overlay(&endpoint, dir.path(), &format!("{name}-base"), "dev.yaml");
    let env = dir.path().join(format!("{name}.yaml"));
    std::fs::write(
        &env,
        format!(
            "extends: {}\nnetwork:\n  allowed_cidrs: [\"10.20.0.0/16\", \"2001:db8:1234::/48\"]\n",
            parent.display()
        ),
    )
    .unwrap();
    let out = dir.path().join("tf");
    let plan = glctl_aws(
        &endpoint,
        &repo(),
        &["plan", "-e", env.to_str().unwrap(), "--out", out.to_str().unwrap(), "--only", "infra"],
    );
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    let show = std::process::Command::new("terraform")
        .args(["show", "-json", "plan.tfplan"])
        .current_dir(&out)
        .output()
        .unwrap();
    assert!(show.status.success(), "{}", String::from_utf8_lossy(&show.stderr));
    let json: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    let rules: Vec<(String, serde_json::Value, serde_json::Value)> = json["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|rc| rc["address"].as_str().unwrap_or_default().contains("from_cidr"))
        .map(|rc| {
            let after = &rc["change"]["after"];
            (
                rc["index"].as_str().unwrap_or_default().to_string(),
                after["cidr_ipv4"].clone(),
                after["cidr_ipv6"].clone(),
            )
        })
        .collect();
    assert_eq!(rules.len(), 2, "{rules:?}");
    for (index, v4, v6) in rules {
        if index.contains(':') {
            assert_eq!((v4, v6), (serde_json::Value::Null, serde_json::Value::from(index.clone())), "{index}");
        } else {
            assert_eq!((v4, v6), (serde_json::Value::from(index.clone()), serde_json::Value::Null), "{index}");
        }
    }
}

/// CloudWatch can publish to the alarm topic only if the key that encrypts the topic lets it: the applied
/// topic uses the environment's key, and that key's policy grants the CloudWatch service Decrypt and
/// GenerateDataKey (SNS developer guide, encrypted topics and AWS event sources).
#[test]
fn the_alarm_topic_s_key_lets_cloudwatch_publish() {
    let prod = prod();
    let topic = output(prod, "alarm_topic_arn");
    let key = output(prod, "kms_key_arn");
    runtime().block_on(async {
        let config = aws_config(&prod.endpoint).await;
        let sns = topic_key_id(&prod.endpoint, &topic);
        assert!(sns.ends_with(key.rsplit('/').next().unwrap()) || sns == key, "topic key {sns} vs {key}");
        let kms = aws_sdk_kms::Client::new(&config);
        let policy = kms.get_key_policy().key_id(&key).policy_name("default").send().await.unwrap();
        let policy: serde_json::Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
        let grant = policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Principal"]["Service"] == "cloudwatch.amazonaws.com")
            .unwrap_or_else(|| panic!("no CloudWatch statement in {policy:#}"));
        let actions: Vec<&str> = grant["Action"].as_array().unwrap().iter().filter_map(|a| a.as_str()).collect();
        assert!(actions.contains(&"kms:Decrypt") && actions.contains(&"kms:GenerateDataKey*"), "{grant}");
        assert_eq!(grant["Effect"], "Allow");
    });
}

/// The topic's KmsMasterKeyId (glctl itself needs no SNS crate).
fn topic_key_id(endpoint: &str, topic: &str) -> String {
    let script = "import boto3,json,sys; print(json.dumps(boto3.client('sns').get_topic_attributes(TopicArn=sys.argv[1])['Attributes']['KmsMasterKeyId']))";
    boto3_json(endpoint, script, &[topic]).as_str().unwrap().to_string()
}

/// Runs a Python script with boto3 from the moto virtualenv against `endpoint` and parses what it prints
/// as JSON: for services glctl has no SDK crate for (SNS, CloudWatch, EventBridge).
fn boto3_json(endpoint: &str, script: &str, args: &[&str]) -> serde_json::Value {
    let python = repo().join(".tools/venv/bin/python");
    let out = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_DEFAULT_REGION", "us-east-1") // boto3 reads this, not AWS_REGION
        .envs(aws_env())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// Alarms that tell the truth (issue: alarms that lie): a reader's replica-lag alarm does not fire when the
/// metric stops (a promoted reader reports none), and every instance has FreeableMemory alarms sized from its
/// class (r6g.large: 16 GiB → warning under 1.6 GiB), and on Aurora FreeLocalStorage ones. Read with boto3.
#[test]
fn alarms_are_sized_per_instance_and_missing_lag_is_not_breaching() {
    let prod = prod();
    let alarms = alarms_by_name(&prod.endpoint, &format!("greenlang-{}-", prod.name));
    let alarm = |suffix: &str| {
        let name = format!("greenlang-{}-{suffix}", prod.name);
        alarms.get(&name).cloned().unwrap_or_else(|| panic!("no alarm {name} in {alarms:#}"))
    };
    let lag = alarm("replica2-replica_lag-critical");
    assert_eq!(lag[2], "notBreaching", "{lag}");
    assert_eq!(alarm("writer-cpu-critical")[2], "breaching");
    let memory = alarm("replica2-freeable_memory-warning");
    assert_eq!(memory[0], "FreeableMemory");
    assert_eq!(memory[1].as_f64(), Some(16.0 * 1073741824.0 * 0.10), "10% of a db.r6g.large");
    assert_eq!(alarm("writer-free_local_storage-critical")[0], "FreeLocalStorage");
}

/// Alarm name => [metric, threshold, treat-missing-data] for the alarms whose names start with `prefix`.
fn alarms_by_name(endpoint: &str, prefix: &str) -> serde_json::Value {
    let script = "import boto3,json,sys\n\
        alarms=boto3.client('cloudwatch').describe_alarms(AlarmNamePrefix=sys.argv[1])['MetricAlarms']\n\
        print(json.dumps({a['AlarmName']:[a['MetricName'],a['Threshold'],a['TreatMissingData']] for a in alarms}))";
    boto3_json(endpoint, script, &[prefix])
}

/// Storage under RDS storage autoscaling (issue: alarms that lie). Dev allocates 50 GiB with a 200 GiB
/// ceiling: its free-storage alarm is a single critical one under 5% of the allocation (autoscaling acts at
/// 10% of the current one, so no normal step fires it), and the RDS events that say autoscaling cannot help
/// reach the alarm topic: the applied rule's pattern, evaluated by moto's EventBridge matcher against
/// events shaped like AWS's documented RDS DB Instance Event, takes RDS-EVENT-0225/0224/0007 from dev's
/// instance and leaves the normal autoscaling events (0089 low storage, 0217 autoscaling step) and other
/// instances alone; the topic policy and the key let EventBridge publish to the encrypted topic.
#[test]
fn storage_that_autoscaling_cannot_save_reaches_the_alarm_topic_and_normal_steps_do_not() {
    let dev = dev();
    let name = format!("greenlang-{}", dev.name);
    let alarms = alarms_by_name(&dev.endpoint, &format!("{name}-primary-free_storage"));
    let critical = &alarms[format!("{name}-primary-free_storage-critical")];
    assert_eq!(critical[1].as_f64(), Some(50.0 * 0.05 * 1073741824.0), "{alarms:#}");
    assert!(alarms.get(format!("{name}-primary-free_storage-warning")).is_none(), "{alarms:#}");

    let script = r#"
import boto3, json, sys
from moto.events.models import EventPattern
name, topic = sys.argv[1], sys.argv[2]
account = boto3.client('sts').get_caller_identity()['Account']
events = boto3.client('events')
rule = events.describe_rule(Name=name + '-database-storage')
targets = [t['Arn'] for t in events.list_targets_by_rule(Rule=rule['Name'])['Targets']]
pattern = EventPattern.load(rule['EventPattern'])
def event(event_id, instance=name + '-primary', detail_type='RDS DB Instance Event'):
    arn = 'arn:aws:rds:us-east-1:%s:db:%s' % (account, instance)
    return {'version': '0', 'id': '1', 'detail-type': detail_type, 'source': 'aws.rds', 'account': account,
            'time': '2026-11-26T12:00:00Z', 'region': 'us-east-1', 'resources': [arn],
            'detail': {'EventCategories': ['notification'], 'SourceType': 'DB_INSTANCE', 'SourceArn': arn,
                       'Date': '2026-11-26T12:00:00.000Z', 'Message': '', 'SourceIdentifier': 'rds:' + instance,
                       'EventID': event_id}}
cases = {
    'approaching the ceiling': event('RDS-EVENT-0225'),
    'a step would reach the ceiling': event('RDS-EVENT-0224'),
    'storage exhausted': event('RDS-EVENT-0007'),
    'normal low storage before a step': event('RDS-EVENT-0089'),
    'a normal autoscaling step': event('RDS-EVENT-0217'),
    'another instance': event('RDS-EVENT-0225', instance='greenlang-elsewhere-primary'),
    'a cluster event': event('RDS-EVENT-0225', detail_type='RDS DB Cluster Event'),
}
key = boto3.client('sns').get_topic_attributes(TopicArn=topic)['Attributes']
print(json.dumps({
    'rule_arn': rule['Arn'],
    'targets': targets,
    'matches': {case: pattern.matches_event(e) for case, e in cases.items()},
    'topic_policy': json.loads(key['Policy']),
    'key_policy': json.loads(boto3.client('kms').get_key_policy(KeyId=key['KmsMasterKeyId'], PolicyName='default')['Policy']),
}))
"#;
    let topic = output(dev, "alarm_topic_arn");
    let seen = boto3_json(&dev.endpoint, script, &[&name, &topic]);
    assert_eq!(seen["targets"], serde_json::json!([topic]), "{seen:#}");
    let matches = &seen["matches"];
    for case in ["approaching the ceiling", "a step would reach the ceiling", "storage exhausted"] {
        assert_eq!(matches[case], true, "{case}: {matches:#}");
    }
    for case in ["normal low storage before a step", "a normal autoscaling step", "another instance", "a cluster event"]
    {
        assert_eq!(matches[case], false, "{case}: {matches:#}");
    }
    let statement = |policy: &serde_json::Value, service: &str| {
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Principal"]["Service"] == service)
            .cloned()
            .unwrap_or_else(|| panic!("no statement for {service} in {policy:#}"))
    };
    let publish = statement(&seen["topic_policy"], "events.amazonaws.com");
    assert_eq!(publish["Condition"]["ArnEquals"]["aws:SourceArn"], seen["rule_arn"], "{publish:#}");
    assert!(statement(&seen["topic_policy"], "cloudwatch.amazonaws.com")["Action"].to_string().contains("SNS:Publish"));
    let key = statement(&seen["key_policy"], "events.amazonaws.com");
    let actions = key["Action"].to_string();
    assert!(actions.contains("kms:Decrypt") && actions.contains("kms:GenerateDataKey*"), "{key:#}");
}

/// An IAM login (issue: logins that cannot log in) gets no password secret, and the root module outputs the
/// `rds-db:connect` policy for it, scoped to the cluster's resource id; the module validates with the provider.
#[test]
fn an_iam_login_gets_the_connect_policy_instead_of_a_password_secret() {
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("prod-iam.yaml");
    std::fs::write(
        &env,
        format!(
            "extends: {}\nsecrets:\n  readonly: {{ auth: iam, rotation_days: null }}\n",
            repo().join("environments/prod.yaml").display()
        ),
    )
    .unwrap();
    let out = dir.path().join("tf");
    let render = glctl(&["render", "-e", env.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(render.code, 0, "{}", render.stderr);
    let outputs = read(&out.join("outputs.tf"));
    assert!(outputs.contains("output \"iam_connect_policy\""), "{outputs}");
    assert!(outputs.contains("rds-db:connect") && outputs.contains("[\"readonly_analytics\"]"), "{outputs}");
    assert!(outputs.contains("dbuser:${module.database.resource_id}/${user}"), "{outputs}");
    let main = read(&out.join("main.tf"));
    assert!(!main.contains("greenlang/prod/database/readonly"), "no secret for the IAM login");
    assert!(main.contains("greenlang/prod/database/app"), "the password login keeps its secret");
    let plugin_dir = std::env::var("GLCTL_TF_PLUGIN_DIR").unwrap_or_else(|_| "/opt/tf-plugins".into());
    let init = std::process::Command::new("terraform")
        .args(["init", "-backend=false", "-input=false", "-no-color", &format!("-plugin-dir={plugin_dir}")])
        .current_dir(&out)
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let validate =
        std::process::Command::new("terraform").args(["validate", "-no-color"]).current_dir(&out).output().unwrap();
    assert!(validate.status.success(), "{}", String::from_utf8_lossy(&validate.stdout));
}
