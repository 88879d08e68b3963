//! Loading the generator's rows without COPY, for a server that cannot take it (PGlite crashes on
//! `COPY … FROM STDIN`): each batch is one multi-row `INSERT … SELECT FROM unnest($1::text[]::type[], …)`,
//! every column sent as a text array in the very text forms the CSV rendering uses (which the tests check
//! against the binary COPY rows). The casts go to each column's base type (no typmod: an explicit cast to
//! `varchar(n)` would truncate silently), and the INSERT's assignment to the column enforces its typmod.
//!
//! This is not what PB-01/PB-02 measure (binary COPY), so its rows/s is labelled `method: insert` and is
//! never a PASS. Statements are sent unnamed (`query_typed`): a single-backend server keeps named ones.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Client;

use super::copy::{numeric_text, timestamp_text, uuid_text};
use super::generator::{Generator, RowWriter, Table};
use super::ingest::{batch_range, IngestPlan, Shared};
use super::scratch::quote;
use super::BenchError;
use crate::database::connect::reason;

/// The largest INSERT message bench sends to PGlite. Its socket server (`@electric-sql/pglite-socket`
/// 0.0.19) hands every TCP read to the database as it arrives, and Node reads at most 64 KiB at a time: a
/// protocol message split over two reads crashes the server (`RuntimeError: unreachable`, seen with a
/// 95 KB INSERT; 24 KB ones work). So on PGlite a batch holds only as many rows as stay well below that.
pub const PGLITE_MESSAGE_BYTES: u64 = 48 * 1024;

/// Rows per INSERT so that a message stays below `limit` bytes: the widest of a sample of the generator's
/// rows as sent (each value with its 4-byte length), with a quarter of room, after 4 KiB for the statement.
pub fn rows_per_message(gen: &Generator, columns: usize, limit: u64) -> u64 {
    let mut widest = 0u64;
    for from in (0..4096).step_by(256) {
        let mut sample = TextColumns::new(columns, 1);
        gen.write_rows(from, from + 1, &mut sample);
        let bytes: u64 = sample.columns.iter().flatten().map(|v| 4 + v.as_ref().map_or(0, |v| v.len() as u64)).sum();
        widest = widest.max(bytes);
    }
    (limit.saturating_sub(4096) / (widest + widest / 4).max(1)).max(1)
}

/// A batch of rows as one text array per column (`None` is NULL).
pub struct TextColumns {
    pub columns: Vec<Vec<Option<String>>>,
    pub rows: u64,
    at: usize,
}

impl TextColumns {
    pub fn new(columns: usize, rows: usize) -> TextColumns {
        TextColumns { columns: (0..columns).map(|_| Vec::with_capacity(rows)).collect(), rows: 0, at: 0 }
    }

    fn push(&mut self, value: Option<String>) {
        if let Some(column) = self.columns.get_mut(self.at) {
            column.push(value);
        }
        self.at += 1;
    }
}

impl RowWriter for TextColumns {
    fn begin_row(&mut self, _columns: u16) {
        self.at = 0;
    }

    fn null(&mut self) {
        self.push(None);
    }

    fn int8(&mut self, value: i64) {
        self.push(Some(value.to_string()));
    }

    fn int2(&mut self, value: i16) {
        self.push(Some(value.to_string()));
    }

    fn timestamptz(&mut self, micros: i64) {
        self.push(Some(timestamp_text(micros)));
    }

    fn uuid(&mut self, value: &[u8; 16]) {
        self.push(Some(uuid_text(value)));
    }

    fn text(&mut self, value: &[u8]) {
        self.push(Some(String::from_utf8_lossy(value).into_owned()));
    }

    fn numeric(&mut self, unscaled: i64, scale: u8) {
        self.push(Some(numeric_text(unscaled, scale)));
    }

    fn end_row(&mut self) {
        self.rows += 1;
    }
}

/// The INSERT of one batch into `schema.table`, given each column's base type (in `table.columns()` order).
/// It returns the number of rows inserted.
pub fn insert_statement(schema: &str, table: Table, types: &[String]) -> String {
    let columns = table.columns();
    let arrays: Vec<String> = types.iter().enumerate().map(|(i, ty)| format!("${}::text[]::{ty}[]", i + 1)).collect();
    format!(
        "WITH inserted AS (INSERT INTO {}.{} ({}) SELECT * FROM unnest({}) RETURNING 1) SELECT count(*) FROM inserted",
        quote(schema),
        table.name(),
        columns.join(", "),
        arrays.join(", ")
    )
}

/// Each generated column's base type in the scratch table, from the catalog.
pub async fn column_types(client: &Client, schema: &str, table: Table) -> Result<Vec<String>, BenchError> {
    let rows = client
        .query_typed(
            "SELECT a.attname::text, format_type(a.atttypid, NULL) FROM pg_attribute a
             WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped",
            &[(&format!("{}.{}", quote(schema), table.name()), Type::TEXT)],
        )
        .await
        .map_err(|e| BenchError::Sql { what: "the scratch table's column types", reason: reason(&e) })?;
    table
        .columns()
        .iter()
        .map(|column| {
            rows.iter()
                .find(|r| r.get::<_, String>(0) == *column)
                .map(|r| r.get::<_, String>(1))
                .ok_or_else(|| BenchError::NotReady(format!("the scratch {} has no column {column}", table.name())))
        })
        .collect()
}

