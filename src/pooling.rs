//! PgBouncer from the environment file: `pgbouncer.ini` and the auth setup it relies on. Passwords are
//! looked up in the database through `auth_query` and a dedicated SECURITY DEFINER function (the setup SQL),
//! not kept in a static `auth_file`, so a rotated password works at once; only the lookup role's own
//! credentials live in the auth file, which glctl never writes (it holds a secret).
//!
//! Not yet run or checked by glctl on the stack (FA-09, PB-07, PB-08, HA-05 remain undecided).

use crate::config::model::Environment;
use crate::config::pooling::Pooling;

/// Where the PgBouncer instances reach the database, and where their files live on the host.
pub struct Upstream<'a> {
    pub host: &'a str,
    pub port: u16,
    pub database: &'a str,
    /// The CA bundle PgBouncer verifies the server certificate with.
    pub ca_file: &'a str,
    /// The file holding the lookup role's own SCRAM verifier (written by the deployment from a secret).
    pub auth_file: &'a str,
}

/// `pgbouncer.ini` for one instance listening on `listen_addr`.
pub fn pgbouncer_ini(env: &Environment, upstream: &Upstream<'_>, listen_addr: &str) -> String {
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
    set("listen_addr", listen_addr.to_string());
    set("listen_port", p.listen_port.to_string());
    set("auth_type", "scram-sha-256".into());
    set("auth_file", upstream.auth_file.to_string());
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
    // TLS to the server, verified against the CA; the minimum protocol is the server's business (TLS 1.3).
    set("server_tls_sslmode", "verify-full".into());
    set("server_tls_ca_file", upstream.ca_file.to_string());
    // Drivers send these startup parameters; PgBouncer would refuse the connection otherwise.
    set("ignore_startup_parameters", "extra_float_digits".into());
    set("admin_users", p.auth_user.clone());
    set("stats_users", p.auth_user.clone());
    set("log_connections", "1".into());
    set("log_disconnections", "1".into());
    set("log_pooler_errors", "1".into());
    ini
}

/// The lookup function and role PgBouncer's `auth_query` uses (PgBouncer docs, `auth_query`): run once as
/// a superuser. The role gets its password from the deployment (never from glctl's output).
pub fn auth_setup_sql(env: &Environment) -> String {
    let user = &env.pooling.auth_user;
    format!(
        "DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{user}') THEN CREATE ROLE \"{user}\" LOGIN; END IF;
END $$;
CREATE SCHEMA IF NOT EXISTS pgbouncer;
REVOKE ALL ON SCHEMA pgbouncer FROM PUBLIC;
GRANT USAGE ON SCHEMA pgbouncer TO \"{user}\";
CREATE OR REPLACE FUNCTION pgbouncer.user_lookup(IN i_username text, OUT uname text, OUT phash text)
RETURNS record LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS
$$ SELECT usename::text, passwd::text FROM pg_catalog.pg_shadow WHERE usename = i_username $$;
REVOKE ALL ON FUNCTION pgbouncer.user_lookup(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgbouncer.user_lookup(text) TO \"{user}\";
"
    )
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
            host: "db.internal",
            port: 5432,
            database: "greenlang",
            ca_file: "/etc/pgbouncer/ca.pem",
            auth_file: "/etc/pgbouncer/auth",
        };
        let ini = pgbouncer_ini(&e, &up, "127.0.0.1");
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
        let sql = auth_setup_sql(&e);
        assert!(
            sql.contains("SECURITY DEFINER")
                && sql.contains("REVOKE ALL ON FUNCTION pgbouncer.user_lookup(text) FROM PUBLIC")
        );
    }
}
