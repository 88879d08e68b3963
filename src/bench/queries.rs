//! The query scenarios (PB-03…PB-06), open loop: request `i` is due at `start + i / rate` whatever happened
//! before it, any free connection takes the next due request, and its latency is measured from when it was
//! due (its intended start), not from when it could start. A stall therefore shows in every request it
//! delays, as users see it, instead of in one sample (coordinated omission, which a closed loop has).
//! Requests that started more than `LATE_MS` after their due time are counted. Latencies go into HDR
//! histograms (microseconds, 3 significant digits: exact below 2.048 ms, within 0.1 % above).
//!
//! The data is the ingest scenario's emission_measurements in the scratch schema (or `query_rows` of them
//! loaded first), and a daily summary made there like the real one (a continuous aggregate on TimescaleDB, a
//! materialized view with the real one's indexes on `native`). Every statement is sent as the unnamed
//! statement (`query_typed`), which also works through PgBouncer's transaction pooling before 1.21.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

use super::copy::uuid_text;
use super::generator::{mix, Generator, Table, FACILITIES_PER_ORGANIZATION, ORGANIZATIONS};
use super::scratch::quote;
use super::{BenchError, Options, QueryResult, Reporter, Verdict};
use crate::config::model::{Acceptance, Backend};
use crate::config::Loaded;
use crate::database::connect::reason;

/// A request that starts this much after its due time is late.
pub const LATE_MS: f64 = 5.0;

/// Latency percentiles and schedule figures of one open-loop run.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Latency {
    pub requests: u64,
    pub errors: u64,
    /// Requests that started more than `LATE_MS` after they were due.
    pub late_starts: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
    /// The worst delay between a request's due time and its start.
    pub max_start_delay_ms: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct QueryFigures {
    pub check: &'static str,
    pub name: &'static str,
    pub sql: String,
    pub rate_per_second: f64,
    pub duration_seconds: f64,
    pub connections: usize,
    /// Rows of emission_measurements the query ran over.
    pub table_rows: i64,
    pub latency: Latency,
    /// The first error, when any request failed.
    pub first_error: Option<String>,
}

/// Latency figures from a histogram of microseconds.
pub fn latency(h: &Histogram<u64>, errors: u64, late: u64, max_delay_us: u64) -> Latency {
    let ms = |us: u64| us as f64 / 1000.0;
    let q = |quantile: f64| if h.is_empty() { 0.0 } else { ms(h.value_at_quantile(quantile)) };
    Latency {
        requests: h.len(),
        errors,
        late_starts: late,
        p50_ms: q(0.5),
        p95_ms: q(0.95),
        p99_ms: q(0.99),
        p999_ms: q(0.999),
        max_ms: if h.is_empty() { 0.0 } else { ms(h.max()) },
        mean_ms: if h.is_empty() { 0.0 } else { h.mean() / 1000.0 },
        max_start_delay_ms: ms(max_delay_us),
    }
}

