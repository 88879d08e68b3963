//! The ingest scenario (PB-01, PB-02): N workers, one connection each, every worker a producer thread that
//! generates and encodes a batch in pieces of about [`PIECE_BYTES`] and an async sender that streams the
//! pieces of each batch into one binary `COPY … FROM STDIN` (its own transaction) as they come. Rows/s is
//! committed rows over wall time after the warm-up; every commit is timed, which gives the per-second rates;
//! a final `count(*)` checks the total.
//!
//! Why pieces: a batch is one commit, and on a server that waits for a synchronous standby at every commit
//! (the local stack's) fewer, larger batches keep the backend busy; made whole, a large batch would be
//! megabytes encoded before its first byte is sent, written and read back out of memory larger than the
//! caches. A piece is encoded, handed over and sent while it is still in the cache, and the server starts
//! on the batch after its first piece (docs/performance.md: what is measured and what is not yet).
//!
//! `--sink null` runs the same producer with nothing behind it, on one thread: the generator's own speed,
//! which must be several times the target or the benchmark would measure itself.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde::Serialize;
use tokio_postgres::Client;

use super::copy::BinaryBatch;
use super::generator::{Generator, Table};
use super::scratch::quote;
use super::server::LoadMethod;
use super::{BenchError, Reporter};

/// When an ingest run stops.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// After this much wall time (batches in flight still commit).
    Seconds(f64),
    /// After exactly this many rows.
    Rows(u64),
}

#[derive(Clone, Debug, Serialize)]
pub struct IngestPlan {
    pub table: Table,
    pub connections: usize,
    pub batch_rows: u64,
    pub stop: Stop,
    /// Commits before this are not measured (connections warming, the first partitions made).
    pub warmup_seconds: f64,
    pub seed: u64,
    /// Rows that span the generator's time range once.
    pub rows_per_pass: u64,
    /// Binary COPY (what PB-01/PB-02 measure), or INSERT where the server cannot take COPY.
    pub method: LoadMethod,
}

#[derive(Clone, Debug, Serialize)]
pub struct IngestFigures {
    pub table: Table,
    /// How the rows were sent: only `copy` is a PB-01/PB-02 figure.
    pub method: LoadMethod,
    /// Rows per statement.
    pub batch_rows: u64,
    pub rows_committed: u64,
    pub batches: u64,
    pub wall_seconds: f64,
    /// Rows committed after the warm-up, over the time from the warm-up to the last commit.
    pub measured_rows: u64,
    pub measured_seconds: f64,
    pub rows_per_second: f64,
    /// Rows committed in each whole second of the run (the first ones include the warm-up).
    pub per_second: Vec<u64>,
    /// `count(*)` of the scratch table afterwards; must equal `rows_committed`.
    pub counted: i64,
    /// On TimescaleDB, the chunks the inserts made in the scratch hypertable.
    pub chunks: Option<i64>,
    pub bytes_sent: u64,
}

/// The generator alone: rows encoded per second on one thread, nothing sent.
#[derive(Clone, Debug, Serialize)]
pub struct GeneratorFigures {
    pub table: Table,
    pub rows: u64,
    pub seconds: f64,
    pub rows_per_second: f64,
    pub bytes_per_row: f64,
}

/// The COPY statement for `table` in `schema`.
pub fn copy_statement(schema: &str, table: Table) -> String {
    format!("COPY {}.{} ({}) FROM STDIN (FORMAT binary)", quote(schema), table.name(), table.columns().join(", "))
}

/// The size a producer hands a piece of a batch over at: small enough to stay in the cache between the
/// encoder and the socket, large enough that the hand-off and the send cost little per row.
pub const PIECE_BYTES: usize = 128 * 1024;

/// Pieces a producer may be ahead of its sender (about a megabyte).
const PIECES_AHEAD: usize = 8;

/// A piece of a batch's COPY stream: the first one starts with the header, the last ends with the trailer.
struct Piece {
    bytes: bytes::Bytes,
    rows: u64,
    last: bool,
}

