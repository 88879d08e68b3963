//! A newcomer without AWS credentials is told what is missing in two lines, not the SDK's request structure,
//! and gets the configuration exit code; `--verbose` adds what each source of the chain said.

use crate::support::repo;

fn plan_without_credentials(extra: &[&str]) -> (i32, String) {
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_glctl"));
    command.args(["plan", "-e", "prod", "--out"]).arg(out.path()).args(extra).current_dir(repo());
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "GLCTL_DATABASE_URL",
    ] {
        command.env_remove(var);
    }
    // No profile files, and no instance-metadata request: this machine has no instance role to ask for.
    command
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", home.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.path().join("none"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1");
    let result = command.output().unwrap();
    (result.status.code().unwrap_or(-1), String::from_utf8_lossy(&result.stderr).into_owned())
}

#[test]
fn missing_credentials_are_a_configuration_error_in_two_lines() {
    let (code, stderr) = plan_without_credentials(&[]);
    assert_eq!(code, 2, "{stderr}");
    let error: Vec<&str> = stderr.lines().filter(|l| !l.contains(": warning: ")).collect();
    assert_eq!(error.len(), 2, "{stderr}");
    assert!(error[0].starts_with("no AWS credentials for environment prod (account 123456789012)"), "{stderr}");
    assert!(error[1].contains("AWS_PROFILE") && error[1].contains("--verbose"), "{stderr}");
    for debug in ["ProviderError", "DispatchFailure", "ProviderChainError", "StatusCode"] {
        assert!(!stderr.contains(debug), "no SDK structure ({debug}) without --verbose: {stderr}");
    }
}

#[test]
fn verbose_shows_what_each_credential_source_said() {
    let (code, stderr) = plan_without_credentials(&["--verbose"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("Environment:") && stderr.contains("Profile:"), "{stderr}");
}
