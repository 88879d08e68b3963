//! One verify run, rendered four ways: a table for people, JSON for programs, JUnit XML for CI (one testcase
//! per check, `classname` ENV.CATEGORY, evidence in system-out, at most one failure each) and Markdown for the
//! sign-off.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{CheckResult, Skip, Status, VerifyRun};

fn evidence_lines(r: &CheckResult) -> Vec<String> {
    r.evidence
        .iter()
        .map(|e| format!("observed: {} | expected: {} | from: {} | at: {}", e.observed, e.expected, e.source, e.at))
        .collect()
}

fn summary(run: &VerifyRun) -> String {
    let mut line = format!(
        "{}: {} passed, {} failed, {} skipped, {} could not be decided",
        run.environment,
        run.count(Status::Pass),
        run.count(Status::Fail),
        run.count(Status::Skip),
        run.count(Status::Error)
    );
    if let Some(emulator) = &run.aws_emulator {
        let undecided = run.results.iter().filter(|r| r.skip == Some(Skip::Emulated)).count();
        line.push_str(&format!("; AWS emulated by {emulator} ({undecided} not decided there)"));
    }
    line
}

/// The label of a result from an emulator, in brackets, unless its reason already says it.
fn emulated_label(r: &CheckResult) -> Option<String> {
    let label = r.emulated.as_deref()?;
    (r.skip != Some(Skip::Emulated)).then(|| format!("[{label}]"))
}

/// The one line a reader sees: the label, then the reason (or on a PASS without one, what was observed).
fn detail(r: &CheckResult) -> String {
    let text = match (&r.reason, r.evidence.first()) {
        (Some(reason), _) => reason.clone(),
        (None, Some(e)) => e.observed.clone(),
        (None, None) => String::new(),
    };
    match emulated_label(r) {
        Some(label) if text.is_empty() => label,
        Some(label) => format!("{label} {text}"),
        None => text,
    }
}

/// A table, one line per check with what it found; `paint` colours the status on a terminal.
pub fn table(run: &VerifyRun, paint: &dyn Fn(Status, &str) -> String) -> String {
    let mut out = String::new();
    for r in &run.results {
        let status = format!("{:<5}", r.status.label());
        out.push_str(&format!("{} {:<6} {:<58} {}\n", paint(r.status, &status), r.id, r.title, detail(r)));
        if r.status == Status::Fail {
            for line in evidence_lines(r) {
                out.push_str(&format!("             {line}\n"));
            }
        }
    }
    out.push_str(&summary(run));
    out.push('\n');
    out
}

pub fn json(run: &VerifyRun) -> String {
    serde_json::to_string_pretty(run).expect("the run serialises")
}

pub fn junit(run: &VerifyRun) -> String {
    let mut report = Report::new(format!("glctl verify {}", run.environment));
    let mut suite = TestSuite::new(format!("{} acceptance", run.environment));
    suite.add_property(("configuration_hash", run.configuration_hash.as_str()));
    if let Some(emulator) = &run.aws_emulator {
        suite.add_property(("aws_emulator", emulator.to_string().as_str()));
    }
    if let Some(commit) = &run.git_commit {
        suite.add_property(("git_commit", commit.as_str()));
    }
    for r in &run.results {
        let mut status = match r.status {
            Status::Pass => TestCaseStatus::success(),
            Status::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
            Status::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
            Status::Skip => TestCaseStatus::skipped(),
        };
        let line = detail(r);
        if r.reason.is_some() || r.emulated.is_some() {
            status.set_message(line.as_str());
        }
        let mut case = TestCase::new(format!("{} {}", r.id, r.title), status);
        case.set_classname(format!("{}.{}", run.environment, r.category));
        let mut out = vec![format!("{} (PRD §{}): {}", r.id, r.section, r.method)];
        // A PASS has no message in JUnit (and the schema CI validates against allows no properties on a
        // testcase): what stood in for it, or the emulator, leads its output.
        if r.emulated.is_some() || (r.status == Status::Pass && r.reason.is_some()) {
            out.insert(0, line);
        }
        out.extend(evidence_lines(r));
        case.set_system_out(out.join("\n"));
        suite.add_test_case(case);
    }
    report.add_test_suite(suite);
    report.to_string().expect("JUnit XML serialises")
}

