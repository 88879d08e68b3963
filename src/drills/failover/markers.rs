//! The failover drill's client: the environment's connection as a client reaches its writer (a multi-host
//! target with `target_session_attrs=read-write`, short timeouts), and the writer task that commits a marker
//! every ~40 ms through it, reconnecting after every error.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_postgres::config::{SslMode, TargetSessionAttrs};
use tokio_postgres::{Client, Config, SimpleQueryMessage};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::config::model::Environment;
use crate::config::replication::StandbyMode;
use crate::database::connect::Target;
use crate::verify::failover_verdict::Marker;

/// Between two markers.
const INTERVAL: Duration = Duration::from_millis(40);

#[derive(Debug, Default)]
pub(super) struct Log {
    pub(super) commits: Vec<Marker>,
    /// Sent, but the answer never came (a commit may or may not have happened): never counted committed.
    pub(super) in_doubt: usize,
    pub(super) errors: usize,
    pub(super) last_error: Option<String>,
}

/// Waits until `done` holds for the log, up to `limit`; whether it did.
pub(super) async fn wait_for(log: &Mutex<Log>, limit: Duration, done: impl Fn(&Log) -> bool) -> bool {
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

pub(super) fn token() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{:x}{:05x}", std::process::id(), nanos & 0xfffff)
}

/// The writer task: a marker every `INTERVAL`, each its own transaction, reconnecting after any error.
pub(super) async fn write_markers(connection: Connection, table: String, log: Arc<Mutex<Log>>, stop: Arc<AtomicBool>) {
    let token = token();
    let mut seq: i64 = 0;
    let mut client: Option<(Client, String)> = None;
    while !stop.load(Ordering::SeqCst) {
        if client.is_none() {
            // A connect to a host that drops packets would wait for the kernel's SYN retries (minutes), past
            // the stop flag: each attempt gets 5 s.
            let attempt = tokio::time::timeout(Duration::from_secs(5), connection.connect())
                .await
                .unwrap_or_else(|_| Err("connecting took more than 5 s".to_string()));
            match attempt {
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
pub(super) struct Connection {
    config: Config,
    tls: Option<MakeRustlsConnect>,
    /// `port` → declared standby name, to say which server became the writer.
    names: Vec<(u16, String)>,
}

impl Connection {
    pub(super) fn new(env: &Environment, target: &Target) -> Result<Self, String> {
        let mut config = Config::new();
        let mut names = vec![(target.port, "writer (connection)".to_string())];
        config.host(&target.host).port(target.port);
        // An external server's standbys are hosts of the same multi-host target: whichever accepts writes.
        for standby in &env.replication.standbys {
            let port = crate::verify::replication::port_of(standby)?;
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
    pub(super) async fn connect(&self) -> Result<(Client, String), String> {
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
    pub(super) fn named(&self, writer: &str) -> String {
        let port = writer.rsplit(':').next().and_then(|p| p.parse::<u16>().ok());
        match self.names.iter().find(|(p, _)| Some(*p) == port) {
            Some((_, name)) => format!("{writer} (the file's {name})"),
            None => writer.to_string(),
        }
    }

    /// Committed markers the writer does not have.
    pub(super) async fn missing(&self, table: &str, commits: &[Marker]) -> Result<Vec<i64>, String> {
        let (client, _) = self.connect().await?;
        let rows = client
            .query(&format!("SELECT seq FROM {table}"), &[])
            .await
            .map_err(|e| crate::database::connect::reason(&e))?;
        let kept: std::collections::BTreeSet<i64> = rows.iter().map(|r| r.get(0)).collect();
        Ok(commits.iter().map(|m| m.seq).filter(|s| !kept.contains(s)).collect())
    }

    /// Waits up to `wait` until every declared standby streams from the writer in its mode (external servers).
    pub(super) async fn topology(&self, env: &Environment, wait: Duration) -> Result<String, String> {
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

    pub(super) async fn drop_table(&self, table: &str) -> Result<String, String> {
        let (client, writer) = self.connect().await.map_err(|e| format!("the drill table {table} was left: {e}"))?;
        client
            .batch_execute(&format!("DROP TABLE IF EXISTS {table}"))
            .await
            .map_err(|e| format!("the drill table {table} was left: {}", crate::database::connect::reason(&e)))?;
        Ok(format!("drill table {table} dropped on {}", self.named(&writer)))
    }

    /// After an interruption or a failed cause: whether a writer accepts writes, and the table dropped.
    pub(super) async fn leave(&self, table: &str, when: &str) -> String {
        match self.drop_table(table).await {
            Ok(done) => format!("stopped {when}: the cluster is writable; {done}"),
            Err(why) => format!("stopped {when}: no server accepts writes through the environment's connection; {why}"),
        }
    }
}
