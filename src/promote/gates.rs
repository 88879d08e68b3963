//! The gates a promotion must pass, each a pure decision over what was read, named when it refuses with
//! what it saw and what would satisfy it.

use serde::Serialize;

use super::history::SavedRun;
use crate::config::interval::Interval;
use crate::config::Loaded;
use crate::drift::DriftReport;
use crate::promote::bundle::Bundle;
use crate::promote::rehearsals::RehearsalRecord;

/// A gate that refused: which, what it saw, what would satisfy it.
#[derive(Clone, Debug, Serialize)]
pub struct Refusal {
    pub gate: &'static str,
    pub saw: String,
    pub needs: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "gate `{}` refused: {}; {}", self.gate, self.saw, self.needs)
    }
}

/// A gate that passed, and what it saw.
#[derive(Clone, Debug, Serialize)]
pub struct Passed {
    pub gate: &'static str,
    pub saw: String,
}

pub type Gate = Result<Passed, Refusal>;

fn refuse(gate: &'static str, saw: impl Into<String>, needs: impl Into<String>) -> Gate {
    Err(Refusal { gate, saw: saw.into(), needs: needs.into() })
}

fn pass(gate: &'static str, saw: impl Into<String>) -> Gate {
    Ok(Passed { gate, saw: saw.into() })
}

/// DST declares SRC as its previous stage (`promotion.from`).
pub fn order(src: &str, dst: &Loaded) -> Gate {
    const GATE: &str = "order";
    match &dst.environment.promotion {
        None => refuse(
            GATE,
            format!("{} declares no previous stage", dst.name),
            format!("set `promotion: {{ from: {src} }}` in {}'s file if {src} is the stage before it", dst.name),
        ),
        Some(p) if p.from != src => refuse(
            GATE,
            format!("{} is promoted from {}, not {src}", dst.name, p.from),
            format!("promote {} → {} first (no stage is skipped)", p.from, dst.name),
        ),
        Some(_) => pass(GATE, format!("{src} is the stage before {}", dst.name)),
    }
}

/// SRC's latest verify run passed (no FAIL, no ERROR) for exactly `bundle`, and is not older than `max_age`.
/// `checks` are every check's ID: a run narrowed with `--only`/`--skip` proves less than a promotion needs.
pub fn verified(
    src: &str,
    run: Option<&SavedRun>,
    bundle: &Bundle,
    max_age: &Interval,
    now_secs: i64,
    checks: &[&str],
) -> Gate {
    const GATE: &str = "verified";
    let again = format!("run `glctl verify -e {src}` and have it pass");
    let Some(run) = run else {
        return refuse(GATE, format!("{src} has no saved verify run"), again);
    };
    let file = run.path.display();
    if run.environment != src {
        return refuse(GATE, format!("{file} is a verify run of {}, not {src}", run.environment), again);
    }
    let left_out: Vec<&str> = checks.iter().filter(|c| !run.results.iter().any(|r| r.id == **c)).copied().collect();
    if !left_out.is_empty() {
        return refuse(
            GATE,
            format!("{file} left out {} check(s) ({}…)", left_out.len(), left_out[0]),
            format!("run `glctl verify -e {src}` without --only/--skip and have it pass"),
        );
    }
    let failed: Vec<String> = run
        .results
        .iter()
        .filter(|r| r.status == "FAIL" || r.status == "ERROR")
        .map(|r| format!("{} {}", r.id, r.status))
        .collect();
    if !failed.is_empty() {
        return refuse(
            GATE,
            format!("the latest verify run of {src} ({file}, {}) did not pass: {}", run.at, failed.join(", ")),
            format!("fix them and {again} (a later failed run revokes an earlier pass)"),
        );
    }
    match &run.bundle {
        None => return refuse(GATE, format!("{file} records no bundle digest"), again),
        Some(verified) if verified.digest != bundle.digest => {
            return refuse(
                GATE,
                format!(
                    "{file} verified bundle {}, but {src} is bundle {} now ({})",
                    verified.short(),
                    bundle.short(),
                    verified.differences(bundle).join(", ")
                ),
                format!("verify what is promoted: {again}"),
            )
        }
        Some(_) => {}
    }
    let Some(at) = super::parse_time(&run.at) else {
        return refuse(GATE, format!("{file} has an unreadable time '{}'", run.at), again);
    };
    let age = now_secs.saturating_sub(at);
    if age > max_age.approx_seconds() {
        return refuse(
            GATE,
            format!(
                "the latest verify run of {src} is {} old ({}), older than promotion.max_age {max_age}",
                human(age),
                run.at
            ),
            again,
        );
    }
    let skipped: Vec<&str> = run.results.iter().filter(|r| r.status == "SKIP").map(|r| r.id.as_str()).collect();
    pass(
        GATE,
        format!(
            "{src} passed verify {} ago for bundle {} ({} skipped: {})",
            human(age),
            bundle.short(),
            skipped.len(),
            if skipped.is_empty() { "none".to_string() } else { skipped.join(", ") }
        ),
    )
}

