//! The environment model and everything that turns a YAML file into a checked `Environment`.

pub mod diagnostics;
pub mod dr_restore;
pub mod drift;
pub mod drills;
pub mod indexes;
pub mod interval;
pub mod loader;
pub mod migrations;
pub mod model;
pub mod monitoring;
pub mod pgbackrest;
pub mod pitr;
pub mod pointers;
pub mod pooling;
pub mod promotion;
pub mod reference;
pub mod replication;
pub mod rules;
pub mod structure;
pub mod waivers;

use std::path::Path;

use diagnostics::{Diagnostic, Severity};
use model::Environment;

/// A checked environment: its model, where it came from, and the warnings it passed with.
#[derive(Debug)]
pub struct Loaded {
    pub name: String,
    pub environment: Environment,
    pub warnings: Vec<Diagnostic>,
    /// Where `engine.version` is written (the plan's engine refusals point there).
    pub engine_version_at: diagnostics::Location,
}

/// Why an environment could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `-e` names nothing that exists.
    #[error("{0}")]
    NotFound(String),
    /// The files exist but are not a valid environment; every problem found, errors first.
    #[error("{}{}", diagnostics.iter().map(|d| format!("{d}\n")).collect::<String>(), summary_line(name, diagnostics))]
    Invalid { name: String, diagnostics: Vec<Diagnostic> },
}

/// `NAME: invalid (N errors, M warnings)`.
pub fn summary_line(name: &str, diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    format!("{name}: invalid ({}, {})", plural(errors, "error"), plural(warnings, "warning"))
}

pub fn schema() -> serde_json::Value {
    schemars::schema_for!(Environment).to_value()
}

/// Resolves `-e ENV` under `root`, loads, merges and checks it: every problem comes back at once.
// Commands load through `load_with` (the migrations' facts); tests and tools need only the file.
#[allow(dead_code)]
pub fn load(root: &Path, env: &str) -> Result<Loaded, ConfigError> {
    load_with(root, env, &|_| Vec::new())
}

/// Rules that need more than the file, given by the caller as a function of the model (the columns of a
/// declared index are known from the migrations, which this room does not read): located like the rest.
pub type ExtraRules<'a> = &'a dyn Fn(&Environment) -> Vec<diagnostics::Finding>;

/// `load`, with the caller's `extra` rules judged and located with the file's own.
pub fn load_with(root: &Path, env: &str, extra: ExtraRules<'_>) -> Result<Loaded, ConfigError> {
    let file = loader::resolve(root, env).map_err(ConfigError::NotFound)?;
    let name = file.file_stem().and_then(|s| s.to_str()).unwrap_or(env).to_string();
    let invalid = |diagnostics| ConfigError::Invalid { name: name.clone(), diagnostics };
    let merged = loader::load(&file).map_err(invalid)?;
    // The file name is the environment's name and part of every AWS resource name: checked where it is chosen.
    if !rules::is_resource_name_part(&name, 40) {
        let location = merged.sources.location(&top_of_leaf_file(), 0);
        let message = format!(
            "the environment name '{name}' (the file name) cannot be part of AWS resource names; expected 1-40 \
             characters of a-z, 0-9 and single '-', starting with a letter and not ending with '-' (rename the file)"
        );
        return Err(invalid(vec![Diagnostic {
            severity: Severity::Error,
            location,
            field: String::new(),
            message,
            accepted_risk: false,
        }]));
    }
    let locate = |finding: diagnostics::Finding, span: &marked_yaml::Span| Diagnostic {
        severity: finding.severity,
        location: merged.sources.location(span, 0),
        field: finding.path.to_string(),
        message: finding.message,
        accepted_risk: finding.accepted_risk,
    };

    let schema = schema();
    let found = structure::Checker::new(&schema).check(&merged.tree);
    let structural: Vec<Diagnostic> = structure::name_unknown_entries(&merged.tree, found)
        .into_iter()
        .map(|located| locate(located.finding, &located.span))
        .collect();
    if !structural.is_empty() {
        return Err(invalid(sorted(structural)));
    }
    let env: Environment = marked_yaml::from_node(&merged.tree).map_err(|e| {
        // The structural check mirrors serde, so this is a backstop, still located.
        let path = diagnostics::FieldPath::parse(e.path().unwrap_or_default());
        let inner = e.into_inner();
        let span = inner.start_mark().map(marked_yaml::Span::new_start).unwrap_or_else(marked_yaml::Span::new_blank);
        invalid(vec![locate(diagnostics::Finding::error(path, inner.to_string()), &span)])
    })?;
    let mut findings = rules::check(&env);
    findings.extend(rules::identifier_lengths(&env, &name));
    let today = waivers::today();
    findings.extend(waivers::findings(&env, &today));
    findings.extend(promotion::findings(&env, &name));
    findings.extend(drift::findings(&env, &today));
    findings.extend(migrations::findings(&env));
    findings.extend(drills::findings(&env));
    findings.extend(indexes::findings(&env));
    findings.extend(extra(&env));
    let findings: Vec<Diagnostic> = findings
        .into_iter()
        .map(|f| {
            let node = loader::nearest(&merged.tree, &f.path);
            // A field set nowhere (a default) is reported at the top of the environment's own file.
            let span = if std::ptr::eq(node, &merged.tree) { top_of_leaf_file() } else { *node.span() };
            locate(f, &span)
        })
        .chain(pointers::findings(&merged.tree, root).into_iter().map(|l| locate(l.finding, &l.span)))
        .collect();
    let (errors, warnings): (Vec<_>, Vec<_>) = findings.into_iter().partition(|d| d.severity == Severity::Error);
    if !errors.is_empty() {
        return Err(invalid(sorted(errors.into_iter().chain(warnings).collect())));
    }
    let engine_version = loader::nearest(&merged.tree, &diagnostics::FieldPath::parse("engine.version"));
    let engine_version_at = merged.sources.location(engine_version.span(), 0);
    Ok(Loaded { name, environment: env, warnings: sorted(warnings), engine_version_at })
}

