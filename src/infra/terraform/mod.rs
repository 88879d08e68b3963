//! Terraform: rendering an environment into a root module, running the real `terraform`, and reading its
//! plan back as a summary people and CI can act on. The stage that uses them is `infra`, its parent.

pub mod emulator;
pub mod engine_plan;
pub mod fmt_cache;
pub mod init_cache;
pub mod plan_summary;
pub mod root_module;
pub mod runner;

use std::path::{Path, PathBuf};

use crate::config::Loaded;
use runner::Terraform;

/// Provider plugins for air-gapped `terraform init`: GLCTL_TF_PLUGIN_DIR, else the environment's setting.
pub fn plugin_dir(loaded: &Loaded) -> Option<PathBuf> {
    std::env::var_os("GLCTL_TF_PLUGIN_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| loaded.environment.terraform.plugin_dir.as_ref().map(PathBuf::from))
}

/// `terraform` in the rendered directory `dir` of `loaded`: its plugin mirror, and its backend settings
/// (path-style S3 addressing when an emulator answers for AWS).
pub fn for_environment(loaded: &Loaded, dir: &Path) -> Terraform {
    let backend = emulator::backend_config(loaded.environment.terraform.state_backend, emulator::in_use());
    Terraform::new(dir, plugin_dir(loaded)).with_backend_config(backend)
}
