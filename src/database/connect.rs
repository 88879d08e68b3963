//! Where the SQL stage connects and as whom, and the connection itself. Errors name the host, port, user and
//! reason; the password never appears in anything glctl prints.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::{Client, Config};

use super::tls;
use crate::config::model::TlsMode;

/// A password that cannot be printed by accident.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn new(secret: impl Into<String>) -> Self {
        Password(secret.into())
    }

    /// The secret itself, for a driver's connection settings only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Everything needed to connect, resolved from the environment, Terraform outputs, Secrets Manager or
/// `--database-url`.
#[derive(Clone, Debug)]
pub struct Target {
    pub host: String,
    /// Connect to this address but verify the certificate for `host` (libpq's hostaddr).
    pub hostaddr: Option<std::net::IpAddr>,
    pub port: u16,
    pub database: String,
    pub user: String,
    pub password: Option<Password>,
    pub tls_mode: TlsMode,
    pub ca_bundle: Option<PathBuf>,
}

impl Target {
    /// From a `postgres://` URL (or key=value string); `sslmode` and `sslrootcert` map to glctl's TLS modes.
    pub fn from_url(url: &str) -> Result<Target, String> {
        // sslmode and sslrootcert are glctl's to interpret (tokio-postgres knows neither verify mode). In a URL
        // they are query parameters; in a key=value string, words of their own.
        let is_url = url.starts_with("postgres://") || url.starts_with("postgresql://");
        let (base, query, separator) = if is_url {
            let (base, query) = url.split_once('?').unwrap_or((url, ""));
            (base, query.to_string(), "&")
        } else {
            let ssl: Vec<&str> = url.split_whitespace().filter(|w| is_ssl_setting(w)).collect();
            (url, ssl.join("&"), " ")
        };
        let kept: Vec<&str> = if is_url {
            query.split('&').filter(|kv| !kv.is_empty() && !is_ssl_setting(kv)).collect()
        } else {
            base.split_whitespace().filter(|w| !is_ssl_setting(w)).collect()
        };
        let stripped = match (is_url, kept.is_empty()) {
            (true, true) => base.to_string(),
            (true, false) => format!("{base}?{}", kept.join(separator)),
            (false, _) => kept.join(separator),
        };
        let query = query.as_str();
        let config = Config::from_str(&stripped).map_err(|e| format!("--database-url is not a PostgreSQL URL: {e}"))?;
        let host = match config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            _ => return Err("--database-url needs a TCP host".into()),
        };
        let param = |name: &str| {
            query.split('&').find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v.to_string()))
        };
        let tls_mode = match param("sslmode").as_deref() {
            None | Some("verify-full") => TlsMode::VerifyFull,
            Some("verify-ca") => TlsMode::VerifyCa,
            Some("require") | Some("prefer") => TlsMode::Require,
            Some("disable") => TlsMode::Disable,
            Some(other) => {
                return Err(format!(
                    "--database-url sslmode '{other}' is not one of disable, require, verify-ca, verify-full"
                ))
            }
        };
        Ok(Target {
            host,
            hostaddr: None,
            port: config.get_ports().first().copied().unwrap_or(5432),
            database: config.get_dbname().unwrap_or("postgres").to_string(),
            user: config.get_user().unwrap_or("postgres").to_string(),
            password: config.get_password().map(|p| Password::new(String::from_utf8_lossy(p).into_owned())),
            tls_mode,
            ca_bundle: param("sslrootcert").map(PathBuf::from),
        })
    }

    fn describe(&self) -> String {
        format!("{}:{} as {} (database {})", self.host, self.port, self.user, self.database)
    }

    /// The settings as a URL for people to read, built from what was parsed (never from the text given,
    /// so no spelling of a password survives): the password, if any, is `***`.
    pub fn redacted_url(&self) -> String {
        let password = if self.password.is_some() { ":***" } else { "" };
        let mode = match self.tls_mode {
            TlsMode::Disable => "disable",
            TlsMode::Require => "require",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::VerifyFull => "verify-full",
        };
        let mut url =
            format!("postgres://{}{password}@{}:{}/{}?sslmode={mode}", self.user, self.host, self.port, self.database);
        if let Some(ca) = &self.ca_bundle {
            url.push_str(&format!("&sslrootcert={}", ca.display()));
        }
        url
    }
}

fn is_ssl_setting(setting: &str) -> bool {
    setting.starts_with("sslmode=") || setting.starts_with("sslrootcert=")
}

/// Why a connection failed, with where it was going; never the password.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to {target}: {reason}")]
pub struct ConnectError {
    pub target: String,
    pub reason: String,
}

