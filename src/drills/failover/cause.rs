//! How a failover drill causes the failover, per engine: an `external` server by the command its file
//! declares (`drills.failover_command`), an RDS Multi-AZ instance by `RebootDBInstance` with `ForceFailover`,
//! an Aurora cluster by `FailoverDBCluster` (to `drills.failover_target` where declared). A topology without a
//! standby is refused here, before anything happens.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::model::{EngineKind, Environment};
use crate::process::Program;

/// The failover a drill will cause.
#[derive(Clone, Debug, PartialEq)]
pub enum Cause {
    /// An external server's declared command: program and arguments, run from `cwd`.
    Command { argv: Vec<String>, cwd: PathBuf },
    /// `RebootDBInstance --force-failover` of the Multi-AZ primary.
    RdsInstance { instance: String },
    /// `FailoverDBCluster`, to `target` when declared.
    AuroraCluster { cluster: String, target: Option<String> },
}

impl Cause {
    /// What the drill does, for evidence.
    pub fn describe(&self) -> String {
        match self {
            Cause::Command { argv, .. } => format!("drills.failover_command: {}", argv.join(" ")),
            Cause::RdsInstance { instance } => {
                format!("RDS RebootDBInstance DBInstanceIdentifier={instance} ForceFailover=true")
            }
            Cause::AuroraCluster { cluster, target } => format!(
                "RDS FailoverDBCluster DBClusterIdentifier={cluster}{}",
                target.as_ref().map(|t| format!(" TargetDBInstanceIdentifier={t}")).unwrap_or_default()
            ),
        }
    }
}

/// Why no failover can be caused, found before anything is touched.
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    /// The topology has nothing to fail over to: the criterion cannot be met (FAIL).
    NoStandby(String),
    /// The file does not say how to cause it: undecided (ERROR).
    Undeclared(String),
}

/// The failover for `env` (named `name`; RDS identifiers are `<project>-<name>…`, as the modules name
/// them), or why none can be caused: the refusal comes before anything is touched.
pub fn plan(env: &Environment, name: &str, root: &Path) -> Result<Cause, Refusal> {
    let prefix = format!("{}-{name}", env.project);
    match env.engine.kind {
        EngineKind::External => {
            if env.replication.standbys.is_empty() {
                return Err(Refusal::NoStandby(
                    "the topology has no standby to fail over to (replication.standbys declares none)".into(),
                ));
            }
            let Some(argv) = env.drills.failover_command.clone() else {
                return Err(Refusal::Undeclared(
                    "an external server fails over by a command glctl does not know: declare \
                     drills.failover_command"
                        .into(),
                ));
            };
            Ok(Cause::Command { argv, cwd: root.to_path_buf() })
        }
        EngineKind::RdsPostgresql => {
            if !env.engine.multi_az {
                return Err(Refusal::NoStandby(
                    "the RDS instance has no standby to fail over to (engine.multi_az is false; read replicas \
                     are not promoted automatically)"
                        .into(),
                ));
            }
            Ok(Cause::RdsInstance { instance: format!("{prefix}-primary") })
        }
        EngineKind::AuroraPostgresql => {
            if env.engine.replicas.is_empty() {
                return Err(Refusal::NoStandby(
                    "the Aurora cluster has no reader to fail over to (engine.replicas is empty)".into(),
                ));
            }
            let target = env.drills.failover_target.as_ref().map(|r| format!("{prefix}-{r}"));
            Ok(Cause::AuroraCluster { cluster: prefix, target })
        }
    }
}

/// How the failover command ended.
#[derive(Debug, PartialEq)]
pub enum CommandEnd {
    Succeeded,
    Failed(String),
    /// Killed (its whole process group) after the timeout.
    TimedOut,
}

/// A finished command: how it ended, its output (stdout and stderr, secrets replaced by `***`), how long.
#[derive(Debug)]
pub struct CommandRun {
    pub end: CommandEnd,
    pub output: String,
    pub took: Duration,
}

