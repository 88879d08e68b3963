//! `glctl migrate rehearse`, the acting part: a scratch database on the target's server
//! (`glctl_rehearse_<target>_<pid>`) gets the target's schema (the migrations the target applied, by the
//! same runner) and bench's generated rows over N partitions (and the default partition pg_partman made);
//! then an application workload runs (`workload`), first alone, then with the lock sampler (`sampler`), and
//! the pending migrations apply with the lock-aware runner while both go on. What was observed goes to
//! `verify::rehearsal` to be judged.
//!
//! The scratch database is dropped at the end, on error and on Ctrl-C/SIGTERM. While a run lives, its control
//! connection (to the target's own database) holds an advisory lock on the scratch database's name; a
//! scratch database whose lock nobody holds was left by a killed run, and the next run drops it first.

pub mod sampler;
pub mod workload;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_postgres::Client;

use super::journal::Journal;
use crate::bench::generator::{Generator, Table, RANGE_START};
use crate::bench::ingest::{self, IngestPlan, Stop};
use crate::bench::server::LoadMethod;
use crate::database::connect::{self, Target};
use crate::database::migrate::{self, LockWait, Migration};
use crate::verify::rehearsal::{Operation, Sample, SessionInfo, Windows};

/// Prefix of every scratch database; nothing else is ever dropped.
pub const PREFIX: &str = "glctl_rehearse_";
/// The first key of the advisory lock (the second is the scratch database's name hashed): "glr\0".
const LOCK_CLASS: i32 = 0x676c_7200;

#[derive(Debug, thiserror::Error)]
pub enum RehearseError {
    /// The rehearsal could not be set up or measured (exit 3): nothing was judged.
    #[error("{0}")]
    NotMeasured(String),
    /// Ctrl-C or SIGTERM: nothing was judged; the scratch database's fate is in `cleanup`.
    #[error("interrupted; {cleanup}")]
    Interrupted { cleanup: String },
}

/// How the rehearsal runs.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Plan {
    /// Rows of `emission_measurements` loaded into the scratch copy.
    pub rows: u64,
    /// Partitions the rows are spread over (besides the target's own and its default partition).
    pub partitions: u32,
    /// Application sessions (even: ingest, odd: query).
    pub sessions: usize,
    /// Operations per second per session; 0: closed loop.
    pub rate: f64,
    /// Seconds of each baseline window (without, then with the sampler).
    pub baseline_seconds: f64,
    pub sample_every_ms: u64,
    /// The data partitions are UNLOGGED: no WAL, so a load and a rewrite are faster than on the target (a
    /// test's speed; the locks are the same, the durations shorter).
    pub unlogged: bool,
    /// The runner's bound on a lock wait, as the environment sets it.
    #[serde(skip)]
    pub lock_wait: LockWait,
    pub seed: u64,
}

/// What the rehearsal observed, for `verify::rehearsal::judge`.
#[derive(Debug)]
pub struct Observed {
    pub scratch_database: String,
    pub orphans_dropped: Vec<String>,
    pub journal: Vec<String>,
    pub rows_loaded: u64,
    pub load_seconds: f64,
    /// Partitions of `emission_measurements` that hold rows.
    pub partitions_with_rows: i64,
    pub sessions: Vec<SessionInfo>,
    pub samples: Vec<Sample>,
    pub ops: Vec<Operation>,
    pub windows: Windows,
    /// The migrations that applied in the scratch copy, in order.
    pub applied: Vec<String>,
    /// A migration that failed in the scratch copy, or the sampler breaking off.
    pub failure: Option<String>,
    /// Errors the application's sessions met (first few).
    pub workload_errors: Vec<String>,
}

/// The scratch database's name for a run of this process against `target_database`.
pub fn scratch_name(target_database: &str) -> String {
    let digest = crate::database::migrate::checksum(target_database);
    format!("{PREFIX}{}_{}", &digest[..8], std::process::id())
}

fn sql(what: &str) -> impl FnOnce(tokio_postgres::Error) -> RehearseError + '_ {
    move |e| RehearseError::NotMeasured(format!("{what}: {}", connect::reason(&e)))
}