/// Encodes batch `b` of `plan` in pieces of about [`PIECE_BYTES`], handing each to `send`; `false` past the
/// row limit or when `send` refuses (the sender is gone).
fn encode_pieces(gen: &Generator, plan: &IngestPlan, b: u64, send: &mut impl FnMut(Piece) -> bool) -> bool {
    let Some((from, to)) = batch_range(plan, b) else { return false };
    let mut piece = BinaryBatch::with_capacity(PIECE_BYTES + 4096);
    for i in from..to {
        gen.write_row(i, &mut piece);
        if piece.buf.len() >= PIECE_BYTES && i + 1 < to {
            let rows = piece.rows;
            let full = std::mem::replace(&mut piece, BinaryBatch::continuation(PIECE_BYTES + 4096));
            if !send(Piece { bytes: bytes::Bytes::from(full.buf), rows, last: false }) {
                return false;
            }
        }
    }
    let rows = piece.rows;
    send(Piece { bytes: bytes::Bytes::from(piece.finish()), rows, last: true })
}

/// Bytes a batch of `rows` takes, roughly, so its buffer is allocated once.
fn batch_capacity(table: Table, rows: u64) -> usize {
    let per_row = match table {
        Table::EmissionMeasurements => 520,
        Table::SensorReadings => 200,
    };
    (rows as usize).saturating_mul(per_row).saturating_add(64)
}

/// The rows of batch `b` of `plan` (`b·B .. min((b+1)·B, limit)`), or `None` past the row limit.
pub(super) fn batch_range(plan: &IngestPlan, b: u64) -> Option<(u64, u64)> {
    let from = b.checked_mul(plan.batch_rows)?;
    let to = from.saturating_add(plan.batch_rows);
    match plan.stop {
        Stop::Rows(limit) if from >= limit => None,
        Stop::Rows(limit) => Some((from, to.min(limit))),
        Stop::Seconds(_) => Some((from, to)),
    }
}

/// Encodes batch `b` of `plan`, or `None` past the row limit.
fn encode_batch(gen: &Generator, plan: &IngestPlan, b: u64) -> Option<BinaryBatch> {
    let (from, to) = batch_range(plan, b)?;
    let mut batch = BinaryBatch::with_capacity(batch_capacity(plan.table, to - from));
    gen.write_rows(from, to, &mut batch);
    Some(batch)
}

