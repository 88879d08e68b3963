//! What a restore drill brings back, and the judgements over it: where a scratch server's recovery stands
//! (`judge_recovery`), a backup set's heartbeat (`judge_set`, shared by pgBackRest, RDS snapshots and the DR
//! copy), and the statuses RDS and AWS Backup report while a copy comes up (`judge_status`, `judge_job`).
//! Pure: the drills (`crate::drills`) gather what these judge.

use std::path::PathBuf;

use serde_json::Value;

use super::poll::Poll;
use super::{Evidence, Outcome};

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

/// PostgreSQL's log lines that say where recovery stopped, or why it could not go on.
pub(crate) fn log_lines(log: &str, needles: &[&str]) -> Option<String> {
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
            last_lines(answer, 1)
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
            Err(e) => format!("; {}", last_lines(e, 2)),
            Ok(_) => String::new(),
        };
        let log = if failing.is_empty() { last_lines(look.log, 5) } else { last_distinct(&failing, 5) };
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
            Some(Refused::Missing(_)) => Poll::Waiting(format!("{} (recovery may yet replay it)", last_lines(e, 1))),
            None => Poll::Waiting(last_lines(e, 1)),
        },
    }
}

/// The last `n` lines of `text`, joined with ` | ` (nothing: `(nothing)`).
pub(crate) fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return "(nothing)".into();
    }
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

fn evidence(observed: String, expected: String, source: &str) -> Evidence {
    Evidence { observed, expected, source: source.into(), at: String::new() }
}

/// The heartbeat of a set restored from a backup that stopped at `stop`: rows, no gap in `seq`, none
/// written after the backup's end (one 60 s interval of clock skew allowed).
pub fn judge_set(restored: &Restored, stop: i64) -> Outcome {
    let h = &restored.heartbeat;
    let observed = format!(
        "{}: {} heartbeat row(s), seq {}..{}, newest at {} (Unix s); restore {:.1} s, start and recovery {:.1} s, \
         {} bytes; scratch {} removed",
        restored.what,
        h.rows,
        h.min,
        h.max,
        h.newest,
        restored.restore_seconds,
        restored.start_seconds,
        restored.bytes,
        restored.scratch.display()
    );
    let expected = format!("heartbeat rows with no gap in seq, none after the backup's end ({stop}) + 60 s");
    let e = vec![evidence(
        observed,
        expected,
        "pgbackrest restore --set=… --type=immediate; SELECT … FROM glctl_heartbeat",
    )];
    if h.rows <= 0 {
        Outcome::Fail(
            "the restored copy holds no heartbeat rows (is migration 0008 applied and its job running?)".into(),
            e,
        )
    } else if h.max - h.min + 1 != h.rows {
        Outcome::Fail(format!("the restored heartbeat has a gap: {} rows for seq {}..{}", h.rows, h.min, h.max), e)
    } else if h.newest > stop + 60 {
        Outcome::Fail("the restored copy holds heartbeats written after the backup ended".into(), e)
    } else {
        Outcome::Pass(e)
    }
}

/// An instance's status while a restored copy comes up: `available` (ready), one RDS moves on from by itself
/// (waiting), or one it does not leave without someone acting — the restore failed or the copy is going
/// away (gone, naming the status).
pub fn judge_status(instance: &str, status: Option<&str>) -> Poll<(), String> {
    const STUCK: [&str; 9] = [
        "failed",
        "restore-error",
        "storage-full",
        "insufficient-capacity",
        "deleting",
        "delete-precheck",
        "stopped",
        "stopping",
        "inaccessible-encryption-credentials",
    ];
    match status {
        Some("available") => Poll::Ready(()),
        Some(s) if s.starts_with("incompatible-") || STUCK.iter().any(|stuck| s.starts_with(stuck)) => {
            Poll::Gone(format!(
                "RDS reports the scratch copy {instance} as {s}: a status it does not leave by itself, so it will not \
                 become available"
            ))
        }
        Some(s) => Poll::Waiting(format!("{instance} is {s}")),
        None => Poll::Waiting(format!("RDS reports no status for {instance}")),
    }
}

/// One `DescribeRestoreJob` answer: completed (ready), ended without a copy (gone: ERROR naming the status
/// and AWS's message), or on its way (what it says, for the error when the deadline passes).
pub fn judge_job(job: &str, state: &Value) -> Poll<(), Outcome> {
    let message = state["StatusMessage"].as_str().unwrap_or_default();
    match state["Status"].as_str() {
        Some("COMPLETED") => Poll::Ready(()),
        Some(s @ ("ABORTED" | "FAILED")) => Poll::Gone(Outcome::Error(format!("the restore job {job} {s}: {message}"))),
        Some(s) => Poll::Waiting(match state["PercentDone"].as_str().or(state["PercentDone"].as_f64().map(|_| "")) {
            Some(done) if !done.is_empty() => format!("{s}, {done}% done"),
            _ if !message.is_empty() => format!("{s}: {message}"),
            _ => s.to_string(),
        }),
        None => Poll::Waiting("no Status in DescribeRestoreJob's answer".into()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

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

    #[test]
    fn a_copy_in_a_status_rds_does_not_leave_ends_the_wait_naming_it() {
        assert_eq!(judge_status("c", Some("available")), Poll::Ready(()));
        assert_eq!(judge_status("c", Some("creating")), Poll::Waiting("c is creating".into()));
        assert_eq!(judge_status("c", Some("backing-up")), Poll::Waiting("c is backing-up".into()));
        for stuck in [
            "incompatible-restore",
            "incompatible-parameters",
            "failed",
            "restore-error",
            "storage-full",
            "inaccessible-encryption-credentials-recoverable",
            "deleting",
            "stopped",
        ] {
            let Poll::Gone(why) = judge_status("glctl-drill-br-04-1", Some(stuck)) else { panic!("{stuck}") };
            assert!(why.contains(&format!("glctl-drill-br-04-1 as {stuck}")), "{why}");
        }
    }

    #[test]
    fn a_restore_job_is_waited_for_until_it_completes_and_a_failed_one_names_its_status() {
        assert!(matches!(judge_job("j", &json!({"Status": "COMPLETED"})), Poll::Ready(())));
        let running = judge_job("j", &json!({"Status": "RUNNING", "PercentDone": "40.00"}));
        assert!(matches!(&running, Poll::Waiting(s) if s == "RUNNING, 40.00% done"), "{running:?}");
        assert!(matches!(judge_job("j", &json!({"Status": "PENDING"})), Poll::Waiting(s) if s == "PENDING"));
        let Poll::Gone(Outcome::Error(why)) =
            judge_job("j", &json!({"Status": "FAILED", "StatusMessage": "no capacity"}))
        else {
            panic!()
        };
        assert_eq!(why, "the restore job j FAILED: no capacity");
    }
}
