//! Rules for the time-series policy: hypertables, retention, compression and summaries, and what the chosen
//! backend cannot provide.

use std::collections::BTreeSet;

use super::p;
use crate::config::diagnostics::{did_you_mean, FieldPath, Finding};
use crate::config::interval::Interval;
use crate::config::model::Backend;
use crate::engine::capabilities;

impl super::Rules<'_> {
    pub(super) fn timeseries(&mut self) {
        let kind = self.env.engine.kind;
        let backend = self.env.timeseries.backend;
        if let Err(why) = capabilities::supports(kind, backend) {
            self.error(p("timeseries.backend"), why);
        }
        let features = capabilities::backend(backend);
        // On an `external` server TimescaleDB is "if installed": nothing to check offline.
        for (name, table) in &self.env.hypertables {
            let at = p("hypertables").key(name);
            identifier(&mut self.out, at.clone(), name);
            identifier(&mut self.out, at.key("time_column"), &table.time_column);
            positive(&mut self.out, at.key("chunk_interval"), &table.chunk_interval);
            if table.chunk_interval.has_months() && backend == Backend::Timescaledb {
                self.error(
                    at.key("chunk_interval"),
                    format!(
                        "'{}' has a month component; TimescaleDB needs a fixed chunk interval such as '30 days'",
                        table.chunk_interval
                    ),
                );
            }
            if let Some(retention) = &table.retention {
                positive(&mut self.out, at.key("retention"), retention);
                if retention.approx_seconds() < table.chunk_interval.approx_seconds() {
                    self.warning(at.key("retention"), format!("retention '{retention}' is shorter than one chunk ('{}'); whole chunks are dropped, so data lives up to a chunk longer", table.chunk_interval));
                }
            }
            let Some(compression) = &table.compression else {
                continue;
            };
            let c_at = at.key("compression");
            positive(&mut self.out, c_at.key("after"), &compression.after);
            if let Some(retention) = &table.retention {
                if compression.after.approx_seconds() >= retention.approx_seconds() {
                    self.warning(
                        c_at.key("after"),
                        format!(
                            "chunks are dropped (after '{retention}') before they are compressed (after '{}')",
                            compression.after
                        ),
                    );
                }
            }
            let mut segment_columns = BTreeSet::new();
            for (i, column) in compression.segment_by.iter().enumerate() {
                identifier(&mut self.out, c_at.key("segment_by").index(i), column);
                segment_columns.insert(column.as_str());
            }
            for (i, entry) in compression.order_by.iter().enumerate() {
                let o_at = c_at.key("order_by").index(i);
                match parse_order_by(entry) {
                    Err(e) => self.error(o_at, e),
                    Ok(column) if segment_columns.contains(column.as_str()) => self.error(o_at, format!("'{column}' is also in segment_by; TimescaleDB refuses a column in both segment_by and order_by")),
                    Ok(_) => {}
                }
            }
        }
        self.unprovided_features(features.compression);
        for (name, cagg) in &self.env.continuous_aggregates {
            let at = p("continuous_aggregates").key(name);
            identifier(&mut self.out, at.clone(), name);
            if backend == Backend::Native {
                if let Err(why) = cagg.refresh.schedule_interval.as_cron_schedule() {
                    self.error(
                        at.key("refresh").key("schedule_interval"),
                        format!("{why}; on the native backend pg_cron runs the refresh"),
                    );
                }
            }
            if !self.env.hypertables.contains_key(&cagg.source) {
                let hint = did_you_mean(&cagg.source, self.env.hypertables.keys().map(String::as_str))
                    .map(|c| format!("; did you mean '{c}'?"))
                    .unwrap_or_default();
                self.error(
                    at.key("source"),
                    format!("'{}' is not a hypertable of this environment{hint}", cagg.source),
                );
            }
            positive(&mut self.out, at.key("bucket"), &cagg.bucket);
            let r = &cagg.refresh;
            let r_at = at.key("refresh");
            positive(&mut self.out, r_at.key("schedule_interval"), &r.schedule_interval);
            let window = r.start_offset.approx_seconds() - r.end_offset.approx_seconds();
            if window <= 0 {
                self.error(
                    r_at.key("start_offset"),
                    format!("start_offset '{}' must be older than end_offset '{}'", r.start_offset, r.end_offset),
                );
            } else if window < 2 * cagg.bucket.approx_seconds() {
                // TimescaleDB: "policy refresh window too small" — the window must cover two buckets.
                self.error(r_at.key("start_offset"), format!("the refresh window ('{}' to '{}') covers less than two '{}' buckets; TimescaleDB refuses it, expected start_offset of at least end_offset + 2 × bucket", r.start_offset, r.end_offset, cagg.bucket));
            }
            if let Some(retention) = self.env.hypertables.get(&cagg.source).and_then(|t| t.retention.as_ref()) {
                if r.start_offset.approx_seconds() > retention.approx_seconds() {
                    self.warning(r_at.key("start_offset"), format!("the refresh window reaches past the source's retention ('{retention}'); refreshing would erase aggregates of dropped data"));
                }
            }
        }
    }

    /// Everything declared that the backend cannot provide, in one warning at `timeseries.backend`, with
    /// what to do instead (once, not once per table).
    fn unprovided_features(&mut self, compresses: bool) {
        let backend = self.env.timeseries.backend;
        let mut lost = Vec::new();
        let compressed: Vec<&str> =
            self.env.hypertables.iter().filter(|(_, t)| t.compression.is_some()).map(|(n, _)| n.as_str()).collect();
        if !compresses && !compressed.is_empty() {
            lost.push(format!(
                "compression (declared for {}; ignored: plan storage for uncompressed data, or shorten retention)",
                compressed.join(", ")
            ));
        }
        let real_time: Vec<&str> =
            self.env.continuous_aggregates.iter().filter(|(_, a)| a.real_time).map(|(n, _)| n.as_str()).collect();
        if backend == Backend::Native && !real_time.is_empty() {
            lost.push(format!(
                "real-time rows (declared for {}; a materialized view is as fresh as its last refresh, so refresh it \
                 more often)",
                real_time.join(", ")
            ));
        }
        if !lost.is_empty() {
            self.warning(
                p("timeseries.backend"),
                format!(
                    "the `{}` backend cannot provide: {}; for these, run TimescaleDB on an `external` engine",
                    capabilities::backend_label(backend),
                    lost.join("; ")
                ),
            );
        }
    }
}

