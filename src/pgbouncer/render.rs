//! PgBouncer from the environment file: `pgbouncer.ini` and the auth setup it relies on. Passwords are
//! looked up in the database through `auth_query` and a dedicated SECURITY DEFINER function (the setup SQL,
//! run by `glctl apply`, see `pgbouncer::auth`), not kept in a static `auth_file`, so a rotated password
//! works at once; only the lookup role's own credentials live in the auth file, which glctl never writes (it
//! holds a secret). `glctl render` writes the file into `pooling/`; the local stack runs two PgBouncers from
//! it (`scripts/stack pgbouncer`), only the listen port differing.

use std::path::{Path, PathBuf};

use crate::config::model::{Environment, TlsMode};
use crate::config::pooling::{PoolKind, Pooling};
use crate::database::connect::Target;

/// Where the PgBouncer instances reach the database, and how they verify it.
pub struct Upstream {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub tls_mode: TlsMode,
    /// The CA bundle PgBouncer verifies the server certificate with.
    pub ca_file: Option<String>,
}

impl Upstream {
    /// `--database-url` wins (as for the SQL stage), else the environment's `connection`; `None` when the
    /// file names no host (the writer endpoint comes from Terraform outputs only after an apply).
    pub fn resolve(env: &Environment, database_url: Option<&str>) -> Result<Option<Upstream>, String> {
        if let Some(url) = database_url {
            let t = Target::from_url(url)?;
            return Ok(Some(Upstream::from_target(&t)));
        }
        let c = &env.connection;
        Ok(c.host.as_ref().map(|host| Upstream {
            host: host.clone(),
            port: c.port,
            database: c.database.clone(),
            tls_mode: c.tls_mode,
            ca_file: c.ca_bundle.clone(),
        }))
    }

    pub fn from_target(t: &Target) -> Upstream {
        Upstream {
            host: t.host.clone(),
            port: t.port,
            database: t.database.clone(),
            tls_mode: t.tls_mode,
            ca_file: t.ca_bundle.as_ref().map(|p| p.display().to_string()),
        }
    }
}

/// PgBouncer's `server_tls_sslmode` for glctl's TLS mode (the same words as libpq's).
fn server_sslmode(mode: TlsMode) -> &'static str {
    match mode {
        TlsMode::Disable => "disable",
        TlsMode::Require => "require",
        TlsMode::VerifyCa => "verify-ca",
        TlsMode::VerifyFull => "verify-full",
    }
}

/// `pgbouncer.ini` for the environment's PgBouncers (each instance runs the same file).
pub fn pgbouncer_ini(env: &Environment, upstream: &Upstream) -> String {
    let p: &Pooling = &env.pooling;
    let mut ini = String::new();
    ini.push_str(
        "; Rendered by glctl from the environment file (pooling). Do not edit: change the file and re-render.\n",
    );
    ini.push_str("[databases]\n");
    ini.push_str(&format!(
        "{db} = host={host} port={port} dbname={db}\n\n",
        db = upstream.database,
        host = upstream.host,
        port = upstream.port
    ));
    ini.push_str("[pgbouncer]\n");
    let mut set = |k: &str, v: String| ini.push_str(&format!("{k} = {v}\n"));
    set("listen_addr", p.listen_addr.clone());
    set("listen_port", p.listen_port.to_string());
    set("auth_type", "scram-sha-256".into());
    set("auth_file", p.auth_file.clone());
    set("auth_user", p.auth_user.clone());
    set("auth_query", "SELECT uname, phash FROM pgbouncer.user_lookup($1)".into());
    set("pool_mode", p.pool_mode.name().into());
    set("max_client_conn", p.max_client_conn.to_string());
    set("default_pool_size", p.default_pool_size.to_string());
    set("reserve_pool_size", p.reserve_pool_size.to_string());
    set("reserve_pool_timeout", p.reserve_pool_timeout_seconds.to_string());
    set("max_db_connections", p.max_db_connections.to_string());
    set("server_lifetime", p.server_lifetime_seconds.to_string());
    set("server_idle_timeout", p.server_idle_timeout_seconds.to_string());
    set("query_timeout", p.query_timeout_seconds.to_string());
    // TLS to the server as the environment (or --database-url) says; the minimum protocol is the server's.
    set("server_tls_sslmode", server_sslmode(upstream.tls_mode).into());
    if let Some(ca) = &upstream.ca_file {
        set("server_tls_ca_file", ca.clone());
    }
    // Drivers send these startup parameters; PgBouncer would refuse the connection otherwise.
    set("ignore_startup_parameters", "extra_float_digits".into());
    // The admin console (SHOW POOLS/SERVERS/STATS) authenticates from auth_file only: the lookup role.
    set("admin_users", p.auth_user.clone());
    set("stats_users", p.auth_user.clone());
    set("log_connections", "1".into());
    set("log_disconnections", "1".into());
    set("log_pooler_errors", "1".into());
    ini
}

