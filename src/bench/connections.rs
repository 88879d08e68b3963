//! The connections scenario (PB-07, PB-08), `glctl bench --scenario connections` and `verify --bench`.
//!
//! PB-07: `sessions` client sessions (default the target plus a tenth) opened and held for the duration,
//! each sending `SELECT 1` about once a second; every failed connect or query counted; then counted again
//! from the other side: through PgBouncer, the admin console's `SHOW POOLS` (cl_active + cl_waiting of the
//! database and user, summed over the PgBouncers) and the server backends in `pg_stat_activity`; directly,
//! the sessions' own `application_name` in `pg_stat_activity`. Through the PgBouncers the server's
//! `max_connections` need not cover the sessions (the stack's is 200): the point of a pooler.
//!
//! PB-08 (PgBouncer only): while the sessions are held, new clients at a fixed rate, open loop (latency from
//! each sample's due time): the time to a usable client connection (TCP, startup, SCRAM with PgBouncer), and
//! the first statement's time, which under transaction pooling is the wait for a server connection plus a
//! `SELECT 1`; as HDR percentiles, beside the largest `cl_waiting` and `maxwait` seen in `SHOW POOLS` (sampled
//! every 100 ms) and the mean wait `SHOW STATS` accounts (total_wait_time over total_xact_count).
//!
//! Only the simple query protocol is used (PgBouncer 1.18, transaction pooling).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;
use tokio_postgres::Client;

use super::queries::{latency, Latency};
use super::{BenchError, Reporter, Verdict};
use crate::config::model::Acceptance;
use crate::database::connect::{self, Target};
use crate::pgbouncer::{self, Endpoints, Poolers};

/// The `application_name` of the held sessions (what `pg_stat_activity` counts without a pooler).
pub const SESSION_APP: &str = "glctl-bench-session";
/// New client connections per second of PB-08.
pub const ACQUIRE_RATE: f64 = 20.0;
/// At most this many sessions connect at once (a login storm measures the storm, not the holding).
const OPEN_PARALLEL: usize = 16;

