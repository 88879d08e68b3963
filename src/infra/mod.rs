//! The infrastructure stage shared by `render`, `plan` and `apply`: render the environment's Terraform root
//! module, run `terraform init` and `plan`, save the plan with a record of what it was made from, and apply
//! exactly that plan. Returns typed results; the commands decide how they look. Its machinery is `terraform`;
//! what an apply leaves for the other stages is read back through `outputs`.

pub mod outputs;
pub mod terraform;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::aws::VerifiedAccount;
use crate::config::diagnostics::Severity;
use crate::config::Loaded;
use crate::project::Project;
use terraform::plan_summary::PlanSummary;
use terraform::root_module::{self, RootModule};
use terraform::runner::{Applied, ApplyEvent, PlanOutcome, TerraformError};
use terraform::{emulator, fmt_cache, plugin_dir};

pub const PLAN_FILE: &str = "plan.tfplan";
pub const PLAN_RECORD: &str = "plan.json";
pub const OUTPUTS_FILE: &str = "outputs.json";

#[derive(Debug, thiserror::Error)]
pub enum InfraError {
    /// The templates cannot render this environment (a project file is broken).
    #[error("{0}")]
    Template(String),
    #[error("cannot write {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// terraform failed; `applied` lists the resource operations that finished before it stopped.
    #[error("terraform {step} failed:\n{}{}", output.trim_end(), applied_before(step, applied))]
    Terraform { step: String, output: String, applied: Vec<Applied> },
    #[error(
        "refusing to apply: the plan replaces or destroys stateful resources:\n  {}\nre-run with --allow-destroy if that is intended",
        addresses.join("\n  ")
    )]
    Destructive { addresses: Vec<String> },
    /// The plan's engine change is one AWS refuses (or glctl, where an emulator would not): each says what
    /// would satisfy it.
    #[error("refusing to apply the engine change of {environment}:\n  {}\nnothing was changed", reasons.join("\n  "))]
    EngineRefused { environment: String, reasons: Vec<String> },
    /// A production environment's engine version changes without the flag that allows it.
    #[error(
        "refusing to apply: the plan changes the engine version of production environment {environment} ({}); \
         re-run with {flag} if that is intended (nothing was changed)",
        changes.join(", ")
    )]
    EngineUpgradeNotAllowed { environment: String, changes: Vec<String>, flag: String },
}

fn applied_before(step: &str, applied: &[Applied]) -> String {
    if step != "apply" {
        return String::new();
    }
    if applied.is_empty() {
        return "\nnothing was applied before the failure".into();
    }
    let list: Vec<String> = applied.iter().map(|a| format!("  {} ({})", a.address, a.action)).collect();
    format!("\napplied before the failure ({}):\n{}", applied.len(), list.join("\n"))
}