/// Errors before warnings, then by file and position, so output is stable.
fn sorted(mut diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diagnostics.sort_by(|a, b| {
        (a.severity, &a.location.file, a.location.line, a.location.column, &a.field).cmp(&(
            b.severity,
            &b.location.file,
            b.location.line,
            b.location.column,
            &b.field,
        ))
    });
    diagnostics
}

fn top_of_leaf_file() -> marked_yaml::Span {
    marked_yaml::Span::new_start(marked_yaml::Marker::new(0, 0, 1, 1))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{load, ConfigError};

    /// Every rule has an invalid fixture with glctl's exact report next to it (`NAME.expected`, written for a
    /// run inside the fixture folder); here the rules run in-process, without the binary.
    #[test]
    fn every_invalid_fixture_is_refused_with_its_expected_report() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = root.join("tests/fixtures/invalid");
        let mut cases: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('_'))
            .collect();
        cases.sort();
        assert!(cases.len() >= 30, "a fixture per rule, found {}", cases.len());
        for case in cases {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            let expected = std::fs::read_to_string(case.with_extension("expected")).unwrap();
            match load(root, case.to_str().unwrap()) {
                Ok(_) => panic!("{name} was accepted"),
                Err(e @ ConfigError::NotFound(_)) => panic!("{name}: {e}"),
                Err(e) => {
                    // Paths are shown relative to the working directory, which is the crate root here.
                    let report = e.to_string().replace("tests/fixtures/invalid/", "").replace("tests/fixtures/", "../");
                    assert_eq!(report.trim_end(), expected.trim_end(), "{name}");
                }
            }
        }
    }

    #[test]
    fn every_valid_fixture_loads() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = root.join("tests/fixtures/valid");
        let mut count = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            load(root, path.to_str().unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            count += 1;
        }
        assert!(count >= 3, "{count} valid fixtures");
    }

    #[test]
    fn targets_the_topology_cannot_meet_are_warned_with_what_would() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let loaded = load(root, "tests/fixtures/valid/recovery-targets.yaml").unwrap();
        let warnings: Vec<String> = loaded.warnings.iter().map(|w| format!("{}: {}", w.field, w.message)).collect();
        assert!(
            warnings.iter().any(|w| w.starts_with("acceptance.failover_rto_seconds: 30 s is below what AWS documents")
                && w.contains("up to 120 s")),
            "{warnings:#?}"
        );
        assert!(
            warnings.iter().any(|w| w.starts_with("acceptance.dr_rpo_minutes: 15 minutes cannot be met by a daily")),
            "{warnings:#?}"
        );
    }

    #[test]
    fn a_ceiling_under_26_percent_above_the_allocation_is_warned_and_the_shipped_ones_are_not() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let loaded = load(root, "tests/fixtures/valid/autoscaling-ceiling-close.yaml").unwrap();
        let warning = loaded.warnings.iter().find(|w| w.field == "storage.max_allocated_gb").expect("a warning");
        assert!(
            warning.message.contains("RDS-EVENT-0225") && warning.message.contains("126 GiB"),
            "{}",
            warning.message
        );
        for env in ["dev", "staging"] {
            let loaded = load(root, env).unwrap();
            assert!(!loaded.warnings.iter().any(|w| w.field.starts_with("storage.")), "{env}: {:?}", loaded.warnings);
        }
    }

    #[test]
    fn an_absolute_memory_value_beyond_a_reader_is_warned_and_formulas_are_not() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let loaded = load(root, "tests/fixtures/valid/memory-beyond-a-reader.yaml").unwrap();
        let warning = loaded.warnings.iter().find(|w| w.field == "parameters.effective_cache_size").expect("a warning");
        assert!(
            warning.message.starts_with("24GB is more than the memory of db.r6g.large (16 GiB)"),
            "{}",
            warning.message
        );
        assert!(!warning.message.contains("2xlarge"), "the writer has room: {}", warning.message);
        for env in ["dev", "staging", "prod"] {
            let loaded = load(root, env).unwrap();
            assert!(
                !loaded.warnings.iter().any(|w| w.field.starts_with("parameters.")),
                "{env}: {:?}",
                loaded.warnings
            );
        }
    }

    #[test]
    fn shipped_rds_and_aurora_environments_audit_ddl_and_writes_without_role_statements() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for env in ["dev", "staging", "prod"] {
            let loaded = load(root, env).unwrap();
            let p = &loaded.environment.parameters;
            assert!(p["shared_preload_libraries"].0.split(',').any(|l| l == "pgaudit"), "{env}");
            let classes: Vec<&str> = p["pgaudit.log"].0.split(',').collect();
            assert!(classes.contains(&"ddl") && classes.contains(&"write"), "{env}: ST-07 needs DDL and DML");
            assert!(
                !classes.contains(&"role") && !classes.contains(&"all"),
                "{env}: ALTER ROLE … PASSWORD carries secrets"
            );
            assert_eq!(p["pgaudit.log_parameter"].0, "0", "{env}: bind parameters may carry secrets");
        }
    }

    #[test]
    fn every_shipped_environment_is_valid() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for env in ["dev", "staging", "prod", "local"] {
            let loaded = load(root, env).unwrap_or_else(|e| panic!("{env}: {e}"));
            assert_eq!(loaded.name, env);
        }
    }
}
