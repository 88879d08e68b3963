//! BR-04/BR-05 on RDS and Aurora against moto (a stand-in for AWS, which cannot run here): the
//! point-in-time restore calls are made into a scratch instance of the smallest class, in the source's subnet
//! group and the environment's security group, encrypted with its key; the copy is deleted afterwards; and
//! since moto restores metadata only (no database behind it), the result is never PASS. A target older than
//! the source is refused before anything is created. BR-06 restores the source's newest automated snapshot
//! (moto takes one when the instance or cluster is created) the same way, in the same run; BR-08 is that
//! restore measured (ERROR: moto's restore is metadata only, no restore time); BR-07 asks AWS Backup in the DR
//! region for the newest DR copy (moto 5.2.5 has vaults but no recovery points: ERROR, never PASS), and
//! without `backup.cross_region_copy.restore_into` it is ERROR naming that setting. The rest of BR-07 —
//! the restore metadata override, `StartRestoreJob`, `DescribeRestoreJob`, the copy read back and deleted in
//! the DR region — runs against a stand-in for AWS Backup (`AWS_ENDPOINT_URL_BACKUP`) whose restore job
//! creates the instance in moto's DR region.

use std::path::Path;

use crate::support::stack::{aws_config, dedicated_moto, seed};
use crate::support::{glctl_aws, repo, runtime};

struct Made {
    key: String,
    group: String,
}

/// The source in moto: a KMS key, a security group, a DB subnet group, and an RDS instance (`dev`) or an
/// Aurora cluster with its writer (`prod`), encrypted with the key.
async fn source(endpoint: &str, aurora: bool) -> Made {
    let config = aws_config(endpoint).await;
    let s = seed(endpoint);
    let kms = aws_sdk_kms::Client::new(&config);
    let key = kms.create_key().send().await.unwrap().key_metadata.unwrap().arn.unwrap();
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let name = if aurora { "prod" } else { "dev" };
    let group = ec2
        .create_security_group()
        .group_name(format!("greenlang-{name}-db"))
        .description("database")
        .vpc_id(&s.vpc_id)
        .send()
        .await
        .unwrap()
        .group_id
        .unwrap();
    let rds = aws_sdk_rds::Client::new(&config);
    let subnets = format!("greenlang-{name}-subnets");
    let mut call = rds.create_db_subnet_group().db_subnet_group_name(&subnets).db_subnet_group_description("db");
    for subnet in &s.subnet_ids {
        call = call.subnet_ids(subnet);
    }
    call.send().await.unwrap();
    if aurora {
        rds.create_db_cluster()
            .db_cluster_identifier("greenlang-prod")
            .engine("aurora-postgresql")
            .engine_version("16.6")
            .master_username("postgres")
            .master_user_password("not-a-secret-1")
            .storage_encrypted(true)
            .kms_key_id(&key)
            .db_subnet_group_name(&subnets)
            .vpc_security_group_ids(&group)
            .backup_retention_period(35)
            .send()
            .await
            .unwrap();
        rds.create_db_instance()
            .db_instance_identifier("greenlang-prod-writer")
            .db_cluster_identifier("greenlang-prod")
            .engine("aurora-postgresql")
            .db_instance_class("db.r6g.xlarge")
            .send()
            .await
            .unwrap();
    } else {
        rds.create_db_instance()
            .db_instance_identifier("greenlang-dev")
            .engine("postgres")
            .engine_version("16.6")
            .db_instance_class("db.t4g.medium")
            .allocated_storage(50)
            .master_username("postgres")
            .master_user_password("not-a-secret-1")
            .storage_encrypted(true)
            .kms_key_id(&key)
            .db_subnet_group_name(&subnets)
            .vpc_security_group_ids(&group)
            .backup_retention_period(7)
            .send()
            .await
            .unwrap();
    }
    Made { key, group }
}

/// What `apply` would have written: the outputs the drill reads.
fn outputs(dir: &Path, made: &Made, aurora: bool) {
    let instances = if aurora {
        serde_json::json!({"writer": "greenlang-prod-writer"})
    } else {
        serde_json::json!({"primary": "greenlang-dev"})
    };
    let outputs = serde_json::json!({
        "kms_key_arn": {"value": made.key},
        "security_group_id": {"value": made.group},
        "instance_identifiers": {"value": instances},
    });
    std::fs::write(dir.join("outputs.json"), outputs.to_string()).unwrap();
}