/// Runs `argv` from `cwd` in a process group of its own, with only `process::BASE` and GLCTL_STACK_DIR of the
/// environment (nothing that could hold a credential); after `timeout` the whole group is killed. `secrets`
/// are replaced by `***` in the output it returns.
pub async fn run_command(argv: &[String], cwd: &Path, timeout: Duration, secrets: &[String]) -> CommandRun {
    let started = Instant::now();
    let program = match argv.first() {
        // A relative path with a directory in it is the project's (scripts/failover), not the caller's.
        Some(p) if p.contains('/') && Path::new(p).is_relative() => cwd.join(p),
        Some(p) => PathBuf::from(p),
        None => {
            return CommandRun {
                end: CommandEnd::Failed("no command".into()),
                output: String::new(),
                took: Duration::ZERO,
            }
        }
    };
    let mut command = Program::new(&program);
    // The local stack's scripts/failover finds the stack by GLCTL_STACK_DIR.
    command.args(&argv[1..]).current_dir(cwd).pass("GLCTL_STACK_DIR");
    let mut child = match command.spawn_group() {
        Ok(child) => child,
        Err(e) => {
            return CommandRun {
                end: CommandEnd::Failed(format!("cannot run {}: {e}", program.display())),
                output: String::new(),
                took: started.elapsed(),
            }
        }
    };
    // Both pipes are read on threads of their own into one buffer, so a killed command's output so far
    // is still there (a grandchild holding a pipe open does not block anything).
    let output = Arc::new(Mutex::new(Vec::new()));
    for pipe in [
        child.child().stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>),
        child.child().stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let sink = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut pipe = pipe;
            let mut chunk = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(&chunk[..n]);
            }
        });
    }
    let end = loop {
        match child.child().try_wait() {
            Ok(Some(status)) if status.success() => break CommandEnd::Succeeded,
            Ok(Some(status)) => break CommandEnd::Failed(format!("exited with {status}")),
            Ok(None) if started.elapsed() >= timeout => {
                child.kill();
                break CommandEnd::TimedOut;
            }
            Ok(None) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(e) => break CommandEnd::Failed(format!("cannot wait for it: {e}")),
        }
    };
    // Let the readers drain what the command wrote last.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let bytes = output.lock().unwrap_or_else(|p| p.into_inner()).clone();
    CommandRun { end, output: redact(&String::from_utf8_lossy(&bytes), secrets), took: started.elapsed() }
}

/// `text` with every (non-empty) secret replaced by `***`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    secrets.iter().filter(|s| !s.is_empty()).fold(text.trim().to_string(), |t, s| t.replace(s.as_str(), "***"))
}

/// What RDS said before and after the failover call.
#[derive(Debug, Default)]
pub struct ApiRun {
    /// The calls made and their answers, for evidence.
    pub calls: Vec<String>,
    /// The writer before the call (Aurora: the member with IsClusterWriter; RDS: the primary's AZ).
    pub writer_before: Option<String>,
    /// Why the call failed (then nothing was caused).
    pub error: Option<String>,
}

