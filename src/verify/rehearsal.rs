//! The rehearsal's judgement (`glctl migrate rehearse`): pure functions over what the drill observed — the
//! lock samples taken every few milliseconds while the pending migrations ran under an application workload,
//! and the workload's own log of operations — into per-statement figures, what each application session lived
//! through, and a verdict against `migrations.max_blocking`. Nothing here touches a database.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// A lock the migration's backend held or waited for, on a table (`relkind` r or p).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LockSeen {
    pub mode: String,
    pub granted: bool,
    pub relation: String,
    /// The relation is a partition (counted, not listed).
    pub partition: bool,
}

/// What the migration's backend was running at one sample: the statement (as the runner sent it, mapped to
/// its file), when that attempt started (server clock, µs), and its locks.
#[derive(Clone, Debug)]
pub struct Running {
    pub file: String,
    pub statement: String,
    pub started_us: i64,
    pub locks: Vec<LockSeen>,
}

/// One sample (server clock, µs): which application sessions waited on a lock the migration held or queued
/// for (`wait_event_type = 'Lock'` and the migration's pid in `pg_blocking_pids`), and what the migration ran.
#[derive(Clone, Debug)]
pub struct Sample {
    pub at_us: i64,
    pub blocked: Vec<i32>,
    pub migration: Option<Running>,
    /// The first sample after the sampler was paused (the workload-alone window): the gap before it is no
    /// sample gap.
    pub after_pause: bool,
}

/// One operation of the application workload, in seconds since the workload started: when it was due (open
/// loop: the schedule, not when the previous one ended), and when it ended.
#[derive(Clone, Copy, Debug)]
pub struct Operation {
    pub session: usize,
    pub due: f64,
    pub ended: f64,
}

/// The phases of a rehearsal, in seconds since the workload started.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Windows {
    /// Before it: a warm-up, not measured.
    pub warmup: f64,
    /// The workload alone, no sampler: `[warmup, without_sampler)`, and again `[sampler_paused,
    /// migration_start)`, so neither side of the sampler's comparison has only the early or the late part.
    pub without_sampler: f64,
    /// The workload with the sampler, before the migration (the baseline): `[without_sampler, sampler_paused)`.
    pub sampler_paused: f64,
    pub migration_start: f64,
    pub migration_end: f64,
}

/// The locks of one statement with one mode and outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LockSummary {
    pub mode: String,
    /// `held`, or `waited` (seen requested, not granted).
    pub state: &'static str,
    /// The tables that are not partitions.
    pub relations: Vec<String>,
    /// How many partitions it held (or waited for) in this mode.
    pub partitions: usize,
}

/// One statement of the pending migrations as the rehearsal saw it run.
#[derive(Clone, Debug, Serialize)]
pub struct StatementFigures {
    pub file: String,
    pub statement: String,
    /// From its first attempt's start to the first sample after its last (resolution: the sample interval).
    pub duration_ms: f64,
    /// Attempts after the first (the runner's lock-timeout retries), as seen by a new start time.
    pub retries: usize,
    pub locks: Vec<LockSummary>,
    /// The application's time blocked by it, summed over sessions.
    pub blocked_ms: f64,
    pub stalls: usize,
    pub longest_stall_ms: f64,
    /// The session of that longest stall.
    pub longest_stall_session: Option<usize>,
    pub within_budget: bool,
}

/// What one application session lived through.
#[derive(Clone, Debug, Serialize)]
pub struct SessionFigures {
    pub session: usize,
    pub kind: String,
    pub pid: i32,
    /// Operations it completed over the whole run.
    pub operations: usize,
    pub blocked_ms: f64,
    pub stalls: usize,
    pub longest_stall_ms: f64,
}

/// p50/p99/max of a list, in ms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Spread {
    pub count: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// The workload's throughput and latency in each window.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Throughput {
    pub without_sampler_ops_per_second: f64,
    pub baseline_ops_per_second: f64,
    pub during_migration_ops_per_second: f64,
    /// Baseline with the sampler over the workload without it (goal ≥ 0.95).
    pub sampler_ratio: Option<f64>,
    /// During the migration over the baseline (1.0: no dip).
    pub during_over_baseline: Option<f64>,
    /// Latency from when each operation was due to when it ended.
    pub baseline_latency: Spread,
    pub during_migration_latency: Spread,
}

