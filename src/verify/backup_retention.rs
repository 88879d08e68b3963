//! GL-04 for an `external` server backed up by pgBackRest (`backup.pgbackrest`): the retention pgBackRest
//! applies to the environment's repository, from its configuration file (`crate::drills::pgbackrest::listing`
//! reads it; pgBackRest reports no retention in `info`), against `backup.retention_days`. Only a retention
//! by time (`repoN-retention-full-type=time`, `repoN-retention-full` in days) can equal a number of days; a
//! count of full backups says nothing about days without the backup schedule, so it fails, saying so.

use super::{Evidence, Outcome};

/// What pgBackRest's configuration sets for one repository's full-backup retention.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retention {
    pub repo: u32,
    /// `repoN-retention-full`, as written (absent: pgBackRest keeps every full backup, and warns).
    pub full: Option<String>,
    /// `repoN-retention-full-type`: `count` (pgBackRest's default) or `time`.
    pub full_type: String,
    /// The file (and section) it was read from.
    pub source: String,
}

/// The retention of repository `repo` for `stanza` in the text of a pgBackRest configuration file: the
/// stanza's section overrides `[global]`, as pgBackRest reads it.
pub fn from_ini(text: &str, stanza: &str, repo: u32, file: &str) -> Retention {
    let (full_key, type_key) = (format!("repo{repo}-retention-full"), format!("repo{repo}-retention-full-type"));
    let mut section = String::new();
    let (mut full, mut full_type) = ((None, None), (None, None));
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        let (key, value) = (key.trim(), value.trim().to_string());
        let slot = match section.as_str() {
            "global" => 0,
            s if s == stanza => 1,
            _ => continue,
        };
        let set = |pair: &mut (Option<String>, Option<String>)| {
            if slot == 0 {
                pair.0 = Some(value.clone());
            } else {
                pair.1 = Some(value.clone());
            }
        };
        if key == full_key {
            set(&mut full);
        } else if key == type_key {
            set(&mut full_type);
        }
    }
    Retention {
        repo,
        full: full.1.or(full.0),
        full_type: full_type.1.or(full_type.0).unwrap_or_else(|| "count".into()),
        source: format!("{file} ([global] and [{stanza}])"),
    }
}

/// GL-04: pgBackRest keeps full backups of the environment's repository for `declared_days`.
pub fn gl04(declared_days: u32, retention: &Result<Retention, String>) -> Outcome {
    let r = match retention {
        Ok(r) => r,
        Err(why) => return Outcome::Error(format!("pgBackRest's retention could not be read: {why}")),
    };
    let observed = format!(
        "repo{}-retention-full-type={}, repo{}-retention-full={}",
        r.repo,
        r.full_type,
        r.repo,
        r.full.as_deref().unwrap_or("(not set)")
    );
    let ev = vec![Evidence {
        observed,
        expected: format!("repo{}-retention-full-type=time, repo{}-retention-full={declared_days}", r.repo, r.repo),
        source: r.source.clone(),
        at: String::new(),
    }];
    let days = r.full.as_deref().and_then(|d| d.parse::<u32>().ok());
    match (r.full_type.as_str(), days) {
        ("time", Some(d)) if d == declared_days => Outcome::Pass(ev),
        ("time", Some(d)) => Outcome::Fail(
            format!("pgBackRest keeps full backups {d} days, backup.retention_days is {declared_days}"),
            ev,
        ),
        (_, None) => {
            Outcome::Fail(format!("repo{}-retention-full is not set: pgBackRest keeps every full backup", r.repo), ev)
        }
        (kind, Some(n)) => Outcome::Fail(
            format!(
                "pgBackRest keeps {n} full backup(s) (retention by {kind}), which is no number of days: set \
                 repo{}-retention-full-type=time",
                r.repo
            ),
            ev,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = "[global]\nrepo1-path=/r1\nrepo1-retention-full-type=time\nrepo1-retention-full=7\n\
                        repo2-retention-full=2\n\n[glctl]\npg1-path=/d\nrepo2-retention-full=3\n";

    #[test]
    fn the_stanza_overrides_global_and_the_type_defaults_to_count() {
        let r1 = from_ini(CONF, "glctl", 1, "f");
        assert_eq!((r1.full.as_deref(), r1.full_type.as_str()), (Some("7"), "time"));
        let r2 = from_ini(CONF, "glctl", 2, "f");
        assert_eq!((r2.full.as_deref(), r2.full_type.as_str()), (Some("3"), "count"));
        let other = from_ini(CONF, "other", 2, "f");
        assert_eq!(other.full.as_deref(), Some("2"));
    }

    #[test]
    fn only_a_retention_by_time_of_the_declared_days_passes() {
        assert!(matches!(gl04(7, &Ok(from_ini(CONF, "glctl", 1, "f"))), Outcome::Pass(_)));
        assert!(
            matches!(gl04(35, &Ok(from_ini(CONF, "glctl", 1, "f"))), Outcome::Fail(why, _) if why.contains("7 days"))
        );
        assert!(
            matches!(gl04(7, &Ok(from_ini(CONF, "glctl", 2, "f"))), Outcome::Fail(why, _) if why.contains("by count"))
        );
        assert!(
            matches!(gl04(7, &Ok(from_ini("", "glctl", 1, "f"))), Outcome::Fail(why, _) if why.contains("not set"))
        );
        assert!(matches!(gl04(7, &Err("no file".into())), Outcome::Error(_)));
    }
}
