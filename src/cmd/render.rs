//! `glctl render`: the environment's Terraform root module, written out for review.

use super::Context;
use crate::cli::{RenderArgs, ReportFormat};
use crate::error::{Error, Exit};
use crate::infra;
use crate::monitoring;
use crate::pgbouncer;

pub fn run(ctx: &Context, args: &RenderArgs) -> Result<Exit, Error> {
    let loaded = ctx.load()?;
    let dir = ctx.project.work_dir(&loaded, args.out.as_deref());
    let files = infra::write_root_module(&ctx.project, &loaded, &dir)?;
    let monitoring = monitoring::write(&loaded, &dir.join("monitoring"))?;
    let upstream =
        pgbouncer::render::Upstream::resolve(&loaded.environment, ctx.database_url.as_deref()).map_err(Error::Usage)?;
    let pooling: Vec<String> = match pgbouncer::render::write(&loaded.environment, upstream.as_ref(), &dir) {
        Ok(written) => written.iter().filter_map(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).collect(),
        Err(why) => {
            eprintln!("{why}");
            Vec::new()
        }
    };
    match args.output {
        ReportFormat::Json => super::json::print(serde_json::json!({
            "environment": loaded.name,
            "dir": dir,
            "terraform_files": files,
            "monitoring_files": monitoring,
            "pooling_files": pooling,
        })),
        ReportFormat::Text => {
            println!(
                "rendered {files} files for {} into {} (and {monitoring} monitoring files in monitoring/)",
                loaded.name,
                dir.display()
            );
            if !pooling.is_empty() {
                println!("rendered the PgBouncer files in pooling/: {}", pooling.join(", "));
            }
        }
    }
    Ok(Exit::Ok)
}
