//! The verdicts of a failover drill: which checks it decides (HA-01; HA-02…HA-04 where the file lets a
//! forced failover stand for them; HA-06 on a Patroni-managed external server), what they say without
//! `--drills`, what a drill observed (`DrillEnd`, `Measurement`, the markers it committed) and the decision
//! over it.

use std::time::Instant;

use super::{CheckResult, Evidence, Outcome, Skip};
use crate::config::model::{EngineKind, Environment};

/// PRD §10.3: a Patroni leader election within 10 s (HA-06).
pub const PATRONI_RTO_SECONDS: f64 = 10.0;

/// Between the starts of two resolutions.
pub const ENDPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// One committed marker.
#[derive(Clone, Debug)]
pub struct Marker {
    pub seq: i64,
    /// The server's `clock_timestamp()` at the insert, epoch seconds.
    pub at: f64,
    /// Which server committed it (`addr:port`).
    pub writer: String,
    /// When the client saw the commit.
    pub seen: Instant,
}

/// RTO by the servers' clocks and by the client's, and the new writer: the last commit on `old` before the
/// first commit elsewhere, and that first commit.
pub fn measure(commits: &[Marker], old: &str) -> (Option<f64>, Option<f64>, Option<String>) {
    let Some(first_new) = commits.iter().position(|m| m.writer != old) else { return (None, None, None) };
    let Some(last_old) = commits[..first_new].iter().rposition(|m| m.writer == old) else {
        return (None, None, Some(commits[first_new].writer.clone()));
    };
    let (a, b) = (&commits[last_old], &commits[first_new]);
    (Some(b.at - a.at), Some(b.seen.duration_since(a.seen).as_secs_f64()), Some(b.writer.clone()))
}

/// What the drill measured.
#[derive(Debug)]
pub struct Measurement {
    pub cause: String,
    /// What the cause said: the command's output, or the RDS calls and events.
    pub cause_said: String,
    pub old_writer: String,
    pub new_writer: Option<String>,
    /// First commit on the new writer − last commit on the old one, by the servers' clocks.
    pub rto_seconds: Option<f64>,
    /// RDS/Aurora: when the writer endpoint's addresses changed (`drills::failover::endpoint`), or why not known.
    pub endpoint: Option<String>,
    /// RDS/Aurora: an event saying RDS refused (RDS-EVENT-0034) or failed (RDS-EVENT-0069) the failover.
    pub rds_refusal: Option<String>,
    /// The same gap as the client saw it.
    pub client_gap_seconds: Option<f64>,
    pub committed: usize,
    pub in_doubt: usize,
    /// Failed inserts and connection attempts while no writer answered.
    pub errors: usize,
    /// Committed markers the new writer does not have.
    pub missing: Result<Vec<i64>, String>,
    /// Whether every declared standby streams from the new writer again.
    pub topology: Result<String, String>,
    pub cleanup: Result<String, String>,
}

/// How a drill ended.
#[derive(Debug)]
pub enum DrillEnd {
    /// The topology cannot fail over; nothing was done.
    NoStandby(String),
    /// Nothing was done: the writer could not be reached, or the steady state did not hold.
    NotStarted(String),
    /// The failover was not caused (the command failed or hung, the API refused); what state is left.
    NotCaused { why: String, state: String },
    /// Ctrl-C or SIGTERM: what state the drill left.
    Interrupted(String),
    /// Boxed: the measurement is much larger than the other ends.
    Measured(Box<Measurement>),
}

pub fn either(r: &Result<String, String>) -> String {
    match r {
        Ok(s) | Err(s) => s.clone(),
    }
}

/// Whether the file wants HA-02…HA-04 / HA-06 decided by the failover drill.
pub fn simulates(env: &Environment, id: &str) -> bool {
    match id {
        "HA-01" => true,
        "HA-02" | "HA-03" | "HA-04" => env.drills.simulate_with_failover,
        "HA-06" => env.engine.kind == EngineKind::External && env.drills.patroni,
        _ => false,
    }
}