fn histogram() -> Histogram<u64> {
    // 1 µs to 10 minutes, 3 significant digits.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// Runs `total` requests due every `period` over `workers` concurrent workers; `request(worker, i)` does
/// request `i`. Returns the latency figures and the first error.
pub async fn open_loop<F, Fut>(workers: usize, total: u64, period: Duration, request: F) -> (Latency, Option<String>)
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    struct Shared {
        next: AtomicU64,
        errors: AtomicU64,
        late: AtomicU64,
        max_delay_us: AtomicU64,
        histogram: Mutex<Histogram<u64>>,
        first_error: Mutex<Option<String>>,
    }
    let shared = Arc::new(Shared {
        next: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        late: AtomicU64::new(0),
        max_delay_us: AtomicU64::new(0),
        histogram: Mutex::new(histogram()),
        first_error: Mutex::new(None),
    });
    let request = Arc::new(request);
    let start = tokio::time::Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for w in 0..workers.max(1) {
        let (shared, request) = (shared.clone(), request.clone());
        set.spawn(async move {
            let mut local = histogram();
            loop {
                let i = shared.next.fetch_add(1, Ordering::SeqCst);
                if i >= total {
                    break;
                }
                let due = start + period.saturating_mul(i.min(u32::MAX as u64) as u32);
                tokio::time::sleep_until(due).await;
                let began = tokio::time::Instant::now();
                let delay = began.saturating_duration_since(due);
                shared.max_delay_us.fetch_max(delay.as_micros() as u64, Ordering::Relaxed);
                if delay.as_secs_f64() * 1000.0 > LATE_MS {
                    shared.late.fetch_add(1, Ordering::Relaxed);
                }
                let outcome = request(w, i).await;
                let took = tokio::time::Instant::now().saturating_duration_since(due);
                match outcome {
                    Ok(()) => local.saturating_record(took.as_micros().max(1) as u64),
                    Err(e) => {
                        shared.errors.fetch_add(1, Ordering::Relaxed);
                        shared.first_error.lock().expect("first error").get_or_insert(e);
                    }
                }
            }
            shared.histogram.lock().expect("histogram").add(&local).expect("same bounds");
        });
    }
    while set.join_next().await.is_some() {}
    let h = shared.histogram.lock().expect("histogram").clone();
    let first = shared.first_error.lock().expect("first error").clone();
    (
        latency(
            &h,
            shared.errors.load(Ordering::SeqCst),
            shared.late.load(Ordering::SeqCst),
            shared.max_delay_us.load(Ordering::SeqCst),
        ),
        first,
    )
}

/// One query scenario: its SQL, and the text parameters of request `i`.
struct Query {
    check: &'static str,
    name: &'static str,
    sql: String,
    params: fn(&Generator, u64) -> Vec<String>,
    /// Requests per second unless `--rate` says otherwise: a dashboard's reads are frequent, a year's
    /// scan over every facility is not.
    rate: f64,
}

fn month_start(seed: u64, i: u64) -> String {
    format!("2025-{:02}-01 00:00:00+00", 1 + mix(seed ^ 0x3333, i) % 12)
}

fn organization(gen: &Generator, i: u64) -> String {
    let org = (mix(gen.seed ^ 0x4444, i) % ORGANIZATIONS as u64) as usize;
    uuid_text(&gen.facility(org * FACILITIES_PER_ORGANIZATION).0)
}

/// The four scenarios over `schema`; `extension` is TimescaleDB's schema (time_bucket is qualified with it).
fn scenarios(schema: &str, backend: Backend, extension: &str) -> Vec<Query> {
    let t = format!("{}.emission_measurements", quote(schema));
    let daily = format!("{}.emissions_daily_summary", quote(schema));
    let quarter = match backend {
        Backend::Timescaledb => format!("{extension}.time_bucket(INTERVAL '3 months', measurement_time)"),
        Backend::Native => "date_trunc('quarter', measurement_time, 'UTC')".to_string(),
    };
    vec![
        Query {
            check: "PB-03",
            rate: 20.0,
            name: "one month of one facility",
            sql: format!(
                "SELECT measurement_time, scope, activity_type, co2_equivalent_kg FROM {t}
                 WHERE organization_id = $1::text::uuid AND facility_id = $2::text::uuid
                   AND measurement_time >= $3::text::timestamptz AND measurement_time < $3::text::timestamptz + INTERVAL '1 month'
                 ORDER BY measurement_time"
            ),
            params: |g, i| {
                let (org, fac) = g.facility((mix(g.seed ^ 0x2222, i) % 200) as usize);
                vec![uuid_text(&org), uuid_text(&fac), month_start(g.seed, i)]
            },
        },
        Query {
            check: "PB-04",
            rate: 1.0,
            name: "one year of all facilities",
            sql: format!(
                "SELECT facility_id, scope, sum(co2_equivalent_kg), count(*) FROM {t}
                 WHERE measurement_time >= $1::text::timestamptz AND measurement_time < $1::text::timestamptz + INTERVAL '1 year'
                 GROUP BY facility_id, scope"
            ),
            params: |_, _| vec!["2025-01-01 00:00:00+00".into()],
        },
        Query {
            check: "PB-05",
            rate: 20.0,
            name: "a month of one organisation's daily summary",
            sql: format!(
                "SELECT bucket, facility_id, scope, total_co2e_kg, measurement_count FROM {daily}
                 WHERE organization_id = $1::text::uuid
                   AND bucket >= $2::text::timestamptz AND bucket < $2::text::timestamptz + INTERVAL '1 month'
                 ORDER BY bucket"
            ),
            params: |g, i| vec![organization(g, i), month_start(g.seed, i)],
        },
        Query {
            check: "PB-06",
            rate: 5.0,
            name: "one organisation's emissions by quarter over a year",
            sql: format!(
                "SELECT {quarter} AS quarter, scope, category, sum(co2_equivalent_kg), count(DISTINCT facility_id) FROM {t}
                 WHERE organization_id = $1::text::uuid
                   AND measurement_time >= $2::text::timestamptz AND measurement_time < $2::text::timestamptz + INTERVAL '1 year'
                 GROUP BY 1, 2, 3"
            ),
            params: |g, i| vec![organization(g, i), "2025-01-01 00:00:00+00".into()],
        },
    ]
}

