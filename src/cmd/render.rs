//! `glctl render`: the environment's Terraform root module, written out for review.

use super::Context;
use crate::cli::RenderArgs;
use crate::error::{Exit, Failure};
use crate::terraform::{self, render};

pub fn run(ctx: &Context, args: &RenderArgs) -> Result<Exit, Failure> {
    let loaded = ctx.load()?;
    let dir = terraform::work_dir(ctx, &loaded, args.out.as_ref());
    let rendered = render_formatted(ctx, &loaded)?;
    rendered.write(&dir).map_err(|e| Failure::usage(format!("cannot write {}: {e}", dir.display())))?;
    println!("rendered {} files for {} into {}", rendered.files.len(), loaded.name, dir.display());
    Ok(Exit::Ok)
}

/// Renders and normalises with `terraform fmt`, so the files are what `terraform fmt -check` expects.
pub fn render_formatted(ctx: &Context, loaded: &crate::config::Loaded) -> Result<render::Rendered, Failure> {
    let mut rendered = render::render(loaded, &ctx.root.join("templates")).map_err(Failure::usage)?;
    for (path, text) in rendered.files.iter_mut() {
        if path.parent().is_some_and(|p| p.as_os_str().is_empty()) {
            *text = terraform::runner::Terraform::fmt_stdin(text).map_err(|e| Failure::usage(e.to_string()))?;
        }
    }
    Ok(rendered)
}