/// Makes the RDS call for `cause` (not `Command`), after reading which member writes.
pub async fn call_rds(config: &aws_config::SdkConfig, cause: &Cause) -> ApiRun {
    let rds = aws_sdk_rds::Client::new(config);
    let mut run = ApiRun::default();
    let endpoint = crate::aws::endpoint(config, "rds");
    match cause {
        Cause::RdsInstance { instance } => {
            run.writer_before = rds_primary_az(&rds, instance).await.ok();
            match rds.reboot_db_instance().db_instance_identifier(instance).force_failover(true).send().await {
                Ok(out) => run.calls.push(format!(
                    "{}: accepted for {} (status {})",
                    cause.describe(),
                    out.db_instance().and_then(|i| i.db_instance_identifier()).unwrap_or("?"),
                    out.db_instance().and_then(|i| i.db_instance_status()).unwrap_or("?")
                )),
                Err(e) => {
                    run.error = Some(format!("{}: {}", cause.describe(), crate::aws::sdk_error_line(&e, &endpoint)))
                }
            }
        }
        Cause::AuroraCluster { cluster, target } => {
            run.writer_before = aurora_writer(&rds, cluster).await.ok();
            let mut call = rds.failover_db_cluster().db_cluster_identifier(cluster);
            if let Some(target) = target {
                call = call.target_db_instance_identifier(target);
            }
            match call.send().await {
                Ok(out) => run.calls.push(format!(
                    "{}: accepted for {} (status {})",
                    cause.describe(),
                    out.db_cluster().and_then(|c| c.db_cluster_identifier()).unwrap_or("?"),
                    out.db_cluster().and_then(|c| c.status()).unwrap_or("?")
                )),
                Err(e) => {
                    run.error = Some(format!("{}: {}", cause.describe(), crate::aws::sdk_error_line(&e, &endpoint)))
                }
            }
        }
        Cause::Command { .. } => run.error = Some("not an RDS failover".into()),
    }
    run
}

/// The writer RDS reports after the call, the failover events since `since` (epoch seconds) by event ID,
/// and why RDS refused or failed the failover where an event says so (`events`).
pub async fn rds_after(
    config: &aws_config::SdkConfig,
    cause: &Cause,
    since: i64,
) -> (Option<String>, Vec<String>, Option<String>) {
    let rds = aws_sdk_rds::Client::new(config);
    let (writer, source, kind) = match cause {
        Cause::RdsInstance { instance } => {
            (rds_primary_az(&rds, instance).await.ok(), instance.clone(), aws_sdk_rds::types::SourceType::DbInstance)
        }
        Cause::AuroraCluster { cluster, .. } => {
            (aurora_writer(&rds, cluster).await.ok(), cluster.clone(), aws_sdk_rds::types::SourceType::DbCluster)
        }
        Cause::Command { .. } => return (None, vec![], None),
    };
    let events = rds
        .describe_events()
        .source_identifier(&source)
        .source_type(kind)
        .start_time(aws_sdk_rds::primitives::DateTime::from_secs(since))
        .send()
        .await
        .map(|out| {
            out.events()
                .iter()
                .filter(|e| {
                    e.event_categories().iter().any(|c| c == "failover" || c == "failure")
                        || super::events::identify(e.message().unwrap_or_default()).is_some()
                })
                .map(|e| e.message().unwrap_or_default().to_string())
                .collect::<Vec<_>>()
        });
    match events {
        Ok(messages) => {
            let (shown, refusal) = super::events::read(&messages);
            (writer, shown, refusal)
        }
        Err(e) => {
            let endpoint = crate::aws::endpoint(config, "rds");
            (writer, vec![format!("DescribeEvents failed: {}", crate::aws::sdk_error_line(&e, &endpoint))], None)
        }
    }
}

async fn rds_primary_az(rds: &aws_sdk_rds::Client, instance: &str) -> Result<String, String> {
    let out = rds.describe_db_instances().db_instance_identifier(instance).send().await.map_err(|e| e.to_string())?;
    let i = out.db_instances().first().ok_or("no such instance")?;
    Ok(format!("{instance} in {}", i.availability_zone().unwrap_or("?")))
}