/// The generator alone for `seconds` on the calling thread.
pub fn generator_only(table: Table, seed: u64, batch_rows: u64, seconds: f64) -> GeneratorFigures {
    let plan = IngestPlan {
        table,
        connections: 1,
        batch_rows,
        stop: Stop::Seconds(seconds),
        warmup_seconds: 0.0,
        seed,
        rows_per_pass: 1_000_000,
        method: LoadMethod::Copy,
    };
    let gen = Generator::new(table, seed, plan.rows_per_pass);
    let started = Instant::now();
    let (mut rows, mut bytes, mut b) = (0u64, 0u64, 0u64);
    while started.elapsed().as_secs_f64() < seconds {
        let batch = encode_batch(&gen, &plan, b).expect("no row limit");
        rows += batch.rows;
        bytes += batch.finish().len() as u64;
        b += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    GeneratorFigures {
        table,
        rows,
        seconds: secs,
        rows_per_second: rows as f64 / secs,
        bytes_per_row: bytes as f64 / rows.max(1) as f64,
    }
}

/// Shared between the workers of one run.
pub(super) struct Shared {
    pub(super) next_batch: AtomicU64,
    committed: AtomicU64,
    bytes: AtomicU64,
    pub(super) stop: AtomicBool,
    /// (seconds since start, rows) of every commit.
    commits: Mutex<Vec<(f64, u64)>>,
    started: Instant,
}

impl Shared {
    /// Whether a timed run's time is up (no new batch starts then).
    pub(super) fn out_of_time(&self, plan: &IngestPlan) -> bool {
        matches!(plan.stop, Stop::Seconds(limit) if self.started.elapsed().as_secs_f64() >= limit)
    }

    /// A committed batch of `rows` rows and `bytes` bytes.
    pub(super) fn record(&self, rows: u64, bytes: u64) {
        self.committed.fetch_add(rows, Ordering::SeqCst);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        let at = self.started.elapsed().as_secs_f64();
        self.commits.lock().expect("commit log").push((at, rows));
    }
}

/// Runs the ingest plan over `clients` (one worker each) into `schema`; `reporter` hears the progress.
pub async fn run(
    clients: Vec<Arc<Client>>,
    schema: &str,
    plan: &IngestPlan,
    reporter: &Arc<dyn Reporter>,
) -> Result<IngestFigures, BenchError> {
    let gen = Arc::new(Generator::new(plan.table, plan.seed, plan.rows_per_pass));
    let shared = Arc::new(Shared {
        next_batch: AtomicU64::new(0),
        committed: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        commits: Mutex::new(Vec::new()),
        started: Instant::now(),
    });
    let mut workers = tokio::task::JoinSet::new();
    match plan.method {
        LoadMethod::Copy => {
            let statement = copy_statement(schema, plan.table);
            for client in clients {
                workers.spawn(worker(client, statement.clone(), gen.clone(), plan.clone(), shared.clone()));
            }
        }
        LoadMethod::Insert => {
            let Some(first) = clients.first() else { return Err(BenchError::Worker("no connection".into())) };
            let types = super::insert::column_types(first, schema, plan.table).await?;
            let statement = super::insert::insert_statement(schema, plan.table, &types);
            for client in clients {
                let (gen, plan, shared) = (gen.clone(), plan.clone(), shared.clone());
                workers.spawn(super::insert::worker(client, statement.clone(), types.len(), gen, plan, shared));
            }
        }
    }
    // Progress once a second, until the workers end; the first error stops every worker.
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut failure = None;
    loop {
        tokio::select! {
            joined = workers.join_next() => match joined {
                None => break,
                Some(Ok(Ok(()))) => {}
                Some(Ok(Err(e))) => { shared.stop.store(true, Ordering::SeqCst); failure.get_or_insert(e); }
                Some(Err(e)) => {
                    shared.stop.store(true, Ordering::SeqCst);
                    failure.get_or_insert(BenchError::Worker(e.to_string()));
                }
            },
            _ = tick.tick() => reporter.ingest_progress(plan.table, shared.committed.load(Ordering::Relaxed),
                shared.started.elapsed()),
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let wall = shared.started.elapsed().as_secs_f64();
    let commits = shared.commits.lock().expect("commit log").clone();
    Ok(figures(plan, &commits, wall, shared.bytes.load(Ordering::SeqCst)))
}

/// The figures of a run from its commit log (pure, so the arithmetic is unit-tested).
pub fn figures(plan: &IngestPlan, commits: &[(f64, u64)], wall: f64, bytes: u64) -> IngestFigures {
    let rows_committed: u64 = commits.iter().map(|c| c.1).sum();
    let warmup = plan.warmup_seconds;
    let measured: Vec<&(f64, u64)> = commits.iter().filter(|c| c.0 > warmup).collect();
    let measured_rows: u64 = measured.iter().map(|c| c.1).sum();
    let last = commits.iter().map(|c| c.0).fold(0.0, f64::max);
    let measured_seconds = (last - warmup).max(0.0);
    let mut per_second = vec![0u64; last.ceil().max(0.0) as usize];
    for (at, rows) in commits {
        let slot = (at.floor() as usize).min(per_second.len().saturating_sub(1));
        if let Some(s) = per_second.get_mut(slot) {
            *s += rows;
        }
    }
    IngestFigures {
        table: plan.table,
        method: plan.method,
        batch_rows: plan.batch_rows,
        rows_committed,
        batches: commits.len() as u64,
        wall_seconds: wall,
        measured_rows,
        measured_seconds,
        rows_per_second: if measured_seconds > 0.0 { measured_rows as f64 / measured_seconds } else { 0.0 },
        per_second,
        counted: -1,
        chunks: None,
        bytes_sent: bytes,
    }
}

async fn worker(
    client: Arc<Client>,
    statement: String,
    gen: Arc<Generator>,
    plan: IngestPlan,
    shared: Arc<Shared>,
) -> Result<(), BenchError> {
    let sql = |e: tokio_postgres::Error| BenchError::Sql { what: "COPY", reason: crate::database::connect::reason(&e) };
    let prepared = client.prepare(&statement).await.map_err(sql)?;
    // The producer: a thread of its own that encodes batch after batch, piece by piece, a few pieces ahead.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Piece>(PIECES_AHEAD);
    let producer = {
        let (gen, plan, shared) = (gen.clone(), plan.clone(), shared.clone());
        tokio::task::spawn_blocking(move || loop {
            if shared.stop.load(Ordering::SeqCst) || shared.out_of_time(&plan) {
                break;
            }
            let b = shared.next_batch.fetch_add(1, Ordering::SeqCst);
            if !encode_pieces(&gen, &plan, b, &mut |piece| tx.blocking_send(piece).is_ok()) {
                break;
            }
        })
    };
    let mut result = Ok(());
    // The COPY of the batch being sent, with the rows and bytes sent into it so far.
    let mut open: Option<std::pin::Pin<Box<tokio_postgres::CopyInSink<bytes::Bytes>>>> = None;
    let (mut rows, mut len) = (0u64, 0u64);
    while let Some(piece) = rx.recv().await {
        let sent = async {
            let sink = match open.as_mut() {
                Some(sink) => sink,
                None => open.insert(Box::pin(client.copy_in::<_, bytes::Bytes>(&prepared).await?)),
            };
            rows += piece.rows;
            len += piece.bytes.len() as u64;
            sink.send(piece.bytes).await?;
            match piece.last {
                true => open.take().expect("an open COPY").as_mut().finish().await.map(Some),
                false => Ok(None),
            }
        }
        .await;
        match sent {
            Ok(None) => {}
            Ok(Some(n)) if n == rows => {
                shared.record(n, len);
                (rows, len) = (0, 0);
            }
            Ok(Some(n)) => {
                result = Err(BenchError::Worker(format!("COPY reported {n} rows for a batch of {rows}")));
                break;
            }
            Err(e) => {
                result = Err(sql(e));
                break;
            }
        }
    }
    // A COPY left open (an error, or a stop between pieces) is abandoned: dropping its sink ends it with
    // CopyFail, so its rows roll back and were never counted.
    drop(open);
    drop(rx);
    let _ = producer.await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(stop: Stop, warmup: f64) -> IngestPlan {
        IngestPlan {
            table: Table::SensorReadings,
            connections: 2,
            batch_rows: 10,
            stop,
            warmup_seconds: warmup,
            seed: 1,
            rows_per_pass: 100,
            method: LoadMethod::Copy,
        }
    }

    #[test]
    fn rows_per_second_counts_only_commits_after_the_warm_up() {
        let commits = [(0.5, 10), (1.2, 10), (1.8, 10), (2.5, 10), (3.0, 10)];
        let f = figures(&plan(Stop::Seconds(3.0), 1.0), &commits, 3.1, 0);
        assert_eq!(f.rows_committed, 50);
        assert_eq!(f.measured_rows, 40);
        assert!((f.measured_seconds - 2.0).abs() < 1e-9);
        assert!((f.rows_per_second - 20.0).abs() < 1e-9);
        assert_eq!(f.per_second, [10, 20, 20]);
    }

    #[test]
    fn a_row_limit_ends_with_a_short_last_batch_and_makes_no_more() {
        let p = plan(Stop::Rows(25), 0.0);
        let g = Generator::new(p.table, p.seed, p.rows_per_pass);
        let sizes: Vec<u64> = (0..5).map_while(|b| encode_batch(&g, &p, b)).map(|b| b.rows).collect();
        assert_eq!(sizes, [10, 10, 5]);
    }

    #[test]
    fn a_batch_in_pieces_is_the_same_stream_as_the_batch_made_whole() {
        let mut p = plan(Stop::Rows(5000), 0.0);
        p.batch_rows = 3000;
        let g = Generator::new(Table::SensorReadings, 3, 5000);
        for b in 0..2 {
            let mut pieces = Vec::new();
            assert!(encode_pieces(&g, &p, b, &mut |piece| {
                pieces.push(piece);
                true
            }));
            assert!(pieces.len() > 1, "a batch of 3000 narrow rows spans several pieces");
            assert!(pieces.iter().rev().skip(1).all(|p| !p.last) && pieces.last().unwrap().last);
            assert_eq!(pieces.iter().map(|p| p.rows).sum::<u64>(), [3000, 2000][b as usize]);
            let joined: Vec<u8> = pieces.iter().flat_map(|p| p.bytes.iter().copied()).collect();
            assert_eq!(joined, encode_batch(&g, &p, b).unwrap().finish());
        }
        assert!(!encode_pieces(&g, &p, 2, &mut |_| true), "past the row limit");
    }

    #[test]
    fn the_generator_alone_reports_a_positive_rate() {
        let f = generator_only(Table::SensorReadings, 7, 1000, 0.05);
        assert!(f.rows > 0 && f.rows_per_second > 0.0 && f.bytes_per_row > 50.0, "{f:?}");
    }
}
