//! The failover drill behind HA-01 (and HA-02…HA-04 where the file lets a forced failover stand for them,
//! HA-06 on a Patroni-managed external server), measured as a client lives through it.
//!
//! A writer task inserts a marker row (sequence, `clock_timestamp()`, token) every ~40 ms into a drill table,
//! each its own committed transaction, through the environment's connection: for an external server a
//! multi-host target (writer and standbys) with `target_session_attrs=read-write`, else the writer endpoint;
//! connect timeout 1 s, statement timeout 2 s, reconnecting after every error as a client would. The failover
//! is caused (`failover_cause`), the writer keeps writing until it commits on another server, and then:
//! **RTO** = first commit on the new writer − last commit on the old one (the servers' `clock_timestamp()`),
//! **RPO** = committed markers missing on the new writer. A failover that did not happen is an ERROR. The
//! drill drops its table and waits for the declared standbys to stream again; interrupted (Ctrl-C, SIGTERM),
//! it stops writing, lets a running failover command finish, drops the table and says what state it left.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_postgres::config::{SslMode, TargetSessionAttrs};
use tokio_postgres::{Client, Config, SimpleQueryMessage};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::failover_cause::{self, Cause, CommandEnd};
use super::{CheckResult, Evidence, Outcome, Skip, Status};
use crate::aws::AwsContext;
use crate::config::model::{EngineKind, Environment};
use crate::config::replication::StandbyMode;
use crate::database::connect::Target;

/// PRD §10.3: a Patroni leader election within 10 s (HA-06).
pub const PATRONI_RTO_SECONDS: f64 = 10.0;
/// Between two markers.
const INTERVAL: Duration = Duration::from_millis(40);
/// Markers committed on each side before the drill counts a side as seen.
const STEADY: usize = 5;
/// After the failover command returned, how long the writer may still take to appear.
const AFTER_COMMAND: Duration = Duration::from_secs(20);
/// How long the declared standbys may take to stream from the new writer.
const TOPOLOGY_WAIT: Duration = Duration::from_secs(60);

/// One committed marker.
#[derive(Clone, Debug)]
pub struct Marker {
    pub seq: i64,
    /// The server's `clock_timestamp()` at the insert, epoch seconds.
    pub at: f64,
    /// Which server committed it (`addr:port`).
    pub writer: String,
    /// When the client saw the commit.
    pub seen: Instant,
}

#[derive(Debug, Default)]
struct Log {
    commits: Vec<Marker>,
    /// Sent, but the answer never came (a commit may or may not have happened): never counted committed.
    in_doubt: usize,
    errors: usize,
    last_error: Option<String>,
}

/// What the drill measured.
#[derive(Debug)]
pub struct Measurement {
    pub cause: String,
    /// What the cause said: the command's output, or the RDS calls and events.
    pub cause_said: String,
    pub old_writer: String,
    pub new_writer: Option<String>,
    /// First commit on the new writer − last commit on the old one, by the servers' clocks.
    pub rto_seconds: Option<f64>,
    /// The same gap as the client saw it.
    pub client_gap_seconds: Option<f64>,
    pub committed: usize,
    pub in_doubt: usize,
    /// Committed markers the new writer does not have.
    pub missing: Result<Vec<i64>, String>,
    /// Whether every declared standby streams from the new writer again.
    pub topology: Result<String, String>,
    pub cleanup: Result<String, String>,
}

/// How a drill ended.
#[derive(Debug)]
pub enum DrillEnd {
    /// The topology cannot fail over; nothing was done.
    NoStandby(String),
    /// Nothing was done: the writer could not be reached, or the steady state did not hold.
    NotStarted(String),
    /// The failover was not caused (the command failed or hung, the API refused); what state is left.
    NotCaused {
        why: String,
        state: String,
    },
    /// Ctrl-C or SIGTERM: what state the drill left.
    Interrupted(String),
    Measured(Measurement),
}

