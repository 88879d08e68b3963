//! Terraform: rendering an environment into a root module, running the real `terraform`, and reading its
//! plan back as a summary people and CI can act on.

pub mod emulator;
pub mod parameters;
pub mod plan_summary;
pub mod render;
pub mod runner;

use std::path::PathBuf;

use crate::cmd::Context;
use crate::config::Loaded;

/// Where an environment's rendered module, plan and outputs live: `.glctl/<env>/` unless `--out` says otherwise.
pub fn work_dir(ctx: &Context, loaded: &Loaded, out: Option<&PathBuf>) -> PathBuf {
    out.cloned().unwrap_or_else(|| ctx.root.join(".glctl").join(&loaded.name))
}

/// Provider plugins for air-gapped `terraform init`: GLCTL_TF_PLUGIN_DIR, else the environment's setting.
pub fn plugin_dir(loaded: &Loaded) -> Option<PathBuf> {
    std::env::var_os("GLCTL_TF_PLUGIN_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| loaded.env.terraform.plugin_dir.as_ref().map(PathBuf::from))
}
