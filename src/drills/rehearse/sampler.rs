//! The sampler: on a connection of its own, every few milliseconds, one round trip reads which application
//! sessions wait on a lock the migration holds or queues for (`pg_stat_activity.wait_event_type = 'Lock'` and
//! the migration's pid in `pg_blocking_pids`), what the migration's backend runs, and its table locks
//! (`pg_locks`). Times are the server's `clock_timestamp()`, so network delay does not bend them.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::Client;

use crate::database::migrate::{split_statements, Migration};
use crate::verify::rehearsal::{LockSeen, Running, Sample};

const SAMPLE: &str = "
SELECT (extract(epoch FROM clock_timestamp()) * 1e6)::int8,
       coalesce((SELECT array_agg(a.pid) FROM pg_stat_activity a
                  WHERE a.pid = ANY($1::int4[]) AND a.wait_event_type = 'Lock'
                    AND $2::int4 = ANY(pg_blocking_pids(a.pid))), '{}'::int4[]),
       coalesce(m.state, ''), coalesce(m.query, ''),
       coalesce((extract(epoch FROM m.query_start) * 1e6)::int8, 0),
       coalesce((extract(epoch FROM m.xact_start) * 1e6)::int8, 0),
       coalesce((SELECT array_agg(l.mode || '|' || l.granted::text || '|' || c.relispartition::text || '|' || c.relname::text)
                   FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                  WHERE l.pid = $2 AND l.locktype = 'relation' AND c.relkind IN ('r', 'p')
                    AND c.relnamespace <> 'pg_catalog'::regnamespace), '{}'::text[])
  FROM (SELECT 1) AS one LEFT JOIN pg_stat_activity m ON m.pid = $2";

/// Which migration file and statement a query text the runner sent belongs to. A file run in one transaction
/// is sent whole (and `pg_stat_activity` may cut it at `track_activity_query_size`); a no-transaction file
/// statement by statement.
pub fn statement_of(pending: &[Migration], query: &str) -> Option<(String, String)> {
    let query = query.trim();
    if query.is_empty() {
        return None;
    }
    for m in pending {
        let statements = split_statements(&m.sql);
        if m.no_transaction {
            if let Some(s) =
                statements.iter().find(|s| s.as_str() == query || (query.len() >= 1000 && s.starts_with(query)))
            {
                return Some((m.file_name(), without_comment_lines(s)));
            }
        } else if m.sql.trim().starts_with(query) || query.starts_with(m.sql.trim()) {
            return Some((m.file_name(), file_label(m)));
        }
    }
    None
}