impl From<TerraformError> for InfraError {
    fn from(e: TerraformError) -> Self {
        InfraError::Terraform { step: e.step, output: e.output, applied: e.applied }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> InfraError + '_ {
    move |source| InfraError::Io { path: path.to_path_buf(), source }
}

/// What a saved plan was made from and what it does; `apply` reads it back.
#[derive(Debug, Serialize, Deserialize)]
pub struct PlanRecord {
    pub environment: String,
    /// The AWS account and region the plan was made in (checked against the caller's credentials).
    pub account_id: String,
    pub region: String,
    /// Digest of the rendered files the plan was made from.
    pub digest: String,
    pub summary: PlanSummary,
    /// Safe defaults this environment gives up on purpose (its accepted risks), shown with every plan.
    pub accepted_risks: Vec<String>,
}

/// The environment's root module from the templates, normalised with `terraform fmt`, so the files are
/// what `terraform fmt -check` expects.
pub fn root_module(project: &Project, loaded: &Loaded) -> Result<RootModule, InfraError> {
    formatted_root_module(project, loaded, None)
}

/// The same, for the work directory `dir` that terraform runs in: `terraform fmt` runs only for root files
/// that render differently from the last run there (`fmt_cache`).
fn root_module_for(project: &Project, loaded: &Loaded, dir: &Path) -> Result<RootModule, InfraError> {
    formatted_root_module(project, loaded, Some(dir))
}

fn formatted_root_module(
    project: &Project,
    loaded: &Loaded,
    work_dir: Option<&Path>,
) -> Result<RootModule, InfraError> {
    let mut module = root_module::from_templates(loaded, &project.templates()).map_err(InfraError::Template)?;
    // The modules are copied verbatim and kept fmt-clean in the repository; only the root files are rendered.
    let mut root_files: Vec<(&Path, &mut String)> = module
        .files
        .iter_mut()
        .filter(|(path, _)| path.parent().is_some_and(|p| p.as_os_str().is_empty()))
        .map(|(path, text)| (path.as_path(), text))
        .collect();
    fmt_cache::format(&mut root_files, work_dir)?;
    Ok(module)
}

/// Writes the root module into `dir` for review; returns how many files were written.
pub fn write_root_module(project: &Project, loaded: &Loaded, dir: &Path) -> Result<usize, InfraError> {
    let module = root_module(project, loaded)?;
    module.write(dir).map_err(io(dir))?;
    Ok(module.files.len())
}

/// The same for a directory terraform then runs in (`drift`), remembering `terraform fmt`'s work there.
pub fn write_work_dir(project: &Project, loaded: &Loaded, dir: &Path) -> Result<usize, InfraError> {
    let module = root_module_for(project, loaded, dir)?;
    module.write(dir).map_err(io(dir))?;
    Ok(module.files.len())
}

/// Renders into `dir`, runs init and plan, and saves the plan and its record there.
pub fn plan(
    project: &Project,
    loaded: &Loaded,
    account: &VerifiedAccount,
    dir: &Path,
) -> Result<PlanRecord, InfraError> {
    let module = root_module_for(project, loaded, dir)?;
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    module.write(dir).map_err(io(dir))?;
    let _ = std::fs::remove_file(dir.join(PLAN_RECORD));
    let plugins = plugin_dir(loaded);
    let tf = terraform::for_environment(loaded, dir);
    crate::infra::terraform::init_cache::init_if_needed(&tf, dir, plugins.as_deref())?;
    let summary = match tf.plan(PLAN_FILE)? {
        // terraform's exit code already says every change is a no-op, which is all the summary would
        // read; `terraform show -json` would start the provider again to load its schemas and say the
        // same (about three quarters of the plan's own time on the local environment, scripts/bench-plan).
        PlanOutcome::NoChanges => PlanSummary::default(),
        PlanOutcome::Changes => {
            let show = tf.show_json(PLAN_FILE)?;
            let mut summary = PlanSummary::from_show_json(&show, emulator::in_use());
            summary.engine = terraform::engine_plan::classify(loaded, &show, emulator::in_use());
            summary
        }
    };
    let record = PlanRecord {
        environment: loaded.name.clone(),
        account_id: account.account_id.clone(),
        region: account.region.clone(),
        digest: module.digest(),
        summary,
        accepted_risks: accepted_risks(loaded),
    };
    let path = dir.join(PLAN_RECORD);
    std::fs::write(&path, serde_json::to_string_pretty(&record).expect("json")).map_err(io(&path))?;
    Ok(record)
}

fn accepted_risks(loaded: &Loaded) -> Vec<String> {
    loaded
        .warnings
        .iter()
        .filter(|w| w.severity == Severity::Warning && w.message.contains("(accepted risk"))
        .map(|w| format!("{}: {}", w.field, w.message))
        .collect()
}

/// A plan ready to apply: the saved one when it was made from the files as they render now, else a new one.
#[derive(Debug)]
pub struct ReadyPlan {
    pub record: PlanRecord,
    /// The saved plan was missing or made from other files, so this one was made just now.
    pub replanned: bool,
    dir: PathBuf,
}

/// What `apply` may do beyond an ordinary change.
#[derive(Clone, Copy, Debug, Default)]
pub struct Allowed {
    /// Replace or destroy stateful resources.
    pub destroy: bool,
    /// Change a production environment's engine version.
    pub engine_upgrade: bool,
}

/// Finds or makes the plan `apply` will apply, and refuses a destructive one without `allowed.destroy`, an
/// engine change AWS would refuse, and a production engine change without `allowed.engine_upgrade`.
pub fn ready_plan(
    project: &Project,
    loaded: &Loaded,
    account: &VerifiedAccount,
    dir: &Path,
    allowed: Allowed,
) -> Result<ReadyPlan, InfraError> {
    let allow_destroy = allowed.destroy;
    let module = root_module_for(project, loaded, dir)?;
    let digest = module.digest();
    let saved: Option<PlanRecord> =
        std::fs::read_to_string(dir.join(PLAN_RECORD)).ok().and_then(|t| serde_json::from_str(&t).ok());
    let (record, replanned) = match saved {
        Some(record) if record.digest == digest && dir.join(PLAN_FILE).is_file() => {
            // A saved plan brought from elsewhere (a CI job's artifact) arrives without the rendered files
            // and `terraform init`, which applying it needs: render the same files and initialise.
            module.write(dir).map_err(io(dir))?;
            let plugins = plugin_dir(loaded);
            let tf = terraform::for_environment(loaded, dir);
            crate::infra::terraform::init_cache::init_if_needed(&tf, dir, plugins.as_deref())?;
            (record, false)
        }
        _ => (plan(project, loaded, account, dir)?, true),
    };
    let destructive: Vec<String> = record.summary.destructive().iter().map(|c| c.address.clone()).collect();
    if !destructive.is_empty() && !allow_destroy {
        return Err(InfraError::Destructive { addresses: destructive });
    }
    let engine = &record.summary.engine;
    if !engine.blockers().is_empty() {
        let reasons = engine.blockers().into_iter().map(str::to_string).collect();
        return Err(InfraError::EngineRefused { environment: loaded.name.clone(), reasons });
    }
    if let (Some(flag), false) = (engine.apply_flags().first(), allowed.engine_upgrade) {
        let changes = engine.changes.iter().filter(|c| c.apply_flag.is_some()).map(|c| c.subject.clone()).collect();
        return Err(InfraError::EngineUpgradeNotAllowed {
            environment: loaded.name.clone(),
            changes,
            flag: flag.to_string(),
        });
    }
    Ok(ReadyPlan { record, replanned, dir: dir.to_path_buf() })
}

/// What `apply` did to the infrastructure.
#[derive(Debug)]
pub struct InfraApplied {
    pub operations: Vec<Applied>,
    pub outputs_file: PathBuf,
}

impl InfraApplied {
    pub fn longest_seconds(&self) -> f64 {
        self.operations.iter().map(|a| a.seconds).fold(0.0, f64::max)
    }
}

/// Applies exactly the ready plan (nothing when it has no changes) and writes `terraform output -json`.
pub fn apply(loaded: &Loaded, ready: ReadyPlan, on_event: impl FnMut(ApplyEvent)) -> Result<InfraApplied, InfraError> {
    let dir = ready.dir;
    let tf = terraform::for_environment(loaded, &dir);
    let operations = if ready.record.summary.is_empty() { Vec::new() } else { tf.apply(PLAN_FILE, on_event)? };
    // A saved plan applies once; the record must not send the next apply to it.
    let _ = std::fs::remove_file(dir.join(PLAN_RECORD));
    let outputs = tf.output_json()?;
    let outputs_file = dir.join(OUTPUTS_FILE);
    std::fs::write(&outputs_file, serde_json::to_string_pretty(&outputs).expect("json")).map_err(io(&outputs_file))?;
    Ok(InfraApplied { operations, outputs_file })
}

#[cfg(test)]
mod tests {
    use super::{InfraApplied, InfraError};
    use crate::infra::terraform::runner::Applied;

