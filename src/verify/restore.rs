//! The pgBackRest restore drill: `pgbackrest restore` of a backup set (BR-06, BR-07 from the DR repository)
//! or to a point in time (BR-04, BR-05) into a scratch data directory (`scratch`), started on a free
//! loopback port as the server's OS user with its scheduler and archiving off (so the copy neither writes
//! heartbeats nor archives into the source's stanza), the heartbeat read, then stopped and removed — on
//! success, on an error, and when the future is dropped (a timeout, Ctrl-C). It never touches the source.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::scratch::{self, Journal, Scratch};
use super::wait::{Ended, Poll, Wait};
use crate::config::pgbackrest::Pgbackrest;

/// What to restore.
#[derive(Clone, Debug)]
pub enum Kind {
    /// A backup set by label, to its end (`--type=immediate`).
    Set(String),
    /// To a time, `YYYY-MM-DD HH:MM:SS.ffffff+00` (`--type=time`; pgBackRest picks the newest backup before it).
    Time(String),
}

/// The heartbeat a restored copy holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Heartbeat {
    pub rows: i64,
    pub min: i64,
    pub max: i64,
    /// The newest `written_at`, Unix seconds.
    pub newest: i64,
    /// The `source` of every drill marker row it holds (`glctl-drill:…`).
    pub markers: Vec<String>,
}

/// What a restore drill measured and found.
#[derive(Debug)]
pub struct Restored {
    pub what: String,
    pub scratch: PathBuf,
    pub restore_seconds: f64,
    pub start_seconds: f64,
    pub bytes: u64,
    pub heartbeat: Heartbeat,
    /// PostgreSQL's own words on where recovery stopped (`recovery stopping before commit …`).
    pub stopped_at: Option<String>,
}

impl Restored {
    /// A copy AWS restored (RDS, Aurora, AWS Backup): what was read back from it is all glctl knows; the
    /// restore's timings and bytes are the caller's (none are measured on a local disk).
    pub fn read_back_from_aws(what: String, instance: &str, heartbeat: Heartbeat) -> Restored {
        Restored {
            what,
            scratch: instance.into(),
            restore_seconds: 0.0,
            start_seconds: 0.0,
            bytes: 0,
            heartbeat,
            stopped_at: None,
        }
    }
}

/// Why a drill did not complete.
#[derive(Debug)]
pub enum DrillError {
    /// Recovery ran out of WAL before the target (PostgreSQL: `recovery ended before configured recovery target
    /// was reached`): the archive does not reach it, or has a gap.
    RecoveryEnded(String),
    Other(String),
}

impl std::fmt::Display for DrillError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DrillError::RecoveryEnded(s) | DrillError::Other(s) => f.write_str(s),
        }
    }
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

/// PostgreSQL's log lines that say where recovery stopped, or why it could not go on.
fn log_lines(log: &str, needles: &[&str]) -> Option<String> {
    let lines: Vec<&str> = log.lines().filter(|l| needles.iter().any(|n| l.contains(n))).collect();
    (!lines.is_empty()).then(|| {
        lines
            .iter()
            .map(|l| l.split_once("LOG:").or_else(|| l.split_once("FATAL:")).map_or(*l, |p| p.1).trim())
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// What PostgreSQL logs when recovery ran out of WAL before its target; the server then shuts down.
const RECOVERY_ENDED: &str = "recovery ended before configured recovery target was reached";

/// What PostgreSQL logs once recovery is over and the server is promoted (in recovery it says "ready to accept
/// read-only connections").
const PROMOTED: &str = "database system is ready to accept connections";

/// What PostgreSQL logs when the WAL holding the backup's own checkpoint is not in the archive: recovery cannot
/// even begin. Which segment a lost one is decides which of the two a restore meets (seen in a suite run: the
/// segment removed was the backup's), and both mean the archive cannot bring the backup to the target.
const NO_CHECKPOINT: &str = "could not locate required checkpoint record";

/// The log lines that say how far recovery got and why it stopped short.
const RECOVERY_LINES: [&str; 5] =
    ["restored log file", "redo done at", "last completed transaction", NO_CHECKPOINT, RECOVERY_ENDED];

/// Lines of a server's log that say it is failing (`FATAL`, `PANIC`) or has stopped.
fn failing_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            l.contains("FATAL:")
                || l.contains("PANIC:")
                || l.contains("startup process (PID")
                || l.contains("shutting down due to startup process failure")
                || l.contains("database system is shut down")
        })
        .collect()
}

