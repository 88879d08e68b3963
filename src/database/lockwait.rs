//! The runner's bounded lock wait: how long a statement may wait (`lock_timeout`), the backoff between tries,
//! and who it waited for — read from a second connection while the statement waits (`pg_locks` joined with
//! `pg_stat_activity` through `pg_blocking_pids()`), so that a migration that gives up names the lock it
//! wanted and the session that held it, not a guess made after the holder may have let go.
//!
//! Also the refusal to run through a transaction-pooling PgBouncer: the session settings a no-transaction
//! statement needs (`lock_timeout`) and the session advisory lock that serialises appliers would be lost when
//! the pooler hands the next statement another server connection.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use tokio_postgres::Client;

use super::connect::{self, Target};
use crate::config::model::Environment;
use crate::config::pooling::{PoolKind, PoolMode};

/// PostgreSQL's `lock_not_available`: `lock_timeout` ran out.
const LOCK_NOT_AVAILABLE: &str = "55P03";
/// How often the watcher looks at the runner's session while a statement runs: well inside the shortest
/// `lock_timeout` (1 s), so the last look before a timeout is at most this old.
const LOOK_EVERY: Duration = Duration::from_millis(100);
/// The holder's query as shown: enough to recognise it, short enough for one line.
const QUERY_CHARS: usize = 120;

/// How long a migration's statement may wait for a lock, and how often it is tried again after hitting that
/// bound (`migrations.lock_timeout`, `migrations.lock_retries`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LockWait {
    pub timeout: Option<Duration>,
    pub retries: u32,
}

/// The pause before retry `attempt` (1, 2, …): 0.5 s doubling, at most 30 s, plus up to half again as
/// jitter so two appliers that timed out together do not come back together.
pub fn backoff(attempt: u32, jitter_seed: u64) -> Duration {
    let base_ms = 500u64.saturating_mul(1u64 << attempt.saturating_sub(1).min(6)).min(30_000);
    let jitter_ms = if base_ms == 0 { 0 } else { jitter_seed % (base_ms / 2 + 1) };
    Duration::from_millis(base_ms + jitter_ms)
}

pub fn jitter_seed() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| u64::from(d.subsec_nanos()))
}

pub fn is_lock_timeout(e: &tokio_postgres::Error) -> bool {
    e.as_db_error().is_some_and(|db| db.code().code() == LOCK_NOT_AVAILABLE)
}

/// What the runner's statement was seen waiting for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Blocked {
    /// The lock mode it asked for (`AccessExclusiveLock`, `ShareLock`).
    pub mode: String,
    /// What it asked to lock: `table public.held`, or the end of another transaction (a concurrent index build
    /// waits for the transactions older than it).
    pub object: String,
    pub holders: Vec<Holder>,
}

/// A session that blocked the runner.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Holder {
    pub pid: i32,
    pub user: String,
    pub application: String,
    /// `active`, `idle in transaction`, …
    pub state: String,
    /// When its current (or last) query started, UTC.
    pub query_start: String,
    /// Seconds since then, when seen.
    pub seconds: i64,
    /// The modes it holds on the same object; empty when it holds none but is queued ahead of the runner.
    pub holds: String,
    /// Its query, whitespace folded, string literals hidden when it mentions a password, truncated.
    pub query: String,
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "  it wanted: {} on {}", self.mode, self.object)?;
        if self.holders.is_empty() {
            write!(f, "\n  held by: not seen (the holder had let go, or is not visible to this role)")?;
        }
        for h in &self.holders {
            let holds =
                if h.holds.is_empty() { "queued ahead of it".to_string() } else { format!("holding {}", h.holds) };
            write!(
                f,
                "\n  held by pid {} (user {}, application '{}', state '{}', query started {}, {} s before): {holds}; its query: {}",
                h.pid, h.user, h.application, h.state, h.query_start, h.seconds, h.query
            )?;
        }
        Ok(())
    }
}

/// A second connection watching the runner's session (its backend `pid`).
pub struct Watch<'a> {
    observer: &'a Client,
    pid: i32,
}