/// Whether the file wants HA-02…HA-04 / HA-06 decided by the failover drill.
pub fn simulates(env: &Environment, id: &str) -> bool {
    match id {
        "HA-01" => true,
        "HA-02" | "HA-03" | "HA-04" => env.drills.simulate_with_failover,
        "HA-06" => env.engine.kind == EngineKind::External && env.drills.patroni,
        _ => false,
    }
}

/// HA-02…HA-04 without `--drills` (the `CHECKS` entries): a drill where the file opts into the simulation,
/// else the plain reason.
pub fn partition_storage_az(env: &Environment, what: &str) -> Outcome {
    if env.drills.simulate_with_failover {
        return Outcome::Skip(Skip::NeedsDrills, "simulated by a forced failover; run with `--drills`".into());
    }
    let why = match env.engine.kind {
        EngineKind::External => format!(
            "glctl cannot cause {what} on an external server; `drills.simulate_with_failover: true` lets the \
             forced failover stand for it"
        ),
        _ => format!(
            "{what} cannot be caused on a managed service (RDS, Aurora); `drills.simulate_with_failover: true` \
             lets a forced failover stand for it"
        ),
    };
    Outcome::Skip(Skip::NotApplicable, why)
}

/// HA-06 without `--drills`: only an external server that declares Patroni has a leader election.
pub fn ha06(env: &Environment) -> Outcome {
    match env.engine.kind {
        EngineKind::External if env.drills.patroni => {
            Outcome::Skip(Skip::NeedsDrills, "a Patroni failover drill changes the target; run with `--drills`".into())
        }
        EngineKind::External => Outcome::Skip(
            Skip::NotApplicable,
            "the environment declares no Patroni (drills.patroni): there is no leader election to drill".into(),
        ),
        _ => Outcome::Skip(
            Skip::NotApplicable,
            "Patroni does not exist on Aurora or RDS: the service elects the new writer itself (HA-01 drills it)"
                .into(),
        ),
    }
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
    if let Err(why) = failover_cause::plan(env, name, root) {
        return DrillEnd::NoStandby(why);
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
    let cause = match failover_cause::plan(env, name, root) {
        Ok(cause) => cause,
        Err(why) => return DrillEnd::NoStandby(why),
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
    // Cause it. A running failover command is never abandoned half-way (the cluster could be left
    // without a writer): on a signal the writer stops, and the command runs to its end or its timeout.
    let (caused, cause_said, rds_config) = match &cause {
        Cause::Command { argv, cwd } => {
            let secrets: Vec<String> = target.password.as_ref().map(|p| p.expose().to_string()).into_iter().collect();
            let command = failover_cause::run_command(argv, cwd, timeout, &secrets);
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
                let api = failover_cause::call_rds(config, &cause).await;
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
    if interrupted {
        return DrillEnd::Interrupted(connection.leave(&table, "after the failover").await);
    }
    let mut cause_said = cause_said;
    if let Some(config) = rds_config {
        let (writer_after, events) = failover_cause::rds_after(config, &cause, started_epoch).await;
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
    DrillEnd::Measured(Measurement {
        cause: cause.describe(),
        cause_said,
        old_writer: connection.named(&old_writer),
        new_writer: new_writer.map(|w| connection.named(&w)),
        rto_seconds: rto,
        client_gap_seconds: gap,
        committed: log.commits.len(),
        in_doubt: log.in_doubt,
        missing,
        topology,
        cleanup,
    })
}

fn nonempty(text: &str) -> &str {
    if text.is_empty() {
        "(none)"
    } else {
        text
    }
}

fn either(r: &Result<String, String>) -> String {
    match r {
        Ok(s) | Err(s) => s.clone(),
    }
}

/// RTO by the servers' clocks and by the client's, and the new writer: the last commit on `old` before the
/// first commit elsewhere, and that first commit.
pub fn measure(commits: &[Marker], old: &str) -> (Option<f64>, Option<f64>, Option<String>) {
    let Some(first_new) = commits.iter().position(|m| m.writer != old) else { return (None, None, None) };
    let Some(last_old) = commits[..first_new].iter().rposition(|m| m.writer == old) else {
        return (None, None, Some(commits[first_new].writer.clone()));
    };
    let (a, b) = (&commits[last_old], &commits[first_new]);
    (Some(b.at - a.at), Some(b.seen.duration_since(a.seen).as_secs_f64()), Some(b.writer.clone()))
}

/// Waits until `done` holds for the log, up to `limit`; whether it did.
async fn wait_for(log: &Mutex<Log>, limit: Duration, done: impl Fn(&Log) -> bool) -> bool {
    let until = Instant::now() + limit;
    loop {
        if done(&log.lock().unwrap()) {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn token() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{:x}{:05x}", std::process::id(), nanos & 0xfffff)
}

/// The writer task: a marker every `INTERVAL`, each its own transaction, reconnecting after any error.
async fn write_markers(connection: Connection, table: String, log: Arc<Mutex<Log>>, stop: Arc<AtomicBool>) {
    let token = token();
    let mut seq: i64 = 0;
    let mut client: Option<(Client, String)> = None;
    while !stop.load(Ordering::SeqCst) {
        if client.is_none() {
            match connection.connect().await {
                Ok(c) => client = Some(c),
                Err(why) => {
                    {
                        let mut l = log.lock().unwrap();
                        l.errors += 1;
                        l.last_error = Some(why);
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            }
        }
        let Some((c, writer)) = &client else { continue };
        seq += 1;
        let sql = format!(
            "INSERT INTO {table} (seq, token) VALUES ({seq}, '{token}') RETURNING extract(epoch FROM clock_timestamp())::float8::text"
        );
        match tokio::time::timeout(Duration::from_secs(2), c.simple_query(&sql)).await {
            Ok(Ok(messages)) => {
                let at = messages.iter().find_map(|m| match m {
                    SimpleQueryMessage::Row(r) => r.get(0).and_then(|t| t.parse::<f64>().ok()),
                    _ => None,
                });
                log.lock().unwrap().commits.push(Marker {
                    seq,
                    at: at.unwrap_or_default(),
                    writer: writer.clone(),
                    seen: Instant::now(),
                });
            }
            Ok(Err(e)) => {
                let mut l = log.lock().unwrap();
                // An error from the server before the commit (read-only, shutting down) lost nothing; a
                // broken connection may have lost the answer to a commit.
                if e.as_db_error().is_none() {
                    l.in_doubt += 1;
                }
                l.errors += 1;
                l.last_error = Some(crate::database::connect::reason(&e));
                client = None;
            }
            Err(_) => {
                let mut l = log.lock().unwrap();
                l.in_doubt += 1;
                l.errors += 1;
                l.last_error = Some("no answer within 2 s".into());
                client = None;
            }
        }
        tokio::time::sleep(INTERVAL).await;
    }
}

/// The environment's connection as a client reaches its writer.
#[derive(Clone)]
struct Connection {
    config: Config,
    tls: Option<MakeRustlsConnect>,
    /// `port` → declared standby name, to say which server became the writer.
    names: Vec<(u16, String)>,
}

impl Connection {
    fn new(env: &Environment, target: &Target) -> Result<Self, String> {
        let mut config = Config::new();
        let mut names = vec![(target.port, "writer (connection)".to_string())];
        config.host(&target.host).port(target.port);
        // An external server's standbys are hosts of the same multi-host target: whichever accepts writes.
        for standby in &env.replication.standbys {
            let port = super::replication::port_of(standby)?;
            config.host(standby.host.as_deref().unwrap_or(&target.host)).port(port);
            names.push((port, format!("standby {}", standby.name)));
        }
        config.user(&target.user).dbname(&target.database).application_name("glctl-failover-drill");
        config.connect_timeout(Duration::from_secs(1)).target_session_attrs(TargetSessionAttrs::ReadWrite);
        config.options("-c statement_timeout=2000");
        if let Some(password) = &target.password {
            config.password(password.expose().as_bytes());
        }
        let tls = crate::database::tls::connector(target.tls_mode, target.ca_bundle.as_deref())?;
        config.ssl_mode(if tls.is_some() { SslMode::Require } else { SslMode::Disable });
        Ok(Connection { config, tls, names })
    }

    /// A writable session and which server it is on (`addr:port`), within 3 s.
    async fn connect(&self) -> Result<(Client, String), String> {
        let attempt = async {
            let client = match &self.tls {
                None => {
                    let (c, conn) = self.config.connect(tokio_postgres::NoTls).await?;
                    tokio::spawn(conn);
                    c
                }
                Some(tls) => {
                    let (c, conn) = self.config.connect(tls.clone()).await?;
                    tokio::spawn(conn);
                    c
                }
            };
            let row = client
                .query_one("SELECT coalesce(host(inet_server_addr()), 'local') || ':' || coalesce(inet_server_port()::text, '')", &[])
                .await?;
            Ok::<_, tokio_postgres::Error>((client, row.get::<_, String>(0)))
        };
        match tokio::time::timeout(Duration::from_secs(3), attempt).await {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(crate::database::connect::reason(&e)),
            Err(_) => Err("no writable server answered within 3 s".into()),
        }
    }

    /// `addr:port` with the declared name of the server on that port.
    fn named(&self, writer: &str) -> String {
        let port = writer.rsplit(':').next().and_then(|p| p.parse::<u16>().ok());
        match self.names.iter().find(|(p, _)| Some(*p) == port) {
            Some((_, name)) => format!("{writer} (the file's {name})"),
            None => writer.to_string(),
        }
    }

    /// Committed markers the writer does not have.
    async fn missing(&self, table: &str, commits: &[Marker]) -> Result<Vec<i64>, String> {
        let (client, _) = self.connect().await?;
        let rows = client
            .query(&format!("SELECT seq FROM {table}"), &[])
            .await
            .map_err(|e| crate::database::connect::reason(&e))?;
        let kept: std::collections::BTreeSet<i64> = rows.iter().map(|r| r.get(0)).collect();
        Ok(commits.iter().map(|m| m.seq).filter(|s| !kept.contains(s)).collect())
    }

    /// Waits up to `wait` until every declared standby streams from the writer in its mode (external servers).
    async fn topology(&self, env: &Environment, wait: Duration) -> Result<String, String> {
        if env.replication.standbys.is_empty() {
            return Ok("the service keeps its own standbys (not read by the drill)".into());
        }
        let until = Instant::now() + wait;
        let mut last = "the writer's pg_stat_replication could not be read".to_string();
        loop {
            if let Ok((client, _)) = self.connect().await {
                if let Ok(rows) = client
                    .query("SELECT application_name::text, state::text, sync_state::text FROM pg_stat_replication", &[])
                    .await
                {
                    let seen: Vec<(String, String, String)> =
                        rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
                    let lacking: Vec<String> = env
                        .replication
                        .standbys
                        .iter()
                        .filter(|s| {
                            let mode = if s.mode == StandbyMode::Sync { "sync" } else { "async" };
                            !seen.iter().any(|(n, st, sy)| n == &s.name && st == "streaming" && sy == mode)
                        })
                        .map(|s| s.name.clone())
                        .collect();
                    let shown = seen.iter().map(|(n, st, sy)| format!("{n} {st}/{sy}")).collect::<Vec<_>>().join(", ");
                    if lacking.is_empty() {
                        return Ok(shown);
                    }
                    last = format!("not streaming: {}; the writer lists: {shown}", lacking.join(", "));
                }
            }
            if Instant::now() >= until {
                return Err(format!("after {} s: {last}", wait.as_secs()));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn drop_table(&self, table: &str) -> Result<String, String> {
        let (client, writer) = self.connect().await.map_err(|e| format!("the drill table {table} was left: {e}"))?;
        client
            .batch_execute(&format!("DROP TABLE IF EXISTS {table}"))
            .await
            .map_err(|e| format!("the drill table {table} was left: {}", crate::database::connect::reason(&e)))?;
        Ok(format!("drill table {table} dropped on {}", self.named(&writer)))
    }

    /// After an interruption or a failed cause: whether a writer accepts writes, and the table dropped.
    async fn leave(&self, table: &str, when: &str) -> String {
        match self.drop_table(table).await {
            Ok(done) => format!("stopped {when}: the cluster is writable; {done}"),
            Err(why) => format!("stopped {when}: no server accepts writes through the environment's connection; {why}"),
        }
    }
}

/// A drill on a production tier needs `--allow-production` or the file's `acceptance.drills: allowed`.
pub fn permitted(env: &Environment, allow_production: bool) -> Result<(), String> {
    let allowed = env.acceptance.drills == Some(crate::config::drills::DrillPermission::Allowed);
    if env.tier == crate::config::model::Tier::Production && !allow_production && !allowed {
        return Err("drills change a production target (a failover moves its writer): pass --allow-production, or \
                    declare `acceptance.drills: allowed` in the environment file"
            .into());
    }
    Ok(())
}

/// Whether `result` is one the failover drill decides (selected, not waived).
pub fn wanted(env: &Environment, result: &CheckResult) -> bool {
    simulates(env, result.id) && result.skip != Some(Skip::Waived)
}

/// Puts the drill's verdicts into `results`: HA-01, and HA-02…HA-04 / HA-06 where the file lets the drill
/// stand for them. Checks waived or not selected are left alone.
pub fn apply(results: &mut [CheckResult], env: &Environment, end: &DrillEnd, at: &str) {
    let rto_target = f64::from(env.acceptance.failover_rto_seconds);
    for result in results.iter_mut() {
        if !wanted(env, result) {
            continue;
        }
        let (limit, label) = match result.id {
            "HA-06" => (PATRONI_RTO_SECONDS, "Patroni leader change"),
            "HA-01" => (rto_target, "failover"),
            _ => (rto_target, "simulated by a forced failover"),
        };
        let outcome = decide(end, limit, label);
        set(result, outcome, at);
    }
}

/// The verdict over one drill, against `limit` seconds of RTO.
pub fn decide(end: &DrillEnd, limit: f64, label: &str) -> Outcome {
    let prefix = |s: String| if label == "failover" { s } else { format!("{label}: {s}") };
    let m = match end {
        DrillEnd::NoStandby(why) => {
            return Outcome::Fail(prefix(format!("refused before anything happened: {why}")), vec![])
        }
        DrillEnd::NotStarted(why) => return Outcome::Error(prefix(why.clone())),
        DrillEnd::NotCaused { why, state } => return Outcome::Error(prefix(format!("{why}; {state}"))),
        DrillEnd::Interrupted(state) => return Outcome::Error(prefix(format!("interrupted: {state}"))),
        DrillEnd::Measured(m) => m,
    };
    let Some(new_writer) = m.new_writer.as_ref().filter(|w| **w != m.old_writer) else {
        return Outcome::Error(prefix(format!(
            "no failover happened: every committed marker ({}) is on the writer {} ({}); no RTO can be measured; {}",
            m.committed,
            m.old_writer,
            m.cause_said,
            either(&m.cleanup)
        )));
    };
    let rto = m.rto_seconds.unwrap_or(f64::INFINITY);
    let rpo = match &m.missing {
        Ok(missing) => format!("{} committed markers missing", missing.len()),
        Err(why) => format!("not read: {why}"),
    };
    let evidence = vec![
        Evidence {
            observed: format!(
                "RTO {rto:.2} s (last commit on {} → first on {new_writer}; the client saw a gap of {:.2} s)",
                m.old_writer,
                m.client_gap_seconds.unwrap_or_default()
            ),
            expected: format!("RTO < {limit} s"),
            source: format!("{label}: {}", m.cause),
            at: String::new(),
        },
        Evidence {
            observed: format!("RPO: {rpo} of {} ({} in doubt, not counted)", m.committed, m.in_doubt),
            expected: "RPO 0: every committed marker on the new writer".into(),
            source: "SELECT seq FROM the drill table on the new writer".into(),
            at: String::new(),
        },
        Evidence {
            observed: either(&m.topology),
            expected: "every declared standby streaming from the new writer".into(),
            source: "pg_stat_replication on the new writer".into(),
            at: String::new(),
        },
        Evidence {
            observed: m.cause_said.clone(),
            expected: "the failover caused".into(),
            source: m.cause.clone(),
            at: String::new(),
        },
        Evidence {
            observed: either(&m.cleanup),
            expected: "drill table dropped".into(),
            source: "DROP TABLE".into(),
            at: String::new(),
        },
    ];
    let mut problems = Vec::new();
    match &m.missing {
        Ok(missing) if !missing.is_empty() => {
            let shown: Vec<String> = missing.iter().take(10).map(i64::to_string).collect();
            problems.push(format!("RPO: {} committed markers lost (seq {})", missing.len(), shown.join(", ")));
        }
        Ok(_) => {}
        Err(why) => return Outcome::Error(prefix(format!("the new writer's markers could not be read: {why}"))),
    }
    if rto >= limit {
        problems.push(format!("RTO {rto:.2} s is not below {limit} s"));
    }
    if let Err(why) = &m.topology {
        problems.push(format!("the topology is not whole again: {why}"));
    }
    if problems.is_empty() {
        Outcome::Pass(evidence)
    } else {
        Outcome::Fail(prefix(problems.join("; ")), evidence)
    }
}

fn set(result: &mut CheckResult, outcome: Outcome, at: &str) {
    let (status, reason, mut evidence) = match outcome {
        Outcome::Pass(e) => (Status::Pass, None, e),
        Outcome::Fail(why, e) => (Status::Fail, Some(why), e),
        Outcome::Error(why) => (Status::Error, Some(why), vec![]),
        Outcome::Skip(kind, why) => {
            result.status = Status::Skip;
            result.skip = Some(kind);
            result.reason = Some(why);
            result.evidence = vec![];
            return;
        }
    };
    for e in &mut evidence {
        e.at = at.to_string();
    }
    result.status = status;
    result.skip = None;
    result.reason = reason;
    result.evidence = evidence;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(seq: i64, at: f64, writer: &str, base: Instant) -> Marker {
        Marker { seq, at, writer: writer.into(), seen: base + Duration::from_secs_f64(at - 100.0) }
    }

    fn measured(commits: &[Marker], missing: Vec<i64>) -> DrillEnd {
        let (rto, gap, new) = measure(commits, "127.0.0.1:5432");
        DrillEnd::Measured(Measurement {
            cause: "drills.failover_command: scripts/failover".into(),
            cause_said: "done".into(),
            old_writer: "127.0.0.1:5432".into(),
            new_writer: new,
            rto_seconds: rto,
            client_gap_seconds: gap,
            committed: commits.len(),
            in_doubt: 1,
            missing: Ok(missing),
            topology: Ok("standby_sync streaming/sync".into()),
            cleanup: Ok("dropped".into()),
        })
    }

    fn failover(base: Instant) -> Vec<Marker> {
        vec![
            marker(1, 100.0, "127.0.0.1:5432", base),
            marker(2, 100.05, "127.0.0.1:5432", base),
            marker(4, 102.55, "127.0.0.1:5433", base),
            marker(5, 102.6, "127.0.0.1:5433", base),
        ]
    }

    #[test]
    fn rto_runs_from_the_last_commit_on_the_old_writer_to_the_first_on_the_new() {
        let (rto, gap, new) = measure(&failover(Instant::now()), "127.0.0.1:5432");
        assert!((rto.unwrap() - 2.5).abs() < 1e-9 && (gap.unwrap() - 2.5).abs() < 1e-6, "{rto:?} {gap:?}");
        assert_eq!(new.as_deref(), Some("127.0.0.1:5433"));
    }

    #[test]
    fn a_failover_within_the_target_and_nothing_lost_passes_with_rto_and_rpo() {
        match decide(&measured(&failover(Instant::now()), vec![]), 30.0, "failover") {
            Outcome::Pass(e) => {
                assert!(e[0].observed.starts_with("RTO 2.50 s"), "{e:?}");
                assert!(e[1].observed.starts_with("RPO: 0 committed markers missing of 4"), "{e:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_lost_marker_a_slow_failover_or_a_broken_topology_fails() {
        let lost = decide(&measured(&failover(Instant::now()), vec![2]), 30.0, "failover");
        assert!(matches!(&lost, Outcome::Fail(w, _) if w.contains("1 committed markers lost (seq 2)")), "{lost:?}");
        let slow = decide(&measured(&failover(Instant::now()), vec![]), 2.0, "Patroni leader change");
        assert!(
            matches!(&slow, Outcome::Fail(w, _) if w.starts_with("Patroni leader change: RTO 2.50 s is not below 2 s")),
            "{slow:?}"
        );
        let DrillEnd::Measured(mut m) = measured(&failover(Instant::now()), vec![]) else { unreachable!() };
        m.topology = Err("not streaming: standby_async".into());
        assert!(
            matches!(decide(&DrillEnd::Measured(m), 30.0, "failover"), Outcome::Fail(w, _) if w.contains("standby_async"))
        );
    }

    #[test]
    fn no_failover_is_an_error_never_a_zero_second_pass() {
        let base = Instant::now();
        let same = vec![marker(1, 100.0, "127.0.0.1:5432", base), marker(2, 100.1, "127.0.0.1:5432", base)];
        let outcome = decide(&measured(&same, vec![]), 30.0, "failover");
        assert!(matches!(&outcome, Outcome::Error(w) if w.contains("no failover happened")), "{outcome:?}");
        let refused = decide(&DrillEnd::NoStandby("no standby".into()), 30.0, "failover");
        assert!(matches!(refused, Outcome::Fail(w, _) if w.contains("refused before anything happened")));
        let unreachable = DrillEnd::NotStarted("the writer cannot be reached, nothing was done: refused".into());
        assert!(matches!(decide(&unreachable, 30.0, "failover"), Outcome::Error(w) if w.contains("nothing was done")));
        let hung = DrillEnd::NotCaused { why: "timed out".into(), state: "writable".into() };
        assert!(matches!(decide(&hung, 30.0, "failover"), Outcome::Error(_)));
    }

    #[test]
    fn simulation_and_patroni_are_opt_in() {
        let env: Environment = serde_yaml_ng::from_str(
            "project: p\ntier: production\naws: {account_id: '123456789012', region: us-east-1}\n\
             engine: {kind: aurora-postgresql, version: '16.6'}\ntimeseries: {backend: native}\n",
        )
        .unwrap();
        assert!(simulates(&env, "HA-01") && !simulates(&env, "HA-02") && !simulates(&env, "HA-06"));
        assert!(
            matches!(partition_storage_az(&env, "a network partition"), Outcome::Skip(Skip::NotApplicable, w) if w.contains("cannot be caused on a managed service"))
        );
        assert!(permitted(&env, false).unwrap_err().contains("--allow-production"));
        assert!(permitted(&env, true).is_ok());
        let mut allowed = env.clone();
        allowed.acceptance.drills = Some(crate::config::drills::DrillPermission::Allowed);
        allowed.drills.simulate_with_failover = true;
        assert!(permitted(&allowed, false).is_ok());
        assert!(simulates(&allowed, "HA-03"));
        assert!(
            matches!(partition_storage_az(&allowed, "x"), Outcome::Skip(Skip::NeedsDrills, w) if w.contains("simulated by a forced failover"))
        );
    }
}
