//! The application the rehearsal runs while the migrations apply: a few sessions, each on its own connection,
//! on an open-loop schedule (an operation is due every 1/rate s whatever the last one did, so a stall shows
//! as latency from when it was due, as pgbench -R and HdrHistogram count it). Even sessions ingest: a small
//! binary COPY of bench's generated rows; odd sessions query one day of `emission_measurements`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_postgres::Client;

use crate::bench::copy::BinaryBatch;
use crate::bench::generator::{Generator, Table};
use crate::bench::ingest::copy_statement;
use crate::verify::rehearsal::Operation;

/// Rows per ingest operation.
pub const BATCH_ROWS: u64 = 100;

/// The workload's shared state: when it started, the stop flag, the operations done, and errors seen.
pub struct Log {
    pub started: Instant,
    pub stop: AtomicBool,
    pub ops: Mutex<Vec<Operation>>,
    pub errors: Mutex<Vec<String>>,
}

impl Log {
    pub fn new() -> Arc<Log> {
        Arc::new(Log {
            started: Instant::now(),
            stop: AtomicBool::new(false),
            ops: Mutex::new(Vec::new()),
            errors: Mutex::new(Vec::new()),
        })
    }

    pub fn now(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}

/// The longest a workload session runs, whatever happens to the rehearsal that stops it.
const MAX_SESSION_SECONDS: f64 = 3600.0;

pub fn kind(session: usize) -> &'static str {
    if session % 2 == 0 {
        "ingest"
    } else {
        "query"
    }
}

/// Runs one session until `log.stop`: `rate` operations per second (0: as fast as it can, closed loop).
/// `first_row` keeps the sessions' generated rows apart from the loaded ones and from each other.
pub async fn session(client: Arc<Client>, index: usize, rate: f64, gen: Arc<Generator>, first_row: u64, log: Arc<Log>) {
    let period = if rate > 0.0 { Some(Duration::from_secs_f64(1.0 / rate)) } else { None };
    let copy = copy_statement("public", Table::EmissionMeasurements);
    let mut k: u64 = 0;
    let begin = log.now();
    // `log.stop` ends the session; an hour is the bound should the rehearsal that sets it never get there.
    let give_up = begin + MAX_SESSION_SECONDS;
    while !log.stop.load(Ordering::SeqCst) && log.now() < give_up {
        let due = match period {
            Some(p) => {
                let due = begin + p.as_secs_f64() * k as f64;
                let wait = due - log.now();
                if wait > 0.0 {
                    tokio::time::sleep(Duration::from_secs_f64(wait)).await;
                }
                due
            }
            None => log.now(),
        };
        if log.stop.load(Ordering::SeqCst) {
            break;
        }
        let result = match kind(index) {
            "ingest" => {
                let from = first_row.saturating_add(k.saturating_mul(BATCH_ROWS));
                let mut batch = BinaryBatch::with_capacity(600 * BATCH_ROWS as usize);
                gen.write_rows(from, from.saturating_add(BATCH_ROWS), &mut batch);
                ingest(&client, &copy, batch.finish()).await
            }
            _ => query(&client, (k % 300) as i32).await,
        };
        let ended = log.now();
        match result {
            Ok(()) => log.ops.lock().expect("ops").push(Operation { session: index, due, ended }),
            Err(e) => {
                let mut errors = log.errors.lock().expect("errors");
                if errors.len() < 20 {
                    errors.push(format!("session {index} ({}): {}", kind(index), crate::database::connect::reason(&e)));
                }
            }
        }
        k += 1;
    }
}

async fn ingest(client: &Client, copy: &str, bytes: Vec<u8>) -> Result<(), tokio_postgres::Error> {
    use futures_util::SinkExt;
    let sink = client.copy_in::<_, bytes::Bytes>(copy).await?;
    futures_util::pin_mut!(sink);
    sink.send(bytes::Bytes::from(bytes)).await?;
    sink.finish().await.map(|_| ())
}

/// One day of the generator's year: what a dashboard asks.
async fn query(client: &Client, day: i32) -> Result<(), tokio_postgres::Error> {
    client
        .query_one(
            "SELECT count(*) FROM emission_measurements
              WHERE measurement_time >= TIMESTAMPTZ '2025-01-01 00:00:00+00' + make_interval(days => $1)
                AND measurement_time < TIMESTAMPTZ '2025-01-01 00:00:00+00' + make_interval(days => $1 + 1)",
            &[&day],
        )
        .await
        .map(|_| ())
}
