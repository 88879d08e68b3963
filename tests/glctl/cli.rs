//! The CLI conventions (issue 29): examples in every help, completions and the man page current, one
//! `--output text|json` with a versioned shape, no flag offered where it does nothing, `--version` with the
//! commit, readable and filterable `fields`/`engines`, the generated reference pages current, the project
//! root found from a subfolder, `glctl schema` and `glctl init`.

use std::path::Path;
use std::process::Command;

use clap::CommandFactory;

use crate::support::{glctl, glctl_in, repo};

/// Every (sub)command path of the command tree, e.g. `["migrate", "status"]` (clap's `help` left out).
fn command_paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(prefix.clone());
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut path = prefix.clone();
            path.push(sub.get_name().to_string());
            walk(sub, path, out);
        }
    }
    let mut out = Vec::new();
    walk(&glctl::cli::Cli::command(), Vec::new(), &mut out);
    out
}

#[test]
fn every_command_help_has_examples() {
    let paths = command_paths();
    assert!(paths.len() > 15, "{paths:?}");
    let mut missing = Vec::new();
    for path in &paths {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = glctl(&args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        let examples = out.stdout.split("Examples:\n").nth(1).unwrap_or_default();
        // An example is a `glctl …` line of that very command.
        let command_line = format!("glctl {}", path.join(" "));
        if !examples.lines().any(|l| l.trim_start().starts_with(command_line.trim_end())) {
            missing.push(command_line);
        }
    }
    assert!(missing.is_empty(), "no `Examples:` block with an example of the command itself in --help: {missing:?}");
}

/// The checked-in completions and man page are what glctl generates now.
#[test]
fn completions_and_the_man_page_are_current() {
    let files: [(&[&str], &str); 4] = [
        (&["completions", "bash"], "docs/completions/glctl.bash"),
        (&["completions", "zsh"], "docs/completions/_glctl"),
        (&["completions", "fish"], "docs/completions/glctl.fish"),
        (&["man"], "docs/man/glctl.1"),
    ];
    for (args, file) in files {
        let out = glctl(args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(out.stdout.contains("verify"), "{args:?} does not mention verify");
        let path = repo().join(file);
        if std::env::var_os("GLCTL_BLESS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &out.stdout).unwrap();
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == out.stdout,
            "{file} is stale: regenerate it with `cargo run -q -- {} > {file}` (or GLCTL_BLESS=1 cargo test --test \
             glctl cli::)",
            args.join(" ")
        );
    }
    // The completion scripts are valid in their shells.
    let bash = Command::new("bash").arg("-n").arg(repo().join("docs/completions/glctl.bash")).output().unwrap();
    assert!(bash.status.success(), "{}", String::from_utf8_lossy(&bash.stderr));
}

#[test]
fn version_names_the_commit_and_the_build_date() {
    let out = glctl(&["--version"]);
    assert_eq!(out.code, 0);
    let line = out.stdout.trim();
    let inner = line.strip_prefix(concat!("glctl ", env!("CARGO_PKG_VERSION"), " (")).and_then(|r| r.strip_suffix(')'));
    let (commit, date) = inner.and_then(|i| i.split_once(' ')).unwrap_or_else(|| panic!("{line}"));
    assert!(date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-', "{line}");
    let head = Command::new("git").args(["rev-parse", "--short", "HEAD"]).current_dir(repo()).output().unwrap();
    if head.status.success() {
        assert_eq!(commit, String::from_utf8_lossy(&head.stdout).trim(), "{line}");
    } else {
        assert!(commit == "unknown" || !commit.is_empty(), "{line}");
    }
}

#[test]
fn no_command_offers_a_flag_that_does_nothing() {
    for command in [&["engines"][..], &["fields"], &["promote", "--from", "dev", "--to", "staging"]] {
        let mut args = vec!["-e", "dev"];
        args.extend_from_slice(command);
        let out = glctl(&args);
        assert_eq!(out.code, 2, "{args:?} accepted -e: {}{}", out.stdout, out.stderr);
        assert!(out.stderr.contains("takes no environment"), "{}", out.stderr);
        let mut help: Vec<&str> = command[..1].to_vec();
        help.push("--help");
        let help = glctl(&help).stdout;
        assert!(!help.contains("--env"), "{command:?} --help offers -e:\n{help}");
    }
    let status = glctl(&["migrate", "status", "--help"]).stdout;
    assert!(!status.contains("--dry-run"), "{status}");
    let out = glctl(&["migrate", "status", "--dry-run", "-e", "dev"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(glctl(&["migrate", "apply", "--help"]).stdout.contains("--dry-run"));
    // Both places for -e still work, and GLCTL_ENV; twice and different is refused.
    assert_eq!(glctl(&["-e", "dev", "validate"]).code, 0);
    assert_eq!(glctl(&["validate", "-e", "dev"]).code, 0);
    assert_eq!(glctl(&["migrate", "-e", "dev", "lint"]).code, 0);
    let out = glctl(&["-e", "dev", "validate", "-e", "prod"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("-e given twice"), "{}", out.stderr);
    let via_variable =
        crate::support::glctl_command(&repo(), &["validate"]).env("GLCTL_ENV", "staging").output().unwrap();
    assert!(String::from_utf8_lossy(&via_variable.stdout).starts_with("staging: valid"));
    for only in ["plan", "apply"] {
        let help = glctl(&[only, "--help"]).stdout;
        assert!(help.contains("pg_partman") && help.contains("pg_cron"), "{only} --help:\n{help}");
    }
}

fn json(out: &crate::support::Output) -> serde_json::Value {
    let value: serde_json::Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", out.stdout, out.stderr));
    assert_eq!(value.as_object().and_then(|o| o.keys().next()).map(String::as_str), Some("glctl_output"));
    assert_eq!(value["glctl_output"], 1);
    value
}

#[test]
fn json_output_has_the_versioned_shape_everywhere() {
    let list = json(&glctl(&["verify", "--list", "--output", "json"]));
    assert_eq!(list["checks"].as_array().unwrap().len(), 49);
    assert_eq!(list["checks"][0]["id"], "FA-01");
    // The old flag name is an alias for one release, and never silently prints the table.
    assert_eq!(json(&glctl(&["verify", "--list", "--format", "json"])), list);
    let junit = glctl(&["verify", "--list", "--output", "junit"]);
    assert_eq!(junit.code, 2, "{}", junit.stdout);
    assert!(junit.stdout.is_empty());
    let text = glctl(&["verify", "--list"]).stdout;
    assert!(text.starts_with("FA-01 "), "{text}");

    let validate = json(&glctl(&["validate", "--all", "--output", "json"]));
    assert!(validate["environments"].as_array().unwrap().len() >= 4);
    assert_eq!(json(&glctl(&["validate", "-e", "dev", "--output", "json"]))["environment"], "dev");
    let fields = json(&glctl(&["fields", "engine", "--output", "json"]));
    assert!(fields["fields"].as_array().unwrap().iter().all(|f| f["path"].as_str().unwrap().starts_with("engine")));
    let engines = json(&glctl(&["engines", "--output", "json"]));
    assert_eq!(engines["engines"][0]["engine"], "aurora-postgresql");

    let dir = tempfile::tempdir().unwrap();
    let render = json(&glctl(&["render", "-e", "dev", "--out", dir.path().to_str().unwrap(), "--output", "json"]));
    assert_eq!(render["environment"], "dev");
    assert!(render["terraform_files"].as_u64().unwrap() > 0);

    // A database that cannot be reached: not checked (exit 3), and the document says so.
    let out = glctl(&[
        "migrate",
        "status",
        "-e",
        "local",
        "--database-url",
        "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2",
        "--output",
        "json",
    ]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let status = json(&out);
    assert_eq!(status["checked"], false);
    assert!(status["up_to_date"].is_null());
}

#[test]
fn fields_and_engines_fit_100_columns_and_filter() {
    for args in [&["fields"][..], &["engines"]] {
        let out = glctl(args);
        assert_eq!(out.code, 0);
        let wide: Vec<&str> = out.stdout.lines().filter(|l| l.chars().count() > 100).collect();
        assert!(wide.is_empty(), "{args:?} lines over 100 columns: {wide:#?}");
    }
    let engine = glctl(&["fields", "engine"]).stdout;
    assert!(engine.starts_with("engine ") && engine.contains("\nengine.version "), "{engine}");
    assert!(!engine.contains("\nstorage"), "{engine}");
    // A table's own name finds the `<name>` fields.
    let segment = glctl(&["fields", "hypertables.sensor_readings.compression"]).stdout;
    assert!(segment.contains("hypertables.<name>.compression.segment_by"), "{segment}");
    let typo = glctl(&["fields", "engin"]);
    assert_eq!(typo.code, 2);
    assert!(typo.stderr.contains("did you mean 'engine'?"), "{}", typo.stderr);
    let aurora = glctl(&["engines", "aurora-postgresql"]).stdout;
    assert!(aurora.starts_with("aurora-postgresql\n") && !aurora.contains("rds-postgresql"), "{aurora}");
    let unknown = glctl(&["engines", "oracle"]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("known: aurora-postgresql"), "{}", unknown.stderr);
}

/// With GLCTL_BLESS set, rewrites the generated section of `page`; then compares it with `glctl ARGS`.
fn generated_section_is_current(page: &str, args: &[&str]) {
    let (begin, end) = (format!("<!-- BEGIN GENERATED by `glctl {}` -->", args.join(" ")), "<!-- END GENERATED -->");
    let generated = glctl(args).stdout;
    let path = repo().join(page);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{page}: {e}"));
    let start = text.find(&begin).unwrap_or_else(|| panic!("{page} lacks {begin}")) + begin.len();
    let stop = text[start..].find(end).unwrap_or_else(|| panic!("{page} lacks {end}")) + start;
    if std::env::var_os("GLCTL_BLESS").is_some() {
        std::fs::write(&path, format!("{}\n{}{}", &text[..start], generated, &text[stop..])).unwrap();
        return;
    }
    assert_eq!(
        text[start..stop].trim(),
        generated.trim(),
        "{page} is stale: regenerate with GLCTL_BLESS=1 cargo test --test glctl cli::reference_pages"
    );
}

#[test]
fn reference_pages_are_generated_from_the_model() {
    generated_section_is_current("docs/reference/environment.md", &["fields", "--output", "markdown"]);
    generated_section_is_current("docs/reference/engines.md", &["engines", "--output", "markdown"]);
}

#[test]
fn the_project_root_is_found_from_a_subfolder() {
    let out = glctl_in(&repo().join("sql/migrations"), &["validate", "-e", "dev"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("dev: valid"), "{}", out.stdout);
    // --root still wins.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = glctl_in(&repo().join("sql"), &["--root", elsewhere.path().to_str().unwrap(), "validate", "-e", "dev"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
}

fn check_jsonschema() -> std::path::PathBuf {
    let path = repo().join(".tools/ci-lint/bin/check-jsonschema");
    assert!(path.is_file(), "{} is missing: run scripts/setup", path.display());
    path
}

#[test]
fn the_schema_accepts_every_shipped_environment_and_refuses_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("environment.schema.json");
    let out = glctl(&["schema", "--out", schema.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&schema).unwrap()).unwrap();
    assert_eq!(value["$schema"], "http://json-schema.org/draft-07/schema#");
    let shipped: Vec<_> = std::fs::read_dir(repo().join("environments"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    assert!(shipped.len() >= 8);
    let out = Command::new(check_jsonschema()).arg("--schemafile").arg(&schema).args(&shipped).output().unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    for (name, bad) in [
        ("unknown-table.yaml", "extends: base\nhypertables:\n  sensor_reading: { retention: 90 days }\nengin: {}\n"),
        ("wrong-kind.yaml", "extends: base\nengine: { kind: oracle }\n"),
        ("wrong-type.yaml", "backup: { retention_days: many }\n"),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, bad).unwrap();
        let out = Command::new(check_jsonschema()).arg("--schemafile").arg(&schema).arg(&file).output().unwrap();
        assert!(!out.status.success(), "the schema accepted {name}");
    }
}

fn copy_environments(to: &Path) {
    std::fs::create_dir_all(to.join("environments")).unwrap();
    for entry in std::fs::read_dir(repo().join("environments")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, to.join("environments").join(path.file_name().unwrap())).unwrap();
    }
}

#[test]
fn init_writes_a_valid_file_on_the_model_layer_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    copy_environments(dir.path());
    let out = glctl_in(dir.path(), &["init", "qa", "--from", "staging"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let written = std::fs::read_to_string(dir.path().join("environments/qa.yaml")).unwrap();
    assert!(written.contains("\nextends: base\n"), "{written}");
    assert!(written.contains("name: greenlang/qa/database/master }  # CHANGE ME"), "{written}");
    assert!(written.contains("Environment: Qa  # CHANGE ME"), "{written}");
    assert!(!written.contains("greenlang/staging/"), "{written}");
    let validate = glctl_in(dir.path(), &["validate", "-e", "qa"]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);

    std::fs::write(dir.path().join("environments/qa.yaml"), "# mine\n").unwrap();
    let again = glctl_in(dir.path(), &["init", "qa", "--from", "staging"]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("never overwrites"), "{}", again.stderr);
    assert_eq!(std::fs::read_to_string(dir.path().join("environments/qa.yaml")).unwrap(), "# mine\n");
    let bad = glctl_in(dir.path(), &["init", "QA env", "--from", "staging"]);
    assert_eq!(bad.code, 2);
    // A model whose name is also a word of the model (`state_backend: local`): the keyword stays.
    let out = glctl_in(&dir.path().join("environments"), &["init", "sandbox", "--from", "local"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let written = std::fs::read_to_string(dir.path().join("environments/sandbox.yaml")).unwrap();
    assert!(written.contains("state_backend: local"), "{written}");
}

/// `migrate status|apply --output json` against the stack's PostgreSQL: pending, the dry run, the apply, then
/// up to date, each one versioned document on stdout.
#[test]
fn migrate_prints_versioned_json_for_status_dry_run_and_apply() {
    let p = crate::migrate::Project::new("cli_json");
    std::fs::write(p.root.path().join("sql/migrations/0001_create.sql"), "CREATE TABLE t (at timestamptz NOT NULL);")
        .unwrap();
    let migrate = |args: &[&str]| {
        let mut all = vec!["migrate"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--output", "json"]);
        p.glctl_env("local", &all)
    };
    let before = migrate(&["status"]);
    assert_eq!(before.code, 1, "{}", before.stderr);
    let before = json(&before);
    assert_eq!((before["checked"].clone(), before["up_to_date"].clone()), (true.into(), false.into()));
    assert!(before["pending"][0].as_str().unwrap().ends_with("0001_create.sql"), "{before}");
    let dry = json(&migrate(&["apply", "--dry-run"]));
    assert_eq!(dry["would_apply"][0]["in_transaction"], true, "{dry}");
    let applied = json(&migrate(&["apply"]));
    assert_eq!(applied["applied"].as_array().unwrap().len(), 1, "{applied}");
    let after = migrate(&["status"]);
    assert_eq!(after.code, 0, "{}", after.stderr);
    assert_eq!(json(&after)["up_to_date"], true);
}