async fn scratch_left(endpoint: &str) -> Vec<String> {
    let rds = aws_sdk_rds::Client::new(&aws_config(endpoint).await);
    let instances = rds.describe_db_instances().send().await.unwrap();
    let clusters = rds.describe_db_clusters().send().await.unwrap();
    instances
        .db_instances()
        .iter()
        .filter_map(|i| i.db_instance_identifier())
        .chain(clusters.db_clusters().iter().filter_map(|c| c.db_cluster_identifier()))
        .filter(|id| id.starts_with("glctl-drill"))
        .map(String::from)
        .collect()
}

/// The DR vault `templates/modules/backup_copy` creates, in moto's DR region (boto3: the SDK crate for AWS
/// Backup is not in this build).
fn dr_vault(endpoint: &str, name: &str) {
    let script = format!(
        "import boto3; boto3.client('backup', region_name='us-west-2', endpoint_url='{endpoint}', \
         aws_access_key_id='test', aws_secret_access_key='test')\
         .create_backup_vault(BackupVaultName='greenlang-{name}-database-dr')"
    );
    let out = std::process::Command::new("timeout")
        .args(["60", repo().join(".tools/venv/bin/python").to_str().unwrap(), "-c", &script])
        .output()
        .unwrap();
    assert!(out.status.success(), "creating the DR vault: {}", String::from_utf8_lossy(&out.stderr));
}

