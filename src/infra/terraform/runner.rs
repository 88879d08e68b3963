//! Runs the real `terraform` binary in a rendered directory. Its own error text is passed on in full.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::Value;

use crate::process::Program;

pub struct Terraform {
    dir: PathBuf,
    plugin_dir: Option<PathBuf>,
    /// `-backend-config=KEY=VALUE` arguments of `init` (see `emulator::backend_config`).
    backend_config: Vec<String>,
}

/// What went wrong running terraform: the step and terraform's own output, and for `apply` the resource
/// operations that finished before it stopped.
#[derive(Debug)]
pub struct TerraformError {
    pub step: String,
    pub output: String,
    pub applied: Vec<Applied>,
}

impl TerraformError {
    fn new(step: &str, output: impl Into<String>) -> Self {
        TerraformError { step: step.into(), output: output.into(), applied: Vec::new() }
    }
}

/// `terraform` with what it needs of glctl's environment, and no database credential (it needs none):
/// its own settings (TF_*: TF_CLI_CONFIG_FILE, TF_PLUGIN_CACHE_DIR, TF_LOG…, and CHECKPOINT_DISABLE), the
/// AWS provider's and the S3 backend's (AWS_*: credentials, profile, region, AWS_ENDPOINT_URL, CA bundle)
/// and a proxy or CA file on the way to AWS.
fn terraform_command() -> Program {
    let mut program = Program::new("terraform");
    program.pass_prefixed("TF_").pass_prefixed("AWS_");
    for name in ["TERRAFORM_CONFIG", "CHECKPOINT_DISABLE", "SSL_CERT_FILE", "SSL_CERT_DIR"] {
        program.pass(name);
    }
    for name in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"] {
        program.pass(name);
    }
    program
}

/// What `terraform plan -detailed-exitcode` said of the plan it saved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanOutcome {
    /// Exit 0: terraform found the plan not applyable, i.e. every resource and root output change is a
    /// no-op (terraform's `plans.Changes.Empty`), so `terraform show -json` would list no resource action.
    NoChanges,
    /// Exit 2: something to apply (a resource action, a root output, a move or an import).
    Changes,
}

/// One step of `terraform apply -json`, as it happens.
#[derive(Debug)]
pub enum ApplyEvent<'a> {
    Started { address: &'a str, action: &'a str },
    Finished { address: &'a str, action: &'a str, ok: bool },
}

impl std::fmt::Display for TerraformError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "terraform {} failed:\n{}", self.step, self.output.trim_end())
    }
}

/// One finished resource operation from `terraform apply -json`.
#[derive(Clone, Debug)]
pub struct Applied {
    pub address: String,
    pub action: String,
    pub seconds: f64,
}

impl Terraform {
    pub fn new(dir: &Path, plugin_dir: Option<PathBuf>) -> Self {
        Terraform { dir: dir.to_path_buf(), plugin_dir, backend_config: Vec::new() }
    }

    /// The same with `KEY=VALUE` settings of the backend that `init` passes as `-backend-config`.
    pub fn with_backend_config(mut self, settings: Vec<String>) -> Self {
        self.backend_config = settings;
        self
    }

    /// The `-backend-config` settings `init` passes (part of what decides whether init must run again).
    pub fn backend_config(&self) -> &[String] {
        &self.backend_config
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut program = terraform_command();
        program.args(args).current_dir(&self.dir).env("TF_IN_AUTOMATION", "1").env("TF_INPUT", "0");
        program.command()
    }

    fn run(&self, step: &str, args: &[&str]) -> Result<String, TerraformError> {
        self.run_accepting(step, args, &[0]).map(|(_, stdout)| stdout)
    }

    /// Runs terraform and returns its exit code and stdout when the code is one of `success_codes`;
    /// otherwise terraform's stderr and stdout are the error.
    fn run_accepting(&self, step: &str, args: &[&str], success_codes: &[i32]) -> Result<(i32, String), TerraformError> {
        let output = self.command(args).output().map_err(|e| {
            TerraformError::new(step, format!("cannot run terraform ({e}); is it installed and on PATH?"))
        })?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        match output.status.code() {
            Some(code) if success_codes.contains(&code) => Ok((code, stdout)),
            _ => {
                let stderr = String::from_utf8_lossy(&output.stderr);
                Err(TerraformError::new(step, format!("{stderr}{stdout}")))
            }
        }
    }

    pub fn init(&self) -> Result<(), TerraformError> {
        let plugin_arg = self.plugin_dir.as_ref().map(|d| format!("-plugin-dir={}", d.display()));
        let backend_args: Vec<String> = self.backend_config.iter().map(|s| format!("-backend-config={s}")).collect();
        let mut args = vec!["init", "-input=false", "-no-color", "-reconfigure"];
        if let Some(arg) = &plugin_arg {
            args.push(arg);
        }
        args.extend(backend_args.iter().map(String::as_str));
        self.run("init", &args).map(|_| ())
    }

    /// The state as the configured backend holds it (`terraform state pull`), `None` when it holds none
    /// (terraform prints nothing, or an empty state without a lineage, for a backend that has no object).
    pub fn state_pull(&self) -> Result<Option<Value>, TerraformError> {
        let text = self.run("state pull", &["state", "pull"])?;
        if text.trim().is_empty() {
            return Ok(None);
        }
        let state: Value = serde_json::from_str(&text)
            .map_err(|e| TerraformError::new("state pull", format!("unreadable JSON: {e}")))?;
        let never_written = state["lineage"].as_str().is_none_or(str::is_empty) && state["serial"].as_u64() == Some(0);
        Ok((!never_written).then_some(state))
    }