async fn aurora_writer(rds: &aws_sdk_rds::Client, cluster: &str) -> Result<String, String> {
    let out = rds.describe_db_clusters().db_cluster_identifier(cluster).send().await.map_err(|e| e.to_string())?;
    let c = out.db_clusters().first().ok_or("no such cluster")?;
    let writer = c
        .db_cluster_members()
        .iter()
        .find(|m| m.is_cluster_writer() == Some(true))
        .and_then(|m| m.db_instance_identifier())
        .map(str::to_string)
        .ok_or_else(|| "the cluster reports no writer".to_string())?;
    // Which AZ the writer is in: the member list does not say, the instance does.
    let az = match rds.describe_db_instances().db_instance_identifier(&writer).send().await {
        Ok(out) => out.db_instances().first().and_then(|i| i.availability_zone()).unwrap_or("?").to_string(),
        Err(_) => "?".to_string(),
    };
    Ok(format!("{writer} in {az}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(engine: &str, extra: &str) -> Environment {
        let yaml = format!(
            "project: greenlang\ntier: non-production\naws: {{account_id: '123456789012', region: us-east-1}}\n\
             engine: {engine}\ntimeseries: {{backend: native}}\n{extra}"
        );
        serde_yaml_ng::from_str(&yaml).unwrap()
    }

    #[test]
    fn a_topology_without_a_standby_is_refused_with_the_reason() {
        let root = Path::new("/p");
        let external = env("{kind: external, version: '15.8'}", "drills: {failover_command: [x]}\n");
        let no_standby = |e: &Environment, text: &str| matches!(plan(e, "e", root), Err(Refusal::NoStandby(why)) if why.contains(text));
        assert!(no_standby(&external, "replication.standbys declares none"));
        let rds = env("{kind: rds-postgresql, version: '16.6'}", "");
        assert!(no_standby(&rds, "engine.multi_az is false"));
        let aurora = env("{kind: aurora-postgresql, version: '16.6'}", "");
        assert!(no_standby(&aurora, "engine.replicas is empty"));
        let undeclared =
            env("{kind: external, version: '15.8'}", "replication: {standbys: [{name: s, mode: sync, port: 5433}]}\n");
        assert!(
            matches!(plan(&undeclared, "e", root), Err(Refusal::Undeclared(why)) if why.contains("declare drills.failover_command"))
        );
    }

    #[test]
    fn the_rds_identifiers_are_the_modules_own() {
        let root = Path::new("/p");
        let rds = env("{kind: rds-postgresql, version: '16.6', multi_az: true}", "");
        assert_eq!(plan(&rds, "dev", root), Ok(Cause::RdsInstance { instance: "greenlang-dev-primary".into() }));
        let aurora = env(
            "{kind: aurora-postgresql, version: '16.6', replicas: [{name: reader-1, instance_class: db.r6g.large, availability_zone: us-east-1b}]}",
            "drills: {failover_target: reader-1}\n",
        );
        assert_eq!(
            plan(&aurora, "prod", root),
            Ok(Cause::AuroraCluster {
                cluster: "greenlang-prod".into(),
                target: Some("greenlang-prod-reader-1".into())
            })
        );
    }

    #[test]
    fn a_command_gets_no_credential_and_its_output_hides_secrets() {
        // Any variable outside the allow-list stays behind (PGPASSWORD, GLCTL_DATABASE_URL, AWS_*…).
        std::env::set_var("GLCTL_DRILL_TEST_SECRET", "leaked");
        let argv: Vec<String> = ["sh", "-c", "echo \"pw=${GLCTL_DRILL_TEST_SECRET:-none} token=s3cret\"; exit 3"]
            .map(String::from)
            .to_vec();
        let rt = crate::runtime::current_thread();
        let run = rt.block_on(run_command(&argv, Path::new("/"), Duration::from_secs(10), &["s3cret".into()]));
        assert_eq!(run.end, CommandEnd::Failed("exited with exit status: 3".into()));
        assert_eq!(run.output, "pw=none token=***");
    }

    #[test]
    fn a_hanging_command_is_killed_with_its_children_after_the_timeout() {
        let argv: Vec<String> = ["sh", "-c", "echo started; sleep 30; echo never"].map(String::from).to_vec();
        let rt = crate::runtime::current_thread();
        let run = rt.block_on(run_command(&argv, Path::new("/"), Duration::from_millis(500), &[]));
        assert_eq!(run.end, CommandEnd::TimedOut);
        assert_eq!(run.output, "started");
        assert!(run.took < Duration::from_secs(5), "{:?}", run.took);
    }
}
