//! `glctl upgrade check|plan`: the request checked before anything connects (a bad one exits 2 having read
//! nothing), then the live database read and the report or the steps printed.

use super::Context;
use crate::cli::{ReportFormat, UpgradeAction, UpgradeArgs, UpgradeCommon, UpgradeMethod};
use crate::error::{Error, Exit};
use crate::upgrade::check::{duration, CheckReport, Status};
use crate::upgrade::plan::UpgradePlan;
use crate::upgrade::{self, Method, Options};

pub fn run(ctx: &Context, args: &UpgradeArgs) -> Result<Exit, Error> {
    let (common, check) = match &args.action {
        UpgradeAction::Check(c) => (c, true),
        UpgradeAction::Plan(c) => (c, false),
    };
    let options = options(ctx, common)?;
    let session = ctx.session(None, super::Warnings::Undecided)?;
    let stage = session.database_stage()?;
    let target = upgrade::Target {
        loaded: &session.loaded,
        aws: &session.aws,
        work_dir: &session.dir,
        runtime: &session.runtime,
    };
    if check {
        let report = upgrade::run_check(&target, &stage, &options);
        print_check(&report, common.output);
        Ok(if report.blockers().next().is_some() {
            Exit::Problems
        } else if report.unknown().next().is_some() {
            Exit::Incomplete
        } else {
            Exit::Ok
        })
    } else {
        let plan = upgrade::run_plan(&target, &stage, &options);
        print_plan(&plan, common.output);
        Ok(if plan.is_complete() { Exit::Ok } else { Exit::Incomplete })
    }
}

fn options(ctx: &Context, common: &UpgradeCommon) -> Result<Options, Error> {
    let loaded = ctx.load()?;
    Ok(Options {
        request: upgrade::resolve(&loaded, &common.to)?,
        window_seconds: upgrade::parse_window(&common.window)?,
        window: common.window.clone(),
        migrations: ctx.project.migrations(),
        method: match common.method {
            UpgradeMethod::BlueGreen => Method::BlueGreen,
            UpgradeMethod::InPlace => Method::InPlace,
        },
    })
}

fn print_check(report: &CheckReport, output: ReportFormat) {
    if output == ReportFormat::Json {
        let blockers = report.blockers().count();
        let unknown = report.unknown().count();
        let mut value = serde_json::to_value(report).expect("json");
        value["blockers"] = blockers.into();
        value["unknown"] = unknown.into();
        super::json::print(&value);
        return;
    }
    println!(
        "upgrade check: {} {} → {} ({:?} version, {} method, window {})",
        report.subject.engine,
        report.subject.from,
        report.subject.to,
        report.subject.change,
        method(report.subject.method),
        duration(report.window_seconds)
    );
    for item in &report.items {
        let status = match item.status {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Unknown => "UNKNOWN",
        };
        let note = if item.counts_for(report.subject.method) { "" } else { " (does not block an in-place upgrade)" };
        println!("{status:<8} {:<24} {}{note}\n         {}", item.id, item.title, item.evidence);
    }
    let count = |s: Status| report.items.iter().filter(|i| i.status == s).count();
    println!(
        "{} passed, {} failed, {} unknown; {} blocker(s) for a {} upgrade",
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Unknown),
        report.blockers().count(),
        method(report.subject.method)
    );
}

fn method(m: Method) -> &'static str {
    match m {
        Method::BlueGreen => "blue-green",
        Method::InPlace => "in-place",
    }
}

fn print_plan(plan: &UpgradePlan, output: ReportFormat) {
    if output == ReportFormat::Json {
        super::json::print(plan);
        return;
    }
    println!(
        "upgrade plan: {} {} → {} ({:?} version, {} method, window {}); nothing is run",
        plan.subject.engine,
        plan.subject.from,
        plan.subject.to,
        plan.subject.change,
        method(plan.subject.method),
        plan.subject.window
    );
    for step in &plan.steps {
        println!("\n{}. {}", step.number, step.title);
        for command in &step.commands {
            println!("     {command}");
        }
        println!("   effect:   {}", step.effect);
        println!("   rollback: {}", step.rollback);
        if step.number == plan.rollback_point {
            println!("   ── rollback point: after this step the way back is a restore of this snapshot ──");
        }
    }
    for why in &plan.not_read {
        println!("\nNOT READ: {why}");
    }
}
