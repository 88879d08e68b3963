//! HA-05 (`verify --drills`): one PgBouncer dies, and clients that reach the PgBouncers through a multi-host
//! connection string (`--pooler-url`, as libpq's `host=a,b`) are working again through the other within 10 s,
//! measured from the clients' side.
//!
//! The drill connects a few clients (all land on the first PgBouncer, the first host of the list), each
//! sending `SELECT 1` every 100 ms; it stops the first PgBouncer through its admin console (`SHUTDOWN`: the
//! process exits and every client connection drops, as in a crash), and each client, on its first failure,
//! reconnects through the list until a `SELECT 1` succeeds. The figure is each client's time from the
//! stop to that success. The stopped PgBouncer is then started again with `pooling.restart_command`, also on
//! error and on Ctrl-C/SIGTERM, and the drill checks that it answers. Self-contained on purpose: the database
//! failover drills live elsewhere.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::config::model::Environment;
use crate::config::pooling::PoolKind;
use crate::pgbouncer::{self, Poolers};
use crate::verify::{pgbouncer_checks, set_result, Evidence, Outcome, Status};

/// PRD §10.3: clients retry through another PgBouncer within this.
pub const LIMIT: Duration = Duration::from_secs(10);
const CLIENTS: usize = 4;
/// Each host of the list gets this long to answer a reconnect.
const PER_HOST: Duration = Duration::from_secs(2);

/// The PgBouncer entry of `DRILLS`: with the PgBouncers' addresses, their checks (FA-09), then with
/// `--drills` HA-05 where those left it undecided; with `--drills` and no addresses, HA-05 says what it needs.
pub(crate) fn step(
    scene: &super::Scene<'_>,
    results: &mut [crate::verify::CheckResult],
    progress: &dyn super::Progress,
) -> Vec<String> {
    let env = &scene.loaded.environment;
    let pgbouncer = env.pooling.kind == PoolKind::Pgbouncer;
    if let Some(poolers) = scene.poolers {
        super::step(progress, "checking the PgBouncers", || {
            pgbouncer_checks::apply(results, env, poolers, scene.runtime, scene.at)
        });
        let ha05 = results.iter().any(|r| r.id == "HA-05" && r.status == Status::Error);
        if scene.drills && ha05 && pgbouncer {
            let outcome = super::step(progress, "HA-05: stopping a PgBouncer", || run(env, poolers, scene.root));
            set_result(results, "HA-05", outcome, scene.at);
        }
    } else if scene.drills && pgbouncer {
        let why = "the drill needs the PgBouncers' addresses: pass --pooler-url and --pooler-admin-url".to_string();
        set_result(results, "HA-05", Outcome::Error(why), scene.at);
    }
    vec![]
}

/// Runs the drill; the outcome for HA-05. `root` is where `restart_command` runs.
pub fn run(env: &Environment, poolers: &Poolers, root: &std::path::Path) -> Outcome {
    if poolers.clients.hosts.len() < 2 {
        return Outcome::Error(format!(
            "--pooler-url names {} PgBouncer: HA-05 needs two, to retry through the other",
            poolers.clients.hosts.len()
        ));
    }
    let Some(admin) = &poolers.admin else {
        return Outcome::Error("HA-05 stops a PgBouncer through its admin console: pass --pooler-admin-url".into());
    };
    if env.pooling.restart_command.is_empty() {
        return Outcome::Error(
            "pooling.restart_command is not set: the drill would leave the stopped PgBouncer down".into(),
        );
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => return Outcome::Error(format!("cannot start the drill's runtime: {e}")),
    };
    let stopped = Arc::new(Mutex::new(false));
    let drill = {
        let stopped = stopped.clone();
        async move {
            tokio::select! {
                r = drill(poolers, admin, &stopped) => r,
                _ = crate::runtime::shutdown_signal() => Err("interrupted".to_string()),
            }
        }
    };
    let result = runtime.block_on(drill);
    // Always: the PgBouncer the drill stopped runs again afterwards.
    let restart =
        if *stopped.lock().expect("stopped flag") { Some(restart(env, poolers, root, &runtime)) } else { None };
    match (result, restart) {
        (Err(why), Some(Err(r))) => Outcome::Error(format!("{why}; and restarting the PgBouncer failed: {r}")),
        (Err(why), _) => Outcome::Error(why),
        (Ok(_), Some(Err(r))) => Outcome::Error(format!("the drill ran, but restarting the PgBouncer failed: {r}")),
        (Ok((times, first)), restarted) => {
            let worst = times.iter().copied().fold(Duration::ZERO, Duration::max);
            let list: Vec<String> = times.iter().map(|t| format!("{:.2} s", t.as_secs_f64())).collect();
            let evidence = Evidence {
                observed: format!(
                    "{first} stopped (SHUTDOWN); {} client(s) working again through the other in {} (worst {:.2} s); {}",
                    times.len(),
                    list.join(", "),
                    worst.as_secs_f64(),
                    restarted.and_then(Result::ok).unwrap_or_default()
                ),
                expected: format!("every client back within {} s", LIMIT.as_secs()),
                source: format!(
                    "clients on the multi-host list {}, SELECT 1 every 100 ms; admin console SHUTDOWN",
                    pgbouncer::hosts_text(&poolers.clients.hosts)
                ),
                at: String::new(),
            };
            if worst < LIMIT {
                Outcome::Pass(vec![evidence])
            } else {
                Outcome::Fail(format!("a client took {:.2} s", worst.as_secs_f64()), vec![evidence])
            }
        }
    }
}