/// Runs the rehearsal on a multi-threaded runtime of its own (the workload, the sampler and the runner run
/// at once). `applied` make the schema; `pending` are rehearsed.
pub fn run(
    target: &Target,
    applied: &[Migration],
    pending: &[Migration],
    plan: &Plan,
) -> Result<Observed, RehearseError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(crate::bench::cores().max(2))
        .enable_all()
        .build()
        .map_err(|e| RehearseError::NotMeasured(format!("cannot start the rehearsal's runtime: {e}")))?;
    runtime.block_on(run_async(target, applied, pending, plan))
}

async fn run_async(
    target: &Target,
    applied: &[Migration],
    pending: &[Migration],
    plan: &Plan,
) -> Result<Observed, RehearseError> {
    let journal = Journal::default();
    let control = connect::connect(target).await.map_err(|e| RehearseError::NotMeasured(e.to_string()))?;
    let name = scratch_name(&target.database);
    let orphans_dropped = drop_orphans(&control, &target.database, &journal).await?;
    control
        .query_one("SELECT pg_advisory_lock($1, hashtext($2))", &[&LOCK_CLASS, &name])
        .await
        .map_err(sql("the scratch database's advisory lock"))?;
    control
        .batch_execute(&format!("CREATE DATABASE {}", quote(&name)))
        .await
        .map_err(sql("CREATE DATABASE for the scratch copy"))?;
    journal.note(format!("created database {name}"));
    let scratch = Target { database: name.clone(), ..target.clone() };
    let work = rehearse(&scratch, applied, pending, plan, &journal);
    let outcome = tokio::select! {
        r = work => r.map_err(Some),
        _ = crate::runtime::shutdown_signal() => Err(None),
    };
    // Cleanup always runs: FORCE ends every backend of ours still in it (workload, sampler, runner).
    let dropped = control.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote(&name))).await;
    let _ = control.query("SELECT pg_advisory_unlock_all()", &[]).await;
    match &dropped {
        Ok(()) => journal.note(format!("dropped database {name}")),
        Err(e) => journal.note(format!("dropping database {name} failed: {}", connect::reason(e))),
    }
    match (outcome, dropped) {
        (Ok(mut observed), Ok(())) => {
            observed.orphans_dropped = orphans_dropped;
            observed.journal = journal.entries();
            Ok(observed)
        }
        (Ok(_), Err(e)) => Err(RehearseError::NotMeasured(format!(
            "dropping the scratch database {name} failed ({}); the next rehearsal drops it",
            connect::reason(&e)
        ))),
        (Err(Some(e)), _) => Err(e),
        (Err(None), Ok(())) => {
            Err(RehearseError::Interrupted { cleanup: format!("the scratch database {name} was dropped") })
        }
        (Err(None), Err(e)) => Err(RehearseError::Interrupted {
            cleanup: format!(
                "dropping the scratch database {name} failed ({}); the next rehearsal drops it",
                connect::reason(&e)
            ),
        }),
    }
}

/// Drops the scratch databases of killed runs against the same target database; returns their names.
async fn drop_orphans(
    control: &Client,
    target_database: &str,
    journal: &Journal,
) -> Result<Vec<String>, RehearseError> {
    let ours = scratch_name(target_database);
    let prefix = &ours[..ours.rfind('_').expect("name has a pid") + 1];
    let rows = control
        .query("SELECT datname::text FROM pg_database WHERE starts_with(datname, $1::text) ORDER BY 1", &[&prefix])
        .await
        .map_err(sql("the scratch databases of earlier rehearsals"))?;
    let mut dropped = Vec::new();
    for row in rows {
        let name: String = row.get(0);
        let free: bool = control
            .query_one("SELECT pg_try_advisory_lock($1, hashtext($2))", &[&LOCK_CLASS, &name])
            .await
            .map_err(sql("the advisory lock of a scratch database"))?
            .get(0);
        if !free {
            continue;
        }
        let result = control.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote(&name))).await;
        let _ = control.query_one("SELECT pg_advisory_unlock($1, hashtext($2))", &[&LOCK_CLASS, &name]).await;
        result.map_err(sql("dropping a scratch database a killed rehearsal left"))?;
        journal.note(format!("dropped database {name}, left by a killed rehearsal"));
        dropped.push(name);
    }
    Ok(dropped)
}