/// The verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    /// Statements whose longest stall exceeded the budget, each as `FILE: STATEMENT (N ms)`.
    Fail {
        failed: Vec<String>,
    },
    /// The rehearsal could not measure (no samples while the migration ran, a migration failed).
    NotMeasured {
        reason: String,
    },
}

/// Everything the rehearsal measured, judged.
#[derive(Clone, Debug, Serialize)]
pub struct Judgement {
    pub budget_ms: u64,
    pub statements: Vec<StatementFigures>,
    pub sessions: Vec<SessionFigures>,
    /// Every stall of every session on the migration's locks.
    pub stalls: Spread,
    pub longest_stall_ms: f64,
    pub throughput: Throughput,
    pub samples: usize,
    /// Gaps between samples: what the stall figures' resolution is.
    pub sample_gap: Spread,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// The session kinds of the workload, by index (`ingest`, `query`), and their backend pids.
#[derive(Clone, Debug)]
pub struct SessionInfo {
    pub kind: String,
    pub pid: i32,
}

/// A stall: a run of consecutive samples in which a session was blocked by the migration.
#[derive(Clone, Debug, PartialEq)]
struct Stall {
    session: usize,
    ms: f64,
    /// The statement running (or last run) when it began.
    unit: Option<(String, String)>,
}

fn spread(values: &[f64]) -> Spread {
    if values.is_empty() {
        return Spread::default();
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    Spread { count: v.len(), p50_ms: at(0.50), p99_ms: at(0.99), max_ms: *v.last().expect("not empty") }
}

/// The stalls of every session: a blocked run begins at its first blocked sample and ends at the first sample
/// where the session no longer waits (the last sample plus one gap when the samples end first).
fn stalls(samples: &[Sample], sessions: &[SessionInfo]) -> Vec<Stall> {
    let gap = median_gap_us(samples);
    let mut out = Vec::new();
    for (index, session) in sessions.iter().enumerate() {
        let mut current: Option<(i64, Option<(String, String)>)> = None;
        let mut unit: Option<(String, String)> = None;
        for sample in samples {
            if let Some(r) = &sample.migration {
                unit = Some((r.file.clone(), r.statement.clone()));
            }
            let blocked = sample.blocked.contains(&session.pid);
            match (&current, blocked) {
                (None, true) => current = Some((sample.at_us, unit.clone())),
                (Some((began, u)), false) => {
                    out.push(Stall { session: index, ms: (sample.at_us - began) as f64 / 1000.0, unit: u.clone() });
                    current = None;
                }
                // Still blocked, now by the next statement (the session got through between two samples, or
                // never did): the time until here is the earlier statement's, the rest the new one's.
                (Some((began, u)), true) if *u != unit => {
                    out.push(Stall { session: index, ms: (sample.at_us - began) as f64 / 1000.0, unit: u.clone() });
                    current = Some((sample.at_us, unit.clone()));
                }
                _ => {}
            }
        }
        if let (Some((began, u)), Some(last)) = (current, samples.last()) {
            out.push(Stall { session: index, ms: (last.at_us + gap - began) as f64 / 1000.0, unit: u });
        }
    }
    out
}

fn median_gap_us(samples: &[Sample]) -> i64 {
    let mut gaps: Vec<i64> =
        samples.windows(2).filter(|w| !w[1].after_pause).map(|w| w[1].at_us - w[0].at_us).collect();
    gaps.sort_unstable();
    gaps.get(gaps.len() / 2).copied().unwrap_or(0)
}

/// The statements as seen in the samples, in the order they first ran, with their attempts and locks.
fn statements(samples: &[Sample]) -> Vec<((String, String), StatementFigures)> {
    let mut order: Vec<(String, String)> = Vec::new();
    let mut starts: BTreeMap<(String, String), BTreeSet<i64>> = BTreeMap::new();
    let mut last_seen_end: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut locks: BTreeMap<(String, String), BTreeSet<LockSeen>> = BTreeMap::new();
    for (i, sample) in samples.iter().enumerate() {
        let Some(r) = &sample.migration else { continue };
        let key = (r.file.clone(), r.statement.clone());
        if !order.contains(&key) {
            order.push(key.clone());
        }
        starts.entry(key.clone()).or_default().insert(r.started_us);
        locks.entry(key.clone()).or_default().extend(r.locks.iter().cloned());
        // It ran at least until the next sample that no longer shows this attempt.
        let next_other = samples[i + 1..]
            .iter()
            .find(|s| s.migration.as_ref().is_none_or(|m| m.started_us != r.started_us || m.statement != r.statement))
            .map_or(sample.at_us, |s| s.at_us);
        let end = last_seen_end.entry(key).or_insert(next_other);
        *end = (*end).max(next_other);
    }
    order
        .into_iter()
        .map(|key| {
            let attempts = &starts[&key];
            let first = *attempts.iter().next().expect("seen once");
            let mut summaries: BTreeMap<(String, bool), (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
            for l in &locks[&key] {
                let entry = summaries.entry((l.mode.clone(), l.granted)).or_default();
                if l.partition {
                    entry.1.insert(l.relation.clone());
                } else {
                    entry.0.insert(l.relation.clone());
                }
            }
            let figures = StatementFigures {
                file: key.0.clone(),
                statement: key.1.clone(),
                duration_ms: (last_seen_end[&key] - first).max(0) as f64 / 1000.0,
                retries: attempts.len() - 1,
                locks: summaries
                    .into_iter()
                    .map(|((mode, granted), (relations, partitions))| LockSummary {
                        mode,
                        state: if granted { "held" } else { "waited" },
                        relations: relations.into_iter().collect(),
                        partitions: partitions.len(),
                    })
                    .collect(),
                blocked_ms: 0.0,
                stalls: 0,
                longest_stall_ms: 0.0,
                longest_stall_session: None,
                within_budget: true,
            };
            (key, figures)
        })
        .collect()
}

/// Ops per second and latency of the operations due in `[from, to)`.
fn window(ops: &[Operation], from: f64, to: f64) -> (f64, Spread) {
    let span = to - from;
    let inside: Vec<&Operation> = ops.iter().filter(|o| o.due >= from && o.due < to).collect();
    let ended = ops.iter().filter(|o| o.ended >= from && o.ended < to).count();
    let rate = if span > 0.0 { ended as f64 / span } else { 0.0 };
    let latencies: Vec<f64> = inside.iter().map(|o| (o.ended - o.due).max(0.0) * 1000.0).collect();
    (rate, spread(&latencies))
}

/// The workload's throughput in each window, and the two ratios.
pub fn throughput(ops: &[Operation], w: &Windows) -> Throughput {
    let (first, second) = (w.without_sampler - w.warmup, w.migration_start - w.sampler_paused);
    let (a, _) = window(ops, w.warmup, w.without_sampler);
    let (b, _) = window(ops, w.sampler_paused, w.migration_start);
    let without = if first + second > 0.0 { (a * first + b * second) / (first + second) } else { 0.0 };
    let (baseline, _) = window(ops, w.without_sampler, w.sampler_paused);
    // The baseline's latency: operations that also ended inside it (one stalled past it is not the baseline's).
    let before: Vec<Operation> = ops.iter().filter(|o| o.ended < w.sampler_paused).copied().collect();
    let (_, baseline_latency) = window(&before, w.without_sampler, w.sampler_paused);
    let (during, during_latency) = window(ops, w.migration_start, w.migration_end.max(w.migration_start + 1e-3));
    let ratio = |a: f64, b: f64| (b > 0.0).then(|| a / b);
    Throughput {
        without_sampler_ops_per_second: without,
        baseline_ops_per_second: baseline,
        during_migration_ops_per_second: during,
        sampler_ratio: ratio(baseline, without),
        during_over_baseline: ratio(during, baseline),
        baseline_latency,
        during_migration_latency: during_latency,
    }
}

/// Judges a rehearsal: figures per statement and per session, and FAIL when a statement stalled a session
/// longer than `budget_ms`. `failure` is a migration that did not run to its end in the scratch copy.
pub fn judge(
    samples: &[Sample],
    sessions: &[SessionInfo],
    ops: &[Operation],
    windows: &Windows,
    budget_ms: u64,
    failure: Option<&str>,
) -> Judgement {
    let all_stalls = stalls(samples, sessions);
    let mut statements = statements(samples);
    for stall in &all_stalls {
        let Some(unit) = &stall.unit else { continue };
        if let Some((_, s)) = statements.iter_mut().find(|(k, _)| k == unit) {
            s.blocked_ms += stall.ms;
            s.stalls += 1;
            if stall.ms > s.longest_stall_ms {
                s.longest_stall_ms = stall.ms;
                s.longest_stall_session = Some(stall.session);
            }
        }
    }
    let budget = budget_ms as f64;
    let mut failed = Vec::new();
    for (_, s) in &mut statements {
        s.within_budget = s.longest_stall_ms <= budget;
        if !s.within_budget {
            failed.push(format!(
                "{}: {} (an application session stalled {:.0} ms)",
                s.file, s.statement, s.longest_stall_ms
            ));
        }
    }
    let session_figures = sessions
        .iter()
        .enumerate()
        .map(|(i, info)| {
            let mine: Vec<f64> = all_stalls.iter().filter(|s| s.session == i).map(|s| s.ms).collect();
            SessionFigures {
                session: i,
                kind: info.kind.clone(),
                pid: info.pid,
                operations: ops.iter().filter(|o| o.session == i).count(),
                blocked_ms: mine.iter().sum(),
                stalls: mine.len(),
                longest_stall_ms: mine.iter().copied().fold(0.0, f64::max),
            }
        })
        .collect();
    let stall_ms: Vec<f64> = all_stalls.iter().map(|s| s.ms).collect();
    let gaps: Vec<f64> =
        samples.windows(2).filter(|w| !w[1].after_pause).map(|w| (w[1].at_us - w[0].at_us) as f64 / 1000.0).collect();
    let ran_while_sampled = samples.iter().any(|s| s.migration.is_some());
    let verdict = match failure {
        Some(why) => Verdict::NotMeasured { reason: why.to_string() },
        None if !failed.is_empty() => Verdict::Fail { failed },
        None if statements.is_empty()
            && !ran_while_sampled
            && windows.migration_end - windows.migration_start > 0.2 =>
        {
            Verdict::NotMeasured {
                reason: "no sample caught a migration statement running, although the migrations took longer \
                         than the sample interval"
                    .into(),
            }
        }
        None => Verdict::Pass,
    };
    Judgement {
        budget_ms,
        statements: statements.into_iter().map(|(_, s)| s).collect(),
        sessions: session_figures,
        stalls: spread(&stall_ms),
        longest_stall_ms: stall_ms.iter().copied().fold(0.0, f64::max),
        throughput: throughput(ops, windows),
        samples: samples.len(),
        sample_gap: spread(&gaps),
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(file: &str, statement: &str, started_us: i64, locks: Vec<LockSeen>) -> Option<Running> {
        Some(Running { file: file.into(), statement: statement.into(), started_us, locks })
    }

    fn lock(mode: &str, granted: bool, relation: &str, partition: bool) -> LockSeen {
        LockSeen { mode: mode.into(), granted, relation: relation.into(), partition }
    }

    fn sessions() -> Vec<SessionInfo> {
        vec![SessionInfo { kind: "ingest".into(), pid: 10 }, SessionInfo { kind: "query".into(), pid: 11 }]
    }

    fn windows() -> Windows {
        Windows { warmup: 0.0, without_sampler: 1.0, sampler_paused: 2.0, migration_start: 2.0, migration_end: 3.0 }
    }

    /// Samples every 20 ms from t=0: `blocked(i)` says which pids wait at sample i, `run(i)` what migrates.
    fn samples(n: usize, blocked: impl Fn(usize) -> Vec<i32>, run: impl Fn(usize) -> Option<Running>) -> Vec<Sample> {
        (0..n)
            .map(|i| Sample { at_us: i as i64 * 20_000, blocked: blocked(i), migration: run(i), after_pause: false })
            .collect()
    }

    #[test]
    fn a_stall_longer_than_the_budget_fails_naming_the_statement_and_the_session() {
        let index = "CREATE INDEX i ON emission_measurements (source_id)";
        let locks = vec![
            lock("ShareLock", true, "emission_measurements", false),
            lock("ShareLock", true, "emission_measurements_p1", true),
            lock("ShareLock", true, "emission_measurements_p2", true),
        ];
        // The index runs from sample 2 to 19; session 10 waits from sample 5 to 17 (240 ms), 11 never.
        let s = samples(
            25,
            |i| if (5..17).contains(&i) { vec![10] } else { vec![] },
            |i| (2..20).contains(&i).then(|| running("0010_i.sql", index, 30_000, locks.clone())).flatten(),
        );
        let j = judge(&s, &sessions(), &[], &windows(), 200, None);
        assert_eq!(
            j.verdict,
            Verdict::Fail { failed: vec![format!("0010_i.sql: {index} (an application session stalled 240 ms)")] }
        );
        let st = &j.statements[0];
        assert_eq!((st.stalls, st.longest_stall_ms, st.longest_stall_session), (1, 240.0, Some(0)));
        assert_eq!(st.retries, 0);
        assert_eq!(st.duration_ms, 370.0, "from its start at 30 ms to the first sample without it (400 ms)");
        assert_eq!(
            st.locks,
            [LockSummary {
                mode: "ShareLock".into(),
                state: "held",
                relations: vec!["emission_measurements".into()],
                partitions: 2
            }]
        );
        assert_eq!((j.sessions[0].blocked_ms, j.sessions[1].blocked_ms), (240.0, 0.0));
        assert_eq!(j.stalls, Spread { count: 1, p50_ms: 240.0, p99_ms: 240.0, max_ms: 240.0 });
        assert!(!j.statements[0].within_budget);
        // The same observation under a budget of 250 ms passes.
        assert_eq!(judge(&s, &sessions(), &[], &windows(), 250, None).verdict, Verdict::Pass);
    }

    #[test]
    fn short_stalls_pass_and_a_retry_is_counted_from_a_new_start() {
        let add = "ALTER TABLE emission_measurements ADD COLUMN note text";
        let waited = vec![lock("AccessExclusiveLock", false, "emission_measurements", false)];
        let s = samples(
            12,
            |i| if i == 3 || i == 7 { vec![10, 11] } else { vec![] },
            |i| match i {
                2..=4 => running("0009_a.sql", add, 40_000, waited.clone()),
                6..=8 => running("0009_a.sql", add, 120_000, waited.clone()),
                _ => None,
            },
        );
        let j = judge(&s, &sessions(), &[], &windows(), 200, None);
        assert_eq!(j.verdict, Verdict::Pass);
        assert_eq!(j.statements[0].retries, 1);
        assert_eq!(j.statements[0].stalls, 4, "two sessions, twice");
        assert_eq!(j.statements[0].longest_stall_ms, 20.0);
        assert_eq!(j.statements[0].locks[0].state, "waited");
    }

    #[test]
    fn the_pause_of_the_sampler_is_no_sample_gap() {
        let mut s = samples(4, |_| vec![], |_| None);
        s[2].at_us += 5_000_000;
        s[3].at_us += 5_000_000;
        s[2].after_pause = true;
        let j = judge(&s, &sessions(), &[], &windows(), 200, None);
        assert_eq!(j.sample_gap, Spread { count: 2, p50_ms: 20.0, p99_ms: 20.0, max_ms: 20.0 });
    }

    #[test]
    fn a_stall_that_runs_from_one_statement_into_the_next_is_split_between_them() {
        // Session 10 is blocked at every sample from 1 to 9; the first statement runs 0–4, the next 5–9.
        let s = samples(
            11,
            |i| if (1..10).contains(&i) { vec![10] } else { vec![] },
            |i| match i {
                0..=4 => running("0009_a.sql", "ALTER TABLE t ADD COLUMN n text", 0, vec![]),
                5..=9 => running("0010_b.sql", "ALTER TABLE t ADD COLUMN r float8 DEFAULT random()", 100_000, vec![]),
                _ => None,
            },
        );
        let j = judge(&s, &sessions(), &[], &windows(), 90, None);
        assert_eq!((j.statements[0].longest_stall_ms, j.statements[1].longest_stall_ms), (80.0, 100.0));
        let failed =
            "0010_b.sql: ALTER TABLE t ADD COLUMN r float8 DEFAULT random() (an application session stalled 100 ms)";
        assert_eq!(
            j.verdict,
            Verdict::Fail { failed: vec![failed.to_string()] },
            "the first statement is within 90 ms"
        );
        assert_eq!(j.sessions[0].blocked_ms, 180.0);
    }

    #[test]
    fn a_session_still_blocked_when_sampling_ends_counts_to_one_gap_past_the_last_sample() {
        let s = samples(5, |i| if i >= 3 { vec![11] } else { vec![] }, |_| running("f", "s", 0, vec![]));
        let j = judge(&s, &sessions(), &[], &windows(), 200, None);
        assert_eq!(j.sessions[1].longest_stall_ms, 40.0, "blocked at 60 and 80 ms: until 100 ms");
    }

    #[test]
    fn a_failed_migration_or_no_sample_of_a_long_migration_is_not_measured() {
        let s = samples(5, |_| vec![], |_| None);
        let long = Windows { migration_end: 5.0, ..windows() };
        assert!(matches!(judge(&s, &sessions(), &[], &long, 200, None).verdict, Verdict::NotMeasured { .. }));
        let failed = judge(&s, &sessions(), &[], &windows(), 200, Some("0010_x.sql: syntax error"));
        assert_eq!(failed.verdict, Verdict::NotMeasured { reason: "0010_x.sql: syntax error".into() });
        let quick = Windows { migration_end: 2.05, ..windows() };
        assert_eq!(judge(&s, &sessions(), &[], &quick, 200, None).verdict, Verdict::Pass, "done between two samples");
    }

    #[test]
    fn throughput_compares_the_windows_and_latency_counts_from_when_an_operation_was_due() {
        let mut ops = Vec::new();
        for i in 0..100 {
            let due = i as f64 * 0.01;
            ops.push(Operation { session: 0, due, ended: due + 0.002 });
        }
        for i in 0..95 {
            let due = 1.0 + i as f64 / 95.0;
            ops.push(Operation { session: 0, due, ended: due + 0.002 });
        }
        // During the migration: 50 operations, all due early and ended late (a stall).
        for i in 0..50 {
            let due = 2.0 + i as f64 * 0.01;
            ops.push(Operation { session: 0, due, ended: 2.9 });
        }
        let t = throughput(&ops, &windows());
        // With the workload alone before and after the sampler's window, both halves count.
        let split = Windows {
            warmup: 0.0,
            without_sampler: 0.5,
            sampler_paused: 1.5,
            migration_start: 2.0,
            migration_end: 3.0,
        };
        let halves = throughput(&ops, &split);
        assert!((halves.without_sampler_ops_per_second - 97.0).abs() < 2.0, "{halves:?}");
        assert!((t.without_sampler_ops_per_second - 100.0).abs() < 1.5, "{t:?}");
        assert!((t.sampler_ratio.unwrap() - 0.95).abs() < 0.02, "{t:?}");
        assert!((t.during_over_baseline.unwrap() - 50.0 / 95.0).abs() < 0.02, "{t:?}");
        assert!((t.during_migration_latency.max_ms - 900.0).abs() < 1e-6, "{t:?}");
        assert!((t.baseline_latency.p99_ms - 2.0).abs() < 1e-6, "{t:?}");
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(spread(&v), Spread { count: 100, p50_ms: 50.0, p99_ms: 99.0, max_ms: 100.0 });
        assert_eq!(spread(&[]), Spread::default());
    }
}