/// The last `n` of `lines`, deduplicated in a row (a refused login logs the same FATAL every look).
fn last_distinct(lines: &[&str], n: usize) -> String {
    let mut out: Vec<&str> = Vec::new();
    for l in lines.iter().map(|l| l.trim()) {
        if out.last() != Some(&l) {
            out.push(l);
        }
    }
    out[out.len().saturating_sub(n)..].join(" | ")
}

/// Why the restored server refused the drill's login, when looking again may not help.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Refused {
    /// The copy has no such role or database *yet*: recovery may still replay its creation (a point-in-time
    /// restore accepts read-only connections from the backup's end on). Final once recovery is over.
    Missing(String),
    /// Its authentication rules (pg_hba.conf, a file recovery never changes) do not let the role in: final.
    Rules(String),
}

/// A login the restored server refuses (the copy lacks the role or the database, or its authentication
/// rules do not let the role in), naming what to change; None for anything else (it is starting up…).
fn refused(answer: &str, role: &str, database: &str) -> Option<Refused> {
    let line = answer.lines().find(|l| l.contains("FATAL:")).unwrap_or(answer).trim();
    let said = line.split_once("FATAL:").map_or(line, |p| p.1).trim();
    if said.starts_with("role \"") && said.ends_with("does not exist") {
        Some(Refused::Missing(format!(
            "the restored copy has no role \"{role}\" to read it as (backup.pgbackrest.restore_role); its server \
             said: {said}"
        )))
    } else if said.starts_with("database \"") && said.ends_with("does not exist") {
        Some(Refused::Missing(format!(
            "the restored copy has no database \"{database}\", the one the source is read in (connection.database, \
             or --database-url's); its server said: {said}"
        )))
    } else if answer.contains("no password supplied") {
        Some(Refused::Rules(format!(
            "the restored server asks \"{role}\" (backup.pgbackrest.restore_role) for a password, and a drill has \
             none: the copy keeps the source's pg_hba.conf, which must let that role in on the local socket by peer \
             or ident; psql said: {}",
            scratch::last_lines(answer, 1)
        )))
    } else if [
        "password authentication failed",
        "no pg_hba.conf entry",
        "authentication failed for user",
        "permission denied",
    ]
    .iter()
    .any(|n| said.contains(n))
    {
        Some(Refused::Rules(format!(
            "the restored server refuses the login of \"{role}\" (backup.pgbackrest.restore_role) to \"{database}\": \
             {said}"
        )))
    } else {
        None
    }
}

/// One look at a scratch server started on a restored copy, while it recovers towards its target.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Look<'a> {
    /// The server's log so far.
    pub log: &'a str,
    /// Its postmaster still runs (read before the log: once it is gone, the log is complete).
    pub running: bool,
    /// `SELECT pg_is_in_recovery()`'s answer (`pg_ctl start`'s own error when that failed).
    pub answer: Result<&'a str, &'a str>,
}

