//! `glctl verify`: the acceptance checks against the environment's target, printed and saved.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::progress::with_spinner;
use super::Context;
use crate::cli::{VerifyArgs, VerifyFormat};
use crate::error::{Error, Exit};
use crate::promote::bundle;
use crate::promote::history;
use crate::verify::{self, checks::CHECKS, facts, report, Selection, Status, VerifyRun};

pub fn run(ctx: &Context, args: &VerifyArgs) -> Result<Exit, Error> {
    let reports = args.reports.iter().map(|r| parse_report(r)).collect::<Result<Vec<_>, _>>()?;
    let Some(run) = verify_run(ctx, args)? else { return Ok(Exit::Ok) };
    print!("{}", render(&run, args.format, ctx));
    for (format, file) in &reports {
        std::fs::write(file, render(&run, *format, ctx))
            .map_err(|e| Error::Usage(format!("cannot write the report {}: {e}", file.display())))?;
    }
    Ok(run.exit())
}

/// Temporary seam until the verify operation leaves `cmd` (issue 26).
pub(crate) fn verify_run(ctx: &Context, args: &VerifyArgs) -> Result<Option<VerifyRun>, Error> {
    if args.list {
        for c in CHECKS {
            println!("{:<6} §{:<6} {:<13} {}", c.id, c.section, c.category(), c.title);
        }
        return Ok(None);
    }
    let selection =
        Selection { only: args.only.clone(), skip: args.skip.clone(), drills: args.drills, bench: args.bench };
    let unknown = selection.unknown_patterns();
    if !unknown.is_empty() {
        return Err(Error::Usage(format!(
            "--only/--skip name no check: {}; see `glctl verify --list`",
            unknown.join(", ")
        )));
    }
    if args.allow_production && !args.drills && !args.bench {
        return Err(Error::Usage("--allow-production means something only with --drills or --bench".into()));
    }
    let poolers = args
        .pooler
        .url
        .as_deref()
        .map(|url| crate::pgbouncer::Poolers::from_urls(url, args.pooler.admin_url.as_deref()))
        .transpose()
        .map_err(Error::Usage)?;
    let session = ctx.session(args.out.as_deref(), super::Warnings::Undecided)?;
    let (loaded, dir) = (&session.loaded, &session.dir);
    // One gate for every drill (failover, restores, the PgBouncer drill), before anything is gathered.
    if args.drills {
        verify::failover_verdict::permitted(&loaded.environment, args.allow_production).map_err(Error::Usage)?;
    }
    let stage = session.database_stage()?;
    let mut facts = with_spinner(&format!("verifying {}", loaded.name), || {
        session.runtime.block_on(facts::gather(loaded, &stage, &session.aws, dir))
    });
    if args.bench && CHECKS.iter().any(|c| c.id.starts_with("PB-") && selection.includes(c.id)) {
        facts.bench = Some(super::bench::for_verify(ctx, &session, poolers.clone(), args.allow_production, &|id| {
            selection.includes(id)
        }));
    }
    let today = facts.at.get(..10).unwrap_or_default().to_string();
    let mut results = verify::decide(&loaded.environment, &facts, &selection, &today);
    if let Some(pgbackrest) = &loaded.environment.backup.pgbackrest {
        if results.iter().any(|r| r.id.starts_with("BR-")) {
            let env = &loaded.environment;
            let backups = with_spinner(if selection.drills { "backups and restore drills" } else { "backups" }, || {
                session.runtime.block_on(verify::backup_drills::verify(
                    &mut results,
                    env,
                    pgbackrest,
                    &stage,
                    selection.drills,
                    &facts.at,
                ))
            });
            for leftover in &backups.leftovers {
                eprintln!("{}", ctx.style.warning(&format!("scratch restore {leftover}")));
            }
            if backups.interrupted {
                eprintln!("{}", ctx.style.warning("interrupted: the drills' scratch copies were removed (see BR-)"));
            }
        }
    }
    // BR-01/BR-02 on RDS and Aurora from the backup APIs (issue 20).
    let provisioned = crate::engine::capabilities::of(loaded.environment.engine.kind).provisioned;
    if provisioned && results.iter().any(|r| r.id == "BR-01" || r.id == "BR-02") {
        with_spinner("automated backups", || {
            session.runtime.block_on(verify::backup_rds::apply(&mut results, loaded, &session.aws, dir, &facts.at))
        });
    }
    // BR-04…BR-08 on RDS and Aurora: point-in-time, snapshot and DR-copy restores into scratch instances, and
    // BR-06's measured (issue 20).
    let rds_drills = ["BR-04", "BR-05", "BR-06", "BR-07", "BR-08"];
    if selection.drills && provisioned && results.iter().any(|r| rds_drills.contains(&r.id)) {
        let drills = with_spinner("restore drills", || {
            session.runtime.block_on(verify::restore_rds::verify(
                &mut results,
                loaded,
                &session.aws,
                dir,
                &stage,
                &facts.at,
            ))
        });
        for leftover in &drills.leftovers {
            eprintln!("{}", ctx.style.warning(&format!("scratch restore {leftover}")));
        }
        if drills.interrupted {
            eprintln!(
                "{}",
                ctx.style.warning("interrupted: the drills' scratch copies were deleted (see BR-04…BR-08)")
            );
        }
    }
    if selection.drills && results.iter().any(|r| verify::failover_verdict::wanted(&loaded.environment, r)) {
        let end = with_spinner("failover drill", || {
            session.runtime.block_on(verify::failover_drill::drill(
                &stage,
                &loaded.environment,
                &loaded.name,
                &ctx.project.root,
                &session.aws,
            ))
        });
        verify::failover_verdict::apply(&mut results, &loaded.environment, &end, &facts.at);
    }
    if let Some(poolers) = &poolers {
        with_spinner("checking the PgBouncers", || {
            verify::pooler_checks::apply(&mut results, &loaded.environment, poolers, &session.runtime, &facts.at)
        });
        let ha05 = results.iter().any(|r| r.id == "HA-05" && r.status == Status::Error);
        if selection.drills && ha05 && loaded.environment.pooling.kind == crate::config::pooling::PoolKind::Pgbouncer {
            let outcome = with_spinner("HA-05: stopping a PgBouncer", || {
                verify::pooler_drill::run(&loaded.environment, poolers, &ctx.project.root)
            });
            verify::pooler_checks::set(&mut results, "HA-05", outcome, &facts.at);
        }
    } else if selection.drills && loaded.environment.pooling.kind == crate::config::pooling::PoolKind::Pgbouncer {
        let why = "the drill needs the PgBouncers' addresses: pass --pooler-url and --pooler-admin-url".to_string();
        verify::pooler_checks::set(&mut results, "HA-05", verify::Outcome::Error(why), &facts.at);
    }
    // Every result is in: the last step before the reports (the emulator rule).
    verify::conclude(&mut results, &loaded.environment, &facts);
    let configuration = serde_json::to_string(&loaded.environment).expect("the model serialises");
    let run = VerifyRun {
        environment: loaded.name.clone(),
        at: facts.at.clone(),
        git_commit: git_commit(&ctx.project.root),
        configuration_hash: format!("{:x}", Sha256::digest(configuration.as_bytes())),
        terraform_hash: crate::infra::root_module(&ctx.project, loaded).ok().map(|m| m.digest()),
        migrations: stage.migrations.iter().map(|m| (m.file_name(), m.checksum.clone())).collect(),
        bundle: Some(
            bundle::compute(&ctx.project, loaded, ctx.env_name()?, &stage.migrations)
                .map_err(|e| Error::Usage(e.to_string()))?,
        ),
        aws_emulator: facts.aws_emulator.clone(),
        results,
    };
    save(dir, &run)?;
    Ok(Some(run))
}