#[derive(Clone, Debug, Serialize)]
pub struct SessionFigures {
    pub through_pooler: bool,
    /// The endpoints the sessions were spread over, round robin.
    pub endpoints: String,
    pub sessions: u64,
    pub opened: u64,
    pub open_seconds: f64,
    pub held_seconds: f64,
    pub queries: u64,
    pub connect_failures: u64,
    pub query_failures: u64,
    pub first_error: Option<String>,
    /// Clients the PgBouncers held for the database and user (SHOW POOLS cl_active + cl_waiting), each.
    pub pooler_clients: Vec<u64>,
    /// Client backends of the sessions' user in `pg_stat_activity` (through PgBouncer: server connections).
    pub server_backends: i64,
    /// Backends named `glctl-bench-session` in `pg_stat_activity` (the sessions, without a pooler).
    pub session_backends: i64,
    pub max_connections: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct AcquireFigures {
    pub rate_per_second: f64,
    pub samples: u64,
    /// New client connection through PgBouncer, until it is ready for a query.
    pub connect: Latency,
    /// The first `SELECT 1` on it: the wait for a server connection (transaction pooling) and the query.
    pub first_query: Latency,
    pub errors: u64,
    pub first_error: Option<String>,
    pub max_cl_waiting: u64,
    pub max_maxwait_ms: f64,
    /// SHOW STATS over the sampling: total_wait_time / total_xact_count, µs.
    pub mean_wait_us: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ConnectionFigures {
    pub sessions: SessionFigures,
    pub acquire: Option<AcquireFigures>,
}

struct Counters {
    opened: AtomicU64,
    connect_failures: AtomicU64,
    query_failures: AtomicU64,
    queries: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Counters {
    fn fail(&self, counter: &AtomicU64, why: String) {
        counter.fetch_add(1, Ordering::SeqCst);
        self.first_error.lock().expect("first error").get_or_insert(why);
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// Whether `sessions` straight to the server fit in what it has left for ordinary clients
/// (`max_connections` − `superuser_reserved_connections` − the sessions it already has), keeping a margin:
/// opening more would lock everyone else out (the sessions fail with 53300 "too many clients"). Through
/// PgBouncer the pooler holds them, so there is always room.
pub async fn room_for(
    control: &Client,
    poolers: Option<&Poolers>,
    sessions: u64,
) -> Result<Result<(), String>, BenchError> {
    if poolers.is_some() {
        return Ok(Ok(()));
    }
    let row = control
        .query_one(
            "SELECT current_setting('max_connections')::int8, current_setting('superuser_reserved_connections')::int8,
                    (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')",
            &[],
        )
        .await
        .map_err(|e| BenchError::Sql { what: "counting the server's free connections", reason: connect::reason(&e) })?;
    let (max, reserved, in_use): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    Ok(direct_room(max, reserved, in_use, sessions))
}

/// Free slots left for `sessions`, keeping `ROOM_MARGIN` for the server's other clients.
fn direct_room(max: i64, reserved: i64, in_use: i64, sessions: u64) -> Result<(), String> {
    let free = max.saturating_sub(reserved).saturating_sub(in_use).saturating_sub(ROOM_MARGIN);
    if i64::try_from(sessions).unwrap_or(i64::MAX) <= free {
        return Ok(());
    }
    Err(format!(
        "{sessions} sessions straight to the server would exhaust it: max_connections {max} − {reserved} reserved − \
         {in_use} in use leaves {} (keeping {ROOM_MARGIN} for its other clients); run PB-07/PB-08 through the \
         PgBouncers (--pooler-url, --pooler-admin-url) or with fewer --sessions",
        free.max(0)
    ))
}

/// Connections left for the server's other clients when bench opens sessions straight to it.
const ROOM_MARGIN: i64 = 10;

/// Runs PB-07 and (with PgBouncers) PB-08; `control` is a direct connection to the database.
pub async fn run(
    control: &Client,
    direct: &Target,
    poolers: Option<&Poolers>,
    sessions: u64,
    duration: Duration,
    acceptance: &Acceptance,
    reporter: &Arc<dyn Reporter>,
) -> Result<(ConnectionFigures, Vec<Verdict>), BenchError> {
    let endpoints = match poolers {
        Some(p) => p.clients.clone(),
        None => Endpoints {
            hosts: vec![(direct.host.clone(), direct.port)],
            user: direct.user.clone(),
            password: direct.password.clone(),
            database: direct.database.clone(),
            tls_mode: direct.tls_mode,
            ca_bundle: direct.ca_bundle.clone(),
        },
    };
    let admins = match poolers.and_then(|p| p.admin.as_ref()) {
        Some(admin) => {
            let mut clients = Vec::new();
            for i in 0..admin.hosts.len() {
                clients.push(admin.connect_one(i, "glctl-bench").await.map_err(BenchError::Worker)?);
            }
            clients
        }
        None => Vec::new(),
    };
    if poolers.is_some() && admins.is_empty() {
        return Err(BenchError::NotReady(
            "PB-07/PB-08 through PgBouncer need its admin console: --pooler-admin-url (GLCTL_POOLER_ADMIN_URL)".into(),
        ));
    }
    let sql_err =
        |what: &'static str| move |e: tokio_postgres::Error| BenchError::Sql { what, reason: connect::reason(&e) };
    let max_connections: i64 = control
        .query_one("SELECT current_setting('max_connections')::int8", &[])
        .await
        .map_err(sql_err("max_connections"))?
        .get(0);

    // PB-07: open the sessions, a few at a time, each on its endpoint (round robin), and hold them.
    reporter.phase(&format!("opening {sessions} sessions through {}", pgbouncer::hosts_text(&endpoints.hosts)));
    let counters = Arc::new(Counters {
        opened: AtomicU64::new(0),
        connect_failures: AtomicU64::new(0),
        query_failures: AtomicU64::new(0),
        queries: AtomicU64::new(0),
        first_error: Mutex::new(None),
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let gate = Arc::new(tokio::sync::Semaphore::new(OPEN_PARALLEL));
    let opening = tokio::time::Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..sessions {
        let (endpoints, counters, gate, mut stop) =
            (endpoints.clone(), counters.clone(), gate.clone(), stop_rx.clone());
        set.spawn(async move {
            let permit = gate.acquire_owned().await.expect("the gate stays open");
            let client = match endpoints.connect_one(i as usize, SESSION_APP).await {
                Ok(c) => c,
                Err(e) => return counters.fail(&counters.connect_failures, e),
            };
            drop(permit);
            counters.opened.fetch_add(1, Ordering::SeqCst);
            // Spread the periodic queries over the second.
            let offset = Duration::from_millis((i * 1000 / sessions.max(1)) % 1000);
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + offset, Duration::from_secs(1));
            // A tick missed on a busy machine is late, not owed: no bursts of catch-up queries.
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    _ = tick.tick() => match client.simple_query("SELECT 1").await {
                        Ok(_) => { counters.queries.fetch_add(1, Ordering::Relaxed); }
                        Err(e) => counters.fail(&counters.query_failures, connect::reason(&e)),
                    },
                }
            }
        });
    }
    let all_in = tokio::time::Instant::now() + Duration::from_secs(120);
    while counters.opened.load(Ordering::SeqCst) + counters.connect_failures.load(Ordering::SeqCst) < sessions
        && tokio::time::Instant::now() < all_in
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let open_seconds = opening.elapsed().as_secs_f64();
    let held_from = tokio::time::Instant::now();
    reporter.phase(&format!("holding {} sessions", counters.opened.load(Ordering::SeqCst)));
    tokio::time::sleep(Duration::from_millis(500).min(duration / 2)).await;

    // Counted from the other side while every session is held.
    let mut pooler_clients = Vec::new();
    for admin in &admins {
        let pools = pgbouncer::show(admin, "SHOW POOLS").await.map_err(BenchError::Worker)?;
        pooler_clients.push(
            pgbouncer::of(&pools, &endpoints.database, &endpoints.user)
                .map(|r| pgbouncer::num(r, "cl_active") + pgbouncer::num(r, "cl_waiting"))
                .sum(),
        );
    }
    let row = control
        .query_one(
            "SELECT count(*) FILTER (WHERE application_name = $1), count(*) FILTER (WHERE usename = $2)
               FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'",
            &[&SESSION_APP, &endpoints.user],
        )
        .await
        .map_err(sql_err("pg_stat_activity"))?;
    let (session_backends, server_backends): (i64, i64) = (row.get(0), row.get(1));

    // PB-08 while the sessions are held: the rest of the duration.
    let remaining = duration.saturating_sub(held_from.elapsed());
    let acquire = match (poolers, admins.is_empty()) {
        (Some(p), false) => Some(acquire(&p.clients, &admins, remaining.max(Duration::from_secs(1)), reporter).await?),
        _ => {
            tokio::time::sleep(remaining).await;
            None
        }
    };
    let held_seconds = held_from.elapsed().as_secs_f64();
    let _ = stop_tx.send(true);
    while let Some(joined) = set.join_next().await {
        if let Err(e) = joined {
            counters.fail(&counters.query_failures, format!("a session task failed: {e}"));
        }
    }
    let first_error = counters.first_error.lock().expect("first error").clone();
    let figures = SessionFigures {
        through_pooler: poolers.is_some(),
        endpoints: pgbouncer::hosts_text(&endpoints.hosts),
        sessions,
        opened: counters.opened.load(Ordering::SeqCst),
        open_seconds,
        held_seconds,
        queries: counters.queries.load(Ordering::SeqCst),
        connect_failures: counters.connect_failures.load(Ordering::SeqCst),
        query_failures: counters.query_failures.load(Ordering::SeqCst),
        first_error,
        pooler_clients,
        server_backends,
        session_backends,
        max_connections,
    };
    let mut verdicts = vec![judge_sessions(acceptance, &figures)];
    if let Some(a) = &acquire {
        verdicts.push(judge_acquire(acceptance, a));
    }
    Ok((ConnectionFigures { sessions: figures, acquire }, verdicts))
}

/// PB-07: more sessions than the target, every one held (counted on the other side), no failure.
pub fn judge_sessions(acceptance: &Acceptance, f: &SessionFigures) -> Verdict {
    let target = u64::from(acceptance.concurrent_connections);
    let counted =
        if f.through_pooler { f.pooler_clients.iter().sum::<u64>() } else { f.session_backends.max(0) as u64 };
    let failures = f.connect_failures + f.query_failures;
    let seen = if f.through_pooler {
        format!(
            "SHOW POOLS: {} client(s) held ({}), over {} server connection(s) in pg_stat_activity (max_connections {})",
            counted,
            f.pooler_clients.iter().map(u64::to_string).collect::<Vec<_>>().join(" + "),
            f.server_backends,
            f.max_connections
        )
    } else {
        format!("pg_stat_activity: {counted} session backend(s) (max_connections {})", f.max_connections)
    };
    let mut observed = format!(
        "{} of {} session(s) held {:.1} s through {} ({} queries, {} failed connect(s), {} failed quer(ies)); {seen}",
        f.opened, f.sessions, f.held_seconds, f.endpoints, f.queries, f.connect_failures, f.query_failures
    );
    if let Some(e) = &f.first_error {
        observed.push_str(&format!("; first error: {e}"));
    }
    Verdict {
        check: "PB-07",
        target: format!("> {target} concurrent sessions held, none failed"),
        pass: failures == 0 && f.opened == f.sessions && counted >= f.sessions && f.sessions > target,
        observed,
    }
}

/// PB-08: new client connections and the first statement's wait for a server both below the target (p99).
pub fn judge_acquire(acceptance: &Acceptance, a: &AcquireFigures) -> Verdict {
    let target = f64::from(acceptance.pool_acquire_ms);
    let mut observed = format!(
        "{} new client(s) at {}/s: connect p50 {:.2} / p99 {:.2} / max {:.2} ms; first query (server wait + SELECT 1) \
         p50 {:.2} / p99 {:.2} / max {:.2} ms; SHOW POOLS max cl_waiting {}, max maxwait {:.1} ms{}; {} error(s)",
        a.samples,
        a.rate_per_second,
        a.connect.p50_ms,
        a.connect.p99_ms,
        a.connect.max_ms,
        a.first_query.p50_ms,
        a.first_query.p99_ms,
        a.first_query.max_ms,
        a.max_cl_waiting,
        a.max_maxwait_ms,
        a.mean_wait_us.map(|w| format!(", SHOW STATS mean wait {w:.0} µs")).unwrap_or_default(),
        a.errors
    );
    if let Some(e) = &a.first_error {
        observed.push_str(&format!(" (first: {e})"));
    }
    Verdict {
        check: "PB-08",
        target: format!("p99 < {target} ms, connect and server wait"),
        pass: a.errors == 0 && a.samples > 0 && a.connect.p99_ms < target && a.first_query.p99_ms < target,
        observed,
    }
}

async fn stats_wait(admins: &[Client], database: &str) -> Result<(u64, u64), BenchError> {
    let (mut wait, mut xacts) = (0, 0);
    for admin in admins {
        let stats = pgbouncer::show(admin, "SHOW STATS").await.map_err(BenchError::Worker)?;
        for row in stats.iter().filter(|r| r.get("database").map(String::as_str) == Some(database)) {
            wait += pgbouncer::num(row, "total_wait_time");
            xacts += pgbouncer::num(row, "total_xact_count");
        }
    }
    Ok((wait, xacts))
}

async fn acquire(
    endpoints: &Endpoints,
    admins: &[Client],
    duration: Duration,
    reporter: &Arc<dyn Reporter>,
) -> Result<AcquireFigures, BenchError> {
    reporter.phase("PB-08: new clients through the PgBouncers");
    let samples = ((duration.as_secs_f64() * ACQUIRE_RATE) as u64).max(1);
    let period = Duration::from_secs_f64(1.0 / ACQUIRE_RATE);
    let before = stats_wait(admins, &endpoints.database).await?;
    let (mut connect_h, mut query_h) = (histogram(), histogram());
    let (mut errors, mut first_error) = (0u64, None::<String>);
    let (mut max_waiting, mut max_wait_us) = (0u64, 0u64);
    let start = tokio::time::Instant::now();
    let mut next_poll = start;
    for i in 0..samples {
        let due = start + period.saturating_mul(i.min(u64::from(u32::MAX)) as u32);
        // SHOW POOLS between samples, every 100 ms.
        while next_poll <= due {
            for admin in admins {
                let pools = pgbouncer::show(admin, "SHOW POOLS").await.map_err(BenchError::Worker)?;
                for r in pgbouncer::of(&pools, &endpoints.database, &endpoints.user) {
                    max_waiting = max_waiting.max(pgbouncer::num(r, "cl_waiting"));
                    max_wait_us =
                        max_wait_us.max(pgbouncer::num(r, "maxwait") * 1_000_000 + pgbouncer::num(r, "maxwait_us"));
                }
            }
            next_poll += Duration::from_millis(100);
        }
        tokio::time::sleep_until(due).await;
        let client = match endpoints.connect_one(i as usize, "glctl-bench-acquire").await {
            Ok(c) => c,
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(e);
                continue;
            }
        };
        let connected = tokio::time::Instant::now();
        let _ = connect_h.record(connected.saturating_duration_since(due).as_micros().max(1) as u64);
        match client.simple_query("SELECT 1").await {
            Ok(_) => {
                let _ = query_h.record(connected.elapsed().as_micros().max(1) as u64);
            }
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(connect::reason(&e));
            }
        }
    }
    let after = stats_wait(admins, &endpoints.database).await?;
    let xacts = after.1.saturating_sub(before.1);
    Ok(AcquireFigures {
        rate_per_second: ACQUIRE_RATE,
        samples,
        connect: latency(&connect_h, errors, 0, 0),
        first_query: latency(&query_h, 0, 0, 0),
        errors,
        first_error,
        max_cl_waiting: max_waiting,
        max_maxwait_ms: max_wait_us as f64 / 1000.0,
        mean_wait_us: (xacts > 0).then(|| after.0.saturating_sub(before.0) as f64 / xacts as f64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_straight_to_a_server_must_leave_its_other_clients_room() {
        assert!(direct_room(1000, 3, 20, 551).is_ok());
        let refused = direct_room(200, 3, 20, 551).unwrap_err();
        assert!(refused.contains("max_connections 200") && refused.contains("leaves 167"), "{refused}");
        assert!(refused.contains("--pooler-url"), "{refused}");
        assert!(direct_room(200, 3, 195, 1).unwrap_err().contains("leaves 0"));
    }

    fn acceptance() -> Acceptance {
        serde_yaml_ng::from_str("{}").unwrap()
    }

    fn held(sessions: u64, pooler_clients: Vec<u64>, query_failures: u64) -> SessionFigures {
        SessionFigures {
            through_pooler: true,
            endpoints: "127.0.0.1:1,127.0.0.1:2".into(),
            sessions,
            opened: sessions,
            open_seconds: 1.0,
            held_seconds: 2.0,
            queries: 1000,
            connect_failures: 0,
            query_failures,
            first_error: None,
            pooler_clients,
            server_backends: 30,
            session_backends: 0,
            max_connections: 200,
        }
    }

    #[test]
    fn pb07_passes_only_above_the_target_with_every_session_counted_and_none_failed() {
        let a = acceptance();
        assert!(judge_sessions(&a, &held(551, vec![276, 275], 0)).pass);
        assert!(!judge_sessions(&a, &held(551, vec![276, 274], 0)).pass, "one session not seen by the PgBouncers");
        assert!(!judge_sessions(&a, &held(551, vec![276, 275], 1)).pass, "a failed query");
        assert!(!judge_sessions(&a, &held(500, vec![250, 250], 0)).pass, "500 is not more than 500");
        let v = judge_sessions(&a, &held(551, vec![276, 275], 0));
        assert!(v.observed.contains("276 + 275") && v.observed.contains("max_connections 200"), "{}", v.observed);
    }

    #[test]
    fn pb08_needs_both_the_connection_and_the_server_wait_below_the_target() {
        let lat = |p99: u64| {
            let mut h = histogram();
            for _ in 0..99 {
                h.record(1_000).unwrap();
            }
            h.record(p99).unwrap();
            h.record(p99).unwrap();
            latency(&h, 0, 0, 0)
        };
        let figures = |connect: u64, query: u64| AcquireFigures {
            rate_per_second: 20.0,
            samples: 101,
            connect: lat(connect),
            first_query: lat(query),
            errors: 0,
            first_error: None,
            max_cl_waiting: 3,
            max_maxwait_ms: 1.5,
            mean_wait_us: Some(12.0),
        };
        let a = acceptance();
        assert!(judge_acquire(&a, &figures(2_000, 2_000)).pass);
        assert!(!judge_acquire(&a, &figures(9_000, 2_000)).pass, "slow connections");
        assert!(!judge_acquire(&a, &figures(2_000, 9_000)).pass, "a slow wait for a server");
        assert!(judge_acquire(&a, &figures(2_000, 2_000)).observed.contains("max cl_waiting 3, max maxwait 1.5 ms"));
    }
}