/// A statement as people read it: without the comment lines before it (the file's header rides along with
/// its first statement).
fn without_comment_lines(statement: &str) -> String {
    statement
        .lines()
        .skip_while(|l| l.trim().is_empty() || l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// How a file run in one transaction is named: its statement, or how many and the first.
pub fn file_label(m: &Migration) -> String {
    match split_statements(&m.sql).as_slice() {
        [one] => without_comment_lines(one),
        many => format!(
            "{} statements in one transaction, from: {}",
            many.len(),
            many.first().map(|s| without_comment_lines(s)).unwrap_or_default()
        ),
    }
}

/// What the runner's backend is doing, as the sampler read it: a statement it recognises, or (in the file's
/// transaction, e.g. the ledger's INSERT or a COMMIT waiting for a synchronous standby, with the file's locks
/// still held) the file in flight (`in_flight`, from the runner's progress) when that file runs in one
/// transaction. A transactional file's attempt starts with its transaction (`xact_start`), so its COMMIT is
/// not a retry.
fn running(
    pending: &[Migration],
    in_flight: usize,
    state: &str,
    query: &str,
    query_start: i64,
    xact_start: i64,
) -> Option<(String, String, i64)> {
    if state != "active" && !state.starts_with("idle in transaction") {
        return None;
    }
    let matched = if state == "active" { statement_of(pending, query) } else { None };
    let m = match &matched {
        Some((file, _)) => pending.iter().find(|m| m.file_name() == *file),
        None => pending.get(in_flight),
    }?;
    match (matched, m.no_transaction) {
        (Some((file, statement)), true) => Some((file, statement, query_start)),
        (Some((file, statement)), false) => Some((file, statement, xact_start)),
        (None, false) => Some((m.file_name(), file_label(m), xact_start)),
        // Between two statements of a no-transaction file nothing of it holds a lock.
        (None, true) => None,
    }
}

/// What the sampler watches: the application's backends, the runner's backend and the files it runs (with
/// the index of the one in flight), how often, and when to pause and stop.
pub struct Watch {
    pub app_pids: Vec<i32>,
    pub migration_pid: i32,
    pub pending: Vec<Migration>,
    pub in_flight: Arc<AtomicUsize>,
    pub every: Duration,
    pub paused: Arc<AtomicBool>,
    pub stop: Arc<AtomicBool>,
}

/// Samples every `every` (not while `paused`) until `stop`; returns the samples and the first error, if
/// sampling broke off.
pub async fn run(client: Client, watch: Watch) -> (Vec<Sample>, Option<String>) {
    let Watch { app_pids, migration_pid, pending, in_flight, every, paused, stop } = watch;
    let mut samples = Vec::new();
    let statement = match client.prepare(SAMPLE).await {
        Ok(s) => s,
        Err(e) => return (samples, Some(crate::database::connect::reason(&e))),
    };
    let mut was_paused = false;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !stop.load(Ordering::SeqCst) {
        tick.tick().await;
        if paused.load(Ordering::SeqCst) {
            was_paused = true;
            continue;
        }
        let row = match client.query_one(&statement, &[&app_pids, &migration_pid]).await {
            Ok(row) => row,
            Err(e) => return (samples, Some(crate::database::connect::reason(&e))),
        };
        let (state, query): (String, String) = (row.get(2), row.get(3));
        let now_in_flight = in_flight.load(Ordering::SeqCst);
        let migration = running(&pending, now_in_flight, &state, &query, row.get(4), row.get(5)).map(
            |(file, statement, started_us)| {
                let locks: Vec<String> = row.get(6);
                Running { file, statement, started_us, locks: locks.iter().filter_map(|l| parse_lock(l)).collect() }
            },
        );
        samples.push(Sample { at_us: row.get(0), blocked: row.get(1), migration, after_pause: was_paused });
        was_paused = false;
    }
    (samples, None)
}

/// `mode|granted|is-partition|relname`.
fn parse_lock(text: &str) -> Option<LockSeen> {
    let mut parts = text.splitn(4, '|');
    let mode = parts.next()?.to_string();
    let granted = parts.next()? == "true";
    let partition = parts.next()? == "true";
    let relation = parts.next()?.to_string();
    Some(LockSeen { mode, granted, relation, partition })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration(file: &str, sql: &str, no_transaction: bool) -> Migration {
        Migration {
            version: 9,
            name: "x".into(),
            path: format!("sql/migrations/{file}").into(),
            sql: sql.into(),
            checksum: crate::database::migrate::checksum(sql),
            no_transaction,
            requires: vec![],
            other_variants: vec![],
        }
    }

    #[test]
    fn a_query_the_runner_sent_is_mapped_to_its_file_and_statement() {
        let one = migration("0009_a.sql", "ALTER TABLE t ADD COLUMN n text;\n", false);
        let two = migration("0010_b.sql", "CREATE INDEX a ON t (x);\nCREATE INDEX b ON t (y);\n", false);
        let alone = migration(
            "0011_c.sql",
            "-- glctl:no-transaction\nCREATE INDEX CONCURRENTLY c ON p1 (x);\nCREATE INDEX CONCURRENTLY d ON p2 (x);\n",
            true,
        );
        let pending = [one.clone(), two.clone(), alone.clone()];
        assert_eq!(
            statement_of(&pending, &one.sql),
            Some(("0009_a.sql".into(), "ALTER TABLE t ADD COLUMN n text".into()))
        );
        let (file, label) = statement_of(&pending, &two.sql[..20]).unwrap();
        assert_eq!(file, "0010_b.sql", "a query cut short still maps");
        assert!(label.starts_with("2 statements in one transaction, from: CREATE INDEX a"), "{label}");
        let first = split_statements(&alone.sql).remove(0);
        assert_eq!(
            statement_of(&pending, &first),
            Some(("0011_c.sql".into(), "CREATE INDEX CONCURRENTLY c ON p1 (x)".into()))
        );
        assert_eq!(
            statement_of(&pending, "CREATE INDEX CONCURRENTLY d ON p2 (x)"),
            Some(("0011_c.sql".into(), "CREATE INDEX CONCURRENTLY d ON p2 (x)".into()))
        );
        assert_eq!(statement_of(&pending, "SET LOCAL lock_timeout = '2000ms'"), None);
        assert_eq!(statement_of(&pending, ""), None);
    }

    #[test]
    fn a_transactional_file_owns_its_commit_and_a_no_transaction_file_only_its_statements() {
        let one = migration("0009_a.sql", "ALTER TABLE t ADD COLUMN n text;\n", false);
        let alone = migration("0010_c.sql", "-- glctl:no-transaction\nCREATE INDEX CONCURRENTLY c ON p1 (x);\n", true);
        let pending = [one, alone];
        let label = "ALTER TABLE t ADD COLUMN n text".to_string();
        let file = "0009_a.sql".to_string();
        // Its statement, and then its COMMIT (waiting for a synchronous standby): the same attempt.
        let sent = "ALTER TABLE t ADD COLUMN n text;\n";
        assert_eq!(running(&pending, 0, "active", sent, 5, 4), Some((file.clone(), label.clone(), 4)));
        assert_eq!(running(&pending, 0, "active", "COMMIT", 9, 4), Some((file.clone(), label.clone(), 4)));
        let ledger = "INSERT INTO glctl.schema_migrations";
        assert_eq!(running(&pending, 0, "idle in transaction", ledger, 9, 4), Some((file, label, 4)));
        assert_eq!(running(&pending, 0, "idle", "COMMIT", 9, 0), None);
        // The no-transaction file: its statement by its own start; the ledger's UPDATE after it is nothing.
        // The runner sends the statement as split, its file's header comment included.
        let sent = split_statements(&pending[1].sql).remove(0);
        let index = "CREATE INDEX CONCURRENTLY c ON p1 (x)".to_string();
        assert_eq!(running(&pending, 1, "active", &sent, 20, 20), Some(("0010_c.sql".into(), index, 20)));
        let update = "UPDATE glctl.schema_migrations SET statements_done = $2";
        assert_eq!(running(&pending, 1, "active", update, 30, 30), None);
        assert_eq!(running(&pending, 2, "active", "COMMIT", 30, 30), None, "after the last file");
    }

    #[test]
    fn locks_are_read_from_the_sampler_row() {
        assert_eq!(
            parse_lock("ShareLock|true|true|emission_measurements_p1"),
            Some(LockSeen {
                mode: "ShareLock".into(),
                granted: true,
                relation: "emission_measurements_p1".into(),
                partition: true
            })
        );
        assert_eq!(parse_lock("nonsense"), None);
    }
}