fn target_ms(acceptance: &Acceptance, check: &str) -> u32 {
    match check {
        "PB-03" => acceptance.month_single_facility_query_ms,
        "PB-04" => acceptance.year_all_facilities_query_ms,
        "PB-05" => acceptance.continuous_aggregate_query_ms,
        _ => acceptance.quarterly_aggregation_query_ms,
    }
}

/// Decided on p99 (from the intended start): below the target, and no request failed.
pub fn judge(acceptance: &Acceptance, figures: QueryFigures) -> QueryResult {
    let target = target_ms(acceptance, figures.check);
    let l = &figures.latency;
    let observed = format!(
        "{}: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms; {} requests at {}/s over {} \
         rows, {} late start(s), {} error(s)",
        figures.name,
        l.p50_ms,
        l.p95_ms,
        l.p99_ms,
        l.p999_ms,
        l.max_ms,
        l.requests,
        figures.rate_per_second,
        figures.table_rows,
        l.late_starts,
        l.errors
    );
    QueryResult {
        verdict: Verdict {
            check: figures.check,
            target: format!("p99 < {target} ms"),
            pass: l.errors == 0 && l.requests > 0 && l.p99_ms < f64::from(target),
            observed,
        },
        figures,
    }
}

/// Runs `sql` in a transaction of its own with `search_path` set for that transaction only (`SET LOCAL`:
/// a session-wide `SET`/`RESET` would outlive it, and on PGlite's single backend `RESET` leaves
/// `pg_catalog` alone on the path for every later client). On failure the transaction is rolled back, so
/// the connection stays usable for the cleanup.
async fn with_search_path(client: &Client, path: &str, sql: &str, what: &'static str) -> Result<(), BenchError> {
    let run = client.batch_execute(&format!("BEGIN; SET LOCAL search_path = {path}; {sql}; COMMIT")).await;
    if let Err(e) = run {
        let _ = client.batch_execute("ROLLBACK").await;
        return Err(BenchError::Sql { what, reason: reason(&e) });
    }
    Ok(())
}

/// One row of `query` read with `search_path` = `path` for its transaction only.
async fn read_with_search_path(
    client: &Client,
    path: &str,
    query: &str,
    what: &'static str,
) -> Result<Option<tokio_postgres::Row>, BenchError> {
    let sql = |e: tokio_postgres::Error| BenchError::Sql { what, reason: reason(&e) };
    client.batch_execute(&format!("BEGIN; SET LOCAL search_path = {path}")).await.map_err(sql)?;
    let row = client.query_opt(query, &[]).await;
    let _ = client.batch_execute(if row.is_ok() { "COMMIT" } else { "ROLLBACK" }).await;
    row.map_err(sql)
}

