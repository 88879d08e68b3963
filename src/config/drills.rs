//! `drills`: how `glctl verify --drills` causes a failover (HA-01, and HA-02…HA-04 / HA-06 where the file
//! opts in), and `acceptance.drills`, the file's own permission for drills on a production tier.
//!
//! RDS and Aurora fail over through their API (`RebootDBInstance` with `ForceFailover`, `FailoverDBCluster`);
//! an `external` server through a command the file declares (on the local stack `scripts/failover`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::diagnostics::{FieldPath, Finding};
use super::model::{EngineKind, Environment, Tier};

/// How a failover drill is caused and what it may stand for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Drills {
    /// `external` only: the command (program and arguments, no shell) that makes the server fail over, run
    /// from the project directory with no database credential in its environment, e.g.
    /// `[patronictl, failover, --force]` or `[scripts/failover, --hold, "1"]` on the local stack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_command: Option<Vec<String>>,
    /// Most seconds the failover may take: the command's run (it is killed after), or on RDS/Aurora the
    /// wait for the client's writer to change (default 120).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_timeout_seconds: Option<u32>,
    /// Aurora only: the reader (a name of `engine.replicas`) `FailoverDBCluster` promotes; default: the
    /// service chooses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_target: Option<String>,
    /// HA-02, HA-03, HA-04 (network partition, storage failure, AZ loss) cannot be caused on a managed
    /// service: `true` lets the forced failover stand for them, and their evidence says so.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub simulate_with_failover: bool,
    /// `external` only: the server's failover is managed by Patroni (`failover_command` is then a
    /// `patronictl` call); HA-06 is decided by the drill's leader change.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub patroni: bool,
}

/// `acceptance.drills`: whether drills may run against this environment without `--allow-production`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DrillPermission {
    /// `verify --drills` may change this production environment (fail it over) without `--allow-production`.
    Allowed,
}

/// The default of `drills.failover_timeout_seconds`.
pub const DEFAULT_TIMEOUT_SECONDS: u32 = 120;

impl Drills {
    pub fn is_unset(&self) -> bool {
        *self == Drills::default()
    }

    pub fn timeout_seconds(&self) -> u32 {
        self.failover_timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS)
    }
}

/// Checks of `drills` and `acceptance.drills`; every finding at once.
pub fn findings(env: &Environment) -> Vec<Finding> {
    let at = FieldPath::root().key("drills");
    let d = &env.drills;
    let external = env.engine.kind == EngineKind::External;
    let mut out = Vec::new();
    if let Some(command) = &d.failover_command {
        if !external {
            out.push(Finding::error(
                at.key("failover_command"),
                "a failover command is declared only for an external server; RDS and Aurora fail over through \
                 their API (RebootDBInstance ForceFailover, FailoverDBCluster)",
            ));
        }
        if command.first().is_none_or(|program| program.trim().is_empty()) {
            out.push(Finding::error(
                at.key("failover_command"),
                "expected a program and its arguments, e.g. [scripts/failover, --hold, \"1\"]",
            ));
        }
    }
    if let Some(seconds) = d.failover_timeout_seconds {
        if !(1..=3600).contains(&seconds) {
            out.push(Finding::error(
                at.key("failover_timeout_seconds"),
                format!("{seconds} is out of range; expected 1-3600 seconds"),
            ));
        }
    }
    if let Some(target) = &d.failover_target {
        if env.engine.kind != EngineKind::AuroraPostgresql {
            out.push(Finding::error(
                at.key("failover_target"),
                "a failover target is chosen only on Aurora (FailoverDBCluster TargetDBInstanceIdentifier)",
            ));
        } else if !env.engine.replicas.iter().any(|r| &r.name == target) {
            let names: Vec<&str> = env.engine.replicas.iter().map(|r| r.name.as_str()).collect();
            out.push(Finding::error(
                at.key("failover_target"),
                format!("'{target}' is not a reader of engine.replicas; expected one of [{}]", names.join(", ")),
            ));
        }
    }
    if d.patroni && !external {
        out.push(Finding::error(
            at.key("patroni"),
            "Patroni runs only on an external server; RDS and Aurora elect their writer themselves",
        ));
    }
    if external && d.failover_command.is_none() && (d.patroni || d.simulate_with_failover) {
        out.push(Finding::error(
            at.key("failover_command"),
            "an external server's failover drill needs the command that causes it; expected drills.failover_command",
        ));
    }
    if env.acceptance.drills == Some(DrillPermission::Allowed) && env.tier != Tier::Production {
        out.push(Finding::warning(
            FieldPath::root().key("acceptance").key("drills"),
            "only a production tier needs permission for drills; this one runs them with --drills alone",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(extra: &str, kind: &str) -> Environment {
        let yaml = format!(
            "project: p\ntier: non-production\naws: {{account_id: '123456789012', region: us-east-1}}\n\
             engine: {{kind: {kind}, version: '15.8', replicas: [{{name: r1, instance_class: db.r6g.large, availability_zone: us-east-1b}}]}}\n\
             timeseries: {{backend: native}}\n{extra}"
        );
        serde_yaml_ng::from_str(&yaml).unwrap()
    }

    fn messages(env: &Environment) -> Vec<String> {
        findings(env).into_iter().map(|f| format!("{}: {}", f.path, f.message)).collect()
    }

    #[test]
    fn a_declared_command_on_an_external_server_is_valid() {
        let e = env(
            "drills: {failover_command: [scripts/failover, --hold, '1'], failover_timeout_seconds: 60}\n",
            "external",
        );
        assert!(messages(&e).is_empty(), "{:?}", messages(&e));
        assert_eq!(e.drills.timeout_seconds(), 60);
    }

    #[test]
    fn every_misplaced_or_empty_setting_is_named_at_once() {
        let e = env(
            "drills: {failover_command: [], failover_timeout_seconds: 0, failover_target: r9, patroni: true}\n",
            "rds-postgresql",
        );
        let m = messages(&e).join("\n");
        assert!(m.contains("drills.failover_command: a failover command is declared only for an external"), "{m}");
        assert!(m.contains("drills.failover_command: expected a program"), "{m}");
        assert!(m.contains("drills.failover_timeout_seconds: 0 is out of range"), "{m}");
        assert!(m.contains("drills.failover_target: a failover target is chosen only on Aurora"), "{m}");
        assert!(m.contains("drills.patroni: Patroni runs only on an external server"), "{m}");
    }

    #[test]
    fn an_aurora_target_must_be_a_declared_reader() {
        let e = env("drills: {failover_target: r9}\n", "aurora-postgresql");
        assert!(messages(&e)[0].contains("'r9' is not a reader of engine.replicas; expected one of [r1]"));
        assert!(messages(&env("drills: {failover_target: r1}\n", "aurora-postgresql")).is_empty());
    }

    #[test]
    fn simulation_on_external_needs_the_command_and_permission_is_for_production() {
        let e = env("drills: {simulate_with_failover: true}\nacceptance: {drills: allowed}\n", "external");
        let m = messages(&e).join("\n");
        assert!(m.contains("expected drills.failover_command"), "{m}");
        assert!(m.contains("acceptance.drills: only a production tier needs permission"), "{m}");
        assert!(serde_yaml_ng::from_str::<Environment>(
            "project: p\ntier: production\naws: {account_id: '1', region: r}\nengine: {kind: external, version: '1'}\n\
             timeseries: {backend: native}\nacceptance: {drills: sometimes}\n"
        )
        .is_err());
    }
}
