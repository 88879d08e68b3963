//! Resolves where the SQL stage connects: `--database-url` if given, else the environment's connection
//! settings with the host from the Terraform outputs and the credentials from Secrets Manager, read through
//! the run's AWS context (after its account check). Credentials never come from the environment file.

use std::path::PathBuf;

use super::connect::{Password, Target};
use super::DatabaseError;
use crate::aws::AwsContext;
use crate::config::model::EngineKind;
use crate::config::Loaded;
use crate::infra::outputs;

/// Where the database is, before any credential is read: `resolve` reads them only when they are needed.
pub enum Source<'a> {
    /// `--database-url` / GLCTL_DATABASE_URL: used as given, no AWS call.
    Url(&'a str),
    /// The environment's settings, the Terraform outputs in `work_dir`, and Secrets Manager.
    Environment { work_dir: PathBuf },
}

pub async fn resolve(loaded: &Loaded, source: &Source<'_>, aws: &AwsContext) -> Result<Target, DatabaseError> {
    let work_dir = match source {
        Source::Url(url) => return Target::from_url(url).map_err(DatabaseError::BadUrl),
        Source::Environment { work_dir } => work_dir,
    };
    let env = &loaded.environment;
    let conn = &env.connection;
    // No outputs (nothing applied yet) is not an error here: the file may name the host itself.
    let outputs = outputs::read(work_dir).ok();
    let output = |name: &str| outputs.as_ref().and_then(|o| o[name]["value"].as_str().map(str::to_string));
    let host = match (&conn.host, output("writer_endpoint")) {
        (Some(host), _) => host.clone(),
        (None, Some(endpoint)) => endpoint,
        (None, None) => {
            return Err(DatabaseError::NoTarget(format!(
                "no database host for {name}: set connection.host, run `glctl apply -e {name}` first (its outputs name the writer endpoint), or pass --database-url",
                name = loaded.name
            )))
        }
    };
    let secret_id = if conn.credentials_secret == "master" && env.engine.kind != EngineKind::External {
        output("master_secret_arn").ok_or_else(|| {
            DatabaseError::NoTarget(format!(
                "no master secret ARN for {name}: run `glctl apply -e {name}` first",
                name = loaded.name
            ))
        })?
    } else {
        env.secrets.get(&conn.credentials_secret).map(|s| s.name.clone()).ok_or_else(|| {
            DatabaseError::NoTarget(format!(
                "connection.credentials_secret '{}' is not a key of secrets",
                conn.credentials_secret
            ))
        })?
    };
    let (user, password) = credentials(aws, &secret_id).await?;
    Ok(Target {
        host,
        hostaddr: None,
        port: conn.port,
        database: conn.database.clone(),
        user,
        password: Some(password),
        tls_mode: conn.tls_mode,
        ca_bundle: conn.ca_bundle.as_ref().map(PathBuf::from),
    })
}

/// `username` and `password` from a Secrets Manager secret (the RDS and rotation-function JSON layout).
async fn credentials(aws: &AwsContext, secret_id: &str) -> Result<(String, Password), DatabaseError> {
    let config = aws.config().await?;
    let client = aws_sdk_secretsmanager::Client::new(config);
    let value = client.get_secret_value().secret_id(secret_id).send().await.map_err(|e| {
        let endpoint = crate::aws::endpoint(config, "secretsmanager");
        DatabaseError::Secret(format!("cannot read secret {secret_id}: {}", crate::aws::sdk_error_line(&e, &endpoint)))
    })?;
    parse_credentials(secret_id, value.secret_string())
}

fn parse_credentials(secret_id: &str, text: Option<&str>) -> Result<(String, Password), DatabaseError> {
    let json: serde_json::Value = text.and_then(|s| serde_json::from_str(s).ok()).ok_or_else(|| {
        DatabaseError::Secret(format!("secret {secret_id} is not the JSON {{username, password}} layout"))
    })?;
    match (json["username"].as_str(), json["password"].as_str()) {
        (Some(user), Some(password)) => Ok((user.to_string(), Password::new(password))),
        _ => Err(DatabaseError::Secret(format!("secret {secret_id} has no username and password yet"))),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_credentials;

    #[test]
    fn the_rds_secret_layout_gives_user_and_password() {
        let (user, password) =
            parse_credentials("s", Some(r#"{"username":"app","password":"pw","host":"h"}"#)).unwrap();
        assert_eq!(user, "app");
        assert_eq!(format!("{password:?}"), "Password(***)");
    }

    #[test]
    fn a_secret_without_a_password_says_so_without_its_content() {
        let e = parse_credentials("greenlang/dev/app", Some(r#"{"username":"app","host":"h"}"#)).unwrap_err();
        assert_eq!(e.to_string(), "secret greenlang/dev/app has no username and password yet");
        let e = parse_credentials("s", Some("not json but secret-ish")).unwrap_err();
        assert!(!e.to_string().contains("secret-ish"), "{e}");
    }
}
