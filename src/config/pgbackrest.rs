//! `backup.pgbackrest`: where an `external` server's backups are (pgBackRest, PRD §7.2), for `glctl verify
//! --drills` to read and restore them (BR-01…BR-08). RDS and Aurora back up themselves; pgBackRest is only
//! for a server glctl does not provision. Types and their semantic rules.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::diagnostics::{FieldPath, Finding};
use super::model::EngineKind;

/// pgBackRest's stanza and repositories of an `external` server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pgbackrest {
    /// The stanza (pgBackRest's name for the cluster), e.g. `glctl`.
    pub stanza: String,
    /// pgBackRest's configuration file (absolute). Unset: `PGBACKREST_CONFIG`, else pgBackRest's own default
    /// (`/etc/pgbackrest/pgbackrest.conf`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// The repository the backups are taken to and restored from (pgBackRest's `repoN`, 1–256).
    #[serde(default = "default_repo")]
    pub repo: u32,
    /// The repository standing for the DR copy (BR-07 restores from it), another than `repo`.
    #[serde(default = "default_dr_repo")]
    pub dr_repo: u32,
    /// The OS user pgBackRest and a scratch restore run as when glctl runs as root (the server's user:
    /// pgBackRest's lock and log files must stay writable by its `archive-push`).
    #[serde(default = "default_os_user")]
    pub os_user: String,
    /// The database role a restore drill connects as, over the restored copy's own socket as `os_user`
    /// (the copy keeps the source's pg_hba.conf: that role must be allowed there by peer or ident).
    #[serde(default = "default_os_user")]
    pub restore_role: String,
    /// Directory of the server's binaries (`pg_ctl`), for starting a restored copy. Unset:
    /// `/usr/lib/postgresql/<engine.version's major>/bin` (Debian's layout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bin_dir: Option<String>,
    /// Most seconds one restore drill may take, restore, start and recovery together; past it the drill is
    /// stopped, its scratch copy removed, and the check is ERROR.
    #[serde(default = "default_restore_timeout")]
    pub restore_timeout_seconds: u32,
}

fn default_restore_timeout() -> u32 {
    4 * 3600
}

fn default_repo() -> u32 {
    1
}

fn default_dr_repo() -> u32 {
    2
}

fn default_os_user() -> String {
    "postgres".into()
}

/// pgBackRest numbers repositories repo1 … repo256.
const MAX_REPO: u32 = 256;

/// Semantic rules of `backup.pgbackrest` (`engine` is the environment's engine kind).
pub fn check(pgbackrest: &Pgbackrest, engine: EngineKind) -> Vec<Finding> {
    let at = |field: &str| FieldPath::parse(&format!("backup.pgbackrest.{field}"));
    let mut out = Vec::new();
    if engine != EngineKind::External {
        out.push(Finding::error(
            FieldPath::parse("backup.pgbackrest"),
            "pgBackRest is for an `external` server; RDS and Aurora keep their own backups (backup.retention_days), \
             which glctl verify restores through the RDS API",
        ));
    }
    let valid_name = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid_name(&pgbackrest.stanza) {
        out.push(Finding::error(
            at("stanza"),
            format!("'{}' is not a stanza name; expected letters, digits, '_' or '-'", pgbackrest.stanza),
        ));
    }
    if let Some(config) = &pgbackrest.config {
        if !config.starts_with('/') {
            out.push(Finding::error(
                at("config"),
                format!(
                    "'{config}' is relative; expected an absolute path (glctl runs pgBackRest from another directory)"
                ),
            ));
        }
    }
    if let Some(bin) = &pgbackrest.bin_dir {
        if !bin.starts_with('/') {
            out.push(Finding::error(at("bin_dir"), format!("'{bin}' is relative; expected an absolute path")));
        }
    }
    for (field, repo) in [("repo", pgbackrest.repo), ("dr_repo", pgbackrest.dr_repo)] {
        if !(1..=MAX_REPO).contains(&repo) {
            out.push(Finding::error(
                at(field),
                format!("{repo} is out of range; pgBackRest numbers repositories 1 to {MAX_REPO}"),
            ));
        }
    }
    if pgbackrest.repo == pgbackrest.dr_repo {
        out.push(Finding::error(
            at("dr_repo"),
            format!(
                "the DR repository is the same as `repo` ({}); a restore from it proves nothing about the DR copy, \
                 expected another repository",
                pgbackrest.repo
            ),
        ));
    }
    if pgbackrest.restore_timeout_seconds == 0 {
        out.push(Finding::error(at("restore_timeout_seconds"), "0 allows no time at all; expected at least 1"));
    }
    if !valid_name(&pgbackrest.os_user) {
        out.push(Finding::error(at("os_user"), format!("'{}' is not a user name", pgbackrest.os_user)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Pgbackrest {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    #[test]
    fn defaults_are_repo1_dr_repo2_as_postgres() {
        let p = parse("stanza: glctl");
        assert_eq!((p.repo, p.dr_repo, p.os_user.as_str(), &p.config, &p.bin_dir), (1, 2, "postgres", &None, &None));
        assert!(check(&p, EngineKind::External).is_empty());
    }

    #[test]
    fn every_mistake_is_reported_at_its_field() {
        let p = parse("stanza: 'my stanza'\nconfig: pgbackrest.conf\nrepo: 300\ndr_repo: 300\nbin_dir: bin");
        let found: Vec<String> =
            check(&p, EngineKind::RdsPostgresql).iter().map(|f| format!("{}: {}", f.path, f.message)).collect();
        for field in ["backup.pgbackrest", "stanza", "config", "bin_dir", "repo", "dr_repo"] {
            assert!(found.iter().any(|f| f.contains(field)), "{field} in {found:#?}");
        }
        assert_eq!(found.len(), 7, "{found:#?}");
    }
}