fn positive(out: &mut Vec<Finding>, at: FieldPath, interval: &Interval) {
    if !interval.is_positive() {
        out.push(Finding::error(at, format!("'{interval}' is not a positive interval; expected e.g. '7 days'")));
    }
}

fn identifier(out: &mut Vec<Finding>, at: FieldPath, name: &str) {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        out.push(Finding::error(
            at,
            format!("'{name}' is not a plain SQL identifier; expected up to 63 of a-z, 0-9 and '_'"),
        ));
    }
}

/// `column [ASC|DESC] [NULLS FIRST|LAST]` → the column.
fn parse_order_by(entry: &str) -> Result<String, String> {
    let words: Vec<String> = entry.split_whitespace().map(str::to_ascii_uppercase).collect();
    let column = entry.split_whitespace().next().unwrap_or_default().to_string();
    let rest: Vec<&str> = words.iter().skip(1).map(String::as_str).collect();
    let valid = matches!(
        rest.as_slice(),
        [] | ["ASC"] | ["DESC"] | ["NULLS", "FIRST" | "LAST"] | ["ASC" | "DESC", "NULLS", "FIRST" | "LAST"]
    );
    if column.is_empty() || !valid {
        return Err(format!("'{entry}' is not an ordering; expected 'column [ASC|DESC] [NULLS FIRST|LAST]'"));
    }
    Ok(column)
}
