//! `glctl promote --from SRC --to DST`: the gates, then DST's plan and the environment diff, then apply,
//! verify and a promotion record. A refused promotion changes nothing and exits 2 (3 when a gate could not
//! be checked); a failed verify of DST leaves the record saying so and exits 1.

use std::path::PathBuf;
use std::time::Duration;

use super::progress::with_spinner;
use super::{apply, drift, verify, Context};
use crate::bundle::{self, Bundle};
use crate::cli::{ApplyArgs, DriftArgs, PromoteArgs, ReportFormat, VerifyArgs, VerifyFormat};
use crate::config::Loaded;
use crate::database::migrate;
use crate::error::{Error, Exit};
use crate::infra;
use crate::promote::gates::{self, Passed, Refusal};
use crate::promote::{self, envdiff, history, lock, PromotionRecord};

impl Context {
    /// The same context for another environment (promote works on two); `database_url` only where given.
    fn for_env(&self, env: &str, database_url: Option<String>) -> Context {
        Context {
            project: self.project.clone(),
            env_arg: Some(env.to_string()),
            database_url,
            style: self.style,
            stdout_style: self.stdout_style,
        }
    }
}

pub fn run(ctx: &Context, args: &PromoteArgs) -> Result<Exit, Error> {
    // --database-url is where DST's SQL stage connects (SRC is not connected to: its verify run speaks for it).
    // Only as a flag: GLCTL_DATABASE_URL is usually set for another environment (the stack's env file sets
    // local's), and promoting into that database instead of DST's would be silent and wrong.
    let flag = std::env::args().any(|a| a == "--database-url" || a.starts_with("--database-url="));
    if ctx.database_url.is_some() && !flag {
        return Err(Error::Usage(format!(
            "GLCTL_DATABASE_URL is set, but promote takes {}'s database only from --database-url (the variable \
             may name another environment's database); pass --database-url, or unset the variable to use {}'s \
             own connection",
            args.to, args.to
        )));
    }
    let src_ctx = ctx.for_env(&args.from, None);
    let dst_ctx = ctx.for_env(&args.to, ctx.database_url.clone());
    let src = src_ctx.load()?;
    let dst = dst_ctx.load_with_warnings(super::Warnings::Undecided)?;
    let bundle = source_bundle(ctx, &src, &args.from)?;
    println!("Promoting {} → {}: bundle {}", src.name, dst.name, bundle.digest);
    let src_dir = ctx.project.work_dir(&src, args.source_out.as_deref());
    let dst_dir = ctx.project.work_dir(&dst, args.out.as_deref());

    let (_guard, waited) = lock::acquire(&dst_dir, Duration::from_secs(args.lock_timeout), || {
        eprintln!("another promotion into {} is running; waiting for it", dst.name)
    })
    .map_err(Error::GateNotChecked)?;
    if waited {
        eprintln!("the other promotion ended; checking every gate again");
        if let Some(done) = history::latest_promotion(&dst_dir).map_err(|e| Error::Gate(e.to_string()))? {
            if done.bundle == bundle.digest && done.outcome == "promoted" {
                println!("nothing left to do: {} was promoted to bundle {} at {}", dst.name, bundle.short(), done.at);
                return Ok(Exit::Ok);
            }
        }
    }

    // The cheap gates first, all of them, so one run names every refusal.
    let (now, now_secs) = crate::verify::facts::now();
    let run = history::latest_run(&src_dir);
    let promotion = dst.environment.promotion.clone();
    let max_age = promotion.as_ref().map(|p| p.max_age).unwrap_or(crate::config::interval::Interval {
        months: 0,
        days: 7,
        seconds: 0,
    });
    let (run, verified_gate) = match run {
        Ok(run) => {
            let checks: Vec<&str> = crate::verify::checks::CHECKS.iter().map(|c| c.id).collect();
            let gate = gates::verified(&src.name, run.as_ref(), &bundle, &max_age, now_secs, &checks);
            (run, gate)
        }
        Err(e) => (
            None,
            Err(Refusal {
                gate: "verified",
                saw: e.to_string(),
                needs: format!("run `glctl verify -e {}` again", src.name),
            }),
        ),
    };
    let applied_at = history::latest_apply(&src_dir).ok().flatten().and_then(|t| promote::parse_time(&t));
    let seen = promote::checkout(&ctx.project.root, run.as_ref().and_then(|r| r.git_commit.as_deref()));
    let mut passed: Vec<Passed> = Vec::new();
    let mut refused: Vec<Refusal> = Vec::new();
    for gate in [
        gates::order(&src.name, &dst),
        verified_gate,
        gates::soak(&src.name, promotion.as_ref().and_then(|p| p.min_soak.as_ref()), applied_at, now_secs),
        gates::checkout(run.as_ref(), &seen),
    ] {
        match gate {
            Ok(p) => passed.push(p),
            Err(r) => refused.push(r),
        }
    }
    if !refused.is_empty() {
        return Err(refusal(&passed, &refused, "drift and the target's plan were not checked"));
    }

    // DST has no drift: a hand change must be seen before a promotion lands on it.
    let drift_args =
        DriftArgs { out: args.out.clone(), output: ReportFormat::Text, only: None, lock_timeout: args.lock_timeout };
    let report = drift::detect(&dst_ctx, &drift_args)?;
    match gates::drift(&dst.name, &report) {
        Ok(Ok(p)) => passed.push(p),
        Ok(Err(r)) => {
            refused.push(r);
            return Err(refusal(&passed, &refused, "the target's plan was not checked"));
        }
        Err(unread) => {
            return Err(Error::GateNotChecked(format!(
                "{}\ngate `drift` could not be checked: {unread}; nothing was changed",
                passed_lines(&passed)
            )))
        }
    }

    // DST's plan: nothing destructive unless --allow-destroy.
    let session = dst_ctx.session(args.out.as_deref(), super::Warnings::Undecided)?;
    let account = session.runtime.block_on(session.aws.verify())?;
    let record = with_spinner(&format!("terraform plan for {}", dst.name), || {
        infra::plan(&ctx.project, &session.loaded, account, &session.dir)
    })?;
    let stage = session.database_stage()?;
    let database = session.runtime.block_on(stage.plan())?;
    if let Some(why) = &database.not_checked {
        return Err(Error::GateNotChecked(format!(
            "{}\ngate `plan` could not be checked: the database of {}: {why}; nothing was changed",
            passed_lines(&passed),
            dst.name
        )));
    }
    let mut plan_lines: Vec<String> =
        record.summary.changes.iter().map(|c| format!("{} {:?}", c.address, c.action)).collect();
    plan_lines.extend(database.pending_migrations.iter().map(|m| format!("migration {m}")));
    let policy_changes = database.policies.as_ref().map(|p| p.changes.clone()).unwrap_or_default();
    plan_lines.extend(policy_changes.iter().map(|c| c.describe()));
    let mut destructive: Vec<String> = record.summary.destructive().iter().map(|c| c.address.clone()).collect();
    destructive.extend(policy_changes.iter().filter(|c| c.destructive).map(|c| c.describe()));
    if !destructive.is_empty() && !args.allow_destroy {
        refused.push(Refusal {
            gate: "plan",
            saw: format!("the plan of {} destroys or drops data: {}", dst.name, destructive.join("; ")),
            needs: "re-run with --allow-destroy if that is intended".into(),
        });
        return Err(refusal(&passed, &refused, ""));
    }
    passed.push(Passed {
        gate: "plan",
        saw: format!("{} change(s), {} destructive", plan_lines.len(), destructive.len()),
    });
    drop(stage);
    drop(session);

    // What will happen, and the environment diff.
    eprintln!("{}", passed_lines(&passed));
    print!("{}", super::plan::describe(&record, &dst_dir));
    for line in database.pending_migrations.iter().map(|m| format!("  + migration {m}")) {
        println!("{line}");
    }
    for c in &policy_changes {
        println!("  {}", c.describe());
    }
    let diff = envdiff::diff(&src.environment, &dst.environment);
    println!("Environment diff {} → {}:", src.name, dst.name);
    for d in &diff.declared {
        println!("  declared     {}: {} → {}", d.path, d.from, d.to);
    }
    for d in &diff.unexplained {
        println!("  {} {}: {} → {}", ctx.style.warning("UNEXPLAINED"), d.path, d.from, d.to);
    }
    if !diff.unexplained.is_empty() {
        let what = format!(
            "{} difference(s) {} → {} are not in {}'s promotion.differs",
            diff.unexplained.len(),
            src.name,
            dst.name,
            dst.name
        );
        if args.strict {
            refused.push(Refusal {
                gate: "environment diff",
                saw: what,
                needs: "declare them in promotion.differs, or make the files agree".into(),
            });
            return Err(refusal(&passed, &refused, ""));
        }
        eprintln!("{}: {what}", ctx.style.warning("warning"));
    }
    apply::confirm(args.yes, &format!("Promote {} to {} (bundle {})?", src.name, dst.name, bundle.short()))?;

    // The work, as apply and verify would do it.
    let src_run = run.expect("the verified gate passed");
    let mut promotion = PromotionRecord {
        from: src.name.clone(),
        to: dst.name.clone(),
        actor: promote::actor(&ctx.project.root),
        at: now.clone(),
        git_commit: seen.head.clone(),
        bundle: bundle.digest.clone(),
        source_verify_run: src_run.path.display().to_string(),
        source_verified_at: src_run.at.clone(),
        gates: passed.iter().map(|p| format!("{}: {}", p.gate, p.saw)).collect(),
        plan: plan_lines,
        declared_differences: diff.declared.iter().map(|d| format!("{}: {} → {}", d.path, d.from, d.to)).collect(),
        unexplained_differences: diff
            .unexplained
            .iter()
            .map(|d| format!("{}: {} → {}", d.path, d.from, d.to))
            .collect(),
        outcome: String::new(),
        target_verify_run: None,
        target_verify: None,
    };
    let apply_args = ApplyArgs {
        out: args.out.clone(),
        yes: true,
        allow_destroy: args.allow_destroy,
        only: None,
        lock_timeout: args.lock_timeout,
        allow_out_of_order: false,
    };
    if let Err(e) = apply::run(&dst_ctx, &apply_args) {
        promotion.outcome = format!("apply failed: {e}");
        save_record(&dst_dir, &promotion)?;
        return Err(e);
    }
    let verify_args = VerifyArgs {
        out: args.out.clone(),
        format: VerifyFormat::Table,
        reports: args.reports.clone(),
        only: vec![],
        skip: vec![],
        drills: false,
        bench: false,
        list: false,
        allow_production: false,
        // GLCTL_POOLER_URL names one environment's PgBouncers, not necessarily the target's: FA-09 stays
        // undecided in a promotion's verify.
        pooler_url: None,
        pooler_admin_url: None,
    };
    let verified = verify::run(&dst_ctx, &verify_args);
    let dst_run = history::latest_run(&dst_dir).ok().flatten();
    promotion.target_verify_run = dst_run.as_ref().map(|r| r.path.display().to_string());
    let exit = match verified {
        Err(e) => {
            promotion.outcome = format!("target verify could not run: {e}");
            save_record(&dst_dir, &promotion)?;
            return Err(e);
        }
        Ok(exit) => exit,
    };
    promotion.target_verify = dst_run.as_ref().map(|r| {
        let count = |s: &str| r.with_status(s).len();
        format!(
            "{} passed, {} failed, {} skipped, {} could not be decided",
            count("PASS"),
            count("FAIL"),
            count("SKIP"),
            count("ERROR")
        )
    });
    promotion.outcome = match exit {
        Exit::Ok => "promoted".into(),
        Exit::Incomplete => "applied; the target's verify could not decide everything".into(),
        _ => "applied; the target's verify FAILED".into(),
    };
    let path = save_record(&dst_dir, &promotion)?;
    println!("promotion {} → {}: {} (record {})", src.name, dst.name, promotion.outcome, path.display());
    Ok(exit)
}

