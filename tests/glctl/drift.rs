//! `glctl drift` against the real stack: a clean database after apply is no drift; a retention changed by
//! hand, a disabled audit trigger and a revoked grant are each named; a partition pg_partman makes is not
//! drift; acknowledged drift does not count; an unreachable target is exit 3, never "no drift". And FA-08:
//! a summary apply just populated is fresh before pg_cron's first run. prod's infrastructure is read from
//! its S3 backend (moto) on a checkout without its work directory.

use std::path::{Path, PathBuf};

use crate::migrate::Project;
use crate::support::repo;
use crate::support::stack::{aws_config, dedicated_moto, seed, stack, Seed};
use crate::support::{glctl_aws, glctl_in, runtime, Output};

fn names(json: &str) -> Vec<String> {
    let report: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    report["layers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| l["differences"].as_array().unwrap().clone())
        .filter(|d| d.get("acknowledged").is_none() && d.get("emulator").is_none())
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn drift_on_the_native_backend_names_hand_changes_and_not_new_partitions() {
    let p = Project::new("drift_native");
    p.use_repository_migrations();
    let apply = p.glctl_env("dev", &["apply", "--only", "database"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);

    // FA-08 right after apply: pg_cron has not run the refresh jobs yet, apply's populate counts.
    let out = p.root.path().to_str().unwrap().to_string();
    let fa08 = p.glctl_env("dev", &["verify", "--out", &out, "--only", "FA-08", "--format", "json"]);
    assert_eq!(fa08.code, 0, "{}\n{}", fa08.stdout, fa08.stderr);
    assert!(fa08.stdout.contains("by glctl apply"), "{}", fa08.stdout);

    let drift = |env: &str| p.glctl_env(env, &["drift", "--only", "database", "--output", "json"]);
    let clean = drift("dev");
    assert_eq!(clean.code, 0, "{}\n{}", clean.stdout, clean.stderr);
    assert!(names(&clean.stdout).is_empty(), "{}", clean.stdout);

    // A partition pg_partman makes is expected.
    p.query("SELECT partman.create_partition_time('public.sensor_readings', ARRAY[now() + interval '30 days'])");
    let still_clean = drift("dev");
    assert_eq!(still_clean.code, 0, "a new partition is not drift: {}", still_clean.stdout);

    p.query("UPDATE partman.part_config SET retention = '1 day' WHERE parent_table = 'public.sensor_readings'");
    p.query("ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_immutable");
    p.query("REVOKE SELECT ON emission_measurements FROM analytics_read");
    let found = drift("dev");
    assert_eq!(found.code, 1, "{}\n{}", found.stdout, found.stderr);
    let found = names(&found.stdout);
    assert!(found.contains(&"policies: sensor_readings retention".to_string()), "{found:?}");
    assert!(
        found.iter().any(|n| n.starts_with("objects: trigger audit_logs.audit_logs_immutable (disabled)")),
        "{found:?}"
    );
    assert!(
        found.contains(&"objects: grant SELECT on emission_measurements to analytics_read revoked".to_string()),
        "{found:?}"
    );
    assert_eq!(found.len(), 3, "nothing else: {found:?}");

    // Acknowledged drift is listed with its reason and does not count.
    let envs = p.root.path().join("environments");
    std::fs::create_dir_all(&envs).unwrap();
    std::fs::copy(repo().join("environments/base.yaml"), envs.join("base.yaml")).unwrap();
    let dev = std::fs::read_to_string(repo().join("environments/dev.yaml")).unwrap();
    std::fs::write(
        envs.join("dev.yaml"),
        format!(
            "{dev}\ndrift:\n  acknowledged:\n    - {{ item: 'policies: sensor_readings retention', reason: 'a test', expires: '2099-12-31' }}\n    - {{ item: 'objects: *', reason: 'a test', expires: '2099-12-31' }}\n"
        ),
    )
    .unwrap();
    let acknowledged = drift(envs.join("dev.yaml").to_str().unwrap());
    assert_eq!(acknowledged.code, 0, "{}\n{}", acknowledged.stdout, acknowledged.stderr);
    assert!(acknowledged.stdout.contains("acknowledged until 2099-12-31: a test"), "{}", acknowledged.stdout);
}

#[test]
fn an_unreachable_target_is_incomplete_not_clean() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgres://x:y@127.0.0.1:{closed}/z?sslmode=disable");
    let dir = tempfile::tempdir().unwrap();
    let out = glctl_in(
        &repo(),
        &["drift", "-e", "dev", "--only", "database", "--out", dir.path().to_str().unwrap(), "--database-url", &url],
    );
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("NOT READ  migrations") && out.stdout.contains("3 layer(s) not read"),
        "{}",
        out.stdout
    );
}

/// TimescaleDB (PGlite): a chunk TimescaleDB makes is not drift; a retention policy replaced by hand is.
#[test]
fn drift_on_timescaledb_names_a_retention_changed_by_hand_and_not_a_new_chunk() {
    use crate::support::stack::{dedicated_timescaledb, timescaledb_connect_to};
    let port = dedicated_timescaledb();
    let url = format!("postgres://postgres:postgres@127.0.0.1:{port}/postgres?sslmode=disable");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let glctl = |args: &[&str]| {
        let mut all = vec!["-e", "local", "--database-url", &url];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--out", out]);
        glctl_in(&repo(), &all)
    };
    let apply = glctl(&["apply", "--only", "database"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let sql = |statement: &str| {
        crate::support::runtime().block_on(async {
            let (client, task) = timescaledb_connect_to(port).await;
            client.batch_execute(statement).await.unwrap();
            drop(client);
            let _ = task.await;
        })
    };
    sql("INSERT INTO sensor_readings (reading_time, organization_id, facility_id, device_id, metric_type, value, unit)
         VALUES (now(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'kwh', 1, 'kWh')");
    let clean = glctl(&["drift", "--only", "database", "--output", "json"]);
    assert_eq!(clean.code, 0, "a new chunk is not drift: {}\n{}", clean.stdout, clean.stderr);

    sql("SELECT remove_retention_policy('sensor_readings'); SELECT add_retention_policy('sensor_readings', INTERVAL '5 days')");
    let found = glctl(&["drift", "--only", "database", "--output", "json"]);
    assert_eq!(found.code, 1, "{}\n{}", found.stdout, found.stderr);
    assert_eq!(names(&found.stdout), ["policies: sensor_readings retention"], "{}", found.stdout);
}

/// prod as shipped (its S3 backend: `greenlang-terraform-state`, locked by `greenlang-terraform-locks`, which
/// the seed creates in moto) with INFRA-001's ids from moto, secret names of its own and `extra` appended.
/// moto 5.2.5 has no CreateBackupSelection, so the DR backup copy is off (as in terraform.rs).
fn prod_overlay(seed: &Seed, dir: &Path, name: &str, extra: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join(format!("{name}.yaml"));
    let secrets: String = ["master", "app", "readonly"]
        .iter()
        .map(|role| format!("  {role}: {{ name: greenlang/{name}/database/{role} }}\n"))
        .collect();
    let text = format!(
        "extends: {}\nnetwork:\n  vpc_id: {}\n  database_subnet_ids: [{}]\n  allowed_security_group_ids: [{}]\nrotation_lambda_arn: {}\nsecrets:\n{secrets}backup: {{ cross_region_copy: {{ enabled: false }} }}\n{extra}",
        repo().join("environments/prod.yaml").display(),
        seed.vpc_id,
        seed.subnet_ids.join(", "),
        seed.eks_nodes_sg,
        seed.rotation_lambda_arn
    );
    std::fs::write(&file, text).unwrap();
    file
}

/// `glctl drift --only infra` of `env` with the work directory `out`, without any AWS credentials (no
/// variables, no profile files, no instance metadata), but with moto's endpoint.
fn drift_without_credentials(endpoint: &str, env: &Path, out: &Path) -> Output {
    let home = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_glctl"));
    command.args(["drift", "-e"]).arg(env).args(["--only", "infra", "--out"]).arg(out).current_dir(repo());
    crate::support::without_aws_credentials(&mut command, home.path());
    command.env("AWS_ENDPOINT_URL", endpoint).env("AWS_REGION", stack().var("AWS_REGION")).env("NO_COLOR", "1");
    let out = command.output().unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Puts the file `state` into moto's S3 as `s3://bucket/key` (boto3 from the moto virtualenv).
fn put_object(endpoint: &str, bucket: &str, key: &str, state: &Path) {
    let script = "import boto3,sys; boto3.client('s3').upload_file(sys.argv[1], sys.argv[2], sys.argv[3])";
    let out = std::process::Command::new(repo().join(".tools/venv/bin/python"))
        .args(["-c", script])
        .arg(state)
        .args([bucket, key])
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_DEFAULT_REGION", stack().var("AWS_REGION"))
        .env("AWS_ACCESS_KEY_ID", stack().var("AWS_ACCESS_KEY_ID"))
        .env("AWS_SECRET_ACCESS_KEY", stack().var("AWS_SECRET_ACCESS_KEY"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Regression (issue 25): on a checkout without `.glctl/prod`, `drift -e prod --only infra` said `clean`
/// and exited 0 without reading prod's state, which lives in S3. Now, against moto: the bucket without
/// state is `empty` (exit 0, never clean); a bucket that does not exist and no credentials are NOT READ with
/// the reason (exit 3); once the state is in the bucket, a fresh work directory reads it from there (no
/// local state appears) and a security-group rule added by hand is drift (exit 1).
///
/// prod is applied once, from another work directory with local state, and that state is put where prod's
/// backend keeps it: the apply through the S3 backend is not what this tests, and moto under load can leave
/// a DynamoDB lock nobody holds (terraform.rs). Every drift here reads through the S3 backend and its lock.
#[test]
fn drift_reads_prod_s_infrastructure_from_its_s3_backend_without_a_local_directory() {
    let endpoint = dedicated_moto();
    let seeded = seed(&endpoint);
    let name = format!("s3prod{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let env = prod_overlay(&seeded, &dir.path().join("fresh"), &name, "");
    let (bucket, key) = ("greenlang-terraform-state", format!("greenlang/{name}/terraform.tfstate"));
    let backend = format!("s3://{bucket}/{key}");
    let fresh = |run: &str| dir.path().join(format!("fresh-{run}"));
    let drift = |out: &Path, output: &str| {
        let args = ["drift", "-e", env.to_str().unwrap(), "--only", "infra", "--out", out.to_str().unwrap()];
        glctl_aws(&endpoint, &repo(), &[&args[..], &["--output", output]].concat())
    };

    // The backend answers and holds no state: nothing applied, said as such.
    let empty = drift(&fresh("empty"), "text");
    assert_eq!(empty.code, 0, "{}\n{}", empty.stdout, empty.stderr);
    assert!(
        empty
            .stdout
            .contains(&format!("empty  infrastructure: the backend {backend} holds no state: nothing applied yet")),
        "{}",
        empty.stdout
    );
    assert!(!empty.stdout.contains("clean"), "{}", empty.stdout);

    // A backend that does not answer, and no credentials: not read, with why.
    let elsewhere = prod_overlay(
        &seeded,
        &dir.path().join("elsewhere"),
        &name,
        "terraform: { state_backend: s3, state_bucket: no-such-bucket, lock_table: greenlang-terraform-locks }\n",
    );
    let args = ["drift", "-e", elsewhere.to_str().unwrap(), "--only", "infra", "--out"];
    let missing = glctl_aws(&endpoint, &repo(), &[&args[..], &[fresh("missing").to_str().unwrap()]].concat());
    assert_eq!(missing.code, 3, "{}\n{}", missing.stdout, missing.stderr);
    assert!(
        missing.stdout.contains("NOT READ  infrastructure: the state in s3://no-such-bucket/")
            && missing.stdout.contains("terraform init failed: Error: ")
            && missing.stdout.contains("S3 bucket \"no-such-bucket\" does not exist"),
        "{}",
        missing.stdout
    );
    let anonymous = drift_without_credentials(&endpoint, &env, &fresh("anonymous"));
    assert_eq!(anonymous.code, 3, "{}\n{}", anonymous.stdout, anonymous.stderr);
    assert!(
        anonymous.stdout.starts_with(&format!(
            "NOT READ  infrastructure: the state in {backend} was not read: no AWS credentials for environment {name}"
        )),
        "{}",
        anonymous.stdout
    );
    assert!(anonymous.stdout.contains("1 layer(s) not read (infrastructure)"), "{}", anonymous.stdout);
    assert!(!anonymous.stdout.contains("clean"), "{}", anonymous.stdout);

    // prod applied from another work directory; its state put where prod's backend keeps it.
    let applied = prod_overlay(&seeded, &dir.path().join("applied"), &name, "terraform: { state_backend: local }\n");
    let applied_out = dir.path().join("applied-tf");
    let apply = glctl_aws(
        &endpoint,
        &repo(),
        &["apply", "-e", applied.to_str().unwrap(), "--out", applied_out.to_str().unwrap(), "--yes", "--only", "infra"],
    );
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    put_object(&endpoint, bucket, &key, &applied_out.join("terraform.tfstate"));

    let read = fresh("read");
    let clean = drift(&read, "json");
    assert_eq!(clean.code, 0, "{}\n{}", clean.stdout, clean.stderr);
    let report: serde_json::Value =
        serde_json::from_str(&clean.stdout).unwrap_or_else(|e| panic!("{e}: {}", clean.stdout));
    let layer = &report["layers"][0];
    assert_eq!(layer["layer"], "infrastructure");
    assert!(layer.get("not_read").is_none() && layer.get("nothing_applied").is_none(), "{layer:#}");
    assert!(!read.join("terraform.tfstate").exists(), "the state was read from the bucket, not kept here");

    let outputs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(applied_out.join("outputs.json")).unwrap()).unwrap();
    let group = outputs["security_group_id"]["value"].as_str().unwrap().to_string();
    runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&aws_config(&endpoint).await);
        let range = aws_sdk_ec2::types::IpRange::builder().cidr_ip("0.0.0.0/0").build();
        let permission = aws_sdk_ec2::types::IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(5432)
            .to_port(5432)
            .ip_ranges(range);
        let call = ec2.authorize_security_group_ingress().group_id(&group).ip_permissions(permission.build());
        call.send().await.unwrap_or_else(|e| panic!("{}", aws_sdk_ec2::error::DisplayErrorContext(e)));
    });
    let found = drift(&fresh("found"), "text");
    assert_eq!(found.code, 1, "{}\n{}", found.stdout, found.stderr);
    let rule =
        "DRIFT  infrastructure: module.network_access.aws_security_group.database ingress tcp 5432 from 0.0.0.0/0";
    assert!(found.stdout.contains(rule) && found.stdout.contains(&group), "{}", found.stdout);
    assert!(found.stdout.contains(&format!("{name}: 1 drift, 0 layer(s) not read")), "{}", found.stdout);
}
