//! BR-01…BR-03 for an `external` server backed up by pgBackRest (`backup.pgbackrest`), decided from
//! `pgbackrest info --output=json`, `pgbackrest check` and the WAL files in the repository's archive
//! (`pgbackrest repo-ls`), which `crate::drills::pgbackrest::listing` gathers (`pgbackrest check` archives a
//! segment: it acts); the decisions here are pure functions of what it said.
//! A failing archiver (`pg_stat_archiver`: a failure newer than the last success) FAILs BR-03 too. The restore
//! drills (BR-04…BR-08) are `crate::drills::pgbackrest`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::point_in_time::utc;
use super::{CheckResult, Evidence, Outcome};
use crate::config::pgbackrest::Pgbackrest;
use crate::database::connect;

/// What pgBackRest said about the stanza.
#[derive(Debug)]
pub struct PgbackrestFacts {
    /// `pgbackrest info --output=json`, the stanza's entry.
    pub info: Result<Value, String>,
    /// `pgbackrest check`: Ok, or its error output.
    pub check: Result<(), String>,
    /// WAL segment names (24 hex digits) in the repository's archive, by archive id (`15-1`).
    pub wal: Result<BTreeMap<String, Vec<String>>, String>,
    /// The source's `pg_stat_archiver`.
    pub archiver: Result<Archiver, String>,
}

/// The command line, for evidence and errors.
pub(crate) fn shown(config: &Pgbackrest, args: &[&str]) -> String {
    format!("pgbackrest --stanza={} {}", config.stanza, args.join(" "))
}

/// The newest archived WAL segment and when (Unix seconds), and whether archiving is failing now.
#[derive(Clone, Debug, Default)]
pub struct Archiver {
    pub archived_count: i64,
    pub failed_count: i64,
    pub last_archived_wal: Option<String>,
    pub last_archived_time: Option<f64>,
    pub last_failed_wal: Option<String>,
    pub last_failed_time: Option<f64>,
}

impl Archiver {
    /// The last attempt failed: a failure after the last success.
    pub fn failing(&self) -> bool {
        match (self.last_failed_time, self.last_archived_time) {
            (Some(failed), Some(archived)) => failed > archived,
            (Some(_), None) => true,
            _ => false,
        }
    }
}

fn sql(what: &'static str) -> impl Fn(tokio_postgres::Error) -> String {
    move |e| format!("{what}: {}", connect::reason(&e))
}

pub async fn archiver(client: &tokio_postgres::Client) -> Result<Archiver, String> {
    let row = client
        .query_one(
            "SELECT archived_count, failed_count, last_archived_wal, extract(epoch FROM last_archived_time)::float8, \
             last_failed_wal, extract(epoch FROM last_failed_time)::float8 FROM pg_stat_archiver",
            &[],
        )
        .await
        .map_err(sql("reading pg_stat_archiver"))?;
    Ok(Archiver {
        archived_count: row.get(0),
        failed_count: row.get(1),
        last_archived_wal: row.get(2),
        last_archived_time: row.get(3),
        last_failed_wal: row.get(4),
        last_failed_time: row.get(5),
    })
}

/// WAL segment names in a `repo-ls --recurse --output=json` listing of the archive, by archive id.
pub fn wal_segments(listing: &Value) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, entry) in listing.as_object().into_iter().flatten() {
        if entry["type"] != "file" {
            continue;
        }
        let mut parts = path.split('/');
        let (Some(id), Some(_dir), Some(file), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let name = file.get(..24).unwrap_or_default();
        // Backup-history files (`…00000003.00000028.backup`) share the segment's name: only segments count.
        if name.len() == 24 && name.chars().all(|c| c.is_ascii_hexdigit()) && file.as_bytes().get(24) == Some(&b'-') {
            out.entry(id.to_string()).or_default().push(name.to_string());
        }
    }
    for names in out.values_mut() {
        names.sort();
        names.dedup();
    }
    out
}

