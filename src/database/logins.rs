//! The application's logins, as the environment file says each authenticates. An `iam` login gets `rds_iam`
//! (and needs no password); a `password` login must not have `rds_iam` (RDS then refuses its password) and gets
//! its first password from glctl: generated here, set in PostgreSQL as a SCRAM verifier (so the password never
//! appears in a statement the server could log), then written to its Secrets Manager secret. A password already
//! in the secret belongs to the rotation function and is left alone. Nothing here prints or returns a password.

use tokio_postgres::Client;

use super::connect;
use super::policies::{ident, literal};
use super::DatabaseError;
use crate::aws::AwsContext;
use crate::config::model::{Environment, LoginAuth};

/// One login as the database and its secret have it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveLogin {
    pub username: String,
    pub exists: bool,
    pub has_rds_iam: bool,
    /// The secret already holds a password (`None` for IAM logins, which have no secret).
    pub secret_has_password: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    GrantRdsIam(String),
    RevokeRdsIam(String),
    /// Generate a password, set it, store it in the secret (by name).
    SetFirstPassword {
        username: String,
        secret: String,
    },
}

impl Action {
    pub fn describe(&self) -> String {
        match self {
            Action::GrantRdsIam(u) => format!("+ {u}: rds_iam (an IAM login)"),
            Action::RevokeRdsIam(u) => {
                format!("- {u}: rds_iam (a password login; RDS refuses passwords of rds_iam members)")
            }
            Action::SetFirstPassword { username, secret } => {
                format!("+ {username}: first password, generated and stored in secret {secret}")
            }
        }
    }
}

/// The logins glctl manages: every secret but the one it connects with (and RDS's own master secret).
fn managed(env: &Environment) -> impl Iterator<Item = (&String, &crate::config::model::Secret, String)> {
    env.secrets
        .iter()
        .filter(move |(role, _)| role.as_str() != "master" && **role != env.connection.credentials_secret)
        .map(|(role, s)| (role, s, s.username.clone().unwrap_or_else(|| role.clone())))
}

/// What to do, from what is there; `rds_iam_exists` is false off RDS and Aurora.
pub fn decide(env: &Environment, live: &[LiveLogin], rds_iam_exists: bool) -> (Vec<Action>, Vec<String>) {
    let mut actions = Vec::new();
    let mut notes = Vec::new();
    for (_, secret, username) in managed(env) {
        let Some(login) = live.iter().find(|l| l.username == username) else { continue };
        if !login.exists {
            notes.push(format!("{username} does not exist in the database; no migration creates it"));
            continue;
        }
        match secret.auth {
            LoginAuth::Iam if rds_iam_exists && !login.has_rds_iam => actions.push(Action::GrantRdsIam(username)),
            LoginAuth::Iam => {}
            LoginAuth::Password => {
                if login.has_rds_iam {
                    actions.push(Action::RevokeRdsIam(username.clone()));
                }
                if login.secret_has_password == Some(false) {
                    actions.push(Action::SetFirstPassword { username, secret: secret.name.clone() });
                }
            }
        }
    }
    (actions, notes)
}

/// Reads the logins, decides, and carries the actions out; returns what was done and notes.
pub async fn reconcile(
    client: &Client,
    env: &Environment,
    aws: &AwsContext,
) -> Result<(Vec<String>, Vec<String>), DatabaseError> {
    let query = DatabaseError::query("the logins");
    let rds_iam_exists =
        client.query_opt("SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'", &[]).await.map_err(query)?.is_some();
    let secrets = aws_sdk_secretsmanager::Client::new(aws.config().await?);
    let endpoint = crate::aws::endpoint(aws.config().await?, "secretsmanager");
    let mut live = Vec::new();
    for (_, secret, username) in managed(env) {
        let row = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1),
                        EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
                                JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = 'rds_iam' AND u.rolname = $1)",
                &[&username],
            )
            .await
            .map_err(DatabaseError::query("the logins"))?;
        let secret_has_password = match secret.auth {
            LoginAuth::Iam => None,
            LoginAuth::Password => {
                Some(stored(&secrets, &endpoint, &secret.name).await?.get("password").is_some_and(|p| p.is_string()))
            }
        };
        live.push(LiveLogin { username, exists: row.get(0), has_rds_iam: row.get(1), secret_has_password });
    }
    let (actions, notes) = decide(env, &live, rds_iam_exists);
    let mut done = Vec::new();
    for action in &actions {
        match action {
            Action::GrantRdsIam(u) => grant(client, &format!("GRANT rds_iam TO {}", ident(u))).await?,
            Action::RevokeRdsIam(u) => grant(client, &format!("REVOKE rds_iam FROM {}", ident(u))).await?,
            Action::SetFirstPassword { username, secret } => {
                set_first_password(client, &secrets, &endpoint, username, secret).await?
            }
        }
        done.push(action.describe());
    }
    Ok((done, notes))
}