/// SRC was applied at least `min_soak` ago.
pub fn soak(src: &str, min_soak: Option<&Interval>, applied_at: Option<i64>, now_secs: i64) -> Gate {
    const GATE: &str = "soak";
    let Some(min) = min_soak else { return pass(GATE, "no promotion.min_soak is set") };
    let Some(at) = applied_at else {
        return refuse(GATE, format!("no record of {src}'s apply"), format!("apply {src} and let it run {min}"));
    };
    let ran = now_secs.saturating_sub(at);
    if ran < min.approx_seconds() {
        return refuse(
            GATE,
            format!("{src} was applied {} ago, less than promotion.min_soak {min}", human(ran)),
            format!("wait {} more", human(min.approx_seconds() - ran)),
        );
    }
    pass(GATE, format!("{src} has run {} since its apply (min_soak {min})", human(ran)))
}

/// DST has no drift that counts, and every layer was read. `Err` when a layer could not be read: the gate
/// is then not decided (exit 3), never passed. Drift found refuses even when another layer was not read.
/// A layer read with nothing applied (a first promotion) passes, and says so.
pub fn drift(dst: &str, report: &DriftReport) -> Result<Gate, String> {
    const GATE: &str = "drift";
    let drifted: Vec<String> = report.drift().iter().map(|d| format!("{}: {}", d.name, d.detail)).collect();
    if !drifted.is_empty() {
        return Ok(refuse(
            GATE,
            format!("{dst} has drift: {}", drifted.join("; ")),
            format!("undo it (or apply {dst} again), or acknowledge it in drift.acknowledged with a reason and expiry"),
        ));
    }
    let unread: Vec<String> =
        report.unread().iter().map(|l| format!("{}: {}", l.layer, l.not_read().unwrap_or_default())).collect();
    if !unread.is_empty() {
        return Err(unread.join("; "));
    }
    let empty: Vec<String> = report
        .nothing_applied()
        .iter()
        .map(|l| format!("{} ({})", l.layer, l.found_nothing_applied().unwrap_or_default()))
        .collect();
    if empty.is_empty() {
        Ok(pass(GATE, format!("{dst} has no drift")))
    } else {
        Ok(pass(GATE, format!("{dst} has no drift; nothing applied yet in {}", empty.join("; "))))
    }
}

/// What `git` says about the checkout.
#[derive(Clone, Debug, Default)]
pub struct Checkout {
    pub head: Option<String>,
    /// Uncommitted changes under environments/, sql/, templates/ (`git status --porcelain` lines).
    pub dirty: Vec<String>,
    /// Whether the verified commit is HEAD or an ancestor of it.
    pub descends_from_verified: bool,
}

/// The checkout is clean and is the verified commit or a descendant of it (the bundle gate has already
/// shown that the bundle did not change).
pub fn checkout(run: Option<&SavedRun>, seen: &Checkout) -> Gate {
    const GATE: &str = "checkout";
    let Some(head) = &seen.head else {
        return refuse(GATE, "the project is not a git checkout", "promote from the repository the verify ran in");
    };
    if !seen.dirty.is_empty() {
        return refuse(
            GATE,
            format!("uncommitted changes: {}", seen.dirty.join("; ")),
            "commit or revert them, verify the source again, then promote",
        );
    }
    let verified = run.and_then(|r| r.git_commit.as_deref());
    match verified {
        None => refuse(GATE, "the verify run recorded no commit", "verify from a git checkout"),
        Some(c) if c == head => pass(GATE, format!("clean, at the verified commit {}", short(c))),
        Some(c) if seen.descends_from_verified => pass(
            GATE,
            format!(
                "clean, at {} which descends from the verified {} without changing the bundle",
                short(head),
                short(c)
            ),
        ),
        Some(c) => refuse(
            GATE,
            format!("HEAD {} is not the verified commit {} nor a descendant of it", short(head), short(c)),
            "check out the verified commit (or one after it), or verify the source again at this one",
        ),
    }
}

