//! FA-02 and FA-03 for an `external` server that declares its standbys (`replication`): what the writer's
//! `pg_stat_replication` says of each, and what each standby says of itself, gathered once; then a pure
//! decision per mode. A standby the writer does not list, or that cannot be reached, FAILs by name.

use tokio_postgres::Client;

use super::facts::Facts;
use super::{Evidence, Outcome, Skip};
use crate::config::model::Environment;
use crate::config::replication::{Standby, StandbyMode};
use crate::database::connect::{self, Target};

/// One row of the writer's `pg_stat_replication`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sender {
    pub application_name: String,
    pub state: String,
    pub sync_state: String,
    /// `replay_lag` in seconds; `None` while the server has no measurement (an idle writer reports none).
    pub replay_lag_seconds: Option<f64>,
    /// Bytes of WAL sent but not replayed yet.
    pub replay_lag_bytes: Option<i64>,
}

/// What a standby says of itself, or why it could not be asked.
#[derive(Clone, Debug, PartialEq)]
pub struct Reader {
    pub name: String,
    pub at: String,
    pub seen: Result<(bool, Option<String>), String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReplicationFacts {
    pub senders: Vec<Sender>,
    /// Why `pg_stat_replication` could not be read.
    pub senders_error: Option<String>,
    pub readers: Vec<Reader>,
}

/// Reads both sides; `None` when the environment declares no standby.
pub async fn gather(env: &Environment, writer: &Client, target: &Target) -> Option<ReplicationFacts> {
    if env.replication.standbys.is_empty() {
        return None;
    }
    let mut facts = ReplicationFacts::default();
    match writer
        .query(
            "SELECT coalesce(application_name, '')::text, coalesce(state, '')::text, coalesce(sync_state, '')::text,
                    extract(epoch FROM replay_lag)::float8,
                    pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint
             FROM pg_stat_replication",
            &[],
        )
        .await
    {
        Ok(rows) => {
            facts.senders = rows
                .iter()
                .map(|r| Sender {
                    application_name: r.get(0),
                    state: r.get(1),
                    sync_state: r.get(2),
                    replay_lag_seconds: r.get(3),
                    replay_lag_bytes: r.get(4),
                })
                .collect()
        }
        Err(e) => facts.senders_error = Some(connect::reason(&e)),
    }
    for standby in &env.replication.standbys {
        facts.readers.push(read_standby(standby, target).await);
    }
    Some(facts)
}

/// The standby's own view, with the writer's credentials and TLS settings.
async fn read_standby(standby: &Standby, writer: &Target) -> Reader {
    let mut target = writer.clone();
    if let Some(host) = &standby.host {
        target.host.clone_from(host);
        target.hostaddr = None;
    }
    target.port = match port_of(standby) {
        Ok(port) => port,
        Err(why) => return Reader { name: standby.name.clone(), at: format!("{}:?", target.host), seen: Err(why) },
    };
    let at = format!("{}:{}", target.host, target.port);
    let seen = match connect::connect(&target).await {
        Err(e) => Err(e.reason),
        Ok(client) => client
            .query_one("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text", &[])
            .await
            .map(|r| (r.get(0), r.get(1)))
            .map_err(|e| connect::reason(&e)),
    };
    Reader { name: standby.name.clone(), at, seen }
}

/// The standby's port: `port_from`'s variable when it is set, else `port`.
pub fn port_of(standby: &Standby) -> Result<u16, String> {
    match standby.port_from.as_deref().and_then(|var| std::env::var(var).ok().map(|v| (var, v))) {
        None => Ok(standby.port),
        Some((var, value)) => value
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("{var} is '{value}', not a port (replication.standbys port_from)")),
    }
}

/// FA-02 (`Sync`) or FA-03 (`Async`) for an external server: not applicable without a declared standby of
/// that mode, an ERROR when the writer could not be read.
pub fn check(env: &Environment, facts: &Facts, mode: StandbyMode) -> Outcome {
    if env.replication.of(mode).next().is_none() {
        return decide(env, &None, mode);
    }
    match &facts.database {
        Ok(d) => decide(env, &d.replication, mode),
        Err(why) => Outcome::Error(format!("the database could not be read: {why}")),
    }
}