async fn grant(client: &Client, sql: &str) -> Result<(), DatabaseError> {
    client.batch_execute(sql).await.map_err(|e| DatabaseError::Query { what: "a login", reason: connect::reason(&e) })
}

/// The secret's JSON (an empty object when it has no value yet).
async fn stored(
    secrets: &aws_sdk_secretsmanager::Client,
    endpoint: &str,
    name: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, DatabaseError> {
    let value = secrets.get_secret_value().secret_id(name).send().await.map_err(|e| {
        DatabaseError::Secret(format!("cannot read secret {name}: {}", crate::aws::sdk_error_line(&e, endpoint)))
    })?;
    Ok(value.secret_string().and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default())
}

/// The password is set in PostgreSQL first (as a SCRAM verifier: the statement holds no password) and then
/// stored; a failure between the two leaves a secret without a password, which the next apply sets again.
async fn set_first_password(
    client: &Client,
    secrets: &aws_sdk_secretsmanager::Client,
    endpoint: &str,
    username: &str,
    secret: &str,
) -> Result<(), DatabaseError> {
    let password = generate_password()?;
    let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
    let sql = format!("ALTER ROLE {} PASSWORD {}", ident(username), literal(&verifier));
    client
        .batch_execute(&sql)
        .await
        .map_err(|e| DatabaseError::Query { what: "a login", reason: connect::reason(&e) })?;
    let mut value = stored(secrets, endpoint, secret).await?;
    value.insert("username".into(), username.into());
    value.insert("password".into(), password.into());
    secrets
        .put_secret_value()
        .secret_id(secret)
        .secret_string(serde_json::Value::Object(value).to_string())
        .send()
        .await
        .map_err(|e| {
            DatabaseError::Secret(format!(
                "the password of {username} was set but could not be stored in {secret} ({}); the next apply sets a new one",
                crate::aws::sdk_error_line(&e, endpoint)
            ))
        })?;
    Ok(())
}

/// 32 random bytes from the operating system, hex-encoded (64 characters, no quoting trouble anywhere).
pub(crate) fn generate_password() -> Result<String, DatabaseError> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| DatabaseError::Secret("the operating system gave no random bytes for a password".into()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Environment {
        serde_yaml_ng::from_str(
            "project: p\ntier: non-production\naws: { account_id: '123456789012', region: us-east-1 }\n\
             engine: { kind: rds-postgresql, version: '16.6' }\ntimeseries: { backend: native }\n\
             secrets:\n  master: { name: m }\n  app: { name: s/app, username: app_service }\n\
             \x20 readonly: { name: s/ro, username: readonly_analytics, auth: iam }\n",
        )
        .unwrap()
    }

    fn login(username: &str, has_rds_iam: bool, secret_has_password: Option<bool>) -> LiveLogin {
        LiveLogin { username: username.into(), exists: true, has_rds_iam, secret_has_password }
    }

    #[test]
    fn a_password_login_loses_rds_iam_and_gets_its_first_password() {
        let live = [login("app_service", true, Some(false)), login("readonly_analytics", false, None)];
        let (actions, _) = decide(&env(), &live, true);
        assert_eq!(
            actions,
            [
                Action::RevokeRdsIam("app_service".into()),
                Action::SetFirstPassword { username: "app_service".into(), secret: "s/app".into() },
                Action::GrantRdsIam("readonly_analytics".into()),
            ]
        );
    }

    #[test]
    fn a_password_the_rotation_function_owns_is_left_alone_and_nothing_repeats() {
        let live = [login("app_service", false, Some(true)), login("readonly_analytics", true, None)];
        assert!(decide(&env(), &live, true).0.is_empty());
    }

    #[test]
    fn off_rds_no_rds_iam_is_granted_and_a_missing_role_is_noted() {
        let mut live = vec![login("app_service", false, Some(true)), login("readonly_analytics", false, None)];
        assert!(decide(&env(), &live, false).0.is_empty());
        live[0].exists = false;
        let (_, notes) = decide(&env(), &live, false);
        assert_eq!(notes, ["app_service does not exist in the database; no migration creates it"]);
    }

    #[test]
    fn generated_passwords_are_long_random_and_the_verifier_hides_them() {
        let (a, b) = (generate_password().unwrap(), generate_password().unwrap());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        let verifier = postgres_protocol::password::scram_sha_256(a.as_bytes());
        assert!(verifier.starts_with("SCRAM-SHA-256$4096:") && !verifier.contains(&a));
    }
}
