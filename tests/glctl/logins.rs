//! The application's first password: set by `glctl apply` over the environment's own connection, in
//! PostgreSQL as a SCRAM verifier and in its Secrets Manager secret, never printed; left alone once there.

use crate::support::stack::{aws_config, dedicated_moto, dedicated_timescaledb, timescaledb_connect_to};
use crate::support::{glctl_aws, repo, runtime};

#[test]
fn apply_sets_the_first_password_of_a_password_login_and_never_prints_it() {
    let endpoint = dedicated_moto();
    let port = dedicated_timescaledb();
    let dir = tempfile::tempdir().unwrap();
    // local.yaml, reached through its own settings: the admin credentials come from a secret.
    let env = dir.path().join("logins.yaml");
    std::fs::write(
        &env,
        format!(
            "extends: {}\nconnection: {{ port: {port}, credentials_secret: admin }}\nsecrets:\n  admin: {{ name: greenlang/logins/database/admin, username: postgres }}\n",
            repo().join("environments/local.yaml").display()
        ),
    )
    .unwrap();
    let env = env.to_str().unwrap();
    let out = dir.path().join("tf");
    let out = out.to_str().unwrap();
    let infra = glctl_aws(&endpoint, &repo(), &["apply", "-e", env, "--out", out, "--yes", "--only", "infra"]);
    assert_eq!(infra.code, 0, "{}\n{}", infra.stdout, infra.stderr);
    let app_secret = "greenlang/local/database/app";
    runtime().block_on(async {
        let secrets = aws_sdk_secretsmanager::Client::new(&aws_config(&endpoint).await);
        let admin = serde_json::json!({ "username": "postgres", "password": "postgres" }).to_string();
        secrets
            .put_secret_value()
            .secret_id("greenlang/logins/database/admin")
            .secret_string(admin)
            .send()
            .await
            .unwrap();
    });

    let apply = glctl_aws(&endpoint, &repo(), &["apply", "-e", env, "--out", out, "--only", "database"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert!(
        apply
            .stdout
            .contains("+ app_service: first password, generated and stored in secret greenlang/local/database/app"),
        "{}",
        apply.stdout
    );
    let password = runtime().block_on(async {
        let secrets = aws_sdk_secretsmanager::Client::new(&aws_config(&endpoint).await);
        let value = secrets.get_secret_value().secret_id(app_secret).send().await.unwrap();
        let json: serde_json::Value = serde_json::from_str(value.secret_string().unwrap()).unwrap();
        assert_eq!(json["username"], "app_service");
        assert_eq!(json["host"], "127.0.0.1", "the first version's connection details are kept");
        json["password"].as_str().unwrap().to_string()
    });
    assert_eq!(password.len(), 64);
    assert!(!apply.stdout.contains(&password) && !apply.stderr.contains(&password), "the password was printed");
    let verifier = runtime().block_on(async {
        let (client, task) = timescaledb_connect_to(port).await;
        let row =
            client.query_one("SELECT rolpassword FROM pg_authid WHERE rolname = 'app_service'", &[]).await.unwrap();
        drop(client);
        let _ = task.await;
        row.get::<_, String>(0)
    });
    assert!(verifier.starts_with("SCRAM-SHA-256$4096:") && !verifier.contains(&password), "{verifier}");

    let again = glctl_aws(&endpoint, &repo(), &["apply", "-e", env, "--out", out, "--only", "database"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stdout.contains("logins: as the environment file says"), "{}", again.stdout);
}
