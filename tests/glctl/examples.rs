//! The CI pipelines in `examples/ci/` are checked with real tools, not by eye: GitHub's workflow schema and
//! GitLab's CI schema (built into check-jsonschema, offline) and actionlint. scripts/setup installs both into
//! `.tools/ci-lint`; a missing tool is a failure that says so.

use std::process::Command;

use crate::support::repo;

fn tool(name: &str) -> std::path::PathBuf {
    let path = repo().join(".tools/ci-lint/bin").join(name);
    assert!(path.is_file(), "{} is missing: run scripts/setup", path.display());
    path
}

fn passes(mut command: Command) {
    let out = command.output().expect("the checker runs");
    assert!(
        out.status.success(),
        "{:?}\n{}{}",
        command,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_github_workflow_matches_githubs_schema_and_passes_actionlint() {
    let workflow = repo().join("examples/ci/github/promote.yml");
    let mut schema = Command::new(tool("check-jsonschema"));
    schema.args(["--builtin-schema", "vendor.github-workflows"]).arg(&workflow);
    passes(schema);
    let mut lint = Command::new(tool("actionlint"));
    lint.arg("-no-color").arg(&workflow);
    passes(lint);
}

#[test]
fn the_gitlab_pipeline_matches_gitlabs_schema() {
    let mut schema = Command::new(tool("check-jsonschema"));
    schema.args(["--builtin-schema", "vendor.gitlab-ci"]).arg(repo().join("examples/ci/gitlab/.gitlab-ci.yml"));
    passes(schema);
}

/// Each checker refuses a broken file: these tests can fail.
#[test]
fn the_checkers_refuse_a_broken_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yml");
    std::fs::write(&broken, "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.no_such }}\n        usez: x\n").unwrap();
    for args in [vec!["--builtin-schema", "vendor.github-workflows"], vec!["--builtin-schema", "vendor.gitlab-ci"]] {
        let out = Command::new(tool("check-jsonschema")).args(&args).arg(&broken).output().unwrap();
        assert!(!out.status.success(), "{args:?} accepted a broken file");
    }
    let out = Command::new(tool("actionlint")).arg(&broken).output().unwrap();
    assert!(!out.status.success(), "actionlint accepted a broken workflow");
}