/// A migration a promotion carries to DST: pending there, with the lint rules of its statements that take a
/// blocking lock (read with its `-- glctl:allow` silences ignored: a silence says why a lock is acceptable,
/// not that it was measured).
#[derive(Clone, Debug)]
pub struct Carried {
    pub file: String,
    pub version: i32,
    pub checksum: String,
    pub blocking: Vec<String>,
}

/// Every migration carried to DST was rehearsed on SRC-shaped data (`glctl migrate rehearse -e SRC`) with
/// its longest application stall within DST's `migrations.max_blocking`, or takes no blocking lock at all.
/// The latest rehearsal of a migration (by checksum: an edited file was never rehearsed) decides.
pub fn rehearsed(src: &str, dst: &str, carried: &[Carried], records: &[RehearsalRecord], budget_ms: u64) -> Gate {
    const GATE: &str = "rehearsed";
    if carried.is_empty() {
        return pass(GATE, format!("no migration is carried to {dst}"));
    }
    let (mut measured, mut lock_free, mut problems) = (0, 0, Vec::new());
    for c in carried {
        let seen = records
            .iter()
            .rev()
            .filter(|r| r.environment == src)
            .find_map(|r| r.migrations.iter().find(|m| m.version == c.version && m.checksum == c.checksum));
        match seen {
            Some(m) if m.within_budget && m.longest_stall_ms <= budget_ms as f64 => measured += 1,
            Some(m) if !m.within_budget => problems.push(format!(
                "{} failed its rehearsal on {src} (longest application stall {:.0} ms)",
                c.file, m.longest_stall_ms
            )),
            Some(m) => problems.push(format!(
                "{} stalled the application {:.0} ms in its rehearsal on {src}, over {dst}'s budget of {budget_ms} ms",
                c.file, m.longest_stall_ms
            )),
            None if c.blocking.is_empty() => lock_free += 1,
            None => problems.push(format!(
                "{} takes a blocking lock ({}) and was not rehearsed as it is now",
                c.file,
                c.blocking.join(", ")
            )),
        }
    }
    if !problems.is_empty() {
        return refuse(
            GATE,
            problems.join("; "),
            format!(
                "rehearse them on {src}'s shape with `glctl migrate rehearse -e {src}` and have them pass (or make them \
                 take no blocking lock)"
            ),
        );
    }
    pass(
        GATE,
        format!(
            "{} migration(s) carried to {dst}: {measured} rehearsed on {src} within {budget_ms} ms, {lock_free} take no \
             blocking lock",
            carried.len()
        ),
    )
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// `3d 4h`, `5m 10s`.
pub fn human(seconds: i64) -> String {
    let (d, h, m, s) = (seconds / 86_400, seconds % 86_400 / 3600, seconds % 3600 / 60, seconds % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::drift::{Layer, Reading};
    use crate::promote::history::SavedResult;

    fn bundle(policy: &str) -> Bundle {
        let parts = BTreeMap::from([("policy".to_string(), policy.to_string())]);
        let lines: String = parts.iter().map(|(n, h)| format!("{n} {h}\n")).collect();
        Bundle { digest: format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(lines.as_bytes())), parts }
    }

    fn run(statuses: &[(&str, &str)], bundle: Option<Bundle>, at: &str) -> SavedRun {
        SavedRun {
            environment: "dev".into(),
            at: at.into(),
            git_commit: Some("abc".into()),
            bundle,
            results: statuses.iter().map(|(id, s)| SavedResult { id: id.to_string(), status: s.to_string() }).collect(),
            path: "/p/.glctl/dev/verify/x.json".into(),
        }
    }

    const NOW: i64 = 1_764_583_200; // 2025-12-01T10:00:00Z
    const WEEK: Interval = Interval { months: 0, days: 7, seconds: 0 };

    #[test]
    fn a_pass_for_this_bundle_within_its_age_passes_and_lists_the_skips() {
        let b = bundle("1");
        let ok = verified(
            "dev",
            Some(&run(&[("FA-01", "PASS"), ("ST-01", "SKIP")], Some(b.clone()), "2025-12-01T09:00:00Z")),
            &b,
            &WEEK,
            NOW,
            &["FA-01", "ST-01"],
        );
        assert!(ok.as_ref().unwrap().saw.contains("1 skipped: ST-01"), "{ok:?}");
        let narrowed = run(&[("FA-01", "PASS")], Some(b.clone()), "2025-12-01T09:00:00Z");
        let e = verified("dev", Some(&narrowed), &b, &WEEK, NOW, &["FA-01", "ST-01"]).unwrap_err();
        assert!(e.saw.contains("left out 1 check(s) (ST-01"), "{e}");
    }

    #[test]
    fn a_failed_run_another_bundle_a_stale_run_or_none_are_refused_by_the_verified_gate() {
        let b = bundle("1");
        let at = "2025-12-01T09:00:00Z";
        let failed =
            verified("dev", Some(&run(&[("FA-08", "FAIL")], Some(b.clone()), at)), &b, &WEEK, NOW, &[]).unwrap_err();
        assert!(failed.gate == "verified" && failed.saw.contains("FA-08 FAIL"), "{failed}");
        let other = verified("dev", Some(&run(&[], Some(bundle("2")), at)), &b, &WEEK, NOW, &[]).unwrap_err();
        assert!(other.saw.contains("policy changed"), "{other}");
        let stale =
            verified("dev", Some(&run(&[], Some(b.clone()), "2025-11-20T09:00:00Z")), &b, &WEEK, NOW, &[]).unwrap_err();
        assert!(stale.saw.contains("older than promotion.max_age 7 days"), "{stale}");
        assert!(verified("dev", None, &b, &WEEK, NOW, &[]).unwrap_err().saw.contains("no saved verify run"));
    }

    #[test]
    fn soak_and_checkout_say_what_they_saw() {
        let day = Interval { months: 0, days: 1, seconds: 0 };
        assert!(soak("dev", Some(&day), Some(NOW - 3600), NOW).unwrap_err().needs.contains("wait 23h 0m"));
        assert!(soak("dev", Some(&day), Some(NOW - 90_000), NOW).is_ok());
        assert!(soak("dev", None, None, NOW).is_ok());
        let r = run(&[], None, "t");
        let dirty = Checkout {
            head: Some("abc".into()),
            dirty: vec![" M sql/migrations/0008_x.sql".into()],
            ..Default::default()
        };
        assert!(checkout(Some(&r), &dirty).unwrap_err().saw.contains("0008_x.sql"));
        let elsewhere = Checkout { head: Some("def".into()), ..Default::default() };
        assert!(checkout(Some(&r), &elsewhere).unwrap_err().saw.contains("not the verified commit"));
        let after = Checkout { head: Some("def".into()), descends_from_verified: true, ..Default::default() };
        assert!(checkout(Some(&r), &after).is_ok());
        assert!(checkout(Some(&r), &Checkout::default()).unwrap_err().saw.contains("not a git checkout"));
    }

    fn carried(file: &str, version: i32, checksum: &str, blocking: &[&str]) -> Carried {
        Carried {
            file: file.into(),
            version,
            checksum: checksum.into(),
            blocking: blocking.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn rehearsal(env: &str, at: &str, migrations: &[(i32, &str, f64, bool)]) -> RehearsalRecord {
        use crate::promote::rehearsals::RehearsedMigration;
        RehearsalRecord {
            environment: env.into(),
            at: at.into(),
            budget_ms: 200,
            verdict: "pass".into(),
            rows: 1_000_000,
            partitions: 12,
            migrations: migrations
                .iter()
                .map(|(v, c, ms, ok)| RehearsedMigration {
                    file: format!("{v:04}_x.sql"),
                    version: *v,
                    checksum: c.to_string(),
                    longest_stall_ms: *ms,
                    within_budget: *ok,
                })
                .collect(),
        }
    }

    #[test]
    fn the_rehearsed_gate_wants_a_passing_rehearsal_of_each_blocking_migration_as_it_is_now() {
        let index = carried("0009_i.sql", 9, "c9", &["ML003"]);
        let column = carried("0010_c.sql", 10, "c10", &[]);
        // Nothing carried, or nothing blocking: passes without a rehearsal.
        assert!(rehearsed("dev", "prod", &[], &[], 200).unwrap().saw.contains("no migration is carried"));
        let saw = rehearsed("dev", "prod", std::slice::from_ref(&column), &[], 200).unwrap().saw;
        assert!(saw.contains("0 rehearsed on dev within 200 ms, 1 take no blocking lock"), "{saw}");
        // Blocking and never rehearsed: refused, naming the rule.
        let e = rehearsed("dev", "prod", &[index.clone(), column.clone()], &[], 200).unwrap_err();
        assert!(e.saw.contains("0009_i.sql takes a blocking lock (ML003) and was not rehearsed"), "{e}");
        assert!(e.needs.contains("glctl migrate rehearse -e dev"), "{e}");
        // Rehearsed within budget: passes; a rehearsal of another checksum (the file changed) does not count.
        let good = rehearsal("dev", "2026-12-08T00:00:00Z", &[(9, "c9", 40.0, true)]);
        assert!(rehearsed("dev", "prod", &[index.clone(), column.clone()], std::slice::from_ref(&good), 200).is_ok());
        let edited = rehearsal("dev", "2026-12-08T00:00:00Z", &[(9, "old", 40.0, true)]);
        assert!(rehearsed("dev", "prod", std::slice::from_ref(&index), &[edited], 200).is_err());
        // Another environment's rehearsal is not SRC-shaped data.
        let elsewhere = rehearsal("staging", "2026-12-08T00:00:00Z", &[(9, "c9", 40.0, true)]);
        assert!(rehearsed("dev", "prod", std::slice::from_ref(&index), &[elsewhere], 200).is_err());
        // Within SRC's budget but over DST's stricter one: refused with both numbers.
        let e = rehearsed("dev", "prod", std::slice::from_ref(&index), std::slice::from_ref(&good), 20).unwrap_err();
        assert!(
            e.saw.contains("stalled the application 40 ms in its rehearsal on dev, over prod's budget of 20 ms"),
            "{e}"
        );
        // The latest rehearsal decides: a later failure revokes an earlier pass.
        let failed = rehearsal("dev", "2026-12-08T01:00:00Z", &[(9, "c9", 900.0, false)]);
        let e = rehearsed("dev", "prod", &[index], &[good, failed], 200).unwrap_err();
        assert!(e.saw.contains("0009_i.sql failed its rehearsal on dev (longest application stall 900 ms)"), "{e}");
    }

    /// Regression (issue 25): the drift gate cannot pass on a layer it did not read, whichever layer.
    #[test]
    fn the_drift_gate_is_not_checked_when_any_layer_was_not_read_and_says_when_nothing_was_applied() {
        let layer = |layer, reading| Layer { layer, reading, differences: vec![], notes: vec![] };
        let report = |layers| DriftReport { environment: "prod".into(), layers };
        let names = ["infrastructure", "migrations", "policies", "objects"];
        for unread in names {
            let layers = names
                .iter()
                .map(|n| layer(*n, if *n == unread { Reading::NotRead("why".into()) } else { Reading::Compared }));
            let why = drift("prod", &report(layers.collect())).expect_err("not decided");
            assert_eq!(why, format!("{unread}: why"));
        }
        let clean = report(names.iter().map(|n| layer(*n, Reading::Compared)).collect());
        assert_eq!(drift("prod", &clean).unwrap().unwrap().saw, "prod has no drift");
        let first = report(vec![layer("infrastructure", Reading::NothingApplied("s3://b/k holds no state".into()))]);
        let saw = drift("prod", &first).unwrap().unwrap().saw;
        assert_eq!(saw, "prod has no drift; nothing applied yet in infrastructure (s3://b/k holds no state)");
        let mut drifted = layer("policies", Reading::Compared);
        drifted.differences.push(crate::drift::Difference {
            name: "policies: x".into(),
            detail: "by hand".into(),
            acknowledged: None,
            emulator: None,
        });
        let both = report(vec![layer("infrastructure", Reading::NotRead("why".into())), drifted]);
        let refused = drift("prod", &both).unwrap().unwrap_err();
        assert_eq!(refused.saw, "prod has drift: policies: x: by hand");
    }
}