pub(super) fn render(run: &VerifyRun, format: VerifyFormat, ctx: &Context) -> String {
    match format {
        VerifyFormat::Table => report::table(run, &|status, text| match status {
            Status::Pass => ctx.stdout_style.ok(text),
            Status::Fail => ctx.stdout_style.error(text),
            Status::Error => ctx.stdout_style.warning(text),
            Status::Skip => ctx.stdout_style.quiet(text),
        }),
        VerifyFormat::Json => format!("{}\n", report::json(run)),
        VerifyFormat::Junit => report::junit(run),
        VerifyFormat::Markdown => report::markdown(run),
    }
}

/// `FORMAT=FILE` of `--report`.
pub(super) fn parse_report(text: &str) -> Result<(VerifyFormat, std::path::PathBuf), Error> {
    let bad = || Error::Usage(format!("--report '{text}': expected FORMAT=FILE with FORMAT json, junit or markdown"));
    let (format, file) = text.split_once('=').ok_or_else(bad)?;
    let format = match format {
        "json" => VerifyFormat::Json,
        "junit" => VerifyFormat::Junit,
        "markdown" | "md" => VerifyFormat::Markdown,
        "table" => VerifyFormat::Table,
        _ => return Err(bad()),
    };
    if file.is_empty() {
        return Err(bad());
    }
    Ok((format, file.into()))
}

/// Every run is kept for promotion to check later: `.glctl/ENV/verify/<time>.json`, with its checksum.
fn save(dir: &Path, run: &VerifyRun) -> Result<(), Error> {
    history::save(dir, history::VERIFY_DIR, &run.at, &report::json(run))
        .map(|_| ())
        .map_err(|e| Error::Usage(format!("cannot save the run: {e}")))
}

pub(crate) fn git_commit(root: &Path) -> Option<String> {
    crate::git::output(root, &["rev-parse", "HEAD"]).map(|o| o.trim().to_string())
}