/// The clients' reconnect times, and which PgBouncer was stopped.
async fn drill(
    poolers: &Poolers,
    admin: &pgbouncer::Endpoints,
    stopped: &Mutex<bool>,
) -> Result<(Vec<Duration>, String), String> {
    let endpoints = &poolers.clients;
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let c = endpoints.connect_any("glctl-drill-ha05", PER_HOST).await?;
        c.simple_query("SELECT 1").await.map_err(|e| format!("a client's first query failed: {e}"))?;
        clients.push(c);
    }
    let console = admin.connect_one(0, "glctl-drill-ha05").await?;
    let (host, port) = &endpoints.hosts[0];
    let first = format!("PgBouncer {host}:{port}");
    let killed_at = Instant::now();
    *stopped.lock().expect("stopped flag") = true;
    // The process exits at once; the reply may never come.
    let _ = tokio::time::timeout(Duration::from_secs(2), console.simple_query("SHUTDOWN")).await;
    let mut set = tokio::task::JoinSet::new();
    for client in clients {
        let endpoints = endpoints.clone();
        set.spawn(async move {
            let mut client = Some(client);
            loop {
                if killed_at.elapsed() > LIMIT * 3 {
                    return Err(match client {
                        Some(_) => "a client's connection to the stopped PgBouncer never dropped".to_string(),
                        None => format!("a client was not back after {} s", (LIMIT * 3).as_secs()),
                    });
                }
                // No single query may outlast the drill's limit (a half-open connection never answers).
                let remaining = (LIMIT * 3).saturating_sub(killed_at.elapsed());
                match client.take() {
                    Some(c) => {
                        // Still working until the stop reaches its PgBouncer.
                        match tokio::time::timeout(remaining, c.simple_query("SELECT 1")).await {
                            Ok(Ok(_)) if !c.is_closed() => client = Some(c),
                            // No answer within the limit: the connection never dropped (said above, next turn).
                            Err(_) => client = Some(c),
                            Ok(_) => continue,
                        }
                    }
                    None => {
                        if let Ok(c) = endpoints.connect_any("glctl-drill-ha05", PER_HOST).await {
                            let answered = tokio::time::timeout(remaining, c.simple_query("SELECT 1")).await;
                            if answered.is_ok_and(|r| r.is_ok()) {
                                return Ok(killed_at.elapsed());
                            }
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
    }
    let mut times = Vec::new();
    while let Some(joined) = set.join_next().await {
        times.push(joined.map_err(|e| e.to_string())??);
    }
    Ok((times, first))
}

/// Starts the stopped PgBouncer again and waits until it answers.
fn restart(
    env: &Environment,
    poolers: &Poolers,
    root: &std::path::Path,
    runtime: &tokio::runtime::Runtime,
) -> Result<String, String> {
    let argv: Vec<String> = env.pooling.restart_command.iter().map(|a| a.replace("{instance}", "1")).collect();
    let mut command = crate::process::Program::new(&argv[0]);
    // As the failover command: no database credential; the local stack's scripts/stack finds the stack by
    // GLCTL_STACK_DIR.
    command.args(&argv[1..]).current_dir(root).pass("GLCTL_STACK_DIR");
    let out = command.output().map_err(|e| format!("cannot run {}: {e}", argv.join(" ")))?;
    if !out.status.success() {
        return Err(format!(
            "{} exited with {}: {}",
            argv.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let back = runtime.block_on(async {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            match poolers.clients.connect_one(0, "glctl-drill-ha05").await {
                Ok(c) if c.simple_query("SELECT 1").await.is_ok() => return Ok(()),
                Err(e) if Instant::now() > until => return Err(e),
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    });
    back.map(|_| format!("restarted with `{}` and answering again", argv.join(" ")))
}
