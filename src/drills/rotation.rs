//! ST-06 (`verify --drills`, an external server): glctl rotates each secret that declares `rotation_days` itself,
//! the way a Secrets Manager rotation function does, against the environment's own secret and server:
//! 1. create: a new password, stored as a new version of the secret staged AWSPENDING;
//! 2. set: `ALTER ROLE … PASSWORD` on the server (a SCRAM verifier: the statement holds no password);
//! 3. test: a login with the new password, and one with the password the secret held before;
//! 4. finish: AWSCURRENT moved to the new version, then read back.
//!
//! On an external server no Lambda rotates anything (and moto cannot run one): this is the rotation the
//! environment gets, so it is what ST-06 judges (`verify::rotation_verdict`). The secret glctl connects with is
//! never rotated (the drill would cut its own session). Once the password is set on the server, the secret is
//! made current with it whatever the test found, so secret and server never disagree; each step is journaled.

use std::time::Instant;

use aws_sdk_secretsmanager::Client as Secrets;

use super::journal::Journal;
use crate::database::connect::{self, Password, Target};
use crate::database::policies::{ident, literal};
use crate::verify::facts::Attempt;
use crate::verify::rotation_verdict::{self, Rotation};
use crate::verify::{set_result, CheckResult, Outcome};

/// The rotation entry of `DRILLS`: ST-06 on an external server, with `--drills`.
pub(crate) fn step(
    scene: &super::Scene<'_>,
    results: &mut [CheckResult],
    progress: &dyn super::Progress,
) -> Vec<String> {
    if scene.loaded.environment.engine.kind != crate::config::model::EngineKind::External {
        return vec![];
    }
    if !results.iter().any(|r| r.id == "ST-06" && !r.waived()) {
        return vec![];
    }
    // Nothing to rotate (no schedule declared, or only the secret glctl connects with): ST-06 stays as the
    // facts decided it.
    if !scene.loaded.environment.secrets.values().any(|s| s.rotation_days.is_some()) {
        return vec![];
    }
    let journal = Journal::default();
    let outcome = super::step(progress, "ST-06: rotating the secrets", || {
        scene.runtime.block_on(async {
            tokio::select! {
                o = run(scene, &journal) => o,
                _ = crate::runtime::shutdown_signal() => Some(Outcome::Error(format!(
                    "interrupted; what the drill did: {}", journal.text()
                ))),
            }
        })
    });
    if let Some(outcome) = outcome {
        set_result(results, "ST-06", outcome, scene.at);
    }
    vec![]
}

/// The outcome for ST-06; `None` when every secret with a schedule is the one glctl connects with.
async fn run(scene: &super::Scene<'_>, journal: &Journal) -> Option<Outcome> {
    let env = &scene.loaded.environment;
    let (admin, target) = match scene.stage.connect_with_target().await {
        Ok(c) => c,
        Err(e) => return Some(Outcome::Error(format!("the rotation drill cannot connect: {e}"))),
    };
    let config = match scene.aws.config().await {
        Ok(c) => c,
        Err(e) => return Some(Outcome::Error(format!("the rotation drill cannot reach Secrets Manager: {e}"))),
    };
    let secrets = Secrets::new(config);
    let endpoint = crate::aws::endpoint(config, "secretsmanager");
    let mut rotations = Vec::new();
    for (role, s) in &env.secrets {
        let Some(days) = s.rotation_days else { continue };
        let username = s.username.clone().unwrap_or_else(|| role.clone());
        if username == target.user {
            journal.note(format!("left {} alone: glctl connects as {username}", s.name));
            continue;
        }
        let rotated = rotate(&admin, &target, &secrets, &endpoint, &s.name, &username, days, journal).await;
        rotations.push(rotated);
    }
    if rotations.is_empty() {
        return None;
    }
    Some(match rotation_verdict::decide(&rotations) {
        Outcome::Error(why) => Outcome::Error(format!("{why} (what the drill did: {})", journal.text())),
        decided => decided,
    })
}