fn source_bundle(ctx: &Context, src: &Loaded, env_arg: &str) -> Result<Bundle, Error> {
    let migrations = migrate::discover(&ctx.project.migrations(), src.environment.timeseries.backend)
        .map_err(|e| Error::Usage(e.to_string()))?;
    bundle::compute(&ctx.project, src, env_arg, &migrations).map_err(|e| Error::Usage(e.to_string()))
}

fn save_record(dir: &std::path::Path, record: &PromotionRecord) -> Result<PathBuf, Error> {
    let text = serde_json::to_string_pretty(record).expect("the record serialises");
    history::save(dir, history::PROMOTIONS_DIR, &record.at, &text)
        .map_err(|e| Error::Usage(format!("cannot write the promotion record: {e}")))
}

fn passed_lines(passed: &[Passed]) -> String {
    passed.iter().map(|p| format!("gate `{}` passed: {}", p.gate, p.saw)).collect::<Vec<_>>().join("\n")
}

fn refusal(passed: &[Passed], refused: &[Refusal], unchecked: &str) -> Error {
    let mut lines: Vec<String> = passed.iter().map(|p| format!("gate `{}` passed: {}", p.gate, p.saw)).collect();
    lines.extend(refused.iter().map(|r| r.to_string()));
    if !unchecked.is_empty() {
        lines.push(format!("not checked: {unchecked}"));
    }
    lines.push("promotion refused; nothing was changed".into());
    Error::Gate(lines.join("\n"))
}