/// Segments per 4 GB "log" file at PostgreSQL's default 16 MB segment size.
const SEGMENTS_PER_LOG: u64 = 0x1_0000_0000 / (16 * 1024 * 1024);

/// The segments missing between consecutive archived ones of the same timeline (16 MB segments).
pub fn missing_segments(names: &[String]) -> Vec<String> {
    let parse = |n: &str| -> Option<(u32, u64)> {
        let tli = u32::from_str_radix(&n[..8], 16).ok()?;
        let log = u64::from_str_radix(&n[8..16], 16).ok()?;
        let seg = u64::from_str_radix(&n[16..24], 16).ok()?;
        Some((tli, log.checked_mul(SEGMENTS_PER_LOG)?.checked_add(seg)?))
    };
    let mut missing = Vec::new();
    let parsed: Vec<(u32, u64)> = names.iter().filter_map(|n| parse(n)).collect();
    for pair in parsed.windows(2) {
        let ((tli_a, a), (tli_b, b)) = (pair[0], pair[1]);
        if tli_a != tli_b {
            continue;
        }
        for number in a + 1..b {
            missing.push(format!("{tli_a:08X}{:08X}{:08X}", number / SEGMENTS_PER_LOG, number % SEGMENTS_PER_LOG));
            if missing.len() > 20 {
                return missing;
            }
        }
    }
    missing
}

fn evidence(observed: impl Into<String>, expected: impl Into<String>, source: impl Into<String>) -> Evidence {
    Evidence { observed: observed.into(), expected: expected.into(), source: source.into(), at: String::new() }
}

/// The stanza's backups in `repo`: (label, type, reference labels).
fn backups(info: &Value, repo: u32) -> Vec<(String, String, Vec<String>)> {
    info["backup"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["database"]["repo-key"].as_u64() == Some(u64::from(repo)) && b["error"] != true)
        .map(|b| {
            let references =
                b["reference"].as_array().into_iter().flatten().filter_map(|r| r.as_str().map(String::from)).collect();
            (
                b["label"].as_str().unwrap_or_default().to_string(),
                b["type"].as_str().unwrap_or_default().to_string(),
                references,
            )
        })
        .collect()
}

/// BR-01: a full backup in the repository.
pub fn br01(config: &Pgbackrest, f: &PgbackrestFacts) -> Outcome {
    let info = match &f.info {
        Ok(info) => info,
        Err(why) => return Outcome::Error(why.clone()),
    };
    let source = shown(config, &["info", "--output=json"]);
    let fulls: Vec<String> = backups(info, config.repo).into_iter().filter(|b| b.1 == "full").map(|b| b.0).collect();
    let expected = format!("a full backup in repo{}", config.repo);
    match fulls.last() {
        Some(last) => Outcome::Pass(vec![evidence(
            format!("{} full backup(s) in repo{}, latest {last}", fulls.len(), config.repo),
            expected,
            source,
        )]),
        None => Outcome::Fail(
            format!("repo{} of stanza {} holds no full backup", config.repo, config.stanza),
            vec![evidence(format!("status: {}", info["status"]["message"]), expected, source)],
        ),
    }
}

/// BR-02: an incremental backup whose references include a full backup of the same repository.
pub fn br02(config: &Pgbackrest, f: &PgbackrestFacts) -> Outcome {
    let info = match &f.info {
        Ok(info) => info,
        Err(why) => return Outcome::Error(why.clone()),
    };
    let source = shown(config, &["info", "--output=json"]);
    let all = backups(info, config.repo);
    let fulls: Vec<&str> = all.iter().filter(|b| b.1 == "full").map(|b| b.0.as_str()).collect();
    let expected = format!("an incremental backup in repo{} referring to a full one", config.repo);
    let chained = all.iter().filter(|b| b.1 == "incr").find(|b| b.2.iter().any(|r| fulls.contains(&r.as_str())));
    match chained {
        Some((label, _, references)) => Outcome::Pass(vec![evidence(
            format!("{label} (incr) refers to {}", references.join(", ")),
            expected,
            source,
        )]),
        None => Outcome::Fail(
            format!("repo{} holds no incremental backup referring to a full one", config.repo),
            vec![evidence(
                format!("backups: {}", all.iter().map(|b| format!("{} ({})", b.0, b.1)).collect::<Vec<_>>().join(", ")),
                expected,
                source,
            )],
        ),
    }
}