/// Writes `pooling/pgbouncer.ini` and `pooling/auth_setup.sql` (what `glctl apply` runs) under `dir`, for an
/// environment with `pooling.kind: pgbouncer`; returns the files written, or why nothing was.
pub fn write(env: &Environment, upstream: Option<&Upstream>, dir: &Path) -> Result<Vec<PathBuf>, String> {
    if env.pooling.kind != PoolKind::Pgbouncer {
        return Ok(Vec::new());
    }
    let Some(upstream) = upstream else {
        return Err("pooling: pgbouncer.ini not rendered: the file names no connection.host (pass --database-url, \
                    or render after apply)"
            .into());
    };
    let out = dir.join("pooling");
    if out.exists() {
        std::fs::remove_dir_all(&out).map_err(|e| format!("cannot clear {}: {e}", out.display()))?;
    }
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let files = [
        (out.join("pgbouncer.ini"), pgbouncer_ini(env, upstream)),
        (out.join("auth_setup.sql"), auth_setup_sql(env, true)),
    ];
    for (path, text) in &files {
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(files.into_iter().map(|(p, _)| p).collect())
}

/// The non-superuser role that owns the lookup function where the server lets a superuser grant it
/// `pg_shadow` (self-managed PostgreSQL); elsewhere the function stays with the role that ran apply.
pub const LOOKUP_OWNER: &str = "glctl_pgbouncer_lookup";

/// The lookup function and role PgBouncer's `auth_query` uses (PgBouncer docs, `auth_query`), idempotent.
/// `as_superuser`: run by a superuser, so the function can be owned by `LOOKUP_OWNER` (NOLOGIN, SELECT on
/// `pg_shadow` only) instead of a superuser. The login role gets its password from the deployment.
pub fn auth_setup_sql(env: &Environment, as_superuser: bool) -> String {
    let user = &env.pooling.auth_user;
    let mut sql = format!(
        "DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{user}') THEN CREATE ROLE \"{user}\" LOGIN; END IF;
END $$;
CREATE SCHEMA IF NOT EXISTS pgbouncer;
REVOKE ALL ON SCHEMA pgbouncer FROM PUBLIC;
GRANT USAGE ON SCHEMA pgbouncer TO \"{user}\";
CREATE OR REPLACE FUNCTION pgbouncer.user_lookup(IN i_username text, OUT uname text, OUT phash text)
RETURNS record LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$ SELECT usename::text, passwd::text FROM pg_catalog.pg_shadow WHERE usename = i_username $$;
REVOKE ALL ON FUNCTION pgbouncer.user_lookup(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgbouncer.user_lookup(text) TO \"{user}\";
"
    );
    if as_superuser {
        sql.push_str(&format!(
            "DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{LOOKUP_OWNER}') THEN CREATE ROLE {LOOKUP_OWNER} NOLOGIN; END IF;
END $$;
GRANT SELECT ON pg_catalog.pg_shadow TO {LOOKUP_OWNER};
GRANT USAGE, CREATE ON SCHEMA pgbouncer TO {LOOKUP_OWNER};
ALTER FUNCTION pgbouncer.user_lookup(text) OWNER TO {LOOKUP_OWNER};
"
        ));
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pooling: &str) -> Environment {
        let yaml = format!(
            "project: p\ntier: non-production\naws: {{ account_id: '123456789012', region: us-east-1 }}\n\
             engine: {{ kind: external, version: '16.6' }}\ntimeseries: {{ backend: native }}\npooling: {pooling}\n"
        );
        serde_yaml_ng::from_str(&yaml).unwrap()
    }

    #[test]
    fn the_ini_carries_the_file_s_pool_settings_auth_query_and_server_tls() {
        let e = env("{ kind: pgbouncer, default_pool_size: 40, reserve_pool_size: 5, max_db_connections: 45 }");
        let up = Upstream {
            host: "db.internal".into(),
            port: 5432,
            database: "greenlang".into(),
            tls_mode: TlsMode::VerifyFull,
            ca_file: Some("/etc/pgbouncer/ca.pem".into()),
        };
        let ini = pgbouncer_ini(&e, &up);
        for line in [
            "greenlang = host=db.internal port=5432 dbname=greenlang",
            "pool_mode = transaction",
            "default_pool_size = 40",
            "reserve_pool_size = 5",
            "max_db_connections = 45",
            "auth_user = pgbouncer_auth",
            "auth_query = SELECT uname, phash FROM pgbouncer.user_lookup($1)",
            "server_tls_sslmode = verify-full",
            "server_tls_ca_file = /etc/pgbouncer/ca.pem",
            "listen_port = 6432",
        ] {
            assert!(ini.lines().any(|l| l == line), "missing `{line}` in:\n{ini}");
        }
        assert!(!ini.contains("password"), "no secret in the rendered file");
        let sql = auth_setup_sql(&e, true);
        assert!(
            sql.contains("SECURITY DEFINER")
                && sql.contains("REVOKE ALL ON FUNCTION pgbouncer.user_lookup(text) FROM PUBLIC")
                && sql.contains("SET search_path = pg_catalog, pg_temp")
                && sql.contains("OWNER TO glctl_pgbouncer_lookup")
        );
        assert!(!auth_setup_sql(&e, false).contains("OWNER TO"), "without a superuser the owner stays");
    }
}
