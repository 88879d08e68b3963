//! The SQL stage's connection against the real TLS-only PostgreSQL of the stack: verify-full succeeds,
//! a wrong CA or host name fails, bad credentials fail, and no error carries the password.

use std::path::PathBuf;

use glctl::{connect, ConnectError, Password, Target, TlsMode};

use crate::support::runtime;
use crate::support::stack::stack;

fn target(host: &str, tls_mode: TlsMode) -> Target {
    let s = stack();
    Target {
        host: host.to_string(),
        hostaddr: None,
        port: s.var("GLCTL_PG_PORT").parse().unwrap(),
        database: s.var("GLCTL_PG_DATABASE").to_string(),
        user: s.var("GLCTL_PG_USER").to_string(),
        password: Some(Password::new(s.var("GLCTL_PG_PASSWORD"))),
        tls_mode,
        ca_bundle: Some(PathBuf::from(s.var("GLCTL_PG_CA"))),
    }
}

fn failure(result: Result<tokio_postgres::Client, ConnectError>, why: &str) -> ConnectError {
    match result {
        Ok(_) => panic!("connected, but {why}"),
        Err(e) => e,
    }
}

#[test]
fn verify_full_connects_over_tls_with_the_right_ca_and_name() {
    runtime().block_on(async {
        let client = connect(&target("localhost", TlsMode::VerifyFull)).await.expect("verify-full connects");
        let row = client.query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]).await.unwrap();
        assert!(row.get::<_, bool>(0));
    });
}

#[test]
fn verify_full_refuses_a_certificate_from_another_ca() {
    let mut wrong = target("localhost", TlsMode::VerifyFull);
    wrong.ca_bundle = Some(crate::support::repo().join("tests/fixtures/tls/unrelated-ca.crt"));
    let err = failure(runtime().block_on(connect(&wrong)), "must fail").to_string();
    assert!(err.starts_with(&format!("cannot connect to localhost:{} as glctl_admin", wrong.port)), "{err}");
    assert!(err.contains("UnknownIssuer"), "{err}");
}

#[test]
fn verify_full_refuses_a_certificate_for_another_host_name_and_verify_ca_accepts_it() {
    let mut other_name = target("db.example.invalid", TlsMode::VerifyFull);
    other_name.hostaddr = Some("127.0.0.1".parse().unwrap());
    let err = failure(runtime().block_on(connect(&other_name)), "name mismatch must fail").to_string();
    assert!(err.contains("certificate not valid for name \"db.example.invalid\""), "{err}");
    other_name.tls_mode = TlsMode::VerifyCa;
    runtime().block_on(async { connect(&other_name).await.expect("verify-ca checks only the chain") });
}

#[test]
fn bad_credentials_name_the_target_and_never_the_password() {
    let mut wrong = target("localhost", TlsMode::VerifyFull);
    wrong.password = Some(Password::new("not-the-password-4711"));
    let err = failure(runtime().block_on(connect(&wrong)), "must fail");
    let text = format!("{err} {err:?} {wrong:?}");
    assert!(text.contains("password authentication failed for user \"glctl_admin\""), "{text}");
    assert!(text.contains(&format!("localhost:{}", wrong.port)), "{text}");
    assert!(!text.contains("not-the-password-4711"), "the password leaked: {text}");
}

#[test]
fn a_plaintext_connection_is_refused_by_the_server() {
    let err = failure(runtime().block_on(connect(&target("127.0.0.1", TlsMode::Disable))), "must fail").to_string();
    assert!(err.contains("no encryption"), "{err}");
}

#[test]
fn a_database_url_maps_sslmode_and_keeps_the_password_out_of_debug_output() {
    let t =
        Target::from_url("postgres://app:hunter2@db.internal:6432/greenlang?sslmode=verify-ca&sslrootcert=/tmp/ca.pem")
            .unwrap();
    assert_eq!(
        (t.host.as_str(), t.port, t.database.as_str(), t.user.as_str()),
        ("db.internal", 6432, "greenlang", "app")
    );
    assert_eq!(t.tls_mode, TlsMode::VerifyCa);
    assert_eq!(t.ca_bundle, Some(PathBuf::from("/tmp/ca.pem")));
    assert!(!format!("{t:?}").contains("hunter2"));
    assert_eq!(Target::from_url("postgres://db/x").unwrap().tls_mode, TlsMode::VerifyFull, "safe default");
    assert!(Target::from_url("postgres://db/x?sslmode=sometimes").is_err());
}