async fn rehearse(
    scratch: &Target,
    applied: &[Migration],
    pending: &[Migration],
    plan: &Plan,
    journal: &Journal,
) -> Result<Observed, RehearseError> {
    let connect_scratch = || async {
        let client = connect::connect(scratch).await.map_err(|e| RehearseError::NotMeasured(e.to_string()))?;
        let pid: i32 = client.query_one("SELECT pg_backend_pid()", &[]).await.map_err(sql("pg_backend_pid()"))?.get(0);
        Ok::<_, RehearseError>((client, pid))
    };
    // The target's schema, by the runner that made it there.
    let (mut runner, runner_pid) = connect_scratch().await?;
    migrate::ensure_ledger(&runner).await.map_err(sql("the scratch copy's migration ledger"))?;
    migrate::apply_pending(&mut runner, None, applied, LockWait::default(), |_, _| {}).await.map_err(|e| {
        RehearseError::NotMeasured(format!("the target's schema could not be made in the scratch copy: {e}"))
    })?;
    journal.note(format!("applied the target's {} migration(s)", applied.len()));

    // Its volume: bench's rows over `partitions` partitions of the generator's year.
    let table = Table::EmissionMeasurements;
    add_partitions(&runner, table, plan.partitions, plan.unlogged).await?;
    let loaded_at = Instant::now();
    let loaders = vec![Arc::new(connect_scratch().await?.0), Arc::new(connect_scratch().await?.0)];
    let ingest_plan = IngestPlan {
        table,
        connections: loaders.len(),
        batch_rows: crate::bench::DEFAULT_BATCH_ROWS,
        stop: Stop::Rows(plan.rows),
        warmup_seconds: 0.0,
        seed: plan.seed,
        rows_per_pass: plan.rows.max(1),
        method: LoadMethod::Copy,
    };
    let quiet: Arc<dyn crate::bench::Reporter> = Arc::new(Quiet);
    let figures = ingest::run(loaders, "public", &ingest_plan, &quiet)
        .await
        .map_err(|e| RehearseError::NotMeasured(format!("loading the scratch copy: {e}")))?;
    runner.batch_execute("ANALYZE emission_measurements").await.map_err(sql("ANALYZE"))?;
    let load_seconds = loaded_at.elapsed().as_secs_f64();
    let partitions_with_rows: i64 = runner
        .query_one(
            "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent = 'emission_measurements'::regclass AND c.reltuples > 0",
            &[],
        )
        .await
        .map_err(sql("the partitions with rows"))?
        .get(0);
    journal.note(format!(
        "loaded {} rows into {partitions_with_rows} partitions in {load_seconds:.1} s",
        figures.rows_committed
    ));

    // The application: its sessions, then the baseline alone, then with the sampler, then the migrations.
    let log = workload::Log::new();
    let gen = Arc::new(Generator::new(table, plan.seed, plan.rows.max(1)));
    let mut sessions = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..plan.sessions.max(1) {
        let (client, pid) = connect_scratch().await?;
        sessions.push(SessionInfo { kind: workload::kind(i).to_string(), pid });
        // Saturating: --rows is the user's number.
        let first_row = plan.rows.saturating_add((i as u64 + 1).saturating_mul(100_000_000));
        tasks.spawn(workload::session(Arc::new(client), i, plan.rate, gen.clone(), first_row, log.clone()));
    }
    journal.note(format!("started {} application session(s)", sessions.len()));
    let baseline = Duration::from_secs_f64(plan.baseline_seconds);
    tokio::time::sleep(baseline).await;
    let warmup = log.now();
    tokio::time::sleep(baseline).await;
    let without_sampler = log.now();
    let (sampler_client, _) = connect_scratch().await?;
    let stop_sampler = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pause_sampler = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let app_pids: Vec<i32> = sessions.iter().map(|s| s.pid).collect();
    // The index of the pending file the runner works on, moved on by its progress callback.
    let in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sampler = tokio::spawn(sampler::run(
        sampler_client,
        sampler::Watch {
            app_pids,
            migration_pid: runner_pid,
            pending: pending.to_vec(),
            in_flight: in_flight.clone(),
            every: Duration::from_millis(plan.sample_every_ms),
            paused: pause_sampler.clone(),
            stop: stop_sampler.clone(),
        },
    ));
    tokio::time::sleep(baseline).await;
    // The workload alone once more, so the sampler's window is compared with time on both sides of it.
    pause_sampler.store(true, Ordering::SeqCst);
    let sampler_paused = log.now();
    tokio::time::sleep(baseline).await;
    pause_sampler.store(false, Ordering::SeqCst);
    let migration_start = log.now();
    journal.note(format!("applying {} pending migration(s) under the workload", pending.len()));
    let mut applied_here = Vec::new();
    let result = migrate::apply_pending(&mut runner, None, pending, plan.lock_wait, |m, _| {
        applied_here.push(m.file_name());
        in_flight.fetch_add(1, Ordering::SeqCst);
    })
    .await;
    let migration_end = log.now();
    // A short tail: the sessions that were blocked catch up while the sampler still watches.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop_sampler.store(true, Ordering::SeqCst);
    log.stop.store(true, Ordering::SeqCst);
    let (samples, sampler_error) =
        sampler.await.map_err(|e| RehearseError::NotMeasured(format!("the sampler stopped: {e}")))?;
    while tasks.join_next().await.is_some() {}
    journal.note(format!("stopped the workload and the sampler ({} samples)", samples.len()));
    let failure = match (result, sampler_error) {
        (Err(e), _) => Some(format!("a pending migration failed in the scratch copy: {e}")),
        (Ok(_), Some(e)) => Some(format!("the sampler broke off: {e}")),
        (Ok(_), None) => None,
    };
    let ops = log.ops.lock().expect("ops").clone();
    let workload_errors = log.errors.lock().expect("errors").clone();
    Ok(Observed {
        scratch_database: scratch.database.clone(),
        orphans_dropped: Vec::new(),
        journal: Vec::new(),
        rows_loaded: figures.rows_committed,
        load_seconds,
        partitions_with_rows,
        sessions,
        samples,
        ops,
        windows: Windows { warmup, without_sampler, sampler_paused, migration_start, migration_end },
        applied: applied_here,
        failure,
        workload_errors,
    })
}

