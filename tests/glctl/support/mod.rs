//! Test harness: run the built `glctl`, compare against expected files, share the local stack.

pub mod poolers;
pub mod stack;

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `glctl ARGS` in `dir` with a clean glctl environment (no inherited GLCTL_* settings).
pub fn glctl_in(dir: &Path, args: &[&str]) -> Output {
    let out = glctl_command(dir, args).output().expect("glctl runs");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The command `glctl_in` runs, for a test that needs the process itself (to signal it).
pub fn glctl_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_glctl"));
    command.args(args).current_dir(dir).env("NO_COLOR", "1");
    for var in ["GLCTL_ENV", "GLCTL_ROOT", "GLCTL_DATABASE_URL"] {
        command.env_remove(var);
    }
    command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    command
}

/// Runs `glctl ARGS` in `dir` against the moto at `endpoint` and the local Terraform plugin mirror.
pub fn glctl_aws(endpoint: &str, dir: &Path, args: &[&str]) -> Output {
    glctl_aws_env(endpoint, dir, args, &[])
}

/// The same with more environment variables set (after glctl_aws's own).
pub fn glctl_aws_env(endpoint: &str, dir: &Path, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Output {
    let stack = stack::stack();
    // A Terraform provider retries an emulator's 500s for a long time: bound every run.
    let mut command = Command::new("timeout");
    command.args(["--kill-after=10", "600", env!("CARGO_BIN_EXE_glctl")]);
    command.args(args).current_dir(dir).env("NO_COLOR", "1").env_remove("GLCTL_DATABASE_URL");
    for var in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "GLCTL_TF_PLUGIN_DIR"] {
        command.env(var, stack.var(var));
    }
    command.env("AWS_ENDPOINT_URL", endpoint);
    command.envs(env.iter().copied());
    let out = command.output().expect("glctl runs");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn glctl(args: &[&str]) -> Output {
    glctl_in(&repo(), args)
}

/// Compares `actual` with the file at `expected`; `GLCTL_BLESS=1` rewrites the file instead.
pub fn assert_matches_file(actual: &str, expected: &Path) {
    if std::env::var_os("GLCTL_BLESS").is_some() {
        std::fs::write(expected, actual).expect("write expected file");
        return;
    }
    let wanted = std::fs::read_to_string(expected)
        .unwrap_or_else(|e| panic!("{}: {e} (run with GLCTL_BLESS=1 to create it)", expected.display()));
    assert_eq!(actual, wanted, "output differs from {}", expected.display());
}

/// A current-thread tokio runtime for a test's async part.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Whether this run is CI, where a missing tool is a failure rather than something to set up.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Takes every AWS credential source away from `command`: no credential variables, no profile files (an
/// empty `home`), no instance metadata (this machine has no instance role, and nothing leaves loopback).
pub fn without_aws_credentials(command: &mut Command, home: &Path) {
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
    command
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("none"))
        .env("AWS_EC2_METADATA_DISABLED", "true");
}
