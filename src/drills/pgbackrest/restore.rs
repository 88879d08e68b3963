//! The pgBackRest restore drill: `pgbackrest restore` of a backup set (BR-06, BR-07 from the DR repository)
//! or to a point in time (BR-04, BR-05) into a scratch data directory (`drills::scratch`), started on a free
//! loopback port as the server's OS user with its scheduler and archiving off (so the copy neither writes
//! heartbeats nor archives into the source's stanza), the heartbeat read, then stopped and removed — on
//! success, on an error, and when the future is dropped (a timeout, Ctrl-C). It never touches the source.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::config::pgbackrest::Pgbackrest;
use crate::drills::journal::Journal;
use crate::drills::scratch::{self, Scratch};
use crate::drills::wait::{Ended, Wait};
use crate::verify::poll::Poll;
use crate::verify::restore_verdict::{judge_recovery, last_lines, log_lines, DrillError, Heartbeat, Look, Restored};

/// What to restore.
#[derive(Clone, Debug)]
pub enum Kind {
    /// A backup set by label, to its end (`--type=immediate`).
    Set(String),
    /// To a time, `YYYY-MM-DD HH:MM:SS.ffffff+00` (`--type=time`; pgBackRest picks the newest backup before it).
    Time(String),
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

fn size_of(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        match entry.metadata() {
            Ok(m) if m.is_dir() => total += size_of(&path),
            Ok(m) => total += m.len(),
            Err(_) => {}
        }
    }
    total
}

/// The pid in `dir`'s postmaster.pid when that process is a live (not zombie) `postgres`.
fn server_running(dir: &Path) -> bool {
    let Some(pid) = std::fs::read_to_string(dir.join("postmaster.pid"))
        .ok()
        .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<u32>().ok()))
    else {
        return false;
    };
    // /proc/<pid>/stat: `pid (comm) state …`.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let Some((comm, rest)) = stat.split_once('(').and_then(|(_, r)| r.rsplit_once(')')) else { return false };
    comm.starts_with("postgres") && !rest.trim_start().starts_with(['Z', 'X'])
}

/// How long one psql on the scratch copy may take (it connects over the copy's own socket).
const QUERY_LIMIT: Duration = Duration::from_secs(60);

