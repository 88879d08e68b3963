//! The failover drill behind HA-01 (and HA-02…HA-04 where the file lets a forced failover stand for them,
//! HA-06 on a Patroni-managed external server), measured as a client lives through it.
//!
//! A writer task inserts a marker row (sequence, `clock_timestamp()`, token) every ~40 ms into a drill table,
//! each its own committed transaction, through the environment's connection: for an external server a
//! multi-host target (writer and standbys) with `target_session_attrs=read-write`, else the writer endpoint;
//! connect timeout 1 s, statement timeout 2 s, reconnecting after every error as a client would. The failover
//! is caused (`cause`), the writer keeps writing until it commits on another server, and then:
//! **RTO** = first commit on the new writer − last commit on the old one (the servers' `clock_timestamp()`),
//! **RPO** = committed markers missing on the new writer. A failover that did not happen is an ERROR. The
//! drill drops its table and waits for the declared standbys to stream again; interrupted (Ctrl-C, SIGTERM),
//! it stops writing, lets a running failover command finish, drops the table and says what state it left.

pub mod cause;
pub mod endpoint;
pub mod events;
pub mod markers;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use self::cause::{Cause, CommandEnd};
use self::markers::{token, wait_for, write_markers, Connection, Log};
use crate::aws::AwsContext;
use crate::config::model::Environment;
use crate::database::connect::Target;
use crate::verify::failover_verdict::{self, either, measure, DrillEnd, Measurement};

/// Markers committed on each side before the drill counts a side as seen.
const STEADY: usize = 5;
/// After the failover command returned, how long the writer may still take to appear.
const AFTER_COMMAND: Duration = Duration::from_secs(20);
/// How long the declared standbys may take to stream from the new writer.
const TOPOLOGY_WAIT: Duration = Duration::from_secs(60);

/// The failover entry of `DRILLS`: runs when a selected check is one the drill decides (not waived), and
/// hands its end to `verify::failover_verdict`.
pub(crate) fn step(
    scene: &super::Scene<'_>,
    results: &mut [crate::verify::CheckResult],
    progress: &dyn super::Progress,
) -> Vec<String> {
    let env = &scene.loaded.environment;
    if !results.iter().any(|r| failover_verdict::wanted(env, r)) {
        return vec![];
    }
    let end = super::step(progress, "failover drill", || {
        scene.runtime.block_on(drill(scene.stage, env, &scene.loaded.name, scene.root, scene.aws))
    });
    failover_verdict::apply(results, env, &end, scene.at);
    vec![]
}

/// The drill over the environment's own connection (`stage`): a topology without a standby is refused
/// before anything connects.
pub async fn drill(
    stage: &crate::database::stage::DatabaseStage<'_>,
    env: &Environment,
    name: &str,
    root: &std::path::Path,
    aws: &AwsContext,
) -> DrillEnd {
    if let Err(refusal) = cause::plan(env, name, root) {
        return refused(refusal);
    }
    match stage.connect_with_target().await {
        Err(e) => DrillEnd::NotStarted(format!("the writer cannot be reached, nothing was done: {e}")),
        Ok((client, target)) => {
            drop(client);
            run(env, name, root, &target, aws).await
        }
    }
}