    /// Plans into `plan_file` and says whether the plan changes anything, from terraform's own
    /// `-detailed-exitcode` (0: no changes, 2: changes; anything else is a failure).
    pub fn plan(&self, plan_file: &str) -> Result<PlanOutcome, TerraformError> {
        let out = format!("-out={plan_file}");
        let args = ["plan", "-input=false", "-no-color", "-lock-timeout=60s", "-detailed-exitcode", &out];
        let (code, _) = self.run_accepting("plan", &args, &[0, 2])?;
        Ok(if code == 0 { PlanOutcome::NoChanges } else { PlanOutcome::Changes })
    }

    /// A refresh-only plan: what changed in the real resources since the last apply, changing nothing.
    pub fn plan_refresh_only(&self, plan_file: &str) -> Result<(), TerraformError> {
        self.run(
            "plan -refresh-only",
            &["plan", "-refresh-only", "-input=false", "-no-color", "-lock-timeout=60s", &format!("-out={plan_file}")],
        )
        .map(|_| ())
    }

    pub fn show_json(&self, plan_file: &str) -> Result<Value, TerraformError> {
        let text = self.run("show", &["show", "-json", "-no-color", plan_file])?;
        serde_json::from_str(&text).map_err(|e| TerraformError::new("show", format!("unreadable JSON: {e}")))
    }

    pub fn output_json(&self) -> Result<Value, TerraformError> {
        let text = self.run("output", &["output", "-json", "-no-color"])?;
        serde_json::from_str(&text).map_err(|e| TerraformError::new("output", format!("unreadable JSON: {e}")))
    }

    /// Applies a saved plan, telling `on_event` as each resource operation starts and finishes.
    pub fn apply(&self, plan_file: &str, mut on_event: impl FnMut(ApplyEvent)) -> Result<Vec<Applied>, TerraformError> {
        let mut child = self
            .command(&["apply", "-json", "-input=false", "-lock-timeout=60s", plan_file])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| TerraformError::new("apply", format!("cannot run terraform ({e})")))?;
        let stderr = child.stderr.take().expect("piped");
        let stderr_reader = std::thread::spawn(move || {
            let mut text = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                text.push_str(&line);
                text.push('\n');
            }
            text
        });
        let mut started: std::collections::HashMap<String, Instant> = Default::default();
        let mut applied = Vec::new();
        let mut errors = Vec::new();
        for line in BufReader::new(child.stdout.take().expect("piped")).lines().map_while(Result::ok) {
            let Ok(event) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            let address = event["hook"]["resource"]["addr"].as_str().unwrap_or_default().to_string();
            let action = event["hook"]["action"].as_str().unwrap_or_default().to_string();
            match event["type"].as_str().unwrap_or_default() {
                "apply_start" => {
                    on_event(ApplyEvent::Started { address: &address, action: &action });
                    started.insert(address, Instant::now());
                }
                "apply_complete" | "apply_errored" => {
                    let ok = event["type"] == "apply_complete";
                    on_event(ApplyEvent::Finished { address: &address, action: &action, ok });
                    if let Some(at) = started.remove(&address) {
                        if ok {
                            applied.push(Applied { address, action, seconds: at.elapsed().as_secs_f64() });
                        }
                    }
                }
                "diagnostic" if event["diagnostic"]["severity"] == "error" => errors.push(diagnostic_text(&event)),
                _ => {}
            }
        }
        let status = child.wait().map_err(|e| TerraformError::new("apply", e.to_string()))?;
        let stderr_text = stderr_reader.join().unwrap_or_default();
        if status.success() {
            Ok(applied)
        } else {
            let mut output = errors.join("\n\n");
            if !stderr_text.trim().is_empty() {
                output.push_str(&format!("\n{stderr_text}"));
            }
            Err(TerraformError { step: "apply".into(), output, applied })
        }
    }

    pub fn fmt_stdin(text: &str) -> Result<String, TerraformError> {
        use std::io::Write;
        let mut child = terraform_command()
            .args(["fmt", "-no-color", "-"])
            .command()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| TerraformError::new("fmt", format!("cannot run terraform ({e})")))?;
        // A terraform that exits without reading its input must not take glctl down with a broken pipe.
        let written = child.stdin.take().expect("piped").write_all(text.as_bytes());
        let out = child.wait_with_output().map_err(|e| TerraformError::new("fmt", e.to_string()))?;
        if let (Err(e), true) = (written, out.status.success()) {
            return Err(TerraformError::new("fmt", format!("could not send the file to terraform fmt: {e}")));
        }
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(TerraformError::new("fmt", String::from_utf8_lossy(&out.stderr)))
        }
    }
}

/// A terraform `-json` error diagnostic as terraform would print it.
fn diagnostic_text(event: &Value) -> String {
    let d = &event["diagnostic"];
    let mut text = format!("Error: {}", d["summary"].as_str().unwrap_or_default());
    if let Some(detail) = d["detail"].as_str().filter(|s| !s.is_empty()) {
        text.push_str(&format!("\n\n{detail}"));
    }
    if let Some(address) = d["address"].as_str() {
        text.push_str(&format!("\n\n  with {address}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::diagnostic_text;

    #[test]
    fn a_diagnostic_reads_like_terraform_s_own() {
        let event = serde_json::json!({"type": "diagnostic", "diagnostic": {
            "severity": "error", "summary": "creating RDS Cluster", "detail": "quota exceeded",
            "address": "module.database.aws_rds_cluster.this"}});
        assert_eq!(
            diagnostic_text(&event),
            "Error: creating RDS Cluster\n\nquota exceeded\n\n  with module.database.aws_rds_cluster.this"
        );
    }
}