/// FA-02 (`Sync`) or FA-03 (`Async`) over the gathered facts.
pub fn decide(env: &Environment, facts: &Option<ReplicationFacts>, mode: StandbyMode) -> Outcome {
    let wanted: Vec<&Standby> = env.replication.of(mode).collect();
    let label = match mode {
        StandbyMode::Sync => "sync",
        StandbyMode::Async => "async",
    };
    if wanted.is_empty() {
        return Outcome::Skip(
            Skip::NotApplicable,
            format!("the environment declares no {label} standby (replication.standbys)"),
        );
    }
    let Some(facts) = facts else {
        return Outcome::Error("the standbys were not read".into());
    };
    if let Some(why) = &facts.senders_error {
        return Outcome::Error(format!("pg_stat_replication could not be read: {why}"));
    }
    let max_lag = f64::from(env.replication.max_replay_lag_seconds);
    let mut evidence = Vec::new();
    let mut problems = Vec::new();
    for standby in wanted {
        let sender = facts.senders.iter().find(|s| s.application_name == standby.name);
        let observed = match sender {
            None => {
                problems.push(format!("{} is not streaming (the writer does not list it)", standby.name));
                "absent".to_string()
            }
            Some(s) => {
                let lag = s.replay_lag_seconds.unwrap_or(0.0);
                if s.state != "streaming" || s.sync_state != label {
                    problems.push(format!("{} is {}/{}, not streaming/{label}", standby.name, s.state, s.sync_state));
                } else if lag > max_lag {
                    problems.push(format!("{} lags {lag:.1} s behind the writer (at most {max_lag} s)", standby.name));
                }
                format!(
                    "{}/{} replay lag {} s, {} bytes",
                    s.state,
                    s.sync_state,
                    s.replay_lag_seconds.map_or("0".into(), |l| format!("{l:.3}")),
                    s.replay_lag_bytes.map_or("?".into(), |b| b.to_string())
                )
            }
        };
        evidence.push(Evidence {
            observed: format!("{}: {observed}", standby.name),
            expected: format!("{}: streaming/{label}, replay lag ≤ {max_lag} s", standby.name),
            source: "pg_stat_replication on the writer".into(),
            at: String::new(),
        });
        let reader = facts.readers.iter().find(|r| r.name == standby.name);
        let observed = match reader.map(|r| (&r.at, &r.seen)) {
            None => "not read".to_string(),
            Some((at, Err(why))) => {
                problems.push(format!("{} at {at} cannot be reached: {why}", standby.name));
                format!("{at}: unreachable: {why}")
            }
            Some((at, Ok((in_recovery, lsn)))) => {
                if !in_recovery {
                    problems.push(format!("{} at {at} is not in recovery (it is a writer)", standby.name));
                } else if lsn.is_none() {
                    problems.push(format!("{} at {at} has replayed no WAL", standby.name));
                }
                format!("{at}: in recovery {in_recovery}, replayed up to {}", lsn.as_deref().unwrap_or("nothing"))
            }
        };
        evidence.push(Evidence {
            observed: format!("{}: {observed}", standby.name),
            expected: format!("{}: in recovery, replaying WAL", standby.name),
            source: "pg_is_in_recovery(), pg_last_wal_replay_lsn() on the standby".into(),
            at: String::new(),
        });
    }
    if problems.is_empty() {
        Outcome::Pass(evidence)
    } else {
        Outcome::Fail(problems.join("; "), evidence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Environment {
        let yaml = "project: p\ntier: non-production\naws: {account_id: '123456789012', region: us-east-1}\n\
            engine: {kind: external, version: '15.8'}\ntimeseries: {backend: native}\n\
            replication:\n  standbys:\n    - {name: s1, mode: sync, port: 5433}\n    - {name: a1, mode: async, port: 5434}\n";
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    fn sender(name: &str, sync: &str, lag: f64) -> Sender {
        Sender {
            application_name: name.into(),
            state: "streaming".into(),
            sync_state: sync.into(),
            replay_lag_seconds: Some(lag),
            replay_lag_bytes: Some(0),
        }
    }

    fn reader(name: &str, in_recovery: bool) -> Reader {
        Reader { name: name.into(), at: "localhost:1".into(), seen: Ok((in_recovery, Some("0/3000000".into()))) }
    }

    fn healthy() -> ReplicationFacts {
        ReplicationFacts {
            senders: vec![sender("s1", "sync", 0.01), sender("a1", "async", 0.2)],
            senders_error: None,
            readers: vec![reader("s1", true), reader("a1", true)],
        }
    }

    #[test]
    fn a_healthy_topology_passes_both_modes_with_evidence_from_both_sides() {
        for mode in [StandbyMode::Sync, StandbyMode::Async] {
            match decide(&env(), &Some(healthy()), mode) {
                Outcome::Pass(ev) => assert_eq!(ev.len(), 2, "{ev:?}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_missing_standby_fails_by_name() {
        let mut f = healthy();
        f.senders.retain(|s| s.application_name != "s1");
        f.readers[0].seen = Err("connection refused".into());
        match decide(&env(), &Some(f), StandbyMode::Sync) {
            Outcome::Fail(why, _) => assert!(why.contains("s1 is not streaming") && why.contains("refused"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn wrong_mode_lag_and_a_promoted_reader_fail() {
        let mut f = healthy();
        f.senders[0].sync_state = "async".into();
        assert!(
            matches!(decide(&env(), &Some(f), StandbyMode::Sync), Outcome::Fail(w, _) if w.contains("not streaming/sync"))
        );
        let mut f = healthy();
        f.senders[1].replay_lag_seconds = Some(60.0);
        assert!(matches!(decide(&env(), &Some(f), StandbyMode::Async), Outcome::Fail(w, _) if w.contains("lags")));
        let mut f = healthy();
        f.readers[1] = reader("a1", false);
        assert!(
            matches!(decide(&env(), &Some(f), StandbyMode::Async), Outcome::Fail(w, _) if w.contains("not in recovery"))
        );
    }

    #[test]
    fn unread_facts_are_errors_and_undeclared_modes_not_applicable() {
        let mut f = healthy();
        f.senders_error = Some("permission denied".into());
        assert!(matches!(decide(&env(), &Some(f), StandbyMode::Sync), Outcome::Error(_)));
        assert!(matches!(decide(&env(), &None, StandbyMode::Sync), Outcome::Error(_)));
        let mut e = env();
        e.replication.standbys.retain(|s| s.mode == StandbyMode::Sync);
        assert!(matches!(decide(&e, &Some(healthy()), StandbyMode::Async), Outcome::Skip(Skip::NotApplicable, _)));
    }
}