/// Judges one look: promoted (ready), recovering (waiting, with what was seen), or never going to promote —
/// recovery ended before its target (whenever the log says so: before `pg_ctl start -w` returned or after),
/// the server stopped, or the login is refused for good. Pure: the drill only gathers `look`.
pub(crate) fn judge_recovery(look: Look<'_>, role: &str, database: &str) -> Poll<(), DrillError> {
    if look.log.contains(RECOVERY_ENDED) || look.log.contains(NO_CHECKPOINT) {
        return Poll::Gone(DrillError::RecoveryEnded(log_lines(look.log, &RECOVERY_LINES).unwrap_or_default()));
    }
    if look.answer == Ok("f") {
        return Poll::Ready(());
    }
    let failing = failing_lines(look.log);
    if !look.running {
        let why = match look.answer {
            Err(e) => format!("; {}", scratch::last_lines(e, 2)),
            Ok(_) => String::new(),
        };
        let log = if failing.is_empty() { scratch::last_lines(look.log, 5) } else { last_distinct(&failing, 5) };
        return Poll::Gone(DrillError::Other(format!(
            "the scratch server stopped before recovery finished{why}; its log: {log}"
        )));
    }
    match look.answer {
        Ok("t") => Poll::Waiting("in recovery (read-only connections accepted)".into()),
        Ok(other) => Poll::Waiting(format!("pg_is_in_recovery() answered {other:?}")),
        Err(e) => match refused(e, role, database) {
            Some(Refused::Rules(why)) => Poll::Gone(DrillError::Other(why)),
            Some(Refused::Missing(why)) if look.log.contains(PROMOTED) => Poll::Gone(DrillError::Other(why)),
            Some(Refused::Missing(_)) => {
                Poll::Waiting(format!("{} (recovery may yet replay it)", scratch::last_lines(e, 1)))
            }
            None => Poll::Waiting(scratch::last_lines(e, 1)),
        },
    }
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
        journal.note(format!("pg_ctl start failed: {}", scratch::last_lines(&e, 1)));
        let running = server_running(&scratch.dir);
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        return match judge_recovery(Look { log: &text, running, answer: Err(&e) }, role, database) {
            Poll::Gone(why) => Err(why),
            _ => Err(other(format!("{e}; its log ends: {}", scratch::last_lines(&text, 5)))),
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
            scratch::last_lines(&std::fs::read_to_string(&log).unwrap_or_default(), 5)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_says_where_recovery_stopped() {
        let log = "2026-12-01 14:08:18.311 UTC [1] LOG:  restored log file \"000000010000000000000007\" from archive\n\
                   2026-12-01 14:08:18.526 UTC [1] LOG:  recovery stopping before commit of transaction 731, time x\n";
        assert_eq!(
            log_lines(log, &["recovery stopping"]).as_deref(),
            Some("recovery stopping before commit of transaction 731, time x")
        );
        assert_eq!(log_lines(log, &["nothing"]), None);
    }

    /// The log of a point-in-time restore whose archive lacks a segment: the server reached consistency,
    /// accepted read-only connections, replayed to the gap, and shut down (issue 25).
    const STOPPED_SHORT: &str = "\
2026-12-01 14:08:18.100 UTC [9] LOG:  starting point-in-time recovery to 2026-12-01 14:08:17.5+00
2026-12-01 14:08:18.200 UTC [9] LOG:  restored log file \"000000010000000000000007\" from archive
2026-12-01 14:08:18.230 UTC [8] LOG:  database system is ready to accept read-only connections
2026-12-01 14:08:18.236 UTC [9] LOG:  redo done at 0/7000100 system usage: CPU: user: 0.00 s
2026-12-01 14:08:18.241 UTC [9] FATAL:  recovery ended before configured recovery target was reached
2026-12-01 14:08:18.243 UTC [8] LOG:  startup process (PID 9) exited with exit code 1
2026-12-01 14:08:18.244 UTC [8] LOG:  shutting down due to startup process failure
2026-12-01 14:08:18.250 UTC [8] LOG:  database system is shut down
";

    /// The same archive without the segment that holds the backup's checkpoint: recovery never starts.
    const NO_CHECKPOINT_LOG: &str = "\
2026-12-07 19:41:35.219 UTC [2890] FATAL:  the database system is starting up
2026-12-07 19:41:35.244 UTC [2884] FATAL:  could not locate required checkpoint record
2026-12-07 19:41:35.246 UTC [2878] LOG:  startup process (PID 2884) exited with exit code 1
2026-12-07 19:41:35.247 UTC [2878] LOG:  shutting down due to startup process failure
2026-12-07 19:41:35.251 UTC [2878] LOG:  database system is shut down
";

    #[test]
    fn an_archive_without_the_backup_s_checkpoint_is_recovery_that_ended_short_not_an_error() {
        for (running, answer) in [(false, Err("psql: error: the database system is starting up")), (true, Ok("t"))] {
            let p = judged(NO_CHECKPOINT_LOG, running, answer);
            let lines = recovery_ended(&p).unwrap_or_else(|| panic!("{p:?}"));
            assert!(lines.contains("could not locate required checkpoint record"), "{lines}");
        }
    }

    fn judged(log: &str, running: bool, answer: Result<&str, &str>) -> Poll<(), DrillError> {
        judge_recovery(Look { log, running, answer }, "glctl_admin", "restoreme")
    }

    fn recovery_ended(p: &Poll<(), DrillError>) -> Option<&str> {
        match p {
            Poll::Gone(DrillError::RecoveryEnded(lines)) => Some(lines),
            _ => None,
        }
    }

    #[test]
    fn recovery_that_ends_before_its_target_is_recognised_on_either_side_of_pg_ctl_start() {
        // pg_ctl start -w saw the postmaster exit before it accepted connections: start failed.
        let failed =
            judged(STOPPED_SHORT, false, Err("pg_ctl start exited with exit status: 1: could not start server"));
        let lines = recovery_ended(&failed).unwrap_or_else(|| panic!("{failed:?}"));
        assert!(lines.contains("restored log file \"000000010000000000000007\""), "{lines}");
        assert!(lines.contains("redo done at 0/7000100"), "{lines}");
        assert!(lines.ends_with("recovery ended before configured recovery target was reached"), "{lines}");
        // pg_ctl start returned at "ready to accept read-only connections"; the server died 11 ms later, while
        // the drill asked whether it was still in recovery: it is gone, or its FATAL is written and it is going.
        let gone = judged(STOPPED_SHORT, false, Err("psql: error: connection to server on socket failed"));
        assert_eq!(recovery_ended(&gone), Some(lines));
        let going = judged(STOPPED_SHORT, true, Ok("t"));
        assert_eq!(recovery_ended(&going), Some(lines));
    }

    #[test]
    fn a_server_that_answers_in_recovery_is_waited_for_and_promotion_ends_the_wait() {
        let recovering = "LOG:  database system is ready to accept read-only connections\n";
        assert!(matches!(judged(recovering, true, Ok("t")), Poll::Waiting(s) if s.starts_with("in recovery")));
        assert!(matches!(judged(recovering, true, Ok("f")), Poll::Ready(())));
        let starting = judged("", true, Err("psql: error: FATAL:  the database system is starting up"));
        assert!(matches!(&starting, Poll::Waiting(s) if s.contains("starting up")), "{starting:?}");
    }

    #[test]
    fn a_server_that_stopped_for_another_reason_ends_the_wait_with_its_fatal_lines() {
        let log = "LOG:  database system is ready to accept read-only connections\n\
                   FATAL:  could not open file \"pg_wal/000000010000000000000009\": Permission denied\n\
                   LOG:  startup process (PID 9) exited with exit code 1\n";
        let Poll::Gone(DrillError::Other(why)) = judged(log, false, Ok("t")) else { panic!() };
        assert!(why.starts_with("the scratch server stopped before recovery finished; its log: "), "{why}");
        assert!(why.contains("Permission denied") && why.contains("exited with exit code 1"), "{why}");
        // Still running: the FATAL may be a refused login, not the server's end; the process decides.
        assert!(matches!(judged(log, true, Ok("t")), Poll::Waiting(_)));
    }

    #[test]
    fn a_login_the_copy_refuses_for_good_ends_the_wait_naming_what_to_change() {
        // In recovery the role or database may yet be replayed (a point-in-time restore accepts read-only
        // connections from the backup's end on): waited for; once promoted, final.
        let (recovering, promoted) = (
            "LOG:  database system is ready to accept read-only connections\n",
            "LOG:  database system is ready to accept read-only connections\n\
             LOG:  database system is ready to accept connections\n",
        );
        let role = "psql: error: connection to server on socket \"/tmp/x/.s.PGSQL.5\" failed: FATAL:  role \"glctl_admin\" does not exist";
        let waiting = judged(recovering, true, Err(role));
        assert!(matches!(&waiting, Poll::Waiting(s) if s.ends_with("(recovery may yet replay it)")), "{waiting:?}");
        let Poll::Gone(DrillError::Other(why)) = judged(promoted, true, Err(role)) else { panic!() };
        assert!(why.contains("no role \"glctl_admin\"") && why.contains("backup.pgbackrest.restore_role"), "{why}");
        let db = "psql: error: connection to server on socket \"/tmp/x/.s.PGSQL.5\" failed: FATAL:  database \"restoreme\" does not exist";
        assert!(matches!(judged(recovering, true, Err(db)), Poll::Waiting(_)));
        let Poll::Gone(DrillError::Other(why)) = judged(promoted, true, Err(db)) else { panic!() };
        assert!(why.contains("no database \"restoreme\"") && why.contains("--database-url"), "{why}");
        let hba = "psql: error: FATAL:  no pg_hba.conf entry for host \"[local]\", user \"glctl_admin\"";
        assert!(
            matches!(judged("", true, Err(hba)), Poll::Gone(DrillError::Other(w)) if w.contains("refuses the login"))
        );
        let password = "psql: error: connection to server on socket \"/tmp/x/.s.PGSQL.5\" failed: fe_sendauth: no password supplied";
        let Poll::Gone(DrillError::Other(why)) = judged("", true, Err(password)) else { panic!() };
        assert!(why.contains("asks \"glctl_admin\" (backup.pgbackrest.restore_role) for a password"), "{why}");
    }

    #[test]
    fn repeated_fatal_lines_are_shown_once() {
        assert_eq!(
            last_distinct(&["FATAL: a", "FATAL: a", "FATAL: b", "FATAL: a"], 5),
            "FATAL: a | FATAL: b | FATAL: a"
        );
        assert_eq!(last_distinct(&["1", "2", "3"], 2), "2 | 3");
    }
}