/// Splits the generator's year into `n` equal partitions of `table` (pg_partman's own partitions, around
/// today, and its default partition stay as the target has them).
async fn add_partitions(client: &Client, table: Table, n: u32, unlogged: bool) -> Result<(), RehearseError> {
    let kind: Option<String> = client
        .query_opt("SELECT relkind::text FROM pg_class WHERE oid = to_regclass($1)", &[&table.name()])
        .await
        .map_err(sql("the table's kind"))?
        .map(|r| r.get(0));
    if kind.as_deref() != Some("p") {
        return Err(RehearseError::NotMeasured(format!(
            "the target's schema has no partitioned {} (the native backend's migrations make one); a rehearsal \
             needs it to load rows into",
            table.name()
        )));
    }
    let n = i64::from(n.max(1));
    let span = table.range_micros();
    let mut ddl = String::new();
    for k in 0..n {
        // Checked: n is at most u32::MAX and span a year of µs, so k·span fits in i64 many times over.
        let from = RANGE_START + span.checked_mul(k).map(|x| x / n).unwrap_or(span);
        let to = RANGE_START + span.checked_mul(k + 1).map(|x| x / n).unwrap_or(span);
        ddl.push_str(&format!(
            "CREATE {u}TABLE {t}_rehearse_p{k:03} PARTITION OF {t} FOR VALUES FROM ({f}) TO ({e});\n",
            u = if unlogged { "UNLOGGED " } else { "" },
            t = table.name(),
            f = timestamp(from),
            e = timestamp(to)
        ));
    }
    client.batch_execute(&ddl).await.map_err(|e| {
        RehearseError::NotMeasured(format!(
            "making {n} partitions over the generated rows' year (2025) failed: {}; the target's own partitions may \
             overlap it",
            connect::reason(&e)
        ))
    })
}

/// µs since 2000-01-01 as a SQL timestamptz literal.
fn timestamp(micros: i64) -> String {
    format!("TIMESTAMPTZ '2000-01-01 00:00:00+00' + INTERVAL '{} microseconds'", micros)
}

fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

struct Quiet;
impl crate::bench::Reporter for Quiet {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scratch_name_carries_the_target_and_this_process() {
        let name = scratch_name("glctl");
        assert!(name.starts_with(PREFIX), "{name}");
        assert!(name.ends_with(&format!("_{}", std::process::id())), "{name}");
        assert_ne!(scratch_name("other"), name, "another target database's scratch copies are not ours");
        assert!(name.len() < 63, "a PostgreSQL identifier");
    }
}