/// Connects, spawning the connection task on the current tokio runtime.
pub async fn connect(target: &Target) -> Result<Client, ConnectError> {
    let fail = |reason: String| ConnectError { target: target.describe(), reason };
    let mut config = Config::new();
    config.host(&target.host).port(target.port).user(&target.user).dbname(&target.database);
    config.application_name("glctl").connect_timeout(std::time::Duration::from_secs(15));
    if let Some(addr) = target.hostaddr {
        config.hostaddr(addr);
    }
    if let Some(password) = &target.password {
        config.password(password.0.as_bytes());
    }
    let connector = tls::connector(target.tls_mode, target.ca_bundle.as_deref()).map_err(fail)?;
    let client = match connector {
        None => {
            config.ssl_mode(SslMode::Disable);
            let (client, connection) = config.connect(tokio_postgres::NoTls).await.map_err(|e| fail(reason(&e)))?;
            tokio::spawn(connection);
            client
        }
        Some(tls) => {
            config.ssl_mode(SslMode::Require);
            let (client, connection) = config.connect(tls).await.map_err(|e| fail(reason(&e)))?;
            tokio::spawn(connection);
            client
        }
    };
    // A single-backend server (PGlite) keeps an earlier client's prepared statements, whose names collide
    // with ours (tokio-postgres numbers them from s0 in every process): start clean.
    client.batch_execute("DEALLOCATE ALL").await.map_err(|e| fail(reason(&e)))?;
    Ok(client)
}

/// Connects offering only TLS 1.2, to find out whether the server refuses versions below its minimum
/// (verify). The certificate is checked as `target.tls_mode` says.
pub async fn connect_tls12_only(target: &Target) -> Result<Client, ConnectError> {
    let fail = |reason: String| ConnectError { target: target.describe(), reason };
    let tls = tls::connector_with_versions(target.tls_mode, target.ca_bundle.as_deref(), &[&rustls::version::TLS12])
        .map_err(fail)?
        .ok_or_else(|| fail("TLS is disabled for this target".into()))?;
    let mut config = Config::new();
    config.host(&target.host).port(target.port).user(&target.user).dbname(&target.database);
    config.application_name("glctl-verify").connect_timeout(std::time::Duration::from_secs(15));
    config.ssl_mode(SslMode::Require);
    if let Some(password) = &target.password {
        config.password(password.0.as_bytes());
    }
    let (client, connection) = config.connect(tls).await.map_err(|e| fail(reason(&e)))?;
    tokio::spawn(connection);
    Ok(client)
}

/// The most telling message in an error chain: the server's message, else the innermost cause.
pub(crate) fn reason(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::Target;
    use crate::config::model::TlsMode;

    #[test]
    fn a_url_is_shown_from_its_parsed_settings_with_the_password_hidden() {
        let t =
            Target::from_url("postgres://app:s3cret@db.internal:6432/climate?sslmode=verify-ca&sslrootcert=/ca.pem")
                .unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.user.as_str(), t.database.as_str()),
            ("db.internal", 6432, "app", "climate")
        );
        assert_eq!(t.tls_mode, TlsMode::VerifyCa);
        assert_eq!(
            t.redacted_url(),
            "postgres://app:***@db.internal:6432/climate?sslmode=verify-ca&sslrootcert=/ca.pem"
        );
    }

    #[test]
    fn a_password_with_an_unencoded_slash_never_shows() {
        let url = "postgres://app:pa/ss@db/x";
        let shown = Target::from_url(url).map(|t| t.redacted_url()).unwrap_or_default();
        assert!(!shown.contains("pa/ss") && !shown.contains("ss@"), "{shown}");
    }

    #[test]
    fn a_key_value_string_is_parsed_with_glctl_s_tls_modes_and_shown_redacted() {
        let t = Target::from_url(
            "host=db port=5433 user=app password=s3cret dbname=x sslmode=verify-full sslrootcert=/ca.pem",
        )
        .unwrap();
        assert_eq!(t.tls_mode, TlsMode::VerifyFull);
        assert_eq!(t.ca_bundle.as_deref(), Some(std::path::Path::new("/ca.pem")));
        assert_eq!(t.redacted_url(), "postgres://app:***@db:5433/x?sslmode=verify-full&sslrootcert=/ca.pem");
        assert!(!format!("{t:?}").contains("s3cret"), "Debug hides it too");
    }

    #[test]
    fn no_password_shows_no_placeholder_and_plaintext_is_explicit() {
        let t = Target::from_url("postgres://app@db/x?sslmode=disable").unwrap();
        assert_eq!(t.redacted_url(), "postgres://app@db:5432/x?sslmode=disable");
        assert!(Target::from_url("postgres://db/x?sslmode=sometimes").is_err());
    }
}