/// The sign-off document.
pub fn markdown(run: &VerifyRun) -> String {
    let mut out = format!("# Acceptance verification: {}\n\n", run.environment);
    out.push_str("| | |\n|---|---|\n");
    out.push_str(&format!("| Environment | `{}` |\n| Verified at | {} |\n", run.environment, run.at));
    out.push_str(&format!("| Git commit | `{}` |\n", run.git_commit.as_deref().unwrap_or("(not a git checkout)")));
    out.push_str(&format!("| Configuration (SHA-256) | `{}` |\n", run.configuration_hash));
    out.push_str(&format!(
        "| Rendered Terraform (SHA-256) | `{}` |\n",
        run.terraform_hash.as_deref().unwrap_or("(not rendered)")
    ));
    if let Some(bundle) = &run.bundle {
        out.push_str(&format!("| Bundle (SHA-256) | `{}` |\n", bundle.digest));
    }
    if let Some(emulator) = &run.aws_emulator {
        out.push_str(&format!("| AWS | **emulated by {emulator}**: results marked so read the emulator, not AWS |\n"));
    }
    out.push_str(&format!("| Result | {} |\n\n", summary(run)));
    out.push_str("## Migrations verified\n\n| file | SHA-256 |\n|---|---|\n");
    for (file, checksum) in &run.migrations {
        out.push_str(&format!("| `{file}` | `{checksum}` |\n"));
    }
    out.push_str("\n## Criteria\n\n| ID | PRD | criterion | result | evidence or reason |\n|---|---|---|---|---|\n");
    for r in &run.results {
        let mut lines = evidence_lines(r);
        let first = match emulated_label(r) {
            Some(label) => Some(format!("**{label}** {}", r.reason.as_deref().unwrap_or_default())),
            None => r.reason.clone(),
        };
        if let Some(first) = first {
            lines.insert(0, first.trim_end().to_string());
        }
        let detail = lines.join("<br>");
        let status = r.status.label();
        out.push_str(&format!(
            "| {} | §{} | {} | **{status}** | {} |\n",
            r.id,
            r.section,
            r.title,
            detail.replace('|', "\\|").replace('\n', " ")
        ));
    }
    out.push_str(
        "\n## Sign-off\n\n| role | name | date | signature |\n|---|---|---|---|\n| Platform engineer | | | |\n| \
         Security reviewer | | | |\n| Service owner | | | |\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::Evidence;

    fn run() -> VerifyRun {
        let result = |id, status, reason: Option<&str>, evidence: Vec<Evidence>| CheckResult {
            id,
            section: "10.5",
            category: "security",
            title: "A connection without TLS is refused",
            method: "connect with sslmode=disable",
            status,
            skip: (status == Status::Skip).then_some(Skip::Waived),
            reason: reason.map(str::to_string),
            evidence,
            emulated: None,
        };
        let e = Evidence {
            observed: "connected | as app".into(),
            expected: "refused".into(),
            source: "connect".into(),
            at: "t".into(),
        };
        VerifyRun {
            environment: "prod".into(),
            at: "2026-11-26T12:00:00Z".into(),
            git_commit: Some("abc123".into()),
            configuration_hash: "c0ffee".into(),
            terraform_hash: None,
            migrations: vec![("0001_roles.sql".into(), "ab".into())],
            bundle: None,
            aws_emulator: None,
            results: vec![
                result("ST-01", Status::Fail, Some("a plaintext connection was accepted"), vec![e.clone()]),
                result("ST-02", Status::Pass, None, vec![e]),
                result("ST-03", Status::Skip, Some("waived until 2027-01-01: r"), vec![]),
                result("ST-04", Status::Error, Some("AWS could not be read"), vec![]),
            ],
        }
    }

    #[test]
    fn junit_has_one_testcase_per_check_with_classname_and_one_failure_each() {
        let xml = junit(&run());
        assert_eq!(xml.matches("<testcase ").count(), 4, "{xml}");
        assert_eq!(xml.matches("classname=\"prod.security\"").count(), 4);
        assert_eq!(xml.matches("<failure").count(), 1);
        assert_eq!(xml.matches("<error").count(), 1);
        assert!(xml.contains("<skipped message=\"waived until 2027-01-01: r\""), "{xml}");
        assert!(xml.contains("<system-out>ST-01 (PRD §10.5)"), "{xml}");
        assert!(xml.contains("name=\"configuration_hash\" value=\"c0ffee\""), "{xml}");
    }

    #[test]
    fn markdown_is_a_sign_off_with_evidence_and_escaped_cells() {
        let md = markdown(&run());
        assert!(md.starts_with("# Acceptance verification: prod\n"));
        assert!(md.contains("| Git commit | `abc123` |"));
        assert!(md.contains("| `0001_roles.sql` | `ab` |"));
        assert!(md.contains("| ST-01 | §10.5 | A connection without TLS is refused | **FAIL** | a plaintext connection was accepted<br>observed: connected \\| as app"), "{md}");
        assert!(md.contains("## Sign-off"));
    }

    #[test]
    fn the_table_shows_failure_evidence_and_a_summary() {
        let text = table(&run(), &|_, s| s.to_string());
        assert!(text.contains("FAIL  ST-01"), "{text}");
        assert!(text.contains("observed: connected | as app | expected: refused"), "{text}");
        assert!(text.ends_with("prod: 1 passed, 1 failed, 1 skipped, 1 could not be decided\n"), "{text}");
    }

    /// Against an emulator every result from it says so where a reader looks: the text line, the
    /// Markdown row and summary, the JUnit message, output and properties.
    #[test]
    fn results_from_an_emulator_say_so_in_every_report() {
        let mut run = run();
        run.aws_emulator =
            Some(crate::verify::emulator::Emulator { name: "moto".into(), endpoint: "http://127.0.0.1:5000".into() });
        let label = "configuration read back from moto at http://127.0.0.1:5000: what Terraform sent, not proof that AWS holds it";
        run.results[1].emulated = Some(label.into());
        run.results[2].status = Status::Skip;
        run.results[2].skip = Some(Skip::Emulated);
        run.results[2].reason =
            Some("decided by an emulator (moto at http://127.0.0.1:5000): x; it reported PASS: y".into());
        run.results[2].emulated = Some("AWS emulated by moto at http://127.0.0.1:5000: not decided".into());
        let text = table(&run, &|_, s| s.to_string());
        let st02 = text.lines().find(|l| l.starts_with("PASS  ST-02")).unwrap();
        assert!(st02.ends_with(&format!(" [{label}] connected | as app")), "{text}");
        assert!(
            text.contains("SKIP  ST-03") && text.contains("decided by an emulator (moto at http://127.0.0.1:5000)"),
            "{text}"
        );
        assert!(!text.contains("[AWS emulated by moto at http://127.0.0.1:5000: not decided]"), "said once: {text}");
        assert!(text.ends_with("; AWS emulated by moto at http://127.0.0.1:5000 (1 not decided there)\n"), "{text}");
        let md = markdown(&run);
        assert!(md.contains("| AWS | **emulated by moto at http://127.0.0.1:5000**"), "{md}");
        assert!(
            md.contains(&format!(
                "| ST-02 | §10.5 | A connection without TLS is refused | **PASS** | **[{label}]**<br>observed"
            )),
            "{md}"
        );
        let xml = junit(&run);
        assert!(xml.contains("name=\"aws_emulator\" value=\"moto at http://127.0.0.1:5000\""), "{xml}");
        assert!(xml.contains(&format!("<system-out>[{label}] connected | as app\nST-02 (PRD §10.5)")), "{xml}");
        assert!(xml.contains("<skipped message=\"decided by an emulator (moto at http://127.0.0.1:5000)"), "{xml}");
        let json = json(&run);
        assert!(json.contains("\"aws_emulator\": {") && json.contains("\"skip\": \"emulated\""), "{json}");
        assert!(json.contains(&format!("\"emulated\": \"{label}\"")), "{json}");
    }

    /// A PASS decided on a stand-in says so in its one line, in every report (JUnit has no message for a
    /// success: its output leads with it).
    #[test]
    fn a_pass_on_a_stand_in_says_so_in_its_one_line() {
        let mut run = run();
        run.results[1].stand_in("measured on PGlite (PostgreSQL 17.5 in WebAssembly), the local stand-in");
        let reason = "stand-in: measured on PGlite (PostgreSQL 17.5 in WebAssembly), the local stand-in";
        assert_eq!(run.results[1].reason.as_deref(), Some(reason));
        assert!(table(&run, &|_, s| s.to_string()).contains(&format!("{reason}\n")));
        assert!(markdown(&run).contains(&format!("**PASS** | {reason}<br>observed")));
        assert!(junit(&run).contains(&format!("<system-out>{reason}\nST-02 (PRD §10.5)")));
        run.results[0].stand_in("a plain forced failover stood in for a network partition");
        assert_eq!(
            run.results[0].reason.as_deref(),
            Some("stand-in: a plain forced failover stood in for a network partition; a plaintext connection was accepted")
        );
        run.results[3].stand_in("x");
        assert_eq!(run.results[3].reason.as_deref(), Some("AWS could not be read"), "an ERROR decided nothing");
    }
}
