//! The verify operation: the facts gathered once, every selected check decided over them (`verify`), the
//! benchmark behind the PB- checks, the listings and drills that decide the rest (`drills::DRILLS`), the
//! emulator rule, then the run saved to history with its provenance. It never prints: the command (or
//! promote) renders the run it returns and prints the warnings.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::Session;
use crate::drills::{self, step, Scene};
use crate::error::Error;
use crate::pgbouncer::Poolers;
use crate::promote::history;
use crate::verify::{self, checks::CHECKS, facts, report, Selection, VerifyRun};

/// What to verify and what may be done to decide it.
#[derive(Debug, Default)]
pub struct VerifyOptions {
    /// `--only`/`--skip`: check IDs or prefixes (`ST-`).
    pub only: Vec<String>,
    pub skip: Vec<String>,
    /// Run the drills (they change the target or create scratch copies).
    pub drills: bool,
    /// Run the benchmark behind the PB- checks.
    pub bench: bool,
    /// Drills and the benchmark on a production tier.
    pub allow_production: bool,
    /// The PgBouncers to check (FA-09) and drill (HA-05).
    pub poolers: Option<Poolers>,
    /// What `-e` named, as the bundle records it.
    pub env_arg: String,
}

impl VerifyOptions {
    fn selection(&self) -> Selection {
        Selection { only: self.only.clone(), skip: self.skip.clone(), drills: self.drills, bench: self.bench }
    }

    /// The options make sense on their own: every `--only`/`--skip` names a check, and `--allow-production`
    /// comes with something it allows. Checked before anything is loaded.
    pub fn check(&self) -> Result<(), Error> {
        let unknown = self.selection().unknown_patterns();
        if !unknown.is_empty() {
            return Err(Error::Usage(format!(
                "--only/--skip name no check: {}; see `glctl verify --list`",
                unknown.join(", ")
            )));
        }
        if self.allow_production && !self.drills && !self.bench {
            return Err(Error::Usage("--allow-production means something only with --drills or --bench".into()));
        }
        Ok(())
    }
}

/// How the operation shows its steps: a step each (`drills::Progress`), and the benchmark's own progress.
pub trait Progress: drills::Progress {
    fn bench(&self) -> Arc<dyn crate::bench::Reporter>;
}

/// A verify run, saved, and what the command must warn about (scratch copies an earlier run left, a drill
/// interrupted).
#[derive(Debug)]
pub struct VerifyOutcome {
    pub run: VerifyRun,
    /// Where the run was saved (`.glctl/ENV/verify/<time>.json`): what promote records as the target's run.
    pub saved: PathBuf,
    pub warnings: Vec<String>,
}

/// Verifies the session's environment.
pub fn run<P: Progress>(session: &Session, opts: &VerifyOptions, progress: &P) -> Result<VerifyOutcome, Error> {
    opts.check()?;
    let selection = opts.selection();
    let (loaded, dir) = (&session.loaded, &session.dir);
    // One gate for every drill (failover, restores, the PgBouncer drill), before anything is gathered.
    if opts.drills {
        verify::drills_permitted(&loaded.environment, opts.allow_production).map_err(Error::Usage)?;
    }
    let stage = session.database_stage()?;
    let mut facts = step(progress, &format!("verifying {}", loaded.name), || {
        session.runtime.block_on(facts::gather(loaded, &stage, &session.aws, dir))
    });
    if opts.bench && CHECKS.iter().any(|c| c.id.starts_with("PB-") && selection.includes(c.id)) {
        let target = session.target().map_err(|e| e.to_string());
        let wanted = |id: &str| selection.includes(id);
        facts.bench = Some(crate::bench::for_verify(
            loaded,
            target,
            opts.poolers.clone(),
            opts.allow_production,
            &wanted,
            progress.bench(),
        ));
    }
    let today = facts.at.get(..10).unwrap_or_default().to_string();
    let mut results = verify::decide(&loaded.environment, &facts, &selection, &today);
    // BR-01/BR-02 on RDS and Aurora from the backup APIs (issue 20).
    let provisioned = crate::engine::capabilities::of(loaded.environment.engine.kind).provisioned;
    if provisioned && results.iter().any(|r| r.id == "BR-01" || r.id == "BR-02") {
        step(progress, "automated backups", || {
            session.runtime.block_on(verify::backup_rds::apply(&mut results, loaded, &session.aws, dir, &facts.at))
        });
    }
    let scene = Scene {
        loaded,
        dir,
        root: &session.project.root,
        runtime: &session.runtime,
        aws: &session.aws,
        stage: &stage,
        poolers: opts.poolers.as_ref(),
        drills: opts.drills,
        at: &facts.at,
    };
    let warnings = drills::run_all(&scene, &mut results, progress);
    // Every result is in: the last step before the reports (the emulator rule).
    verify::conclude(&mut results, &loaded.environment, &facts);
    let configuration = serde_json::to_string(&loaded.environment).expect("the model serialises");
    let run = VerifyRun {
        environment: loaded.name.clone(),
        at: facts.at.clone(),
        git_commit: crate::git::head(&session.project.root),
        configuration_hash: format!("{:x}", Sha256::digest(configuration.as_bytes())),
        terraform_hash: crate::infra::root_module(&session.project, loaded).ok().map(|m| m.digest()),
        migrations: stage.migrations.iter().map(|m| (m.file_name(), m.checksum.clone())).collect(),
        bundle: Some(
            crate::promote::bundle::compute(&session.project, loaded, &opts.env_arg, &stage.migrations)
                .map_err(|e| Error::Usage(e.to_string()))?,
        ),
        aws_emulator: facts.aws_emulator.clone(),
        results,
    };
    let saved = save(dir, &run)?;
    Ok(VerifyOutcome { run, saved, warnings })
}

/// Every run is kept for promotion to check later: `.glctl/ENV/verify/<time>.json`, with its checksum.
fn save(dir: &Path, run: &VerifyRun) -> Result<PathBuf, Error> {
    history::save(dir, history::VERIFY_DIR, &run.at, &report::json(run))
        .map_err(|e| Error::Usage(format!("cannot save the run: {e}")))
}