#[allow(clippy::too_many_arguments)]
async fn rotate(
    admin: &tokio_postgres::Client,
    target: &Target,
    secrets: &Secrets,
    endpoint: &str,
    name: &str,
    username: &str,
    declared_days: u32,
    journal: &Journal,
) -> Result<Rotation, String> {
    let sm = |call: &str, e: String| format!("Secrets Manager {call} {name}: {e}");
    let started = Instant::now();
    let described = secrets
        .describe_secret()
        .secret_id(name)
        .send()
        .await
        .map_err(|e| sm("DescribeSecret", crate::aws::sdk_error_line(&e, endpoint)))?;
    let before = secrets
        .get_secret_value()
        .secret_id(name)
        .send()
        .await
        .map_err(|e| sm("GetSecretValue", crate::aws::sdk_error_line(&e, endpoint)))?;
    let old_version = before.version_id().map(str::to_string);
    let mut value: serde_json::Map<String, serde_json::Value> =
        before.secret_string().and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default();
    let old_password = value.get("password").and_then(|p| p.as_str()).map(str::to_string);
    // 1. create
    let password = crate::database::logins::generate_password().map_err(|e| e.to_string())?;
    value.insert("username".into(), username.into());
    value.insert("password".into(), password.clone().into());
    let pending = secrets
        .put_secret_value()
        .secret_id(name)
        .secret_string(serde_json::Value::Object(value).to_string())
        .version_stages("AWSPENDING")
        .send()
        .await
        .map_err(|e| sm("PutSecretValue", crate::aws::sdk_error_line(&e, endpoint)))?;
    let new_version =
        pending.version_id().map(str::to_string).ok_or_else(|| sm("PutSecretValue", "no VersionId".into()))?;
    journal.note(format!("{name}: version {new_version} created, staged AWSPENDING"));
    // 2. set
    let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
    admin.batch_execute(&format!("ALTER ROLE {} PASSWORD {}", ident(username), literal(&verifier))).await.map_err(
        |e| {
            format!(
                "ALTER ROLE {username} PASSWORD: {} (the secret's AWSPENDING version {new_version} is unused)",
                connect::reason(&e)
            )
        },
    )?;
    journal.note(format!("{username}: password set on the server"));
    // 3. test, then 4. finish whatever the test found: the server holds the new password from here on.
    let login =
        |secret: &str| Target { user: username.to_string(), password: Some(Password::new(secret)), ..target.clone() };
    let attempt = |t: Target| async move {
        match connect::connect(&t).await {
            Ok(_) => Attempt::Succeeded(format!("connected as {}", t.user)),
            Err(e) => Attempt::Refused(e.reason),
        }
    };
    let new_password = attempt(login(&password)).await;
    let old = match &old_password {
        Some(p) => Some(attempt(login(p)).await),
        None => None,
    };
    let mut finish = secrets
        .update_secret_version_stage()
        .secret_id(name)
        .version_stage("AWSCURRENT")
        .move_to_version_id(&new_version);
    if let Some(old) = &old_version {
        finish = finish.remove_from_version_id(old);
    }
    finish.send().await.map_err(|e| {
        sm(
            "UpdateSecretVersionStage",
            format!(
                "{} (the server holds the password of version {new_version}, staged AWSPENDING: make it AWSCURRENT)",
                crate::aws::sdk_error_line(&e, endpoint)
            ),
        )
    })?;
    journal.note(format!("{name}: version {new_version} made AWSCURRENT"));
    // Secrets Manager takes AWSPENDING off once a rotation is finished; so does the drill.
    secrets
        .update_secret_version_stage()
        .secret_id(name)
        .version_stage("AWSPENDING")
        .remove_from_version_id(&new_version)
        .send()
        .await
        .map_err(|e| sm("UpdateSecretVersionStage (AWSPENDING)", crate::aws::sdk_error_line(&e, endpoint)))?;
    // Which version carries AWSCURRENT, from the stages themselves (moto's GetSecretValue keeps answering with
    // the version it made first, whatever the stages say).
    let after = secrets
        .describe_secret()
        .secret_id(name)
        .send()
        .await
        .map_err(|e| sm("DescribeSecret", crate::aws::sdk_error_line(&e, endpoint)))?;
    let current_is_new = after
        .version_ids_to_stages()
        .and_then(|stages| stages.get(&new_version))
        .is_some_and(|stages| stages.iter().any(|s| s == "AWSCURRENT"));
    Ok(Rotation {
        secret: name.to_string(),
        username: username.to_string(),
        declared_days,
        rotation_enabled: described.rotation_enabled().unwrap_or(false),
        schedule_days: described.rotation_rules().and_then(|r| r.automatically_after_days()),
        new_password,
        old_password: old,
        current_is_new,
        seconds: started.elapsed().as_secs_f64(),
    })
}
