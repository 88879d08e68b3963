//! `glctl migrate status|apply`: the versioned SQL in `sql/migrations/` against the environment's database.

use std::time::Duration;

use super::Context;
use crate::cli::{MigrateAction, MigrateArgs};
use crate::db::{connect, migrate, target};
use crate::error::{Exit, Failure};

pub fn run(ctx: &Context, args: &MigrateArgs) -> Result<Exit, Failure> {
    let loaded = ctx.load()?;
    let migrations = migrate::discover(&ctx.root.join("sql/migrations")).map_err(Failure::usage)?;
    let work_dir = crate::terraform::work_dir(ctx, &loaded, None);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let target = target::resolve(&loaded, ctx.database_url.as_deref(), &work_dir).await.map_err(Failure::usage)?;
        let mut client = connect::connect(&target).await.map_err(|e| Failure::problems(e.to_string()))?;
        let ledger = migrate::ledger(&client).await.map_err(|e| Failure::problems(e.to_string()))?;
        let status = migrate::compare(&migrations, &ledger);
        match args.action {
            MigrateAction::Status => {
                for m in &status.applied {
                    println!("applied  {}", m.path.display());
                }
                for m in &status.pending {
                    println!("pending  {}", m.path.display());
                }
                for problem in status.blockers() {
                    println!("PROBLEM  {problem}");
                }
                Ok(if status.is_up_to_date() { Exit::Ok } else { Exit::Problems })
            }
            MigrateAction::Apply => {
                if !status.blockers().is_empty() {
                    return Err(Failure::problems(format!("nothing was run:\n{}", status.blockers().join("\n"))));
                }
                if args.dry_run {
                    for m in &status.pending {
                        let how = if m.no_transaction { "outside a transaction" } else { "in one transaction" };
                        println!("would apply {} ({how})", m.path.display());
                    }
                    return Ok(Exit::Ok);
                }
                migrate::lock(&client, Duration::from_secs(args.lock_timeout), || {
                    eprintln!("waiting for another glctl to finish applying migrations…")
                })
                .await
                .map_err(Failure::problems)?;
                migrate::ensure_ledger(&client).await.map_err(|e| Failure::problems(e.to_string()))?;
                // Re-read under the lock: the other applier may have done our work.
                let ledger = migrate::ledger(&client).await.map_err(|e| Failure::problems(e.to_string()))?;
                let status = migrate::compare(&migrations, &ledger);
                let result = migrate::apply_pending(&mut client, &status.pending, |m, took| {
                    eprintln!("applied {} ({} ms)", m.path.display(), took.as_millis())
                })
                .await;
                migrate::unlock(&client).await;
                let applied = result.map_err(|e| Failure::problems(e.to_string()))?;
                println!("{} migration(s) applied; {} already applied", applied.len(), status.applied.len());
                Ok(Exit::Ok)
            }
        }
    })
}
