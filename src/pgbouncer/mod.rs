//! PgBouncer, the pooler glctl renders and drives: its configuration (`render`: `pgbouncer.ini` and the
//! auth setup SQL), the `auth_query` lookup `glctl apply` makes in the database (`auth`), and, here,
//! reaching the PgBouncers at run time: the clients' side (one endpoint each, or all of them as libpq's
//! multi-host list) and the admin console (`SHOW POOLS`, `SHOW SERVERS`, `SHOW STATS`), for FA-09, PB-07,
//! PB-08 and HA-05. Where the PgBouncers are comes from `--pooler-url` / `GLCTL_POOLER_URL` (a multi-host
//! `postgres://user:password@host1:port1,host2:port2/db` URL) and `--pooler-admin-url` /
//! `GLCTL_POOLER_ADMIN_URL` (the same hosts, the admin user, database `pgbouncer`), like `--database-url`;
//! the local stack exports both. Nothing here prints; passwords never leave `Password`.
//!
//! Statements go through the simple query protocol: PgBouncer 1.18 under transaction pooling cannot keep
//! named prepared statements, and its admin console speaks nothing else.

pub mod auth;
pub mod render;

use std::collections::HashMap;
use std::time::Duration;

use tokio_postgres::config::SslMode;
use tokio_postgres::{Client, Config, SimpleQueryMessage};

use crate::config::model::TlsMode;
use crate::database::connect::{self, Password, Target};
use crate::database::tls;

/// The PgBouncers as one kind of user sees them: every host, one set of credentials.
#[derive(Clone, Debug)]
pub struct Endpoints {
    pub hosts: Vec<(String, u16)>,
    pub user: String,
    pub password: Option<Password>,
    pub database: String,
    pub tls_mode: TlsMode,
    pub ca_bundle: Option<std::path::PathBuf>,
}

/// Where the PgBouncers are, for clients and for their admin console.
#[derive(Clone, Debug)]
pub struct Poolers {
    pub clients: Endpoints,
    pub admin: Option<Endpoints>,
}

impl Poolers {
    pub fn from_urls(clients: &str, admin: Option<&str>) -> Result<Poolers, String> {
        let clients = Endpoints::from_url(clients).map_err(|e| format!("--pooler-url: {e}"))?;
        let admin = admin.map(Endpoints::from_url).transpose().map_err(|e| format!("--pooler-admin-url: {e}"))?;
        if let Some(a) = &admin {
            if a.hosts != clients.hosts {
                return Err(format!(
                    "--pooler-admin-url names {} but --pooler-url {}: they must list the same PgBouncers, in order",
                    hosts_text(&a.hosts),
                    hosts_text(&clients.hosts)
                ));
            }
        }
        Ok(Poolers { clients, admin })
    }
}

pub fn hosts_text(hosts: &[(String, u16)]) -> String {
    hosts.iter().map(|(h, p)| format!("{h}:{p}")).collect::<Vec<_>>().join(",")
}

impl Endpoints {
    /// From a `postgres://` URL that may list several `host:port` pairs.
    pub fn from_url(url: &str) -> Result<Endpoints, String> {
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .ok_or("expected a postgres:// URL")?;
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        let hostlist = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
        let mut hosts = Vec::new();
        for part in hostlist.split(',').filter(|p| !p.is_empty()) {
            let (host, port) = match part.rsplit_once(':') {
                Some((h, p)) => (h, p.parse::<u16>().map_err(|_| format!("'{part}': the port is not a number"))?),
                None => (part, 5432),
            };
            hosts.push((host.to_string(), port));
        }
        if hosts.is_empty() {
            return Err("the URL names no host".into());
        }
        // Everything but the hosts, through the SQL stage's own parser (sslmode, sslrootcert, credentials).
        let single = url.replacen(hostlist, &format!("{}:{}", hosts[0].0, hosts[0].1), 1);
        let t = Target::from_url(&single)?;
        Ok(Endpoints {
            hosts,
            user: t.user,
            password: t.password,
            database: t.database,
            tls_mode: t.tls_mode,
            ca_bundle: t.ca_bundle,
        })
    }

