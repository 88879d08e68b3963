//! `replication`: the standbys of an `external` server (glctl provisions none of them), which `verify` checks
//! from both sides: the writer's `pg_stat_replication` (FA-02 for synchronous, FA-03 for asynchronous
//! standbys) and each standby itself (`pg_is_in_recovery()`, `pg_last_wal_replay_lsn()`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The streaming standbys of an external server, as its writer names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Replication {
    /// The standbys (readers), each with the `application_name` it streams as.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub standbys: Vec<Standby>,
    /// FA-02/FA-03: most seconds a standby's replay may lag behind the writer (`replay_lag`).
    #[serde(default = "default_max_replay_lag_seconds")]
    pub max_replay_lag_seconds: u32,
}

/// Whether the writer waits for a standby's confirmation before a commit returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StandbyMode {
    /// Named in the writer's `synchronous_standby_names` (`synchronous_commit = on`): FA-02.
    Sync,
    /// Streams without holding commits: FA-03.
    Async,
}

/// One standby of an external server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Standby {
    /// Its `application_name` in the writer's `pg_stat_replication`.
    pub name: String,
    /// `sync` or `async`.
    pub mode: StandbyMode,
    /// Host it accepts (read-only) connections on; defaults to the writer's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Port it accepts connections on.
    pub port: u16,
    /// An environment variable that, when set, holds the port instead (the local stack's ports change at
    /// every start: `GLCTL_PG_SYNC_PORT`, `GLCTL_PG_ASYNC_PORT` from its env file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_from: Option<String>,
}

fn default_max_replay_lag_seconds() -> u32 {
    10
}

impl Default for Replication {
    fn default() -> Self {
        Replication { standbys: Vec::new(), max_replay_lag_seconds: default_max_replay_lag_seconds() }
    }
}

impl Replication {
    /// Whether the file says nothing of replication (then `show` says nothing either).
    pub fn is_unset(&self) -> bool {
        *self == Replication::default()
    }

    /// The standbys of one mode.
    pub fn of(&self, mode: StandbyMode) -> impl Iterator<Item = &Standby> {
        self.standbys.iter().filter(move |s| s.mode == mode)
    }
}

/// Semantic rules: standbys belong to an `external` server (RDS and Aurora report their own), each name
/// once, a port above 0, at least one second of allowed lag. Every finding at once.
pub fn check(replication: &Replication, external: bool) -> Vec<super::diagnostics::Finding> {
    use super::diagnostics::{FieldPath, Finding};
    let at = FieldPath::root().key("replication");
    let mut out = Vec::new();
    if !external && !replication.standbys.is_empty() {
        out.push(Finding::error(
            at.key("standbys"),
            "standbys are declared only for an external server; RDS and Aurora report their own (engine.multi_az, engine.replicas)",
        ));
    }
    for (i, standby) in replication.standbys.iter().enumerate() {
        let here = at.key("standbys").index(i);
        if replication.standbys[..i].iter().any(|s| s.name == standby.name) {
            out.push(Finding::error(
                here.key("name"),
                format!("standby name '{}' is used twice; expected unique names", standby.name),
            ));
        }
        if let Some(var) = &standby.port_from {
            let ok = var.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
                && var.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if !ok {
                out.push(Finding::error(
                    here.key("port_from"),
                    format!(
                        "'{var}' is not an environment variable name; expected A-Z, 0-9 and _, e.g. GLCTL_PG_SYNC_PORT"
                    ),
                ));
            }
        }
        if standby.port == 0 {
            out.push(Finding::error(here.key("port"), "0 is not a port; expected 1-65535"));
        }
    }
    if replication.max_replay_lag_seconds == 0 {
        out.push(Finding::error(
            at.key("max_replay_lag_seconds"),
            "0 would fail on every measurement; expected at least 1",
        ));
    }
    out
}
