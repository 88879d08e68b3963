//! `glctl validate`: the shipped environments pass; each invalid fixture fails with its exact, located messages.

use std::path::Path;

use crate::support::{assert_matches_file, glctl, glctl_in, repo};

#[test]
fn shipped_environments_are_valid() {
    for env in ["dev", "staging", "prod", "local", "local-staging"] {
        let out = glctl(&["validate", "-e", env]);
        assert_eq!(out.code, 0, "{env}: {}", out.stderr);
        assert!(out.stdout.starts_with(&format!("{env}: valid (")), "{env}: {}", out.stdout);
    }
}

#[test]
fn shipped_environments_follow_the_prd_engines() {
    let expect = [
        ("dev", "rds-postgresql", "native"),
        ("staging", "rds-postgresql", "native"),
        ("prod", "aurora-postgresql", "native"),
        ("local", "external", "timescaledb"),
        ("local-staging", "external", "timescaledb"),
    ];
    for (env, engine, backend) in expect {
        let out = glctl(&["show", "-e", env, "--output", "json"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(value["engine"]["kind"], engine, "{env}");
        assert_eq!(value["timeseries"]["backend"], backend, "{env}");
    }
}

#[test]
fn validate_all_checks_every_environment_but_the_base_layer() {
    let out = glctl(&["validate", "--all"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    let shipped = std::fs::read_dir(crate::support::repo().join("environments"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "yaml"))
        .count();
    assert_eq!(lines.len(), shipped - 1, "every environment but base:\n{}", out.stdout);
    assert!(!out.stdout.contains("base:"));
}

/// Each `tests/fixtures/invalid/NAME.yaml` breaks one rule; `NAME.expected` holds glctl's exact stderr.
#[test]
fn every_invalid_fixture_fails_with_its_located_messages() {
    let dir = repo().join("tests/fixtures/invalid");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('_'))
        .collect();
    cases.sort();
    assert!(cases.len() >= 30, "expected a fixture per rule, found {}", cases.len());
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let out = glctl_in(&dir, &["validate", "-e", &format!("./{name}")]);
        assert_eq!(out.code, 2, "{name} should be refused with exit 2; stdout: {}", out.stdout);
        assert!(out.stdout.is_empty(), "{name}: nothing on stdout for an invalid file");
        assert!(!out.stderr.contains("panicked") && !out.stderr.contains("RUST_BACKTRACE"), "{name}: {}", out.stderr);
        assert_matches_file(&out.stderr, &case.with_extension("expected"));
    }
}

#[test]
fn every_line_of_an_invalid_report_names_file_line_and_column() {
    let dir = repo().join("tests/fixtures/invalid");
    let out = glctl_in(&dir, &["validate", "-e", "./wrong-types.yaml"]);
    let lines: Vec<&str> = out.stderr.lines().collect();
    let (summary, diagnostics) = lines.split_last().unwrap();
    assert!(summary.starts_with("wrong-types: invalid (3 errors"), "{summary}");
    for line in diagnostics {
        let mut parts = line.splitn(4, ':');
        let (file, row, col) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
        assert!(Path::new(&dir).join(file).is_file(), "{line}");
        assert!(row.parse::<u32>().is_ok() && col.parse::<u32>().is_ok(), "{line}");
    }
}

#[test]
fn an_inherited_mistake_is_reported_in_the_file_that_wrote_it() {
    let dir = repo().join("tests/fixtures/invalid");
    let out = glctl_in(&dir, &["validate", "-e", "./aurora-storage-on-rds.yaml"]);
    assert!(out.stderr.contains("../_valid.yaml:16:18: error: storage.type:"), "{}", out.stderr);
}

#[test]
fn accepted_risks_pass_with_a_warning_per_weakening() {
    let dir = repo().join("tests/fixtures/valid");
    let out = glctl_in(&dir, &["validate", "-e", "./accepted-risks.yaml"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("warning: deletion_protection:")
            && out.stderr.contains("(accepted risk `no-deletion-protection`)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("warning: accepted_risks[2]: `public-access` is accepted but not taken"),
        "{}",
        out.stderr
    );
}

#[test]
fn json_report_lists_every_diagnostic_for_ci() {
    let dir = repo().join("tests/fixtures/invalid");
    let out = glctl_in(&dir, &["validate", "-e", "./public-access.yaml", "--output", "json"]);
    assert_eq!(out.code, 2);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["valid"], false);
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 2);
    assert_eq!(diagnostics[0]["severity"], "error");
    assert_eq!(diagnostics[0]["file"], "public-access.yaml");
    assert_eq!(diagnostics[0]["line"], 2);
    assert_eq!(diagnostics[0]["field"], "network.allowed_cidrs[0]");
}

#[test]
fn an_unknown_environment_name_is_a_usage_error_with_a_suggestion() {
    let out = glctl(&["validate", "-e", "prd"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("no environment named 'prd'") && out.stderr.contains("did you mean 'prod'?"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_missing_environment_flag_is_a_usage_error() {
    let out = glctl(&["validate"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no environment given; pass -e ENV"), "{}", out.stderr);
}

#[test]
fn bad_usage_exits_2_and_version_prints() {
    assert_eq!(glctl(&["validate", "--output", "xml", "-e", "dev"]).code, 2);
    assert_eq!(glctl(&["frobnicate"]).code, 2);
    let version = glctl(&["--version"]);
    assert_eq!(version.code, 0);
    // The commit and build date follow (cli::version_names_the_commit_and_the_build_date).
    assert!(version.stdout.starts_with(&format!("glctl {} (", env!("CARGO_PKG_VERSION"))), "{}", version.stdout);
}

/// issue 29: what a newcomer gets wrong, each with its fixture and the message that says what to do.
#[test]
fn a_misspelt_table_or_parent_is_named_with_the_names_glctl_knows() {
    let dir = repo().join("tests/fixtures/invalid");
    let out = glctl_in(&dir, &["validate", "-e", "./unknown-table.yaml"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.starts_with(
            "unknown-table.yaml:6:3: error: hypertables.sensor_reading: unknown table 'sensor_reading': no file of \
             this environment declares it; did you mean 'sensor_readings'? known: emission_measurements, \
             sensor_readings (a new table needs time_column and chunk_interval)\n"
        ),
        "{}",
        out.stderr
    );
    let out = glctl_in(&dir, &["validate", "-e", "./extends-typo.yaml"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("error: extends: parent '../_vaild.yaml' does not exist; expected an existing file; did you mean '../_valid.yaml'?"), "{}", out.stderr);
}

#[test]
fn an_environment_given_as_a_file_path_gets_the_name_that_works() {
    for (dir, arg) in [(repo(), "dev.yaml"), (repo().join("sql"), "environments/dev.yaml")] {
        let out = glctl_in(&dir, &["validate", "-e", arg]);
        assert_eq!(out.code, 2, "{arg}");
        assert!(out.stderr.contains(&format!("environment file '{arg}' does not exist; to use ")), "{}", out.stderr);
        assert!(out.stderr.contains("pass `-e dev`"), "{}", out.stderr);
    }
    // From a subfolder, the name works: the project root is found upwards.
    let out = glctl_in(&repo().join("sql/migrations"), &["validate", "-e", "dev"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Outside any project, the message says where glctl looked.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = glctl_in(elsewhere.path(), &["validate", "-e", "dev"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("in every folder above; run it inside the project or pass --root"), "{}", out.stderr);
}

#[test]
fn arns_of_another_account_and_a_missing_ca_bundle_are_named() {
    let dir = repo().join("tests/fixtures/valid");
    let out = glctl_in(&dir, &["validate", "-e", "./arn-in-another-account.yaml"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "arn-in-another-account.yaml:3:22: warning: rotation_lambda_arn: this lambda ARN is in account \
             999999999999, not aws.account_id 123456789012; expected 123456789012 (a copied example?), or a resource \
             policy that lets 123456789012 use it"
        ),
        "{}",
        out.stderr
    );
    let out = glctl_in(&dir, &["validate", "-e", "./ca-bundle-missing.yaml"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "ca-bundle-missing.yaml:4:26: warning: connection.ca_bundle: 'certs/rds-global-bundle.pem' is not a file \
             under the project root; glctl reads it to verify the server's certificate when it connects"
        ),
        "{}",
        out.stderr
    );
    // The shipped files name one that is not in the repository: said, not hidden.
    assert!(glctl(&["validate", "-e", "prod"])
        .stderr
        .contains("warning: connection.ca_bundle: 'certs/rds-global-bundle.pem' is not a file"));
}

/// The engine-version check (src/engine/versions.rs) is covered by `engine-version-unknown.yaml`; an empty
/// file points at the field reference.
#[test]
fn an_empty_file_points_at_the_field_reference() {
    let dir = repo().join("tests/fixtures/invalid");
    let out = glctl_in(&dir, &["validate", "-e", "./empty.yaml"]);
    assert!(out.stderr.contains("(every field: docs/reference/environment.md, or `glctl fields`)"), "{}", out.stderr);
    let version = std::fs::read_to_string(dir.join("engine-version-unknown.expected")).unwrap();
    assert!(version.contains("does not offer PostgreSQL 16.99"), "{version}");
}

/// Declared indexes (`tests/fixtures/indexes/`): run from the repository, whose migrations say which columns
/// each table has. Every mistake of every index at once, each at its field; an unknown method (a structural
/// error) alone; TimescaleDB's refusal of a unique index with its reason.
#[test]
fn declared_index_mistakes_are_located_all_at_once_and_a_good_declaration_passes() {
    let dir = repo().join("tests/fixtures/indexes");
    for name in ["mistakes", "unknown-method", "timescaledb-unique"] {
        let out = glctl(&["validate", "-e", &format!("tests/fixtures/indexes/{name}.yaml")]);
        assert_eq!(out.code, 2, "{name}: {}", out.stderr);
        assert_matches_file(&out.stderr, &dir.join(format!("{name}.expected")));
    }
    let mistakes = std::fs::read_to_string(dir.join("mistakes.expected")).unwrap();
    for what in ["no columns", "must include its partition key", "has no key order", "not one SQL expression"] {
        assert!(mistakes.contains(what), "{what}: {mistakes}");
    }
    assert!(mistakes.contains("no column 'facilty_id' (after the migrations); did you mean 'facility_id'?"));
    let out = glctl(&["validate", "-e", "tests/fixtures/indexes/declared.yaml"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}
