//! The sampler: on a connection of its own, every few milliseconds, one round trip reads which application
//! sessions wait on a lock the migration holds or queues for (`pg_stat_activity.wait_event_type = 'Lock'` and
//! the migration's pid in `pg_blocking_pids`), what the migration's backend runs, and its table locks
//! (`pg_locks`). Times are the server's `clock_timestamp()`, so network delay does not bend them.

use std::sync::atomic::{AtomicBool, Ordering};
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
                return Some((m.file_name(), s.clone()));
            }
        } else if m.sql.trim().starts_with(query) || query.starts_with(m.sql.trim()) {
            let label = match statements.as_slice() {
                [one] => one.clone(),
                many => format!(
                    "{} statements in one transaction, from: {}",
                    many.len(),
                    many.first().map(String::as_str).unwrap_or_default()
                ),
            };
            return Some((m.file_name(), label));
        }
    }
    None
}

/// Samples every `every` until `stop`; returns the samples and the first error, if sampling broke off.
pub async fn run(
    client: Client,
    app_pids: Vec<i32>,
    migration_pid: i32,
    pending: Vec<Migration>,
    every: Duration,
    stop: Arc<AtomicBool>,
) -> (Vec<Sample>, Option<String>) {
    let mut samples = Vec::new();
    let statement = match client.prepare(SAMPLE).await {
        Ok(s) => s,
        Err(e) => return (samples, Some(crate::database::connect::reason(&e))),
    };
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !stop.load(Ordering::SeqCst) {
        tick.tick().await;
        let row = match client.query_one(&statement, &[&app_pids, &migration_pid]).await {
            Ok(row) => row,
            Err(e) => return (samples, Some(crate::database::connect::reason(&e))),
        };
        let (state, query): (String, String) = (row.get(2), row.get(3));
        let migration =
            (state == "active").then(|| statement_of(&pending, &query)).flatten().map(|(file, statement)| {
                let locks: Vec<String> = row.get(5);
                Running {
                    file,
                    statement,
                    started_us: row.get(4),
                    locks: locks.iter().filter_map(|l| parse_lock(l)).collect(),
                }
            });
        samples.push(Sample { at_us: row.get(0), blocked: row.get(1), migration });
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
        assert_eq!(
            statement_of(&pending, "CREATE INDEX CONCURRENTLY d ON p2 (x)"),
            Some(("0011_c.sql".into(), "CREATE INDEX CONCURRENTLY d ON p2 (x)".into()))
        );
        assert_eq!(statement_of(&pending, "SET LOCAL lock_timeout = '2000ms'"), None);
        assert_eq!(statement_of(&pending, ""), None);
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