    fn op(address: &str, seconds: f64) -> Applied {
        Applied { address: address.into(), action: "create".into(), seconds }
    }

    #[test]
    fn a_failed_apply_names_what_was_applied_before_it() {
        let e = InfraError::Terraform {
            step: "apply".into(),
            output: "Error: boom\n".into(),
            applied: vec![op("module.kms.aws_kms_key.this", 3.0)],
        };
        let text = e.to_string();
        assert!(text.starts_with("terraform apply failed:\nError: boom\napplied before the failure (1):"), "{text}");
        assert!(text.contains("module.kms.aws_kms_key.this (create)"), "{text}");
    }

    #[test]
    fn a_failure_before_anything_applied_says_so() {
        let e = InfraError::Terraform { step: "apply".into(), output: "x".into(), applied: vec![] };
        assert!(e.to_string().ends_with("nothing was applied before the failure"), "{e}");
        let e = InfraError::Terraform { step: "plan".into(), output: "x".into(), applied: vec![] };
        assert_eq!(e.to_string(), "terraform plan failed:\nx");
    }

    #[test]
    fn the_longest_operation_is_reported() {
        let applied = InfraApplied { operations: vec![op("a", 2.0), op("b", 31.5)], outputs_file: "x".into() };
        assert_eq!(applied.longest_seconds(), 31.5);
    }
}
