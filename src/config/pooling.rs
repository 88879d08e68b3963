//! Connection pooling in the environment model (`pooling:`), and the rules its arithmetic must satisfy.
//!
//! The PRD's own numbers do not add up: two PgBouncers × `max_db_connections = 400` can open 800 server
//! connections to a primary whose `max_connections` is 100 (§3.4) or 500 (§4.2). validate refuses that with
//! the sum shown, and refuses transaction pooling of named prepared statements on a PgBouncer before 1.21
//! (Debian 12 ships 1.18), which fails at run time with "prepared statement … does not exist".

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::diagnostics::{FieldPath, Finding};
use super::model::{EngineKind, Environment};

/// How clients reach the database: through PgBouncer, RDS Proxy, or directly.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pooling {
    /// `pgbouncer` (glctl renders `pgbouncer.ini` and its auth setup), `rds-proxy`, or `none`.
    #[serde(default)]
    pub kind: PoolKind,
    /// PgBouncers in front of the writer (the PRD draws two); each can open its own server connections.
    #[serde(default = "two")]
    pub instances: u32,
    /// PgBouncer version the deployment runs (named prepared statements need 1.21 under transaction pooling).
    #[serde(default = "default_version")]
    pub pgbouncer_version: String,
    /// `session`, `transaction` or `statement`.
    #[serde(default)]
    pub pool_mode: PoolMode,
    /// PgBouncer `listen_addr` (`*`: every interface; the local stack listens on loopback only).
    #[serde(default = "default_listen_addr")]
    pub listen_addr: String,
    /// PgBouncer `listen_port`.
    #[serde(default = "default_port")]
    pub listen_port: u16,
    /// Client connections one PgBouncer accepts (`max_client_conn`).
    #[serde(default = "default_max_client")]
    pub max_client_conn: u32,
    /// Server connections per user/database pair (`default_pool_size`).
    #[serde(default = "default_pool")]
    pub default_pool_size: u32,
    /// Extra server connections when clients wait longer than `reserve_pool_timeout_seconds`.
    #[serde(default)]
    pub reserve_pool_size: u32,
    #[serde(default = "five")]
    pub reserve_pool_timeout_seconds: u32,
    /// Most server connections one PgBouncer opens to the database, all pools together (0: no limit).
    #[serde(default)]
    pub max_db_connections: u32,
    /// Close a server connection after this many seconds (`server_lifetime`).
    #[serde(default = "hour")]
    pub server_lifetime_seconds: u32,
    /// Close a server connection idle this long (`server_idle_timeout`).
    #[serde(default = "ten_minutes")]
    pub server_idle_timeout_seconds: u32,
    /// Cancel a query running longer than this (`query_timeout`; 0: never).
    #[serde(default)]
    pub query_timeout_seconds: u32,
    /// The role PgBouncer looks passwords up as (`auth_user`, through `auth_query` and a lookup function).
    #[serde(default = "default_auth_user")]
    pub auth_user: String,
    /// The file PgBouncer reads the lookup role's own password from (`auth_file`; a relative path is opened
    /// from PgBouncer's working directory). Written by the deployment from a secret, never by glctl.
    #[serde(default = "default_auth_file")]
    pub auth_file: String,
    /// How HA-05's drill (`verify --drills`) starts a PgBouncer again after stopping it through its admin
    /// console (`SHUTDOWN`): a command and its arguments, `{instance}` standing for the PgBouncer's number
    /// (1-based, in `--pooler-url`'s order), run from the project directory with only `PATH`, `HOME`, `USER`,
    /// `LOGNAME`, `LANG`, `LC_ALL`, `TZ`, `TMPDIR` and `GLCTL_STACK_DIR` of glctl's environment, as the failover
    /// command. Empty: HA-05 cannot run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restart_command: Vec<String>,
    /// `rds-proxy`: the proxy's settings (rendered as `aws_db_proxy` with its default target group).
    #[serde(default)]
    pub rds_proxy: RdsProxy,
    /// How the applications' drivers prepare statements: `unnamed` (libpq's PQexecParams, tokio-postgres'
    /// `query_typed`, JDBC with `prepareThreshold=0`) or `named` (server-side prepared statements).
    #[serde(default)]
    pub client_prepared_statements: PreparedStatements,
}

impl Default for Pooling {
    fn default() -> Self {
        serde_yaml_ng::from_str("{}").expect("every field has a default")
    }
}