impl<'a> Watch<'a> {
    /// Watches `runner`'s session from `observer`; `None` when the runner's pid cannot be read.
    pub async fn new(runner: &Client, observer: &'a Client) -> Option<Watch<'a>> {
        let pid: i32 = runner.query_one("SELECT pg_backend_pid()", &[]).await.ok()?.get(0);
        Some(Watch { observer, pid })
    }

    /// The lock the runner waits for now and who blocks it; `None` when it waits for nothing.
    async fn look(&self) -> Option<Blocked> {
        let rows = self
            .observer
            .query(
                "SELECT w.mode,
                        CASE WHEN w.relation IS NOT NULL THEN 'table ' || w.relation::regclass::text
                             WHEN w.locktype = 'virtualxid' THEN 'the end of transaction ' || w.virtualxid
                                  || ' (a concurrent build waits for every transaction older than it)'
                             WHEN w.locktype = 'transactionid' THEN 'the end of transaction ' || w.transactionid::text
                             ELSE w.locktype END,
                        b.pid, coalesce(b.usename::text, ''), coalesce(b.application_name, ''),
                        coalesce(b.state, ''),
                        coalesce(to_char(b.query_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''),
                        coalesce(extract(epoch FROM clock_timestamp() - b.query_start)::bigint, 0),
                        coalesce((SELECT string_agg(DISTINCT h.mode, ', ') FROM pg_locks h
                                   WHERE h.pid = b.pid AND h.granted AND h.locktype = w.locktype
                                     AND h.relation IS NOT DISTINCT FROM w.relation
                                     AND h.virtualxid IS NOT DISTINCT FROM w.virtualxid
                                     AND h.transactionid IS NOT DISTINCT FROM w.transactionid), ''),
                        left(regexp_replace(coalesce(b.query, ''), '[[:space:]]+', ' ', 'g'), 400)
                   FROM pg_locks w
                   LEFT JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS blocker(pid) ON true
                   LEFT JOIN pg_stat_activity b ON b.pid = blocker.pid
                  WHERE w.pid = $1 AND NOT w.granted
                  ORDER BY b.query_start NULLS LAST",
                &[&self.pid],
            )
            .await
            .ok()?;
        let first = rows.first()?;
        let holders = rows
            .iter()
            .filter_map(|r| {
                Some(Holder {
                    pid: r.get::<_, Option<i32>>(2)?,
                    user: r.get(3),
                    application: r.get(4),
                    state: r.get(5),
                    query_start: r.get(6),
                    seconds: r.get(7),
                    holds: r.get(8),
                    query: shown_query(&r.get::<_, String>(9)),
                })
            })
            .collect();
        Some(Blocked { mode: first.get(0), object: first.get(1), holders })
    }
}

/// A second connection to watch the runner's waits, when one can be had: not on a single-backend server
/// (PGlite, built with Emscripten, serves one client at a time: a second would wait for the first to leave),
/// and not when it takes longer than 5 s to open. Without one, who held a lock is read after giving up.
pub async fn observer(runner: &Client, target: &Target) -> Option<Client> {
    let version: String = runner.query_one("SELECT version()", &[]).await.ok()?.get(0);
    if version.contains("Emscripten") {
        return None;
    }
    tokio::time::timeout(Duration::from_secs(5), connect::connect(target)).await.ok()?.ok()
}

/// Runs `statement` (a future on the runner's connection) while `watch` looks every 100 ms at what it waits
/// for; returns its result and the last wait seen (the one a lock timeout ended).
pub async fn watched<T, E>(
    watch: Option<&Watch<'_>>,
    statement: impl Future<Output = Result<T, E>>,
) -> (Result<T, E>, Option<Blocked>) {
    let Some(watch) = watch else { return (statement.await, None) };
    let mut last = None;
    tokio::pin!(statement);
    loop {
        tokio::select! {
            biased;
            result = &mut statement => return (result, last),
            // The statement keeps running meanwhile: its connection's task is polled by the runtime.
            _ = tokio::time::sleep(LOOK_EVERY) => {
                // A look that does not answer within a second means the observer's server is gone: stop
                // looking and wait on the statement alone, which its own lock_timeout bounds.
                match tokio::time::timeout(Duration::from_secs(1), watch.look()).await {
                    Ok(Some(seen)) => last = Some(seen),
                    Ok(None) => {}
                    Err(_) => return ((&mut statement).await, last),
                }
            }
        }
    }
}

/// A holder's query for a message: literals hidden when it may carry a password, at most 120 characters.
fn shown_query(query: &str) -> String {
    let lower = query.to_lowercase();
    let query = if ["password", "secret", "token"].iter().any(|w| lower.contains(w)) {
        hide_literals(query)
    } else {
        query.to_string()
    };
    if query.chars().count() > QUERY_CHARS {
        format!("{}…", query.chars().take(QUERY_CHARS).collect::<String>())
    } else {
        query
    }
}

/// `'…'` for every single-quoted literal (doubled quotes inside it included).
fn hide_literals(query: &str) -> String {
    let mut out = String::new();
    let mut chars = query.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            out.push(c);
            continue;
        }
        loop {
            match chars.next() {
                Some('\'') if chars.peek() == Some(&'\'') => {
                    chars.next();
                }
                Some('\'') | None => break,
                Some(_) => {}
            }
        }
        out.push_str("'…'");
    }
    out
}