    /// Endpoint `i` alone, as the SQL stage's target (for a connection that must reach that PgBouncer).
    pub fn target(&self, i: usize) -> Target {
        let (host, port) = self.hosts[i % self.hosts.len()].clone();
        Target {
            host,
            hostaddr: None,
            port,
            database: self.database.clone(),
            user: self.user.clone(),
            password: self.password.clone(),
            tls_mode: self.tls_mode,
            ca_bundle: self.ca_bundle.clone(),
        }
    }

    fn config(&self, hosts: &[(String, u16)], application_name: &str, timeout: Duration) -> Config {
        let mut config = Config::new();
        for (host, port) in hosts {
            config.host(host).port(*port);
        }
        config.user(&self.user).dbname(&self.database).application_name(application_name).connect_timeout(timeout);
        if let Some(p) = &self.password {
            config.password(p.expose().as_bytes());
        }
        config
    }

    /// Connects to endpoint `i` only (no statement is sent: the admin console accepts no other).
    pub async fn connect_one(&self, i: usize, application_name: &str) -> Result<Client, String> {
        let host = self.hosts[i % self.hosts.len()].clone();
        self.connect_hosts(&[host], application_name, Duration::from_secs(10)).await
    }

    /// Connects to the first endpoint that answers, in order, as libpq does with a multi-host string; each
    /// host gets `per_host` to answer.
    pub async fn connect_any(&self, application_name: &str, per_host: Duration) -> Result<Client, String> {
        self.connect_hosts(&self.hosts, application_name, per_host).await
    }

    async fn connect_hosts(&self, hosts: &[(String, u16)], name: &str, timeout: Duration) -> Result<Client, String> {
        let mut config = self.config(hosts, name, timeout);
        let describe = || format!("cannot connect to {} as {}", hosts_text(hosts), self.user);
        match tls::connector(self.tls_mode, self.ca_bundle.as_deref())? {
            None => {
                config.ssl_mode(SslMode::Disable);
                let (client, connection) = config
                    .connect(tokio_postgres::NoTls)
                    .await
                    .map_err(|e| format!("{}: {}", describe(), connect::reason(&e)))?;
                tokio::spawn(connection);
                Ok(client)
            }
            Some(tls) => {
                config.ssl_mode(SslMode::Require);
                let (client, connection) =
                    config.connect(tls).await.map_err(|e| format!("{}: {}", describe(), connect::reason(&e)))?;
                tokio::spawn(connection);
                Ok(client)
            }
        }
    }
}

/// One row of an admin console `SHOW`, by column name.
pub type Row = HashMap<String, String>;

/// Runs an admin console command (`SHOW POOLS`) on `client` and returns its rows.
pub async fn show(client: &Client, command: &str) -> Result<Vec<Row>, String> {
    let messages = client.simple_query(command).await.map_err(|e| format!("{command}: {}", connect::reason(&e)))?;
    Ok(messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(
                row.columns()
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.name().to_string(), row.get(i).unwrap_or_default().to_string()))
                    .collect(),
            ),
            _ => None,
        })
        .collect())
}

/// A number from a `SHOW` row (0 when absent or not a number).
pub fn num(row: &Row, column: &str) -> u64 {
    row.get(column).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// The rows of `rows` for one database and user.
pub fn of<'a>(rows: &'a [Row], database: &str, user: &str) -> impl Iterator<Item = &'a Row> {
    let (database, user) = (database.to_string(), user.to_string());
    rows.iter().filter(move |r| r.get("database") == Some(&database) && r.get("user") == Some(&user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_host_url_gives_every_host_and_one_set_of_credentials() {
        let e =
            Endpoints::from_url("postgres://app:s3cret@127.0.0.1:6432,10.0.0.2:6433/glctl?sslmode=disable").unwrap();
        assert_eq!(e.hosts, [("127.0.0.1".to_string(), 6432), ("10.0.0.2".to_string(), 6433)]);
        assert_eq!((e.user.as_str(), e.database.as_str(), e.tls_mode), ("app", "glctl", TlsMode::Disable));
        assert!(!format!("{e:?}").contains("s3cret"), "the password never prints");
        assert_eq!(e.target(1).port, 6433);
        let err = Poolers::from_urls(
            "postgres://a@h1:1,h2:2/db?sslmode=disable",
            Some("postgres://admin@h1:1/pgbouncer?sslmode=disable"),
        )
        .unwrap_err();
        assert!(err.contains("same PgBouncers"), "{err}");
    }
}