/// RDS Proxy in front of the writer: clients authenticate with IAM (or the secrets' passwords), the proxy
/// reaches the database with the Secrets Manager secrets (the master secret and every password login's).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RdsProxy {
    /// `required`: clients authenticate to the proxy with IAM tokens; `disabled`: with the passwords.
    #[serde(default)]
    pub iam_auth: ProxyIamAuth,
    /// Most of the database's `max_connections` the proxy opens, percent (1–100).
    #[serde(default = "hundred")]
    pub max_connections_percent: u32,
    /// Most of `max_connections` the proxy keeps open while idle, percent (at most `max_connections_percent`).
    #[serde(default = "fifty")]
    pub max_idle_connections_percent: u32,
    /// Seconds a client waits for a database connection before an error (0–3600).
    #[serde(default = "two_minutes")]
    pub connection_borrow_timeout_seconds: u32,
    /// Seconds before the proxy closes an idle client connection (1–28800).
    #[serde(default = "half_hour")]
    pub idle_client_timeout_seconds: u32,
}

impl Default for RdsProxy {
    fn default() -> Self {
        serde_yaml_ng::from_str("{}").expect("every field has a default")
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ProxyIamAuth {
    #[default]
    Required,
    Disabled,
}

impl ProxyIamAuth {
    /// The word the RDS API takes.
    pub fn api(self) -> &'static str {
        match self {
            ProxyIamAuth::Required => "REQUIRED",
            ProxyIamAuth::Disabled => "DISABLED",
        }
    }
}

fn hundred() -> u32 {
    100
}
fn fifty() -> u32 {
    50
}
fn two_minutes() -> u32 {
    120
}
fn half_hour() -> u32 {
    1800
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PoolKind {
    #[default]
    None,
    Pgbouncer,
    RdsProxy,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PoolMode {
    Session,
    #[default]
    Transaction,
    Statement,
}

impl PoolMode {
    pub fn name(self) -> &'static str {
        match self {
            PoolMode::Session => "session",
            PoolMode::Transaction => "transaction",
            PoolMode::Statement => "statement",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PreparedStatements {
    #[default]
    Unnamed,
    Named,
}

fn two() -> u32 {
    2
}
fn five() -> u32 {
    5
}
fn hour() -> u32 {
    3600
}
fn ten_minutes() -> u32 {
    600
}
fn default_port() -> u16 {
    6432
}
fn default_max_client() -> u32 {
    1000
}
fn default_pool() -> u32 {
    20
}
fn default_version() -> String {
    "1.18".into()
}
fn default_listen_addr() -> String {
    "*".into()
}
fn default_auth_file() -> String {
    "/etc/pgbouncer/userlist.txt".into()
}
fn default_auth_user() -> String {
    "pgbouncer_auth".into()
}

/// Connection slots PostgreSQL keeps for superusers (`superuser_reserved_connections`, documented default 3),
/// and `rds.rds_superuser_reserved_connections` when the file sets it (RDS and Aurora also keep slots for
/// their own `rdsadmin`, which makes the real headroom smaller still; their defaults are not assumed here).
fn reserved(env: &Environment) -> (u32, Vec<String>) {
    let setting = |name: &str| env.parameters.get(name).and_then(|v| v.0.trim().parse::<u32>().ok());
    let superuser = setting("superuser_reserved_connections").unwrap_or(3);
    let mut total = superuser;
    let mut parts = vec![format!("{superuser} superuser_reserved_connections")];
    if env.engine.kind != EngineKind::External {
        if let Some(rds) = setting("rds.rds_superuser_reserved_connections") {
            total = total.saturating_add(rds);
            parts.push(format!("{rds} rds.rds_superuser_reserved_connections"));
        }
    }
    (total, parts)
}

fn version_at_least(version: &str, major: u32, minor: u32) -> Option<bool> {
    let mut parts = version.split('.').map(|p| p.parse::<u32>());
    match (parts.next(), parts.next()) {
        (Some(Ok(a)), Some(Ok(b))) => Some((a, b) >= (major, minor)),
        _ => None,
    }
}

/// The pooling rules: every finding at once.
pub fn check(env: &Environment) -> Vec<Finding> {
    let mut out = Vec::new();
    let pool = &env.pooling;
    let p = |field: &str| FieldPath::parse(&format!("pooling.{field}"));
    if pool.kind == PoolKind::RdsProxy {
        return check_rds_proxy(env);
    }
    if pool.kind != PoolKind::Pgbouncer {
        return out;
    }
    if pool.instances == 0 {
        out.push(Finding::error(p("instances"), "0 PgBouncers; expected at least 1 (the PRD draws two)"));
    }
    let Some(at_least_121) = version_at_least(&pool.pgbouncer_version, 1, 21) else {
        out.push(Finding::error(
            p("pgbouncer_version"),
            format!("'{}' is not a version; expected MAJOR.MINOR such as 1.18", pool.pgbouncer_version),
        ));
        return out;
    };
    if pool.pool_mode != PoolMode::Session
        && pool.client_prepared_statements == PreparedStatements::Named
        && !at_least_121
    {
        out.push(Finding::error(
            p("client_prepared_statements"),
            format!(
                "named prepared statements under {} pooling need PgBouncer 1.21 or later (max_prepared_statements); \
                 pgbouncer_version is {}: use unnamed statements (libpq PQexecParams, tokio-postgres query_typed, JDBC \
                 prepareThreshold=0) or session pooling",
                pool.pool_mode.name(),
                pool.pgbouncer_version
            ),
        ));
    }
    // A pool larger than the per-PgBouncer cap can never fill.
    let pool_total = pool.default_pool_size.checked_add(pool.reserve_pool_size);
    if let (Some(total), true) = (pool_total, pool.max_db_connections > 0) {
        if total > pool.max_db_connections {
            out.push(Finding::warning(
                p("default_pool_size"),
                format!(
                    "default_pool_size {} + reserve_pool_size {} = {total} exceeds max_db_connections {}: the pool can \
                     never fill",
                    pool.default_pool_size, pool.reserve_pool_size, pool.max_db_connections
                ),
            ));
        }
    }
    // What all PgBouncers together may open, against what the primary accepts.
    let Some(max_connections) = env.parameters.get("max_connections").and_then(|v| v.0.trim().parse::<u32>().ok())
    else {
        if env.parameters.contains_key("max_connections") {
            out.push(Finding::warning(
                p("max_db_connections"),
                "parameters.max_connections is not a number (an AWS formula?): the PgBouncers' server connections \
                 cannot be checked against it",
            ));
        }
        return out;
    };
    let (reserved, reserved_parts) = reserved(env);
    let available = max_connections.saturating_sub(reserved);
    let (per_instance, field, what) = if pool.max_db_connections > 0 {
        (Some(pool.max_db_connections), "max_db_connections", format!("max_db_connections {}", pool.max_db_connections))
    } else {
        (
            pool_total,
            "default_pool_size",
            format!(
                "(default_pool_size {} + reserve_pool_size {}, no max_db_connections)",
                pool.default_pool_size, pool.reserve_pool_size
            ),
        )
    };
    let sum = per_instance.and_then(|n| n.checked_mul(pool.instances));
    match sum {
        Some(sum) if sum <= available => {}
        _ => {
            let sum = sum.map(|s| s.to_string()).unwrap_or_else(|| "more than 4294967295".into());
            let each = available / pool.instances.max(1);
            out.push(Finding::error(
                p(field),
                format!(
                    "{} PgBouncer(s) × {what} = {sum} server connections, but the primary accepts {available} \
                     (max_connections {max_connections} − {}); expected at most {each} per PgBouncer",
                    pool.instances,
                    reserved_parts.join(" − ")
                ),
            ));
        }
    }
    out
}

/// RDS Proxy fronts RDS and Aurora only, and the API's ranges (RDS API, ConnectionPoolConfiguration and
/// CreateDBProxy): every finding at once.
fn check_rds_proxy(env: &Environment) -> Vec<Finding> {
    let mut out = Vec::new();
    let p = |field: &str| FieldPath::parse(&format!("pooling.{field}"));
    let proxy = &env.pooling.rds_proxy;
    if env.engine.kind == EngineKind::External {
        out.push(Finding::error(
            p("kind"),
            "rds-proxy fronts RDS or Aurora only; an external server needs pgbouncer (or none)",
        ));
    }
    if !(1..=100).contains(&proxy.max_connections_percent) {
        out.push(Finding::error(
            p("rds_proxy.max_connections_percent"),
            format!("{} is not a percentage from 1 to 100", proxy.max_connections_percent),
        ));
    }
    if proxy.max_idle_connections_percent > proxy.max_connections_percent {
        out.push(Finding::error(
            p("rds_proxy.max_idle_connections_percent"),
            format!(
                "{} exceeds max_connections_percent {}: the proxy cannot keep more idle connections than it may open",
                proxy.max_idle_connections_percent, proxy.max_connections_percent
            ),
        ));
    }
    if proxy.connection_borrow_timeout_seconds > 3600 {
        out.push(Finding::error(
            p("rds_proxy.connection_borrow_timeout_seconds"),
            format!("{} s; RDS Proxy takes 0 to 3600", proxy.connection_borrow_timeout_seconds),
        ));
    }
    if !(1..=28_800).contains(&proxy.idle_client_timeout_seconds) {
        out.push(Finding::error(
            p("rds_proxy.idle_client_timeout_seconds"),
            format!("{} s; RDS Proxy takes 1 to 28800 (8 hours)", proxy.idle_client_timeout_seconds),
        ));
    }
    if env.network.database_subnet_ids.len() < 2 && env.engine.kind != EngineKind::External {
        out.push(Finding::error(
            p("kind"),
            "RDS Proxy needs subnets in at least two availability zones: network.database_subnet_ids lists fewer",
        ));
    }
    out
}