/// Who holds locks on `relations` now (other sessions), for when no second connection watched the wait: what
/// a migration that gave up waiting was most likely waiting for.
pub async fn holders_now(client: &Client, relations: &[String]) -> String {
    let bare: Vec<String> = relations.iter().map(|r| r.rsplit('.').next().unwrap_or(r).to_string()).collect();
    let rows = client
        .query(
            "SELECT l.pid, c.relname::text, l.mode, coalesce(a.usename::text, ''), coalesce(a.application_name, ''),
                    coalesce(a.state, ''), coalesce(extract(epoch FROM now() - a.xact_start)::bigint, 0),
                    left(regexp_replace(coalesce(a.query, ''), '[[:space:]]+', ' ', 'g'), 400)
               FROM pg_locks l JOIN pg_class c ON c.oid = l.relation LEFT JOIN pg_stat_activity a ON a.pid = l.pid
              WHERE l.granted AND l.pid <> pg_backend_pid() AND c.relname = ANY($1)
              ORDER BY a.xact_start NULLS LAST, l.pid",
            &[&bare],
        )
        .await;
    match rows {
        Ok(rows) if rows.is_empty() => {
            format!("  no other session holds a lock on {} now (the holder has let go)", relations.join(", "))
        }
        Ok(rows) => rows
            .iter()
            .map(|r| {
                format!(
                    "  held by pid {} (user {}, application '{}', state '{}', transaction open {} s): {} on {}; its query: {}",
                    r.get::<_, i32>(0),
                    r.get::<_, String>(3),
                    r.get::<_, String>(4),
                    r.get::<_, String>(5),
                    r.get::<_, i64>(6),
                    r.get::<_, String>(2),
                    r.get::<_, String>(1),
                    shown_query(&r.get::<_, String>(7))
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Err(e) => format!("  who holds the lock could not be read: {e}"),
    }
}

/// Why `apply` must not run through this connection: the environment declares a PgBouncer in transaction
/// (or statement) pooling and the connection is the pooler's — its port is PgBouncer's `listen_port`, or the
/// server says it listens on another port than the one connected to (something sits in between). `None`
/// when neither holds. A session-pooling PgBouncer and RDS Proxy (which pins a session that sets a
/// variable) keep session settings.
pub fn transaction_pooler(env: &Environment, connected_port: u16, server_port: Option<i32>) -> Option<String> {
    let pool = &env.pooling;
    if pool.kind != PoolKind::Pgbouncer || pool.pool_mode == PoolMode::Session {
        return None;
    }
    let why = if connected_port == pool.listen_port {
        format!("port {connected_port} is the PgBouncer's listen_port")
    } else {
        match server_port {
            Some(server) if i32::from(connected_port) != server => format!(
                "glctl connected to port {connected_port} but the server listens on {server}: something sits in between"
            ),
            _ => return None,
        }
    };
    Some(format!(
        "refusing to migrate through a {mode}-pooling PgBouncer ({why}; pooling.pool_mode: {mode}): it may run \
         each statement on another server connection, so the session lock that keeps two appliers apart and the \
         lock_timeout that bounds a -- glctl:no-transaction statement's wait would be lost. Connect to the \
         database itself (connection.host/port, or --database-url with the server's address)",
        mode = pool.pool_mode.name()
    ))
}

/// `transaction_pooler` for `client`'s connection (made to `connected_port`), asking the server its port.
pub async fn refuse_transaction_pooler(client: &Client, env: &Environment, connected_port: u16) -> Result<(), String> {
    if env.pooling.kind != PoolKind::Pgbouncer || env.pooling.pool_mode == PoolMode::Session {
        return Ok(());
    }
    let server_port: Option<i32> = match client.query_one("SELECT inet_server_port()", &[]).await {
        Ok(row) => row.get(0),
        Err(e) => return Err(format!("cannot tell whether this connection goes through the PgBouncer: {e}")),
    };
    transaction_pooler(env, connected_port, server_port).map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_retry_backoff_doubles_from_half_a_second_with_at_most_half_again_as_jitter() {
        assert_eq!(backoff(1, 0), Duration::from_millis(500));
        assert_eq!(backoff(2, 0), Duration::from_millis(1000));
        assert_eq!(backoff(3, 0), Duration::from_millis(2000));
        assert_eq!(backoff(1, 250), Duration::from_millis(750));
        assert_eq!(backoff(1, 251), Duration::from_millis(500));
        assert!(backoff(30, u64::MAX) <= Duration::from_millis(45_000));
    }

    #[test]
    fn the_default_budget_gives_up_within_forty_seconds() {
        use crate::config::migrations::{DEFAULT_LOCK_RETRIES, DEFAULT_LOCK_TIMEOUT_SECONDS};
        let waits = Duration::from_secs(DEFAULT_LOCK_TIMEOUT_SECONDS) * (DEFAULT_LOCK_RETRIES + 1);
        let pauses: Duration = (1..=DEFAULT_LOCK_RETRIES).map(|a| backoff(a, u64::MAX - 1)).sum();
        assert!(waits + pauses <= Duration::from_secs(40), "{:?}", waits + pauses);
    }

    #[test]
    fn a_holders_query_is_truncated_and_its_literals_hidden_when_it_may_carry_a_password() {
        assert_eq!(shown_query("SELECT 1"), "SELECT 1");
        assert_eq!(
            shown_query("ALTER ROLE app PASSWORD 'hunter2''s' VALID UNTIL 'x'"),
            "ALTER ROLE app PASSWORD '…' VALID UNTIL '…'"
        );
        let long = "SELECT ".to_string() + &"x, ".repeat(100);
        let shown = shown_query(&long);
        assert_eq!(shown.chars().count(), QUERY_CHARS + 1);
        assert!(shown.ends_with('…'));
    }

    #[test]
    fn a_blocked_wait_names_the_lock_and_each_holder() {
        let blocked = Blocked {
            mode: "AccessExclusiveLock".into(),
            object: "table held".into(),
            holders: vec![Holder {
                pid: 42,
                user: "app".into(),
                application: "psql".into(),
                state: "idle in transaction".into(),
                query_start: "2026-12-08T00:00:00Z".into(),
                seconds: 3,
                holds: "AccessShareLock".into(),
                query: "LOCK TABLE held".into(),
            }],
        };
        assert_eq!(
            blocked.to_string(),
            "  it wanted: AccessExclusiveLock on table held\n  held by pid 42 (user app, application 'psql', state \
             'idle in transaction', query started 2026-12-08T00:00:00Z, 3 s before): holding AccessShareLock; its \
             query: LOCK TABLE held"
        );
    }

    fn env(pooling: &str) -> Environment {
        let mut env: Environment = serde_yaml_ng::from_str(include_str!("../../environments/local.yaml")).unwrap();
        env.pooling = serde_yaml_ng::from_str(pooling).unwrap();
        env
    }

    #[test]
    fn a_transaction_pooler_is_refused_by_its_port_or_by_something_in_between() {
        let tx = env("{kind: pgbouncer, pool_mode: transaction, listen_port: 6432}");
        let refused = transaction_pooler(&tx, 6432, Some(5432)).unwrap();
        assert!(refused.contains("port 6432 is the PgBouncer's listen_port"), "{refused}");
        assert!(refused.contains("transaction-pooling PgBouncer"), "{refused}");
        let between = transaction_pooler(&tx, 40001, Some(5432)).unwrap();
        assert!(between.contains("connected to port 40001 but the server listens on 5432"), "{between}");
        assert_eq!(transaction_pooler(&tx, 5432, Some(5432)), None, "the server itself");
        assert_eq!(transaction_pooler(&tx, 5432, None), None, "a Unix socket");
        let session = env("{kind: pgbouncer, pool_mode: session, listen_port: 6432}");
        assert_eq!(transaction_pooler(&session, 6432, Some(5432)), None);
        assert_eq!(transaction_pooler(&env("{kind: none}"), 6432, Some(5432)), None);
    }
}