/// BR-03: `pgbackrest check` passes and the archive has no gap between its first and last segment.
pub fn br03(config: &Pgbackrest, f: &PgbackrestFacts) -> Outcome {
    let wal = match &f.wal {
        Ok(wal) => wal,
        Err(why) => return Outcome::Error(why.clone()),
    };
    let listing = shown(config, &[&format!("--repo={}", config.repo), "repo-ls", "--recurse", "archive/…"]);
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for (id, names) in wal {
        found.push(format!(
            "{id}: {} segment(s), {} to {}",
            names.len(),
            names.first().map_or("-", |s| s.as_str()),
            names.last().map_or("-", |s| s.as_str())
        ));
        missing.extend(missing_segments(names).into_iter().map(|m| format!("{m} ({id})")));
    }
    let continuous = "every WAL segment from the first archived to the last (16 MB segments)";
    let archiver = match &f.archiver {
        Ok(a) => a,
        Err(why) => return Outcome::Error(why.clone()),
    };
    let archiving = evidence(
        format!(
            "archived {} (last {} at {}), failed {} (last {} at {})",
            archiver.archived_count,
            archiver.last_archived_wal.as_deref().unwrap_or("-"),
            archiver.last_archived_time.map_or("-".into(), utc),
            archiver.failed_count,
            archiver.last_failed_wal.as_deref().unwrap_or("-"),
            archiver.last_failed_time.map_or("-".into(), utc),
        ),
        "no failure after the last archived segment",
        "SELECT … FROM pg_stat_archiver",
    );
    if archiver.failing() {
        return Outcome::Fail(
            format!(
                "the server's archiver is failing: {} failure(s), the last ({}) after the last success; WAL is not                  reaching repo{}",
                archiver.failed_count,
                archiver.last_failed_wal.as_deref().unwrap_or("-"),
                config.repo
            ),
            vec![archiving, evidence(found.join("; "), continuous, listing)],
        );
    }
    if !missing.is_empty() {
        return Outcome::Fail(
            format!("WAL missing from repo{}'s archive: {}", config.repo, missing.join(", ")),
            vec![evidence(found.join("; "), continuous, listing)],
        );
    }
    if wal.is_empty() {
        return Outcome::Fail(
            format!("repo{}'s archive holds no WAL", config.repo),
            vec![evidence("no segment", continuous, listing)],
        );
    }
    match &f.check {
        Ok(()) => Outcome::Pass(vec![
            evidence(
                "passed: the server's current segment reached the archive",
                "check passes",
                shown(config, &["check"]),
            ),
            evidence(found.join("; "), continuous, listing),
            archiving,
        ]),
        Err(why) => Outcome::Fail(
            format!("pgbackrest check failed: {why}"),
            vec![evidence(found.join("; "), continuous, listing)],
        ),
    }
}