/// HA-02…HA-04 without `--drills` (the `CHECKS` entries): a drill where the file opts into the simulation,
/// else the plain reason.
pub fn partition_storage_az(env: &Environment, what: &str) -> Outcome {
    if env.drills.simulate_with_failover {
        return Outcome::Skip(Skip::NeedsDrills, "simulated by a forced failover; run with `--drills`".into());
    }
    let why = match env.engine.kind {
        EngineKind::External => format!(
            "glctl cannot cause {what} on an external server; `drills.simulate_with_failover: true` lets the \
             forced failover stand for it"
        ),
        _ => format!(
            "{what} cannot be caused on a managed service (RDS, Aurora); `drills.simulate_with_failover: true` \
             lets a forced failover stand for it"
        ),
    };
    Outcome::Skip(Skip::NotApplicable, why)
}

/// HA-06 without `--drills`: only an external server that declares Patroni has a leader election.
pub fn ha06(env: &Environment) -> Outcome {
    match env.engine.kind {
        EngineKind::External if env.drills.patroni => {
            Outcome::Skip(Skip::NeedsDrills, "a Patroni failover drill changes the target; run with `--drills`".into())
        }
        EngineKind::External => Outcome::Skip(
            Skip::NotApplicable,
            "the environment declares no Patroni (drills.patroni): there is no leader election to drill".into(),
        ),
        _ => Outcome::Skip(
            Skip::NotApplicable,
            "Patroni does not exist on Aurora or RDS: the service elects the new writer itself (HA-01 drills it)"
                .into(),
        ),
    }
}

/// Whether `result` is one the failover drill decides (selected, not waived).
pub fn wanted(env: &Environment, result: &CheckResult) -> bool {
    simulates(env, result.id) && !result.waived()
}

/// Puts the drill's verdicts into `results`: HA-01, and HA-02…HA-04 / HA-06 where the file lets the drill
/// stand for them. Checks waived or not selected are left alone.
pub fn apply(results: &mut [CheckResult], env: &Environment, end: &DrillEnd, at: &str) {
    let rto_target = f64::from(env.acceptance.failover_rto_seconds);
    let decided: Vec<&'static str> = results.iter().filter(|r| wanted(env, r)).map(|r| r.id).collect();
    for id in decided {
        let (limit, label) = match id {
            "HA-06" => (PATRONI_RTO_SECONDS, "Patroni leader change"),
            "HA-01" => (rto_target, "failover"),
            _ => (rto_target, "simulated by a forced failover"),
        };
        super::set_result(results, id, decide(end, limit, label), at);
        if let (Some(what), Some(result)) = (stood_in_for(id), results.iter_mut().find(|r| r.id == id)) {
            result.stand_in(&format!("a plain forced failover stood in for {what} (drills.simulate_with_failover)"));
        }
    }
}

/// What the forced failover stands in for, for HA-02…HA-04.
fn stood_in_for(id: &str) -> Option<&'static str> {
    match id {
        "HA-02" => Some("a network partition"),
        "HA-03" => Some("a storage (EBS volume) failure"),
        "HA-04" => Some("the loss of an availability zone"),
        _ => None,
    }
}

