//! A newcomer without AWS credentials is told what is missing in two lines, not the SDK's request structure,
//! and gets the configuration exit code; `--verbose` adds what each source of the chain said.

use crate::support::repo;

fn plan_without_credentials(extra: &[&str]) -> (i32, String) {
    plan_with(&[], extra)
}

/// `glctl plan -e prod` with no credentials but `vars`, no profile files and no instance metadata.
fn plan_with(vars: &[(&str, &str)], extra: &[&str]) -> (i32, String) {
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_glctl"));
    command.args(["plan", "-e", "prod", "--out"]).arg(out.path()).args(extra).current_dir(repo());
    // No profile files, and no instance-metadata request: this machine has no instance role to ask for.
    crate::support::without_aws_credentials(&mut command, home.path());
    command.env("NO_COLOR", "1");
    command.envs(vars.iter().copied());
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

/// A misspelt profile: the SDK's chain only says "the credential provider was not enabled" (a newcomer
/// blamed the instance metadata service); glctl names the profile and the files it looked in.
#[test]
fn a_profile_that_no_file_defines_is_named_with_where_glctl_looked() {
    let (code, stderr) = plan_with(&[("AWS_PROFILE", "prdo")], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("AWS_PROFILE names profile `prdo`"), "{stderr}");
    assert!(stderr.contains("profiles defined there: none"), "{stderr}");
    assert!(!stderr.contains("was not enabled"), "{stderr}");
}

/// An AWS endpoint that does not answer: nothing was checked, so exit 3, in one line naming the endpoint;
/// the SDK's structure only with --verbose.
#[test]
fn an_aws_endpoint_that_cannot_be_reached_is_one_line_and_exit_3() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let vars =
        [("AWS_ENDPOINT_URL", endpoint.as_str()), ("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test")];
    let (code, stderr) = plan_with(&vars, &["--only", "infra"]);
    assert_eq!(code, 3, "{stderr}");
    let error: Vec<&str> = stderr.lines().filter(|l| !l.contains(": warning: ")).collect();
    assert_eq!(error.len(), 1, "{stderr}");
    assert!(error[0].contains(&format!("could not reach {endpoint}")) && error[0].contains("refused"), "{stderr}");
    assert!(!stderr.contains("DispatchFailure") && !stderr.contains("Some("), "{stderr}");
    let (code, verbose) = plan_with(&vars, &["--only", "infra", "--verbose"]);
    assert_eq!(code, 3, "{verbose}");
    assert!(verbose.contains("DispatchFailure"), "--verbose shows the SDK's account: {verbose}");
}

/// `glctl fields | head -1`: the reader went away; that is a normal end, not a panic.
#[test]
fn a_closed_stdout_is_a_normal_end_not_a_panic() {
    for args in [&["fields"][..], &["show", "-e", "prod"][..]] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_glctl"))
            .args(args)
            .current_dir(repo())
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Close the reading end before glctl writes: every write then fails with EPIPE.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
