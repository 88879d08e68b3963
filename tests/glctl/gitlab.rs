//! `examples/ci/gitlab/.gitlab-ci.yml` runs end to end with gitlab-ci-local (npm, pinned in
//! `tools/gitlab-ci-local`; scripts/setup installs it and rsync): its shell executor with `--shell-isolation`
//! (every job in a folder of its own, artifacts carried between jobs as GitLab does), `--manual` for the
//! approval job, against the local stack. The pipeline is copied unchanged into a git repository of its own
//! with the project's sql/ and templates/, the shipped environments and three test-only stages on the stack's
//! PostgreSQL 15 (the native backend, as RDS runs it; each stage a database of its own, Terraform against a
//! moto of the test's own). Only variables differ from a real run: the stage names, the binary the suite
//! built (`GLCTL_BINARY`) and each stage's database URL.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::promote::{copy_dir, environment, psql};
use crate::support::repo;
use crate::support::stack::{dedicated_moto, stack};

fn gitlab_ci_local() -> PathBuf {
    let path = repo().join("tools/gitlab-ci-local/node_modules/.bin/gitlab-ci-local");
    assert!(path.is_file(), "{} is missing: run scripts/setup", path.display());
    let rsync = Command::new("rsync").arg("--version").output();
    assert!(
        rsync.is_ok_and(|o| o.status.success()),
        "rsync is missing (gitlab-ci-local copies with it): run scripts/setup"
    );
    path
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git").args(args).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn url(database: &str) -> String {
    let s = stack();
    format!(
        "postgres://{}:{}@localhost:{}/{database}?sslmode=verify-full&sslrootcert={}",
        s.var("GLCTL_PG_USER"),
        s.var("GLCTL_PG_PASSWORD"),
        s.var("GLCTL_PG_PORT"),
        s.var("GLCTL_PG_CA")
    )
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn newest_json(dir: &Path) -> serde_json::Value {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    serde_json::from_str(&read(files.last().expect("a saved file"))).unwrap()
}

#[test]
fn the_gitlab_pipeline_runs_end_to_end_with_gitlab_ci_local_up_to_the_promotion_to_prod() {
    let runner = gitlab_ci_local();
    let stages = ["ci-dev", "ci-staging", "ci-prod"];
    let databases: Vec<String> =
        stages.iter().map(|s| format!("gl_{}_{}", s.replace('-', "_"), std::process::id())).collect();
    for db in &databases {
        psql("postgres", &format!("DROP DATABASE IF EXISTS {db}"));
        psql("postgres", &format!("CREATE DATABASE {db}"));
    }
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    copy_dir(&repo().join("environments"), &dir.join("environments"));
    copy_dir(&repo().join("sql"), &dir.join("sql"));
    copy_dir(&repo().join("templates"), &dir.join("templates"));
    std::fs::copy(repo().join("examples/ci/gitlab/.gitlab-ci.yml"), dir.join(".gitlab-ci.yml")).unwrap();
    let promotion = |from: &str| format!("promotion:\n  from: {from}\n  differs: [connection, secrets]\n");
    let extras = [String::new(), promotion(stages[0]), promotion(stages[1])];
    for ((stage, db), extra) in stages.iter().zip(&databases).zip(&extras) {
        std::fs::write(dir.join(format!("environments/{stage}.yaml")), environment(db, stage, extra)).unwrap();
    }
    std::fs::write(dir.join(".gitignore"), ".glctl/\n.gitlab-ci-local/\n.gitlab-ci-local-variables.yml\n").unwrap();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "user.name", "glctl tests"]);
    git(dir, &["config", "user.email", "tests@example.invalid"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "the pipeline and its environments"]);

    // Project variables, as a GitLab project would set them (a file, not argv: the URLs hold a password).
    let s = stack();
    let endpoint = dedicated_moto();
    let quoted = |v: &str| serde_json::to_string(v).unwrap();
    let mut variables: Vec<(String, String)> = vec![
        ("GLCTL_DEV".into(), stages[0].into()),
        ("GLCTL_STAGING".into(), stages[1].into()),
        ("GLCTL_PROD".into(), stages[2].into()),
        ("GLCTL_BINARY".into(), env!("CARGO_BIN_EXE_glctl").into()),
        ("AWS_ENDPOINT_URL".into(), endpoint),
    ];
    for (stage, db) in ["DEV", "STAGING", "PROD"].iter().zip(&databases) {
        variables.push((format!("GLCTL_{stage}_DATABASE_URL"), url(db)));
    }
    let file: String = variables.iter().map(|(k, v)| format!("{k}: {}\n", quoted(v))).collect();
    let variables_file = dir.join(".gitlab-ci-local-variables.yml");
    std::fs::write(&variables_file, file).unwrap();
    std::fs::set_permissions(&variables_file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();

    let home = tempfile::tempdir().unwrap();
    // gitlab-ci-local's shell executor writes each job's file variables (~90 MB: a copy of glctl) into
    // /tmp/gitlab-ci-local-file-variables-<slug>-<job id> (a fixed path) and leaves them: remove what this run made.
    let _leftovers = FileVariableDirs::new();
    let started = Instant::now();
    let mut command = Command::new("timeout");
    command
        .args(["--kill-after=10", "600"])
        .arg(&runner)
        .args(["--manual", "promote-prod", "--shell-isolation", "--no-color", "--max-job-name-padding", "0"])
        // Not the user's ~/.gitlab-ci-local (its variables.yml would reach the jobs).
        .arg("--home")
        .arg(home.path())
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("AWS_ACCESS_KEY_ID", s.var("AWS_ACCESS_KEY_ID"))
        .env("AWS_SECRET_ACCESS_KEY", s.var("AWS_SECRET_ACCESS_KEY"))
        .env("AWS_REGION", s.var("AWS_REGION"))
        // A variable whose value is a path gitlab-ci-local treats as a file variable (and fails on a folder):
        // the runner's environment carries this one, as a runner's would.
        .env("GLCTL_TF_PLUGIN_DIR", s.var("GLCTL_TF_PLUGIN_DIR"));
    for var in ["GLCTL_ENV", "GLCTL_ROOT", "GLCTL_DATABASE_URL", "AWS_ENDPOINT_URL", "CI", "GITLAB_CI"] {
        command.env_remove(var);
    }
    let out = command.output().expect("gitlab-ci-local runs");
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let jobs: Vec<&str> = log.lines().filter(|l| l.contains(" finished in ")).collect();
    eprintln!("gitlab-ci-local pipeline: {:.1} s ({})", started.elapsed().as_secs_f64(), jobs.join("; "));
    assert!(out.status.success(), "the pipeline failed:\n{log}");
    for job in ["validate", "plan-dev", "apply-verify-dev", "promote-staging", "promote-prod"] {
        assert!(log.contains(&format!("PASS  {job}")), "{job} did not pass:\n{log}");
    }

    // The artifacts, exported by gitlab-ci-local and copied back into the project.
    for stage in ["dev", "staging", "prod"] {
        let junit = dir.join(format!("verify-{stage}.xml"));
        crate::verify::xmllint(&junit);
        let xml = read(&junit);
        let env = format!("ci-{stage}");
        assert!(xml.contains(&format!("{env} acceptance")) && !xml.contains("<failure"), "{xml}");
        let md = read(&dir.join(format!("signoff-{stage}.md")));
        assert!(md.starts_with(&format!("# Acceptance verification: {env}")), "{md}");
        assert!(md.contains("| Bundle (SHA-256) |") && md.contains("## Sign-off"), "{md}");
    }
    let record = newest_json(&dir.join(".glctl/prod/promotions"));
    let staging_run = newest_json(&dir.join(".glctl/staging/verify"));
    assert_eq!((record["from"].as_str(), record["to"].as_str()), (Some("ci-staging"), Some("ci-prod")), "{record:#}");
    assert_eq!(record["outcome"], "promoted", "{record:#}");
    assert_eq!(record["bundle"], staging_run["bundle"]["digest"], "prod got what staging verified: {record:#}");
    assert!(record["target_verify"].as_str().is_some_and(|v| v.contains(" 0 failed")), "{record:#}");
    assert!(record["actor"].as_str().is_some_and(|a| !a.is_empty()), "{record:#}");
    let staging_record = newest_json(&dir.join(".glctl/staging/promotions"));
    assert_eq!(staging_record["outcome"], "promoted", "{staging_record:#}");
    assert_eq!(psql(&databases[2], "SELECT count(*) > 0 FROM glctl.schema_migrations"), "t", "prod migrated");
}

/// The folders gitlab-ci-local leaves in /tmp, as they were before a run: dropped, it removes the ones added.
struct FileVariableDirs(std::collections::HashSet<std::path::PathBuf>);

impl FileVariableDirs {
    fn new() -> Self {
        FileVariableDirs(Self::present())
    }

    fn present() -> std::collections::HashSet<std::path::PathBuf> {
        std::fs::read_dir("/tmp")
            .map(|dir| {
                dir.flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with("gitlab-ci-local-file-variables-"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for FileVariableDirs {
    fn drop(&mut self) {
        for added in Self::present().difference(&self.0) {
            let _ = std::fs::remove_dir_all(added);
        }
    }
}