/// The verdict over one drill, against `limit` seconds of RTO.
pub fn decide(end: &DrillEnd, limit: f64, label: &str) -> Outcome {
    let prefix = |s: String| if label == "failover" { s } else { format!("{label}: {s}") };
    let m = match end {
        DrillEnd::NoStandby(why) => {
            return Outcome::Fail(prefix(format!("refused before anything happened: {why}")), vec![])
        }
        DrillEnd::NotStarted(why) => return Outcome::Error(prefix(why.clone())),
        DrillEnd::NotCaused { why, state } => return Outcome::Error(prefix(format!("{why}; {state}"))),
        DrillEnd::Interrupted(state) => return Outcome::Error(prefix(format!("interrupted: {state}"))),
        DrillEnd::Measured(m) => m,
    };
    // An RDS event saying the failover was refused or failed decides, whatever the client saw.
    if let Some(refusal) = &m.rds_refusal {
        return Outcome::Error(prefix(format!("{refusal}; {}; {}", m.cause_said, either(&m.cleanup))));
    }
    let endpoint = m.endpoint.as_ref().map(|e| format!("; {e}")).unwrap_or_default();
    let Some(new_writer) = m.new_writer.as_ref().filter(|w| **w != m.old_writer) else {
        return Outcome::Error(prefix(format!(
            "no failover happened: every committed marker ({}) is on the writer {} ({}); no RTO can be measured{endpoint}; {}",
            m.committed,
            m.old_writer,
            m.cause_said,
            either(&m.cleanup)
        )));
    };
    let rto = m.rto_seconds.unwrap_or(f64::INFINITY);
    let rpo = match &m.missing {
        Ok(missing) => format!("{} committed markers missing", missing.len()),
        Err(why) => format!("not read: {why}"),
    };
    let mut evidence = vec![
        Evidence {
            observed: format!(
                "RTO {rto:.2} s (last commit on {} → first on {new_writer}; the client saw a gap of {:.2} s)",
                m.old_writer,
                m.client_gap_seconds.unwrap_or_default()
            ),
            expected: format!("RTO < {limit} s"),
            source: format!("{label}: {}", m.cause),
            at: String::new(),
        },
        Evidence {
            observed: format!(
                "RPO: {rpo} of {} ({} in doubt, not counted; {} failed attempts while no writer answered)",
                m.committed, m.in_doubt, m.errors
            ),
            expected: "RPO 0: every committed marker on the new writer".into(),
            source: "SELECT seq FROM the drill table on the new writer".into(),
            at: String::new(),
        },
        Evidence {
            observed: either(&m.topology),
            expected: "every declared standby streaming from the new writer".into(),
            source: "pg_stat_replication on the new writer".into(),
            at: String::new(),
        },
        Evidence {
            observed: m.cause_said.clone(),
            expected: "the failover caused".into(),
            source: m.cause.clone(),
            at: String::new(),
        },
        Evidence {
            observed: either(&m.cleanup),
            expected: "drill table dropped".into(),
            source: "DROP TABLE".into(),
            at: String::new(),
        },
    ];
    if let Some(observed) = &m.endpoint {
        // Next to the RTO; evidence only, the verdict does not rest on it.
        evidence.insert(
            1,
            Evidence {
                observed: observed.clone(),
                expected: "the writer endpoint resolves to the new writer (evidence, not part of the verdict)".into(),
                source: format!("DNS resolution every {} ms (tokio)", ENDPOINT_EVERY.as_millis()),
                at: String::new(),
            },
        );
    }
    let mut problems = Vec::new();
    match &m.missing {
        Ok(missing) if !missing.is_empty() => {
            let shown: Vec<String> = missing.iter().take(10).map(i64::to_string).collect();
            problems.push(format!("RPO: {} committed markers lost (seq {})", missing.len(), shown.join(", ")));
        }
        Ok(_) => {}
        Err(why) => return Outcome::Error(prefix(format!("the new writer's markers could not be read: {why}"))),
    }
    if rto >= limit {
        problems.push(format!("RTO {rto:.2} s is not below {limit} s"));
    }
    if let Err(why) = &m.topology {
        problems.push(format!("the topology is not whole again: {why}"));
    }
    if problems.is_empty() {
        Outcome::Pass(evidence)
    } else {
        Outcome::Fail(prefix(problems.join("; ")), evidence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::drills_permitted as permitted;
    use std::time::{Duration, Instant};

    fn marker(seq: i64, at: f64, writer: &str, base: Instant) -> Marker {
        Marker { seq, at, writer: writer.into(), seen: base + Duration::from_secs_f64(at - 100.0) }
    }

    fn measured(commits: &[Marker], missing: Vec<i64>) -> DrillEnd {
        let (rto, gap, new) = measure(commits, "127.0.0.1:5432");
        DrillEnd::Measured(Box::new(Measurement {
            cause: "drills.failover_command: scripts/failover".into(),
            cause_said: "done".into(),
            old_writer: "127.0.0.1:5432".into(),
            new_writer: new,
            rto_seconds: rto,
            endpoint: None,
            rds_refusal: None,
            client_gap_seconds: gap,
            committed: commits.len(),
            in_doubt: 1,
            errors: 7,
            missing: Ok(missing),
            topology: Ok("standby_sync streaming/sync".into()),
            cleanup: Ok("dropped".into()),
        }))
    }

    fn failover(base: Instant) -> Vec<Marker> {
        vec![
            marker(1, 100.0, "127.0.0.1:5432", base),
            marker(2, 100.05, "127.0.0.1:5432", base),
            marker(4, 102.55, "127.0.0.1:5433", base),
            marker(5, 102.6, "127.0.0.1:5433", base),
        ]
    }

    #[test]
    fn rto_runs_from_the_last_commit_on_the_old_writer_to_the_first_on_the_new() {
        let (rto, gap, new) = measure(&failover(Instant::now()), "127.0.0.1:5432");
        assert!((rto.unwrap() - 2.5).abs() < 1e-9 && (gap.unwrap() - 2.5).abs() < 1e-6, "{rto:?} {gap:?}");
        assert_eq!(new.as_deref(), Some("127.0.0.1:5433"));
    }

    #[test]
    fn a_failover_within_the_target_and_nothing_lost_passes_with_rto_and_rpo() {
        match decide(&measured(&failover(Instant::now()), vec![]), 30.0, "failover") {
            Outcome::Pass(e) => {
                assert!(e[0].observed.starts_with("RTO 2.50 s"), "{e:?}");
                assert!(e[1].observed.starts_with("RPO: 0 committed markers missing of 4"), "{e:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_lost_marker_a_slow_failover_or_a_broken_topology_fails() {
        let lost = decide(&measured(&failover(Instant::now()), vec![2]), 30.0, "failover");
        assert!(matches!(&lost, Outcome::Fail(w, _) if w.contains("1 committed markers lost (seq 2)")), "{lost:?}");
        let slow = decide(&measured(&failover(Instant::now()), vec![]), 2.0, "Patroni leader change");
        assert!(
            matches!(&slow, Outcome::Fail(w, _) if w.starts_with("Patroni leader change: RTO 2.50 s is not below 2 s")),
            "{slow:?}"
        );
        let DrillEnd::Measured(mut m) = measured(&failover(Instant::now()), vec![]) else { unreachable!() };
        m.topology = Err("not streaming: standby_async".into());
        assert!(
            matches!(decide(&DrillEnd::Measured(m), 30.0, "failover"), Outcome::Fail(w, _) if w.contains("standby_async"))
        );
    }

    #[test]
    fn no_failover_is_an_error_never_a_zero_second_pass() {
        let base = Instant::now();
        let same = vec![marker(1, 100.0, "127.0.0.1:5432", base), marker(2, 100.1, "127.0.0.1:5432", base)];
        let outcome = decide(&measured(&same, vec![]), 30.0, "failover");
        assert!(matches!(&outcome, Outcome::Error(w) if w.contains("no failover happened")), "{outcome:?}");
        let refused = decide(&DrillEnd::NoStandby("no standby".into()), 30.0, "failover");
        assert!(matches!(refused, Outcome::Fail(w, _) if w.contains("refused before anything happened")));
        let unreachable = DrillEnd::NotStarted("the writer cannot be reached, nothing was done: refused".into());
        assert!(matches!(decide(&unreachable, 30.0, "failover"), Outcome::Error(w) if w.contains("nothing was done")));
        let hung = DrillEnd::NotCaused { why: "timed out".into(), state: "writable".into() };
        assert!(matches!(decide(&hung, 30.0, "failover"), Outcome::Error(_)));
    }

    #[test]
    fn an_rds_refusal_or_failure_event_is_an_error_and_the_endpoint_stands_next_to_the_rto() {
        let DrillEnd::Measured(mut m) = measured(&failover(Instant::now()), vec![]) else { unreachable!() };
        m.endpoint = Some("endpoint db.cluster-x re-pointed after 3.25 s (10.0.1.5 → 10.0.2.7; …)".into());
        let DrillEnd::Measured(mut refused) = measured(&failover(Instant::now()), vec![]) else { unreachable!() };
        match decide(&DrillEnd::Measured(m), 30.0, "failover") {
            Outcome::Pass(e) => {
                assert!(e[0].observed.starts_with("RTO 2.50 s"), "{e:?}");
                assert!(e[1].observed.starts_with("endpoint db.cluster-x re-pointed after 3.25 s"), "{e:?}");
            }
            other => panic!("{other:?}"),
        }
        refused.rds_refusal = Some("RDS refused the failover: RDS-EVENT-0034 \"Amazon RDS is not attempting…\"".into());
        let outcome = decide(&DrillEnd::Measured(refused), 30.0, "failover");
        assert!(
            matches!(&outcome, Outcome::Error(w) if w.starts_with("RDS refused the failover: RDS-EVENT-0034")),
            "{outcome:?}"
        );
    }

    #[test]
    fn simulation_and_patroni_are_opt_in() {
        let env: Environment = serde_yaml_ng::from_str(
            "project: p\ntier: production\naws: {account_id: '123456789012', region: us-east-1}\n\
             engine: {kind: aurora-postgresql, version: '16.6'}\ntimeseries: {backend: native}\n",
        )
        .unwrap();
        assert!(simulates(&env, "HA-01") && !simulates(&env, "HA-02") && !simulates(&env, "HA-06"));
        assert!(
            matches!(partition_storage_az(&env, "a network partition"), Outcome::Skip(Skip::NotApplicable, w) if w.contains("cannot be caused on a managed service"))
        );
        assert!(permitted(&env, false).unwrap_err().contains("--allow-production"));
        assert!(permitted(&env, true).is_ok());
        let mut allowed = env.clone();
        allowed.acceptance.drills = Some(crate::config::drills::DrillPermission::Allowed);
        allowed.drills.simulate_with_failover = true;
        assert!(permitted(&allowed, false).is_ok());
        assert!(simulates(&allowed, "HA-03"));
        assert!(
            matches!(partition_storage_az(&allowed, "x"), Outcome::Skip(Skip::NeedsDrills, w) if w.contains("simulated by a forced failover"))
        );
    }

    /// HA-02…HA-04 passed by a plain failover say so in their one-line reason, not only in the evidence.
    #[test]
    fn a_failover_standing_in_for_a_partition_says_so_in_the_reason() {
        let env: Environment = serde_yaml_ng::from_str(
            "project: p\ntier: non-production\naws: {account_id: '123456789012', region: us-east-1}\n\
             engine: {kind: external, version: '16.6'}\ntimeseries: {backend: native}\n\
             drills: {simulate_with_failover: true}\n",
        )
        .unwrap();
        let selection = crate::verify::Selection { only: vec!["HA-".into()], ..Default::default() };
        let facts = crate::verify::facts::Facts::unread("-");
        let mut results = crate::verify::decide(&env, &facts, &selection, "2026-11-26");
        apply(&mut results, &env, &measured(&failover(Instant::now()), vec![]), "t");
        let reason = |id: &str| results.iter().find(|r| r.id == id).unwrap().reason.clone();
        assert_eq!(reason("HA-01"), None, "HA-01 is the failover itself");
        assert_eq!(
            reason("HA-02").as_deref(),
            Some("stand-in: a plain forced failover stood in for a network partition (drills.simulate_with_failover)")
        );
        assert!(reason("HA-04").unwrap().contains("stood in for the loss of an availability zone"));
    }
}