fn drill(endpoint: &str, name: &str, aurora: bool) {
    let made = runtime().block_on(source(endpoint, aurora));
    // A scratch copy an earlier, killed run left behind: listed with how to delete it, not deleted.
    let left = "glctl-drill-br-05-1";
    runtime().block_on(async {
        let rds = aws_sdk_rds::Client::new(&aws_config(endpoint).await);
        let call =
            rds.create_db_instance().db_instance_identifier(left).engine("postgres").db_instance_class("db.t4g.micro");
        call.allocated_storage(20)
            .master_username("postgres")
            .master_user_password("not-a-secret-1")
            .send()
            .await
            .unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("work");
    std::fs::create_dir(&out).unwrap();
    outputs(&out, &made, aurora);
    // The file is named after the environment (Aurora's cluster is `<project>-<name>`).
    let env = dir.path().join(format!("{name}.yaml"));
    let parent = repo().join(format!("environments/{name}.yaml"));
    let restore_into = "restore_into: { db_subnet_group: greenlang-dr-subnets, security_group_ids: [sg-0d0d0d0d] }";
    std::fs::write(
        &env,
        format!(
            "extends: {}\nacceptance:\n  pitr_targets: {{ br04: now, br05: 24 hours }}\n\
             backup:\n  cross_region_copy: {{ enabled: true, {restore_into} }}\n",
            parent.display()
        ),
    )
    .unwrap();
    dr_vault(endpoint, name);
    let mut args = vec!["verify", "-e", env.to_str().unwrap(), "--out", out.to_str().unwrap(), "--format", "json"];
    args.extend(["--drills", "--only", "BR-01,BR-02,BR-04,BR-05,BR-06,BR-07,BR-08", "--allow-production"]);
    let run = glctl_aws(endpoint, &repo(), &args);
    let results: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    let result = |id: &str| {
        let r = results["results"].as_array().unwrap().iter().find(|r| r["id"] == id).unwrap().clone();
        (r["status"].as_str().unwrap().to_string(), r["reason"].as_str().unwrap_or_default().to_string())
    };
    let (status, why) = result("BR-04");
    assert_eq!(status, "ERROR", "moto restores no data: never PASS: {why}");
    let class = if aurora { "db.t4g.medium" } else { "db.t4g.micro" };
    let subnets = format!("greenlang-{name}-subnets");
    for read_back in [
        "not decided".to_string(),
        format!("class {class}"),
        format!("subnet group {subnets}"),
        format!("security groups {},", made.group).replace(',', ""),
        format!("encrypted true with {}", made.key),
    ] {
        assert!(why.contains(&read_back), "{read_back} in {why}");
    }
    let pid_scratch = if aurora { "deleted cluster glctl-drill-br-04-" } else { "deleted instance glctl-drill-br-04-" };
    assert!(why.contains(pid_scratch) && why.contains("SkipFinalSnapshot, DeleteAutomatedBackups"), "{why}");
    // A FAIL against moto is moto's restore window: not decided there (verify::emulator), the FAIL kept in
    // the reason.
    let (status, why) = result("BR-05");
    assert_eq!(status, "SKIP", "{why}");
    assert!(why.starts_with(&format!("decided by an emulator (moto at {endpoint}): ")), "{why}");
    assert!(why.contains("it reported FAIL: acceptance.pitr_targets.br05 targets "), "{why}");
    assert!(why.contains("backup.retention_days") && why.contains("refused before anything was created"), "{why}");
    // BR-01/BR-02 from the backup APIs: the automated snapshot moto took at creation, named with the window;
    // moto takes no later (incremental) one, so BR-02 is not decided.
    let evidence = |id: &str| {
        let r = results["results"].as_array().unwrap().iter().find(|r| r["id"] == id).unwrap().clone();
        r["evidence"][0]["observed"].as_str().unwrap_or_default().to_string()
    };
    let (status, why) = result("BR-01");
    assert_eq!(status, "SKIP", "moto's active automated backup decides nothing: {why}");
    assert!(why.starts_with(&format!("decided by an emulator (moto at {endpoint}): ")), "{why}");
    let observed = evidence("BR-01");
    assert!(observed.contains(&format!("automated snapshots: rds:greenlang-{name}-")), "{observed}");
    assert!(observed.contains("restore window 20"), "{observed}");
    if !aurora {
        assert!(
            observed.contains("automated backup active") && observed.contains("RestoreWindow not reported"),
            "{observed}"
        );
    }
    let (status, why) = result("BR-02");
    assert_eq!(status, "ERROR", "one snapshot shows no incremental one: {why}");
    assert!(why.starts_with("not decided yet") && why.contains(&format!("rds:greenlang-{name}-")), "{why}");
    // BR-06: the newest automated snapshot, restored as BR-04 was, then deleted; never PASS against moto.
    let (status, why) = result("BR-06");
    assert_eq!(status, "ERROR", "moto restores no data: never PASS: {why}");
    let (call, source) = if aurora {
        ("RestoreDBClusterFromSnapshot rds:greenlang-prod-", "of greenlang-prod")
    } else {
        ("RestoreDBInstanceFromDBSnapshot rds:greenlang-dev-", "of greenlang-dev")
    };
    for read_back in [
        "not decided".to_string(),
        format!("newest automated snapshot rds:greenlang-{name}-"),
        source.to_string(),
        call.to_string(),
        "→ glctl-drill-br-06-".to_string(),
        format!("class {class}"),
        format!("subnet group {subnets}"),
        format!("security groups {},", made.group),
        format!("encrypted true with {}", made.key),
    ] {
        assert!(why.contains(&read_back), "{read_back} in {why}");
    }
    let deleted = if aurora { "deleted cluster glctl-drill-br-06-" } else { "deleted instance glctl-drill-br-06-" };
    assert!(why.contains(deleted) && why.contains("SkipFinalSnapshot, DeleteAutomatedBackups"), "{why}");
    // BR-08: BR-06's restore measured, labelled; moto restored no data, so it is no restore time.
    let (status, why) = result("BR-08");
    assert_eq!(status, "ERROR", "never PASS against moto: {why}");
    for part in [
        "not decided: the copy's data was never read back",
        "is not a restore time",
        "glctl-drill-br-06-",
        "measured: ",
        &format!("(AllocatedStorage {} GiB of greenlang-{name}", if aurora { "1" } else { "50" }),
        "not its database size (its database could not be reached)",
        "s heartbeat read-back",
        "EXTRAPOLATED (not measured) to 500 GB",
    ] {
        assert!(why.contains(part), "{part} in {why}");
    }
    // BR-07: AWS Backup in the DR region; moto has the vault but implements no recovery points.
    let (status, why) = result("BR-07");
    assert_eq!(status, "ERROR", "never PASS against moto: {why}");
    for part in [
        "not decided: the endpoint does not implement AWS Backup ListRecoveryPointsByBackupVault in us-west-2",
        &format!(
            "DescribeBackupVault greenlang-{name}-database-dr in us-west-2: \
             arn:aws:backup:us-west-2:123456789012:backup-vault:greenlang-{name}-database-dr"
        ),
    ] {
        assert!(why.contains(part), "{part} in {why}");
    }
    assert!(
        run.stderr.contains(&format!("scratch restore RDS instance {left}, left by an earlier drill: delete it with `aws rds delete-db-instance --db-instance-identifier {left} --skip-final-snapshot --delete-automated-backups`")),
        "{}",
        run.stderr
    );
    assert_eq!(runtime().block_on(scratch_left(endpoint)), [left], "every scratch copy of this run deleted");
    assert_eq!(run.code, 3, "nothing failed, much undecided: {}", run.stderr);
}

#[test]
fn moto_rds_point_in_time_drill_restores_into_a_scratch_instance_as_asked_deletes_it_and_never_passes() {
    let endpoint = dedicated_moto();
    drill(&endpoint, "dev", false);
    // Without `restore_into` BR-07 names the setting before it asks AWS anything.
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("dev.yaml");
    let parent = repo().join("environments/dev.yaml");
    std::fs::write(&env, format!("extends: {}\nbackup:\n  cross_region_copy: {{ enabled: true }}\n", parent.display()))
        .unwrap();
    let out = dir.path().to_str().unwrap();
    let args = ["verify", "-e", env.to_str().unwrap(), "--out", out, "--format", "json", "--drills", "--only", "BR-07"];
    let run = glctl_aws(&endpoint, &repo(), &args);
    let results: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stderr));
    let br07 = results["results"].as_array().unwrap().iter().find(|r| r["id"] == "BR-07").unwrap();
    assert_eq!(br07["status"], "ERROR", "{br07}");
    let why = br07["reason"].as_str().unwrap();
    assert!(why.starts_with("backup.cross_region_copy.restore_into is not set") && why.contains("us-west-2"), "{why}");
    assert!(why.contains("nothing was created"), "{why}");
}

