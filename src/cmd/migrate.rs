//! `glctl migrate status|apply`: the versioned SQL in `sql/migrations/` against the environment's database.

use std::time::Duration;

use super::{database, Context};
use crate::cli::{MigrateAction, MigrateArgs};
use crate::error::{Exit, Failure};

pub fn run(ctx: &Context, args: &MigrateArgs) -> Result<Exit, Failure> {
    let loaded = ctx.load()?;
    let migrations = database::migrations(ctx, &loaded)?;
    database::runtime().block_on(async {
        match args.action {
            MigrateAction::Status => {
                let client = database::connect(ctx, &loaded).await.map_err(Failure::problems)?;
                let status = database::status(&client, &migrations).await.map_err(Failure::problems)?;
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
            MigrateAction::Apply if args.dry_run => {
                let client = database::connect(ctx, &loaded).await.map_err(Failure::problems)?;
                let status = database::status(&client, &migrations).await.map_err(Failure::problems)?;
                database::refuse_blocked(&status)?;
                for m in &status.pending {
                    let how = if m.no_transaction { "outside a transaction" } else { "in one transaction" };
                    println!("would apply {} ({how})", m.path.display());
                }
                Ok(Exit::Ok)
            }
            MigrateAction::Apply => {
                let options = database::ApplyOptions {
                    lock_timeout: Duration::from_secs(args.lock_timeout),
                    reconcile: false,
                    allow_destroy: false,
                };
                let outcome = database::apply(ctx, &loaded, &migrations, &options).await?;
                for file in &outcome.migrations_applied {
                    eprintln!("applied {file}");
                }
                println!(
                    "{} migration(s) applied; {} already applied",
                    outcome.migrations_applied.len(),
                    outcome.migrations_already_applied
                );
                Ok(Exit::Ok)
            }
        }
    })
}