/// Runs the drill once: refused, not caused, interrupted or measured.
pub async fn run(env: &Environment, name: &str, root: &std::path::Path, target: &Target, aws: &AwsContext) -> DrillEnd {
    let cause = match cause::plan(env, name, root) {
        Ok(cause) => cause,
        Err(refusal) => return refused(refusal),
    };
    let signal = crate::runtime::shutdown_signal();
    tokio::pin!(signal);
    let connection = match Connection::new(env, target) {
        Ok(c) => c,
        Err(why) => return DrillEnd::NotStarted(why),
    };
    let (client, old_writer) = match connection.connect().await {
        Ok(c) => c,
        Err(why) => return DrillEnd::NotStarted(format!("the writer cannot be reached, nothing was done: {why}")),
    };
    // Steady state, before anything: every declared standby streams from the writer.
    if let Err(why) = connection.topology(env, Duration::from_secs(5)).await {
        return DrillEnd::NotStarted(format!("the topology is not whole before the drill, nothing was caused: {why}"));
    }
    let table = format!("glctl_failover_drill_{}", token());
    if let Err(e) = client
        .batch_execute(&format!("CREATE TABLE {table} (seq bigint PRIMARY KEY, token text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())"))
        .await
    {
        return DrillEnd::NotStarted(format!("cannot create the drill table {table}: {}", crate::database::connect::reason(&e)));
    }
    drop(client);
    let log = Arc::new(Mutex::new(Log::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(write_markers(connection.clone(), table.clone(), Arc::clone(&log), Arc::clone(&stop)));
    let stop_writing = || async {
        stop.store(true, Ordering::SeqCst);
    };

    // Steady state: the writer commits before anything is caused.
    let steady = wait_for(&log, Duration::from_secs(10), |l| l.commits.len() >= STEADY);
    let interrupted = tokio::select! {
        ok = steady => {
            if !ok {
                stop_writing().await;
                let _ = writer.await;
                let why = log.lock().unwrap().last_error.clone().unwrap_or_default();
                let cleanup = connection.drop_table(&table).await;
                return DrillEnd::NotStarted(format!("no marker committed on the writer {old_writer} in 10 s ({why}); nothing was caused; {}", either(&cleanup)));
            }
            false
        }
        _ = &mut signal => true,
    };
    if interrupted {
        stop_writing().await;
        let _ = writer.await;
        return DrillEnd::Interrupted(connection.leave(&table, "before the failover was caused").await);
    }

    let started_epoch =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let timeout = Duration::from_secs(u64::from(env.drills.timeout_seconds()));
    let mut interrupted = false;
    // RDS/Aurora: the writer endpoint, resolved from before the call until the drill stops writing.
    let mut endpoint: Option<Result<endpoint::Watch, String>> = None;
    let mut caused_at = std::time::Instant::now();
    // Cause it. A running failover command is never abandoned half-way (the cluster could be left
    // without a writer): on a signal the writer stops, and the command runs to its end or its timeout.
    let (caused, cause_said, rds_config) = match &cause {
        Cause::Command { argv, cwd } => {
            let secrets: Vec<String> = target.password.as_ref().map(|p| p.expose().to_string()).into_iter().collect();
            let command = cause::run_command(argv, cwd, timeout, &secrets);
            tokio::pin!(command);
            let run = tokio::select! {
                run = &mut command => run,
                _ = &mut signal => {
                    interrupted = true;
                    stop_writing().await;
                    command.await
                }
            };
            let said = format!(
                "{} ({:.1} s): {}",
                cause.describe(),
                run.took.as_secs_f64(),
                if run.output.is_empty() { "no output".into() } else { run.output.clone() }
            );
            let caused = match run.end {
                CommandEnd::Succeeded => Ok(()),
                CommandEnd::Failed(how) => Err(format!("the failover command {how}; its output: {}", nonempty(&run.output))),
                CommandEnd::TimedOut => Err(format!(
                    "the failover command did not finish within {} s (drills.failover_timeout_seconds) and was killed; its output: {}",
                    timeout.as_secs(),
                    nonempty(&run.output)
                )),
            };
            (caused, said, None)
        }
        Cause::RdsInstance { .. } | Cause::AuroraCluster { .. } => match aws.config().await {
            Err(e) => (Err(format!("no AWS access for {}: {e}", cause.describe())), String::new(), None),
            Ok(config) => {
                endpoint = Some(match endpoint::writer_endpoint(config, &cause).await {
                    Ok((host, port)) => Ok(endpoint::Watch::start(host, port).await),
                    Err(why) => Err(why),
                });
                caused_at = std::time::Instant::now();
                let api = cause::call_rds(config, &cause).await;
                let said = format!(
                    "{}; writer before: {}",
                    api.calls.join("; "),
                    api.writer_before.as_deref().unwrap_or("unknown")
                );
                match api.error {
                    Some(e) => (Err(e), said, None),
                    None => (Ok(()), said, Some(config)),
                }
            }
        },
    };
    if let Err(why) = caused {
        stop_writing().await;
        let _ = writer.await;
        return DrillEnd::NotCaused { why, state: connection.leave(&table, "after the failed failover").await };
    }
    if interrupted {
        let _ = writer.await;
        return DrillEnd::Interrupted(connection.leave(&table, "after the failover command ended").await);
    }

    // The new writer: the first commit on another server, then a few more there.
    let wait = if rds_config.is_some() { timeout } else { AFTER_COMMAND.min(timeout) };
    let moved = {
        let old = old_writer.clone();
        wait_for(&log, wait, move |l| l.commits.iter().filter(|m| m.writer != old).count() >= STEADY)
    };
    tokio::select! {
        _ = moved => {}
        _ = &mut signal => interrupted = true,
    }
    stop_writing().await;
    let _ = writer.await;
    let endpoint = endpoint.map(|watch| match watch {
        Ok(watch) => watch.finish(caused_at),
        Err(why) => format!("the writer endpoint could not be read: {why}"),
    });
    if interrupted {
        return DrillEnd::Interrupted(connection.leave(&table, "after the failover").await);
    }
    let mut cause_said = cause_said;
    let mut rds_refusal = None;
    if let Some(config) = rds_config {
        let (writer_after, events, refusal) = cause::rds_after(config, &cause, started_epoch).await;
        rds_refusal = refusal;
        cause_said.push_str(&format!(
            "; writer after: {}; failover events: {}",
            writer_after.as_deref().unwrap_or("unknown"),
            if events.is_empty() { "none reported".into() } else { events.join(" | ") }
        ));
    }
    let log = std::mem::take(&mut *log.lock().unwrap());
    let (rto, gap, new_writer) = measure(&log.commits, &old_writer);
    let missing = connection.missing(&table, &log.commits).await;
    let topology =
        if new_writer.is_some() { connection.topology(env, TOPOLOGY_WAIT).await } else { Ok("unchanged".into()) };
    let cleanup = connection.drop_table(&table).await;
    DrillEnd::Measured(Box::new(Measurement {
        cause: cause.describe(),
        cause_said,
        old_writer: connection.named(&old_writer),
        new_writer: new_writer.map(|w| connection.named(&w)),
        rto_seconds: rto,
        endpoint,
        rds_refusal,
        client_gap_seconds: gap,
        committed: log.commits.len(),
        in_doubt: log.in_doubt,
        errors: log.errors,
        missing,
        topology,
        cleanup,
    }))
}

fn refused(refusal: cause::Refusal) -> DrillEnd {
    match refusal {
        cause::Refusal::NoStandby(why) => DrillEnd::NoStandby(why),
        cause::Refusal::Undeclared(why) => DrillEnd::NotStarted(format!("{why}; nothing was done")),
    }
}

fn nonempty(text: &str) -> &str {
    if text.is_empty() {
        "(none)"
    } else {
        text
    }
}