/// Makes the scratch daily summary like the real one, filled from the scratch rows. The real one's
/// definition is read with `public` first on the path, so the table it reads is named without a schema and
/// resolves to the scratch table when the copy is made with the scratch schema first; that the copy reads
/// the scratch table is then checked, not assumed.
async fn make_summary(client: &Client, schema: &str, backend: Backend, extension: &str) -> Result<(), BenchError> {
    let sql = |what: &'static str| move |e: tokio_postgres::Error| BenchError::Sql { what, reason: reason(&e) };
    let s = quote(schema);
    let missing = || {
        BenchError::NotReady(
            "public.emissions_daily_summary does not exist; run `glctl apply --only database` first".into(),
        )
    };
    match backend {
        Backend::Timescaledb => {
            let definition: String = read_with_search_path(
                client,
                &format!("public, {extension}"),
                "SELECT view_definition FROM timescaledb_information.continuous_aggregates
                 WHERE view_schema = 'public' AND view_name = 'emissions_daily_summary'",
                "the daily summary's definition",
            )
            .await?
            .ok_or_else(missing)?
            .get(0);
            with_search_path(
                client,
                &format!("{s}, {extension}"),
                &format!(
                    "CREATE MATERIALIZED VIEW {s}.emissions_daily_summary WITH (timescaledb.continuous) AS {} \
                     WITH NO DATA",
                    definition.trim().trim_end_matches(';')
                ),
                "creating the scratch continuous aggregate",
            )
            .await?;
            let reads: Option<String> = client
                .query_opt(
                    "SELECT hypertable_schema::text FROM timescaledb_information.continuous_aggregates
                     WHERE view_schema = $1::text AND view_name = 'emissions_daily_summary'",
                    &[&schema],
                )
                .await
                .map_err(sql("the scratch continuous aggregate"))?
                .map(|r| r.get(0));
            if reads.as_deref() != Some(schema) {
                return Err(BenchError::NotReady(format!(
                    "the scratch continuous aggregate reads {} instead of the scratch table",
                    reads.as_deref().unwrap_or("nothing")
                )));
            }
            // Not in a transaction: refresh_continuous_aggregate refuses to run inside one.
            client
                .batch_execute(&format!(
                    "CALL {extension}.refresh_continuous_aggregate('{s}.emissions_daily_summary', NULL, NULL)"
                ))
                .await
                .map_err(sql("refreshing the scratch continuous aggregate"))?;
        }
        Backend::Native => {
            let definition: String = read_with_search_path(
                client,
                "public",
                "SELECT pg_get_viewdef('public.emissions_daily_summary'::regclass)",
                "the daily summary's definition",
            )
            .await?
            .ok_or_else(missing)?
            .get(0);
            let indexes = client
                .query(
                    "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'emissions_daily_summary'",
                    &[],
                )
                .await
                .map_err(sql("the daily summary's indexes"))?;
            let mut ddl = format!(
                "CREATE MATERIALIZED VIEW {s}.emissions_daily_summary AS {}",
                definition.trim().trim_end_matches(';')
            );
            for index in indexes {
                let def: String = index.get(0);
                ddl.push_str(";\n");
                ddl.push_str(&def.replace(" ON public.", &format!(" ON {s}.")));
            }
            with_search_path(client, &format!("{s}, public"), &ddl, "creating the scratch summary").await?;
        }
    }
    Ok(())
}