#[test]
fn moto_aurora_point_in_time_drill_restores_a_scratch_cluster_and_instance_deletes_them_and_never_passes() {
    drill(&dedicated_moto(), "prod", true);
}

/// What the AWS Backup stand-in was asked.
#[derive(Default)]
struct Asked {
    scopes: Vec<String>,
    resource_arn: String,
    restore: serde_json::Value,
}

/// A stand-in for AWS Backup in the DR region (moto implements no recovery points or restore jobs): one
/// recovery point of the source, its restore metadata as the source region had it, and a restore job that
/// does what AWS Backup would, creating the instance the metadata names in moto's `us-west-2`.
fn aws_backup_stand_in(
    moto: String,
    key: String,
    aurora: bool,
    asked: std::sync::Arc<std::sync::Mutex<Asked>>,
) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let (method, path) = {
                let mut parts = line.split_whitespace();
                (parts.next().unwrap_or_default().to_string(), parts.next().unwrap_or_default().to_string())
            };
            let mut length = 0;
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                let (name, value) = header.trim_end().split_once(": ").unwrap_or_default();
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.parse().unwrap(),
                    "authorization" => asked.lock().unwrap().scopes.push(value.to_string()),
                    "" => break,
                    _ => {}
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
            let answer = match (method.as_str(), path.as_str()) {
                ("GET", p) if p.contains("/recovery-points/?") => {
                    asked.lock().unwrap().resource_arn = p.split("resourceArn=").nth(1).unwrap_or_default().into();
                    serde_json::json!({"RecoveryPoints": [{
                        "RecoveryPointArn": "arn:aws:backup:us-west-2:123456789012:recovery-point:rp-1",
                        "Status": "COMPLETED", "CreationDate": now - 3600.0, "CompletionDate": now - 3500.0}]})
                }
                ("GET", p) if p.ends_with("/restore-metadata") && aurora => serde_json::json!({"RestoreMetadata": {
                    "DBClusterIdentifier": "greenlang-prod", "Engine": "aurora-postgresql", "EngineVersion": "16.6",
                    "DBSubnetGroupName": "greenlang-prod-subnets", "VpcSecurityGroupIds": "[\"sg-source\"]",
                    "AvailabilityZones": "[\"us-east-1a\"]", "DBClusterParameterGroupName": "greenlang-prod",
                    "KmsKeyId": key}}),
                ("GET", p) if p.ends_with("/restore-metadata") => serde_json::json!({"RestoreMetadata": {
                    "DBInstanceIdentifier": "greenlang-dev", "DBInstanceClass": "db.t4g.medium", "Engine": "postgres",
                    "DBSubnetGroupName": "greenlang-dev-subnets", "VpcSecurityGroupIds": "[\"sg-source\"]",
                    "AvailabilityZone": "us-east-1a", "MultiAZ": "true", "AllocatedStorage": "50"}}),
                ("GET", p) if p.starts_with("/backup-vaults/") => serde_json::json!({
                    "BackupVaultName": "greenlang-dev-database-dr",
                    "BackupVaultArn": "arn:aws:backup:us-west-2:123456789012:backup-vault:greenlang-dev-database-dr"}),
                ("PUT", "/restore-jobs") => {
                    let restore: serde_json::Value = serde_json::from_slice(&body).unwrap();
                    let m = restore["Metadata"].clone();
                    asked.lock().unwrap().restore = restore;
                    let groups: Vec<String> = serde_json::from_str(m["VpcSecurityGroupIds"].as_str().unwrap()).unwrap();
                    let (moto, key) = (moto.clone(), key.clone());
                    runtime().block_on(async move {
                        let rds = aws_sdk_rds::Client::new(&dr_config(&moto).await);
                        if aurora {
                            rds.create_db_cluster()
                                .db_cluster_identifier(m["DBClusterIdentifier"].as_str().unwrap())
                                .engine("aurora-postgresql")
                                .db_subnet_group_name(m["DBSubnetGroupName"].as_str().unwrap())
                                .set_vpc_security_group_ids(Some(groups))
                                .master_username("postgres")
                                .master_user_password("not-a-secret-1")
                                .storage_encrypted(true)
                                .kms_key_id(m["KmsKeyId"].as_str().unwrap())
                                .send()
                                .await
                                .unwrap();
                            return;
                        }
                        rds.create_db_instance()
                            .db_instance_identifier(m["DBInstanceIdentifier"].as_str().unwrap())
                            .db_instance_class(m["DBInstanceClass"].as_str().unwrap())
                            .db_subnet_group_name(m["DBSubnetGroupName"].as_str().unwrap())
                            .set_vpc_security_group_ids(Some(groups))
                            .engine("postgres")
                            .allocated_storage(50)
                            .master_username("postgres")
                            .master_user_password("not-a-secret-1")
                            .storage_encrypted(true)
                            .kms_key_id(key)
                            .send()
                            .await
                            .unwrap();
                    });
                    serde_json::json!({"RestoreJobId": "job-1"})
                }
                ("GET", "/restore-jobs/job-1") => serde_json::json!({"RestoreJobId": "job-1", "Status": "COMPLETED"}),
                _ => serde_json::json!({"__type": "UnknownOperationException"}),
            }
            .to_string();
            let mut stream = reader.into_inner();
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                answer.len()
            );
            stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(answer.as_bytes())).unwrap();
        }
    });
    address
}

