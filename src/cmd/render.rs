//! `glctl render`: the environment's Terraform root module, written out for review.

use super::Context;
use crate::cli::RenderArgs;
use crate::error::{Error, Exit};
use crate::infra;
use crate::monitoring;

pub fn run(ctx: &Context, args: &RenderArgs) -> Result<Exit, Error> {
    let loaded = ctx.load()?;
    let dir = ctx.project.work_dir(&loaded, args.out.as_deref());
    let files = infra::write_root_module(&ctx.project, &loaded, &dir)?;
    let monitoring = monitoring::write(&loaded, &dir.join("monitoring"))?;
    println!(
        "rendered {files} files for {} into {} (and {monitoring} monitoring files in monitoring/)",
        loaded.name,
        dir.display()
    );
    Ok(Exit::Ok)
}