/// Restores `kind` from `repo` into the scratch directory of `check`, starts it, reads the heartbeat in
/// `database` as `restore_role`, and removes it, within `limit` (the drill's). `bin_dir` holds pg_ctl and
/// psql. Every step goes to `journal`, the removal included.
#[allow(clippy::too_many_arguments)]
pub async fn restore(
    config: &Pgbackrest,
    check: &str,
    repo: u32,
    kind: &Kind,
    bin_dir: &str,
    database: &str,
    limit: Duration,
    journal: &Journal,
) -> Result<Restored, DrillError> {
    let began = Instant::now();
    // Each wait below ends a little after the drill's limit: the caller's timeout, which names the setting,
    // comes first when it applies; these bound a restore called without one.
    let left = || limit.saturating_sub(began.elapsed()) + Duration::from_secs(5);
    let other = DrillError::Other;
    let mut scratch = Scratch::create(config, check, bin_dir, journal).map_err(other)?;
    let d = scratch.dir.to_string_lossy().to_string();
    let mut args = Vec::new();
    if let Some(file) = &config.config {
        args.push(format!("--config={file}"));
    }
    args.extend([
        format!("--stanza={}", config.stanza),
        format!("--repo={repo}"),
        "restore".into(),
        format!("--pg1-path={d}"),
    ]);
    let what = match kind {
        Kind::Set(set) => {
            args.extend([format!("--set={set}"), "--type=immediate".into()]);
            format!("{set} from repo{repo}")
        }
        Kind::Time(target) => {
            args.extend(["--type=time".into(), format!("--target={target}")]);
            format!("repo{repo} to {target}")
        }
    };
    args.extend(["--target-action=promote".into(), "--archive-mode=off".into()]);
    let started = Instant::now();
    journal.note(format!("pgbackrest restore of {what} into {d}"));
    scratch::run(scratch::pgbackrest(config, &args), "pgbackrest restore", left()).await.map_err(other)?;
    let restore_seconds = started.elapsed().as_secs_f64();
    let bytes = size_of(&scratch.dir);
    journal.note(format!("restored {bytes} bytes in {restore_seconds:.1} s"));
    let port = free_port().map_err(other)?;
    let options = format!(
        "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={d} -c shared_preload_libraries= \
         -c archive_mode=off"
    );
    let started = Instant::now();
    let log = format!("{d}/drill.log");
    scratch.port = Some(port);
    journal.note(format!("starting a scratch server on port {port}"));
    let wait_seconds = left().as_secs().to_string();
    let mut start = scratch::command(
        config,
        &scratch.pg_ctl,
        &["-D", &d, "-l", &log, "-o", &options, "-w", "-t", &wait_seconds, "start"].map(String::from),
    );
    // The server's restore_command runs `pgbackrest archive-get`, which needs pgBackRest's settings.
    start.pass_prefixed("PGBACKREST_");
    let (role, port_text) = (config.restore_role.as_str(), port.to_string());
    let psql = format!("{bin_dir}/psql");
    let query = |sql: &str| {
        let args = ["-X", "-h", &d, "-p", &port_text, "-U", role, "-d", database, "-Atc", sql].map(String::from);
        let mut command = scratch::command(config, &psql, &args);
        // libpq's connect timeout; no password: the copy's socket lets its role in.
        command.env("PGCONNECT_TIMEOUT", "10");
        scratch::run(command, "psql on the scratch copy", QUERY_LIMIT)
    };
    // `pg_ctl start -w` returns once the server accepts read-only connections, which may be before recovery
    // ends before its target (and the server shuts down) or after: both sides are judged alike, from the
    // server's process and its log.
    if let Err(e) = scratch::run(start, "pg_ctl start", left() + Duration::from_secs(5)).await {
        journal.note(format!("pg_ctl start failed: {}", last_lines(&e, 1)));
        let running = server_running(&scratch.dir);
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        return match judge_recovery(Look { log: &text, running, answer: Err(&e) }, role, database) {
            Poll::Gone(why) => Err(why),
            _ => Err(other(format!("{e}; its log ends: {}", last_lines(&text, 5)))),
        };
    }
    // Promotion ends recovery; until then the server answers `t` (or refuses while it starts up).
    let dir = scratch.dir.clone();
    Wait::new(
        format!("the scratch server on port {port} to finish recovery and promote"),
        left(),
        Duration::from_millis(200),
    )
    .attempt(QUERY_LIMIT)
    .journal(journal)
    .until(|| {
        let (query, dir, log) = (&query, &dir, &log);
        async move {
            let answer = query("SELECT pg_is_in_recovery()").await;
            // The process before the log: once it is gone its log is complete.
            let running = server_running(dir);
            let text = std::fs::read_to_string(log).unwrap_or_default();
            judge_recovery(
                Look { log: &text, running, answer: answer.as_deref().map_err(String::as_str) },
                role,
                database,
            )
        }
    })
    .await
    .map_err(|ended| match ended {
        Ended::Gone(why, _) => why,
        Ended::TimedOut(waited) => other(format!(
            "{waited}; its log ends: {}",
            last_lines(&std::fs::read_to_string(&log).unwrap_or_default(), 5)
        )),
    })?;
    let start_seconds = started.elapsed().as_secs_f64();
    journal.note(format!("recovered and promoted in {start_seconds:.1} s"));
    // A copy from before migration 0008 has no heartbeat at all: zero rows, which every judge fails.
    let table = query("SELECT to_regclass('glctl_heartbeat') IS NOT NULL").await.map_err(other)?;
    let row = if table != "t" {
        journal.note("the copy has no glctl_heartbeat table");
        "0|0|0|0|".to_string()
    } else {
        query(
            "SELECT count(*) || '|' || coalesce(min(seq), 0) || '|' || coalesce(max(seq), 0) || '|' || \
         coalesce(extract(epoch FROM max(written_at))::bigint, 0) || '|' || \
         coalesce(string_agg(source, ',' ORDER BY seq) FILTER (WHERE source LIKE 'glctl-drill:%'), '') \
         FROM glctl_heartbeat",
        )
        .await
        .map_err(other)?
    };
    let parts: Vec<&str> = row.splitn(5, '|').collect();
    let number = |i: usize| parts.get(i).and_then(|p| p.parse::<i64>().ok()).unwrap_or(-1);
    let markers = parts.get(4).map(|m| m.split(',').filter(|s| !s.is_empty()).map(String::from).collect());
    let heartbeat = Heartbeat {
        rows: number(0),
        min: number(1),
        max: number(2),
        newest: number(3),
        markers: markers.unwrap_or_default(),
    };
    let stopped_at = log_lines(&std::fs::read_to_string(&log).unwrap_or_default(), &["recovery stopping"]);
    drop(scratch);
    Ok(Restored { what, scratch: dir, restore_seconds, start_seconds, bytes, heartbeat, stopped_at })
}