/// PB-03…PB-06 over the scratch schema's rows.
pub async fn run_all(
    clients: &[Arc<Client>],
    schema: &str,
    extension: Option<&str>,
    loaded: &Loaded,
    options: &Options,
    reporter: &Arc<dyn Reporter>,
) -> Result<Vec<QueryResult>, BenchError> {
    let backend = loaded.environment.timeseries.backend;
    let control = &clients[0];
    reporter.phase("making the scratch daily summary");
    let extension = extension.unwrap_or("public");
    make_summary(control, schema, backend, extension).await?;
    control
        .batch_execute(&format!("ANALYZE {}.emission_measurements", quote(schema)))
        .await
        .map_err(|e| BenchError::Sql { what: "ANALYZE", reason: reason(&e) })?;
    let table_rows: i64 = control
        .query_one(&format!("SELECT count(*) FROM {}.emission_measurements", quote(schema)), &[])
        .await
        .map_err(|e| BenchError::Sql { what: "count(*)", reason: reason(&e) })?
        .get(0);
    let rows_per_pass = match options.scenarios.contains(&super::Scenario::Ingest) {
        true => options.rows.unwrap_or(table_rows.max(1) as u64),
        false => options.query_rows,
    };
    let gen = Arc::new(Generator::new(Table::EmissionMeasurements, options.seed, rows_per_pass));
    let mut results = Vec::new();
    let connections = clients.len();
    for query in scenarios(schema, backend, extension) {
        let rate = options.rate.unwrap_or(query.rate);
        let total = (rate * options.duration_seconds).ceil().max(1.0) as u64;
        let period = Duration::from_secs_f64(1.0 / rate);
        reporter.queries_progress(query.check, 0, total);
        let (clients, gen, sql, params) = (clients.to_vec(), gen.clone(), Arc::new(query.sql.clone()), query.params);
        let (latency, first_error) = open_loop(clients.len(), total, period, move |w, i| {
            let (client, gen, sql) = (clients[w].clone(), gen.clone(), sql.clone());
            async move {
                let values = params(&gen, i);
                let typed: Vec<(&(dyn tokio_postgres::types::ToSql + Sync), Type)> =
                    values.iter().map(|v| (v as &(dyn tokio_postgres::types::ToSql + Sync), Type::TEXT)).collect();
                client.query_typed(sql.as_str(), &typed).await.map(|_| ()).map_err(|e| reason(&e))
            }
        })
        .await;
        results.push(judge(
            &loaded.environment.acceptance,
            QueryFigures {
                check: query.check,
                name: query.name,
                sql: query.sql,
                rate_per_second: rate,
                duration_seconds: options.duration_seconds,
                connections,
                table_rows,
                latency,
                first_error,
            },
        ));
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_exact_on_a_known_latency_set() {
        let mut h = histogram();
        for us in 1..=1000 {
            h.record(us).unwrap();
        }
        let l = latency(&h, 0, 0, 0);
        assert_eq!((l.p50_ms, l.p95_ms, l.p99_ms, l.p999_ms, l.max_ms), (0.5, 0.95, 0.99, 0.999, 1.0));
        assert_eq!(l.requests, 1000);
    }

    /// A runtime on paused time: timers fire exactly when due, however loaded the machine is.
    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap()
    }

    #[test]
    fn an_injected_stall_shows_in_the_open_loop_percentiles_and_late_starts() {
        // 200 requests due every 10 ms on one worker; request 10 stalls for 500 ms. Closed loop, only that
        // one request would be slow (0.5 % of samples: p99 would not show it). Open loop, the ~50 requests due
        // during the stall all wait for it, measured from when they were due.
        let (l, error) = rt().block_on(open_loop(1, 200, Duration::from_millis(10), |_, i| async move {
            tokio::time::sleep(Duration::from_millis(if i == 10 { 500 } else { 1 })).await;
            Ok(())
        }));
        assert_eq!(error, None);
        assert_eq!(l.requests, 200);
        assert!(l.late_starts >= 40, "{l:?}");
        assert!(l.p95_ms > 100.0 && l.p99_ms > 300.0 && l.max_ms >= 500.0, "{l:?}");
        assert!(l.p50_ms < 100.0, "half the requests were not delayed: {l:?}");
    }

    #[test]
    fn requests_on_schedule_are_not_late_and_errors_are_counted() {
        let (l, error) = rt().block_on(open_loop(2, 20, Duration::from_millis(10), |_, i| async move {
            if i == 3 {
                Err("boom".to_string())
            } else {
                Ok(())
            }
        }));
        assert_eq!((l.requests, l.errors), (19, 1), "{l:?}");
        assert_eq!(l.late_starts, 0, "on paused time every request starts when due: {l:?}");
        assert_eq!(error.as_deref(), Some("boom"));
    }
}