/// One worker: takes the next batch, inserts it (its own transaction), records the commit; until the plan
/// stops or another worker failed.
pub(super) async fn worker(
    client: Arc<Client>,
    statement: String,
    columns: usize,
    gen: Arc<Generator>,
    plan: IngestPlan,
    shared: Arc<Shared>,
) -> Result<(), BenchError> {
    loop {
        if shared.stop.load(Ordering::SeqCst) || shared.out_of_time(&plan) {
            return Ok(());
        }
        let b = shared.next_batch.fetch_add(1, Ordering::SeqCst);
        let Some((from, to)) = batch_range(&plan, b) else { return Ok(()) };
        let mut batch = TextColumns::new(columns, (to - from) as usize);
        gen.write_rows(from, to, &mut batch);
        let bytes: u64 = batch.columns.iter().flatten().flatten().map(|v| v.len() as u64).sum();
        let params: Vec<(&(dyn ToSql + Sync), Type)> =
            batch.columns.iter().map(|c| (c as &(dyn ToSql + Sync), Type::TEXT_ARRAY)).collect();
        let rows = client
            .query_typed(&statement, &params)
            .await
            .map_err(|e| BenchError::Sql { what: "INSERT", reason: reason(&e) })?;
        let inserted = rows.first().map(|r| r.get::<_, i64>(0)).unwrap_or(-1);
        if inserted != batch.rows as i64 {
            return Err(BenchError::Worker(format!("INSERT reported {inserted} rows for a batch of {}", batch.rows)));
        }
        shared.record(batch.rows, bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::copy::CsvBatch;

    #[test]
    fn the_text_columns_are_the_csv_fields_of_the_same_rows() {
        for table in [Table::EmissionMeasurements, Table::SensorReadings] {
            let gen = Generator::new(table, 3, 100);
            let mut columns = TextColumns::new(table.columns().len(), 10);
            let mut csv = CsvBatch::default();
            gen.write_rows(0, 10, &mut columns);
            gen.write_rows(0, 10, &mut csv);
            assert_eq!(columns.rows, 10);
            let text = String::from_utf8(csv.buf).unwrap();
            for (r, line) in text.lines().enumerate() {
                let fields: Vec<&str> = line.split(',').collect();
                assert_eq!(fields.len(), table.columns().len(), "{line}");
                for (c, field) in fields.iter().enumerate() {
                    // CSV writes NULL as an empty unquoted field; no generated text is empty.
                    let expected = if field.is_empty() { None } else { Some(field.to_string()) };
                    assert_eq!(columns.columns[c][r], expected, "{} row {r} column {c}", table.name());
                }
            }
        }
    }

    #[test]
    fn a_pglite_batch_stays_below_the_message_limit_wherever_it_starts() {
        for table in [Table::EmissionMeasurements, Table::SensorReadings] {
            let gen = Generator::new(table, 1, 100_000);
            let columns = table.columns().len();
            let rows = rows_per_message(&gen, columns, PGLITE_MESSAGE_BYTES);
            assert!(rows >= 50, "{}: {rows} rows per INSERT is too few to load anything", table.name());
            for from in [0, 1_000, 33_333, 99_000] {
                let mut batch = TextColumns::new(columns, rows as usize);
                gen.write_rows(from, from + rows, &mut batch);
                // The wire size: per value a 4-byte length, per array a 20-byte header, and the statement.
                let values: u64 =
                    batch.columns.iter().flatten().map(|v| 4 + v.as_ref().map_or(0, |v| v.len() as u64)).sum();
                let types = vec!["character varying".to_string(); columns];
                let message =
                    values + 20 * columns as u64 + insert_statement("glctl_bench_x", table, &types).len() as u64;
                assert!(message < PGLITE_MESSAGE_BYTES, "{} from row {from}: {message} bytes", table.name());
            }
        }
    }

    #[test]
    fn the_insert_casts_each_text_array_to_its_column_s_type() {
        let types: Vec<String> = Table::SensorReadings.columns().iter().map(|_| "numeric".to_string()).collect();
        let sql = insert_statement("glctl_bench_x", Table::SensorReadings, &types);
        assert!(sql.starts_with("WITH inserted AS (INSERT INTO \"glctl_bench_x\".sensor_readings ("), "{sql}");
        assert!(sql.contains("unnest($1::text[]::numeric[], $2::text[]::numeric[]"), "{sql}");
        assert!(
            sql.ends_with(&format!("${}::text[]::numeric[]) RETURNING 1) SELECT count(*) FROM inserted", types.len()))
        );
    }
}