async fn dr_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config(endpoint).await.into_builder().region(aws_sdk_rds::config::Region::new("us-west-2")).build()
}

fn stand_in_drill(aurora: bool) {
    let endpoint = dedicated_moto();
    let made = runtime().block_on(source(&endpoint, aurora));
    let name = if aurora { "prod" } else { "dev" };
    // The DR region's network for the copy (moto's default VPC there), and a key of that region.
    let (subnets, group, key) = runtime().block_on(async {
        let config = dr_config(&endpoint).await;
        let ec2 = aws_sdk_ec2::Client::new(&config);
        let vpcs = ec2.describe_vpcs().send().await.unwrap();
        let vpc = vpcs.vpcs()[0].vpc_id().unwrap().to_string();
        let subnets: Vec<String> = ec2.describe_subnets().send().await.unwrap().subnets()[..2]
            .iter()
            .map(|s| s.subnet_id().unwrap().to_string())
            .collect();
        let group = ec2.create_security_group().group_name("dr-db").description("dr").vpc_id(&vpc).send().await;
        let group = group.unwrap().group_id.unwrap();
        let rds = aws_sdk_rds::Client::new(&config);
        let call =
            rds.create_db_subnet_group().db_subnet_group_name("greenlang-dr-subnets").db_subnet_group_description("dr");
        call.set_subnet_ids(Some(subnets.clone())).send().await.unwrap();
        let key =
            aws_sdk_kms::Client::new(&config).create_key().send().await.unwrap().key_metadata.unwrap().arn.unwrap();
        ("greenlang-dr-subnets".to_string(), group, key)
    });
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Asked::default()));
    let backup = aws_backup_stand_in(endpoint.clone(), key, aurora, asked.clone());
    let dir = tempfile::tempdir().unwrap();
    outputs(dir.path(), &made, aurora);
    let env = dir.path().join(format!("{name}.yaml"));
    std::fs::write(
        &env,
        format!(
            "extends: {}\nbackup:\n  cross_region_copy:\n    enabled: true\n    restore_into: {{ db_subnet_group: {subnets}, \
             security_group_ids: [{group}] }}\n",
            repo().join(format!("environments/{name}.yaml")).display()
        ),
    )
    .unwrap();
    let out = dir.path().to_str().unwrap();
    let stack = crate::support::stack::stack();
    let run = std::process::Command::new("timeout")
        .args(["--kill-after=10", "300", env!("CARGO_BIN_EXE_glctl")])
        .args(["verify", "-e", env.to_str().unwrap(), "--out", out, "--format", "json", "--drills", "--only", "BR-07"])
        .arg("--allow-production")
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("GLCTL_DATABASE_URL")
        .envs(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"].map(|v| (v, stack.var(v))))
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_ENDPOINT_URL_BACKUP", &backup)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let results: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&run.stderr)));
    let br07 = results["results"].as_array().unwrap().iter().find(|r| r["id"] == "BR-07").unwrap();
    let why = br07["reason"].as_str().unwrap_or_default();
    // The copy is made and checked, but moto serves no database: not decided, never PASS.
    assert_eq!(br07["status"], "ERROR", "{why}");
    let asked = asked.lock().unwrap();
    assert!(!asked.scopes.is_empty() && asked.scopes.iter().all(|s| s.contains("/us-west-2/backup/aws4_request")));
    let source_arn = if aurora { "cluster%3Agreenlang-prod" } else { "db%3Agreenlang-dev" };
    assert_eq!(asked.resource_arn, format!("arn%3Aaws%3Ards%3Aus-east-1%3A123456789012%3A{source_arn}"));
    let m = &asked.restore["Metadata"];
    let id = if aurora { "DBClusterIdentifier" } else { "DBInstanceIdentifier" };
    assert!(m[id].as_str().unwrap().starts_with("glctl-drill-br-07-"), "{m}");
    assert_eq!(m["DBSubnetGroupName"].as_str(), Some(&*subnets));
    assert_eq!(m["VpcSecurityGroupIds"], format!("[\"{group}\"]"));
    assert!(m.get("AvailabilityZone").is_none() && m.get("AvailabilityZones").is_none(), "{m}");
    let class = if aurora { "db.t4g.medium" } else { "db.t4g.micro" };
    if aurora {
        assert!(m.get("DBClusterParameterGroupName").is_none() && m.get("DBInstanceClass").is_none(), "{m}");
    } else {
        assert_eq!((m["DBInstanceClass"].as_str(), m["MultiAZ"].as_str()), (Some(class), Some("false")));
        assert_eq!(m["PubliclyAccessible"].as_str(), Some("false"));
    }
    assert_eq!(asked.restore["IamRoleArn"], format!("arn:aws:iam::123456789012:role/greenlang-{name}-database-backup"));
    assert_eq!(asked.restore["ResourceType"], if aurora { "Aurora" } else { "RDS" });
    let deleted = if aurora { "deleted cluster glctl-drill-br-07-" } else { "deleted instance glctl-drill-br-07-" };
    if aurora {
        assert!(
            why.contains("CreateDBInstance glctl-drill-br-07-") && why.contains("deleted instance glctl-drill-br-07-")
        );
    }
    for part in [
        &format!("not decided: the DR copy was restored in us-west-2 and checked (class {class}"),
        &format!("subnet group {subnets}, security groups {group}"),
        "StartRestoreJob job-1: arn:aws:backup:us-west-2:123456789012:recovery-point:rp-1 → glctl-drill-br-07-",
        deleted,
    ] {
        assert!(why.contains(part), "{part} in {why}");
    }
    let left = runtime().block_on(async {
        let rds = aws_sdk_rds::Client::new(&dr_config(&endpoint).await);
        let instances = rds.describe_db_instances().send().await.unwrap();
        let clusters = rds.describe_db_clusters().send().await.unwrap();
        let ids = instances.db_instances().iter().filter_map(|i| i.db_instance_identifier());
        ids.chain(clusters.db_clusters().iter().filter_map(|c| c.db_cluster_identifier()))
            .map(String::from)
            .collect::<Vec<_>>()
    });
    assert!(left.iter().all(|id| !id.starts_with("glctl-drill")), "the DR copy is deleted: {left:?}");
}

#[test]
fn stand_in_aws_backup_restores_the_dr_copy_with_the_overridden_metadata_into_the_dr_region_and_deletes_it() {
    stand_in_drill(false);
}

#[test]
fn stand_in_aws_backup_restores_an_aurora_dr_copy_creates_its_writer_in_the_dr_region_and_deletes_both() {
    stand_in_drill(true);
}
