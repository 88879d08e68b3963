//! Runs the real `terraform` binary in a rendered directory. Its own error text is passed on in full.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::Value;

pub struct Terraform {
    dir: PathBuf,
    plugin_dir: Option<PathBuf>,
}

/// What went wrong running terraform: the step and terraform's own output.
#[derive(Debug)]
pub struct TerraformError {
    pub step: String,
    pub output: String,
}

impl std::fmt::Display for TerraformError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "terraform {} failed:\n{}", self.step, self.output.trim_end())
    }
}

/// One finished resource operation from `terraform apply -json`.
#[derive(Debug)]
pub struct Applied {
    pub address: String,
    pub action: String,
    pub seconds: f64,
}

impl Terraform {
    pub fn new(dir: &Path, plugin_dir: Option<PathBuf>) -> Self {
        Terraform { dir: dir.to_path_buf(), plugin_dir }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("terraform");
        command
            .args(args)
            .current_dir(&self.dir)
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .stdin(Stdio::null());
        command
    }

    fn run(&self, step: &str, args: &[&str]) -> Result<String, TerraformError> {
        let output = self.command(args).output().map_err(|e| TerraformError {
            step: step.into(),
            output: format!("cannot run terraform ({e}); is it installed and on PATH?"),
        })?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if output.status.success() {
            Ok(stdout)
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr);
            Err(TerraformError { step: step.into(), output: format!("{stderr}{stdout}") })
        }
    }

    pub fn init(&self) -> Result<(), TerraformError> {
        let plugin_arg = self.plugin_dir.as_ref().map(|d| format!("-plugin-dir={}", d.display()));
        let mut args = vec!["init", "-input=false", "-no-color", "-reconfigure"];
        if let Some(arg) = &plugin_arg {
            args.push(arg);
        }
        self.run("init", &args).map(|_| ())
    }

    pub fn validate(&self) -> Result<(), TerraformError> {
        self.run("validate", &["validate", "-no-color"]).map(|_| ())
    }

    pub fn plan(&self, plan_file: &str) -> Result<(), TerraformError> {
        self.run("plan", &["plan", "-input=false", "-no-color", "-lock-timeout=60s", &format!("-out={plan_file}")])
            .map(|_| ())
    }

    pub fn show_json(&self, plan_file: &str) -> Result<Value, TerraformError> {
        let text = self.run("show", &["show", "-json", "-no-color", plan_file])?;
        serde_json::from_str(&text)
            .map_err(|e| TerraformError { step: "show".into(), output: format!("unreadable JSON: {e}") })
    }

    pub fn output_json(&self) -> Result<Value, TerraformError> {
        let text = self.run("output", &["output", "-json", "-no-color"])?;
        serde_json::from_str(&text)
            .map_err(|e| TerraformError { step: "output".into(), output: format!("unreadable JSON: {e}") })
    }

    /// Applies a saved plan, showing a spinner per resource in flight (on a terminal only).
    pub fn apply(&self, plan_file: &str) -> Result<Vec<Applied>, TerraformError> {
        let mut child = self
            .command(&["apply", "-json", "-input=false", "-lock-timeout=60s", plan_file])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| TerraformError { step: "apply".into(), output: format!("cannot run terraform ({e})") })?;
        let stderr = child.stderr.take().expect("piped");
        let stderr_reader = std::thread::spawn(move || {
            let mut text = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                text.push_str(&line);
                text.push('\n');
            }
            text
        });
        let progress = MultiProgress::new(); // draws to stderr, hidden when it is not a terminal
        let style = ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("template");
        let mut in_flight: std::collections::HashMap<String, (ProgressBar, Instant)> = Default::default();
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
                    let bar = progress.add(ProgressBar::new_spinner().with_style(style.clone()));
                    bar.set_message(format!("{address}: {action}"));
                    bar.enable_steady_tick(Duration::from_millis(120));
                    in_flight.insert(address, (bar, Instant::now()));
                }
                "apply_complete" | "apply_errored" => {
                    let ok = event["type"] == "apply_complete";
                    if let Some((bar, started)) = in_flight.remove(&address) {
                        let seconds = started.elapsed().as_secs_f64();
                        bar.finish_with_message(format!("{address}: {action} {}", if ok { "done" } else { "FAILED" }));
                        if ok {
                            applied.push(Applied { address, action, seconds });
                        }
                    }
                }
                "diagnostic" if event["diagnostic"]["severity"] == "error" => {
                    let d = &event["diagnostic"];
                    let mut text = format!("Error: {}", d["summary"].as_str().unwrap_or_default());
                    if let Some(detail) = d["detail"].as_str().filter(|s| !s.is_empty()) {
                        text.push_str(&format!("\n\n{detail}"));
                    }
                    if let Some(address) = d["address"].as_str() {
                        text.push_str(&format!("\n\n  with {address}"));
                    }
                    errors.push(text);
                }
                _ => {}
            }
        }
        let status = child.wait().map_err(|e| TerraformError { step: "apply".into(), output: e.to_string() })?;
        let stderr_text = stderr_reader.join().unwrap_or_default();
        for (_, (bar, _)) in in_flight {
            bar.abandon();
        }
        if status.success() {
            Ok(applied)
        } else {
            let mut output = errors.join("\n\n");
            if !stderr_text.trim().is_empty() {
                output.push_str(&format!("\n{stderr_text}"));
            }
            Err(TerraformError { step: "apply".into(), output })
        }
    }

    pub fn fmt_stdin(text: &str) -> Result<String, TerraformError> {
        use std::io::Write;
        let mut child = Command::new("terraform")
            .args(["fmt", "-no-color", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| TerraformError { step: "fmt".into(), output: format!("cannot run terraform ({e})") })?;
        child.stdin.take().expect("piped").write_all(text.as_bytes()).expect("terraform fmt reads stdin");
        let out = child.wait_with_output().map_err(|e| TerraformError { step: "fmt".into(), output: e.to_string() })?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(TerraformError { step: "fmt".into(), output: String::from_utf8_lossy(&out.stderr).into_owned() })
        }
    }
}
