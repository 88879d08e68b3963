//! What pgBackRest says about the stanza: `info`, `check` (which switches and archives a WAL segment, so it
//! acts on the server) and the archive's WAL (`repo-ls`), run as `os_user` when glctl runs as root so that its
//! lock and log files stay writable by the server's archive-push. `verify::backup` decides BR-01…BR-03 from it.

use serde_json::Value;

use crate::config::pgbackrest::Pgbackrest;
use crate::process::Program;
use crate::verify::backup::{shown, wal_segments, Archiver, PgbackrestFacts};
use crate::verify::backup_retention::{self, Retention};

/// Asks pgBackRest about `config`'s stanza (`info` and `repo-ls` read; `check` archives a segment). `archiver` is the source's
/// `pg_stat_archiver`: while it is failing, `pgbackrest check` is not run (it would only wait for its
/// archive timeout).
pub(crate) fn gather(config: &Pgbackrest, archiver: Result<Archiver, String>) -> PgbackrestFacts {
    let repo = format!("--repo={}", config.repo);
    let info = run(config, &["info", "--output=json"]).and_then(|out| {
        let all: Value = serde_json::from_slice(&out).map_err(|e| format!("pgbackrest info: not JSON: {e}"))?;
        all.as_array()
            .and_then(|stanzas| stanzas.iter().find(|s| s["name"] == config.stanza.as_str()))
            .cloned()
            .ok_or_else(|| format!("pgbackrest info lists no stanza '{}'", config.stanza))
    });
    let check = match &archiver {
        Ok(a) if a.failing() => Err("not run: the server's archiver is failing".to_string()),
        _ => run(config, &["check"]).map(|_| ()),
    };
    let archive = format!("archive/{}", config.stanza);
    let wal = run(config, &[&repo, "repo-ls", "--recurse", "--output=json", &archive]).and_then(|out| {
        let listing: Value = serde_json::from_slice(&out).map_err(|e| format!("pgbackrest repo-ls: not JSON: {e}"))?;
        Ok(wal_segments(&listing))
    });
    PgbackrestFacts { info, check, wal, archiver }
}

/// The retention pgBackRest applies to the environment's repository, from its configuration file (`config`,
/// else PGBACKREST_CONFIG, else pgBackRest's default path): `info` does not report it. GL-04 decides from it.
pub(crate) fn retention(config: &Pgbackrest) -> Result<Retention, String> {
    let file = config
        .config
        .clone()
        .or_else(|| std::env::var("PGBACKREST_CONFIG").ok().filter(|f| !f.is_empty()))
        .unwrap_or_else(|| "/etc/pgbackrest/pgbackrest.conf".into());
    let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {file}: {e}"))?;
    Ok(backup_retention::from_ini(&text, &config.stanza, config.repo, &file))
}

fn run(config: &Pgbackrest, args: &[&str]) -> Result<Vec<u8>, String> {
    let mut command = Program::new("pgbackrest");
    // The server's user may not enter glctl's working directory (a checkout under /root).
    command.as_user(&config.os_user).current_dir("/");
    if let Some(file) = &config.config {
        command.arg(format!("--config={file}"));
    }
    command.arg(format!("--stanza={}", config.stanza));
    command.args(args);
    // pgBackRest's own settings (PGBACKREST_CONFIG, a repository's cipher pass…); no database password: it
    // reaches the server as its OS user.
    command.pass_prefixed("PGBACKREST_");
    let out = command.output().map_err(|e| format!("{}: cannot run pgbackrest: {e}", shown(config, args)))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        let text = String::from_utf8_lossy(if out.stderr.is_empty() { &out.stdout } else { &out.stderr });
        Err(format!("{} exited with {}: {}", shown(config, args), out.status, text.trim()))
    }
}
