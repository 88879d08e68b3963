//! Resolves where the SQL stage connects: `--database-url` if given, else the environment's connection
//! settings with the host from the Terraform outputs and the credentials from Secrets Manager. Credentials
//! never come from the environment file.

use std::path::{Path, PathBuf};

use super::connect::{Password, Target};
use crate::config::model::EngineKind;
use crate::config::Loaded;

pub async fn resolve(loaded: &Loaded, database_url: Option<&str>, work_dir: &Path) -> Result<Target, String> {
    if let Some(url) = database_url {
        return Target::from_url(url);
    }
    let env = &loaded.env;
    let conn = &env.connection;
    let outputs: Option<serde_json::Value> =
        std::fs::read_to_string(work_dir.join("outputs.json")).ok().and_then(|t| serde_json::from_str(&t).ok());
    let output = |name: &str| outputs.as_ref().and_then(|o| o[name]["value"].as_str().map(str::to_string));
    let host = match (&conn.host, output("writer_endpoint")) {
        (Some(host), _) => host.clone(),
        (None, Some(endpoint)) => endpoint,
        (None, None) => {
            return Err(format!(
                "no database host for {}: set connection.host, run `glctl apply -e {}` first (its outputs name the writer endpoint), or pass --database-url",
                loaded.name, loaded.name
            ))
        }
    };
    let secret_id = if conn.credentials_secret == "master" && env.engine.kind != EngineKind::External {
        output("master_secret_arn").ok_or_else(|| {
            format!("no master secret ARN for {}: run `glctl apply -e {}` first", loaded.name, loaded.name)
        })?
    } else {
        env.secrets.get(&conn.credentials_secret).map(|s| s.name.clone()).ok_or_else(|| {
            format!("connection.credentials_secret '{}' is not a key of secrets", conn.credentials_secret)
        })?
    };
    let (user, password) = credentials(&secret_id).await?;
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
async fn credentials(secret_id: &str) -> Result<(String, Password), String> {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let value = client.get_secret_value().secret_id(secret_id).send().await.map_err(|e| {
        format!("cannot read secret {secret_id}: {}", aws_sdk_secretsmanager::error::DisplayErrorContext(&e))
    })?;
    let json: serde_json::Value = value
        .secret_string()
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| format!("secret {secret_id} is not the JSON {{username, password}} layout"))?;
    match (json["username"].as_str(), json["password"].as_str()) {
        (Some(user), Some(password)) => Ok((user.to_string(), Password::new(password))),
        _ => Err(format!("secret {secret_id} has no username and password yet")),
    }
}