/// Replaces BR-01…BR-03 in `results` (unless waived: `verify::set_result`) with the pgBackRest decisions.
pub fn apply(results: &mut [CheckResult], config: &Pgbackrest, facts: &PgbackrestFacts, at: &str) {
    super::set_result(results, "BR-01", br01(config, facts), at);
    super::set_result(results, "BR-02", br02(config, facts), at);
    super::set_result(results, "BR-03", br03(config, facts), at);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Pgbackrest {
        serde_yaml_ng::from_str("stanza: glctl").unwrap()
    }

    #[test]
    fn a_gap_is_named_across_a_log_boundary_and_timelines_are_not_gaps() {
        let names: Vec<String> = ["0000000100000000000000FE", "000000010000000100000001", "000000020000000100000005"]
            .map(String::from)
            .into();
        assert_eq!(missing_segments(&names), ["0000000100000000000000FF", "000000010000000100000000"]);
    }

    #[test]
    fn repo_ls_listing_gives_segments_not_backup_history_files() {
        let listing = serde_json::json!({
            ".": {"type": "path"},
            "15-1/0000000100000000/000000010000000000000001-48fa.lz4": {"type": "file"},
            "15-1/0000000100000000/000000010000000000000002.00000028.backup": {"type": "file"},
            "15-1/0000000100000000/000000010000000000000003-63af.lz4": {"type": "file"},
        });
        let wal = wal_segments(&listing);
        assert_eq!(wal["15-1"], ["000000010000000000000001", "000000010000000000000003"]);
        let facts =
            PgbackrestFacts { info: Err("n/a".into()), check: Ok(()), wal: Ok(wal), archiver: Ok(Archiver::default()) };
        let Outcome::Fail(why, _) = br03(&config(), &facts) else { panic!("a gap must fail") };
        assert!(why.contains("000000010000000000000002 (15-1)"), "{why}");
    }

    #[test]
    fn a_failing_archiver_fails_br03_even_with_a_whole_archive() {
        let wal = BTreeMap::from([("15-1".to_string(), vec!["000000010000000000000001".to_string()])]);
        let failing = Archiver {
            failed_count: 3,
            last_archived_time: Some(10.0),
            last_failed_time: Some(20.0),
            last_failed_wal: Some("000000010000000000000002".into()),
            ..Archiver::default()
        };
        let facts =
            PgbackrestFacts { info: Err("n/a".into()), check: Ok(()), wal: Ok(wal.clone()), archiver: Ok(failing) };
        let Outcome::Fail(why, _) = br03(&config(), &facts) else { panic!("a failing archiver must fail BR-03") };
        assert!(why.contains("archiver is failing") && why.contains("000000010000000000000002"), "{why}");
        let healthy = PgbackrestFacts { archiver: Ok(Archiver::default()), ..facts };
        assert!(matches!(br03(&config(), &healthy), Outcome::Pass(_)));
        let unread = PgbackrestFacts { archiver: Err("down".into()), ..healthy };
        assert!(matches!(br03(&config(), &unread), Outcome::Error(_)), "never PASS without the archiver");
    }

    #[test]
    fn an_incremental_must_refer_to_a_full_of_the_same_repository() {
        let info = serde_json::json!({"backup": [
            {"label": "F1", "type": "full", "database": {"repo-key": 1}, "error": false, "reference": null},
            {"label": "F1_I1", "type": "incr", "database": {"repo-key": 1}, "error": false, "reference": ["F1"]},
            {"label": "F2", "type": "full", "database": {"repo-key": 2}, "error": false, "reference": null},
        ]});
        let facts = PgbackrestFacts {
            info: Ok(info),
            check: Ok(()),
            wal: Ok(BTreeMap::new()),
            archiver: Ok(Archiver::default()),
        };
        assert!(matches!(br01(&config(), &facts), Outcome::Pass(_)));
        assert!(matches!(br02(&config(), &facts), Outcome::Pass(_)));
        let dr = Pgbackrest { repo: 2, ..config() };
        assert!(matches!(br01(&dr, &facts), Outcome::Pass(_)));
        assert!(matches!(br02(&dr, &facts), Outcome::Fail(..)), "repo2 has no incremental");
        let broken = PgbackrestFacts {
            info: Err("pgbackrest: not found".into()),
            check: Ok(()),
            wal: Ok(BTreeMap::new()),
            archiver: Ok(Archiver::default()),
        };
        assert!(matches!(br01(&config(), &broken), Outcome::Error(_)), "never PASS on what could not be read");
    }

    #[test]
    fn archiving_fails_when_the_last_failure_is_newer_than_the_last_success() {
        let a = Archiver { last_archived_time: Some(10.0), last_failed_time: Some(11.0), ..Default::default() };
        assert!(a.failing());
        assert!(!Archiver { last_failed_time: Some(9.0), ..a.clone() }.failing());
        assert!(!Archiver::default().failing());
    }
}
