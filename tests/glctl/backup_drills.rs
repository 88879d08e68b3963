//! The pgBackRest restore drills' faults on the local stack (issue 20): a point-in-time restore to the drill's
//! own markers, a target outside the restore window refused before anything is created, a restore that times
//! out, a failing archiver, and scratch copies after SIGTERM (removed by the run itself) and SIGKILL (removed
//! by the next run). One at a time with the other backup tests (`backups_lock`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::backup::{backups_lock, pgbackrest, psql, statuses, verify_command};
use crate::support::stack::stack;

fn database_url() -> String {
    let s = stack();
    format!(
        "postgres://{}:{}@localhost:{}/glctl?sslmode=require",
        s.var("GLCTL_PG_USER"),
        s.var("GLCTL_PG_PASSWORD"),
        s.var("GLCTL_PG_PORT")
    )
}

/// The database half of local-native applied (migration 0008's heartbeat) and a backup in repo1 (an
/// incremental: pgBackRest makes it a full when none exists; seconds either way).
pub(crate) fn prepared(out: &Path) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| prepare(out));
}

fn prepare(out: &Path) {
    let apply = Command::new(env!("CARGO_BIN_EXE_glctl"))
        .args(["apply", "-e", "local-native", "--only", "database", "--out", out.to_str().unwrap()])
        .current_dir(crate::support::repo())
        .env("GLCTL_DATABASE_URL", database_url())
        .output()
        .unwrap();
    assert!(apply.status.success(), "{}", String::from_utf8_lossy(&apply.stderr));
    let backup = pgbackrest(&["--repo=1", "--type=incr", "backup"]);
    assert!(backup.status.success(), "{}", String::from_utf8_lossy(&backup.stderr));
}

/// An environment file extending local-native with `overrides` (YAML), in `dir`.
fn local_native_with(dir: &Path, name: &str, overrides: &str) -> String {
    let path = dir.join(format!("{name}.yaml"));
    let parent = crate::support::repo().join("environments/local-native.yaml");
    std::fs::write(&path, format!("extends: {}\n{overrides}", parent.display())).unwrap();
    path.to_str().unwrap().to_string()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

fn verify(env: &str, out: &Path, args: &[&str]) -> Run {
    let started = Instant::now();
    let o = verify_command(env, out, args).output().unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        took: started.elapsed(),
    }
}

/// The scratch directories of the glctl run `pid`.
fn scratch_of(pid: u32) -> Vec<PathBuf> {
    let prefix = format!("glctl-drill.glctl.{pid}.");
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect()
}

/// Processes whose command line mentions `needle` (a scratch directory), read from /proc.
fn processes_mentioning(needle: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().chars().all(|c| c.is_ascii_digit()))
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
        .filter(|line| line.contains(needle))
        .collect()
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn result<'a>(results: &'a [(String, String, String)], id: &str) -> &'a (String, String, String) {
    results.iter().find(|r| r.0 == id).unwrap_or_else(|| panic!("{id} in {results:#?}"))
}

/// BR-04 to `now`: the copy holds the drill's marker written before T and not the one after, with no wait
/// for pg_cron's minute; BR-05 thirty days back is outside the window: FAIL naming the setting and the
/// window, refused before a scratch copy exists.
#[test]
fn a_restore_to_now_holds_the_marker_before_t_and_not_the_one_after_and_a_target_outside_the_window_is_refused() {
    let _one = backups_lock();
    let out = tempfile::tempdir().unwrap();
    prepared(out.path());
    let run = verify("local-native", out.path(), &["--drills", "--only", "BR-04"]);
    let results = statuses(&run.stdout);
    let br04 = result(&results, "BR-04");
    assert_eq!(br04.1, "PASS", "{results:#?}\n{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let observed = json["results"][0]["evidence"][0]["observed"].as_str().unwrap().to_string();
    assert!(observed.contains(":br-04:before) held: true, its marker after T ("), "{observed}");
    assert!(observed.contains(":br-04:after) held: false"), "the marker before T, and only it: {observed}");
    assert!(observed.contains("recovery stopping before commit"), "{observed}");
    assert_eq!(run.code, 0, "{}", run.stderr);
    eprintln!("BR-04 to now: {:.1} s", run.took.as_secs_f64());

    let env = local_native_with(out.path(), "month-back", "acceptance:\n  pitr_targets: { br05: 30 days }\n");
    let child = verify_command(&env, out.path(), &["--drills", "--only", "BR-05"]).spawn().unwrap();
    let pid = child.id();
    let o = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let results = statuses(&stdout);
    let br05 = result(&results, "BR-05");
    assert_eq!(br05.1, "FAIL", "{results:#?}");
    assert!(br05.2.starts_with("acceptance.pitr_targets.br05 targets "), "{}", br05.2);
    assert!(
        br05.2.contains("outside repo1's restore window") && br05.2.contains("refused before anything"),
        "{}",
        br05.2
    );
    assert!(!stdout.contains("glctl-drill:"), "no marker written for a refused target: {stdout}");
    assert!(scratch_of(pid).is_empty());
    assert_eq!(o.status.code(), Some(1));
}

/// A restore that runs past backup.pgbackrest.restore_timeout_seconds is ERROR, saying what it created and
/// that it removed it; nothing of it is left.
#[test]
fn a_restore_that_times_out_is_an_error_naming_what_it_created_and_removed() {
    let _one = backups_lock();
    let out = tempfile::tempdir().unwrap();
    prepared(out.path());
    let env = local_native_with(
        out.path(),
        "hasty",
        "backup:\n  pgbackrest: { stanza: glctl, repo: 1, dr_repo: 2, restore_role: glctl_admin, restore_timeout_seconds: 1 }\n",
    );
    let child = verify_command(&env, out.path(), &["--drills", "--only", "BR-06"]).spawn().unwrap();
    let pid = child.id();
    let o = child.wait_with_output().unwrap();
    let results = statuses(&String::from_utf8_lossy(&o.stdout));
    let br06 = result(&results, "BR-06");
    assert_eq!(br06.1, "ERROR", "{results:#?}");
    let dir = format!("/tmp/glctl-drill.glctl.{pid}.br-06");
    assert!(br06.2.contains("timed out after 1 s (backup.pgbackrest.restore_timeout_seconds)"), "{}", br06.2);
    assert!(br06.2.contains(&format!("created {dir}")) && br06.2.contains(&format!("removed {dir}")), "{}", br06.2);
    assert!(scratch_of(pid).is_empty());
    assert!(processes_mentioning(&dir).is_empty(), "the restore was stopped: {:?}", processes_mentioning(&dir));
    assert_eq!(o.status.code(), Some(3));
}

/// Puts the archiver back (and forgets its failures) also when the test fails.
struct ArchiverBack;
impl Drop for ArchiverBack {
    fn drop(&mut self) {
        psql("ALTER SYSTEM RESET archive_command");
        psql("SELECT pg_reload_conf()");
        wait_for("the archiver to recover", Duration::from_secs(60), || {
            psql("SELECT pg_switch_wal() FROM (SELECT txid_current()) t");
            psql("SELECT coalesce(last_archived_time > last_failed_time, true) FROM pg_stat_archiver") == "t"
        });
        psql("SELECT pg_stat_reset_shared('archiver')");
    }
}

/// A stopped archiver (its command failing, pg_stat_archiver's failures rising past the last success) FAILs
/// BR-03 at once, without waiting for pgbackrest check's archive timeout.
#[test]
fn a_failing_archiver_fails_br03() {
    let _one = backups_lock();
    let out = tempfile::tempdir().unwrap();
    let failed = |sql: &str| psql(&format!("SELECT {sql} FROM pg_stat_archiver"));
    let before: i64 = failed("failed_count").parse().unwrap();
    let _back = ArchiverBack;
    psql("ALTER SYSTEM SET archive_command = 'false'");
    psql("SELECT pg_reload_conf()");
    wait_for("the archiver to fail", Duration::from_secs(30), || {
        psql("SELECT pg_switch_wal() FROM (SELECT txid_current()) t");
        failed("failed_count").parse::<i64>().unwrap() > before
            && failed("coalesce(last_failed_time > last_archived_time, true)") == "t"
    });
    let run = verify("local-native", out.path(), &["--only", "BR-03"]);
    let results = statuses(&run.stdout);
    let br03 = result(&results, "BR-03");
    assert_eq!(br03.1, "FAIL", "{results:#?}");
    assert!(br03.2.contains("the server's archiver is failing"), "{}", br03.2);
    assert!(run.took < Duration::from_secs(30), "not pgbackrest check's timeout: {:?}", run.took);
    assert_eq!(run.code, 1);
}

/// A verify stopped by SIGTERM during a restore removes its scratch copy and says so; one killed by SIGKILL
/// cannot, so the next verify finds its copy (a server started in it included), stops and removes it, and
/// lists it.
#[test]
fn sigterm_removes_the_runs_own_scratch_and_after_sigkill_the_next_verify_removes_it() {
    let _one = backups_lock();
    let out = tempfile::tempdir().unwrap();
    prepared(out.path());
    // Waits until the run's restore has begun writing into its scratch directory.
    let restoring = |pid: u32| {
        let dir = PathBuf::from(format!("/tmp/glctl-drill.glctl.{pid}.br-06"));
        wait_for("the restore to start writing", Duration::from_secs(60), || {
            std::fs::read_dir(&dir).map(|mut d| d.next().is_some()).unwrap_or(false)
        });
        dir
    };

    let child = verify_command("local-native", out.path(), &["--drills", "--only", "BR-06"]).spawn().unwrap();
    let pid = child.id();
    let dir = restoring(pid);
    assert!(Command::new("sh").args(["-c", &format!("kill -TERM {pid}")]).status().unwrap().success());
    let o = child.wait_with_output().unwrap();
    let results = statuses(&String::from_utf8_lossy(&o.stdout));
    let br06 = result(&results, "BR-06");
    assert_eq!(br06.1, "ERROR", "{results:#?}");
    assert!(br06.2.starts_with("interrupted (Ctrl-C or SIGTERM)"), "{}", br06.2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("interrupted: the drills' scratch copies were removed"));
    assert!(br06.2.contains(&format!("removed {}", dir.display())), "{}", br06.2);
    assert!(!dir.exists(), "SIGTERM left {}", dir.display());
    assert!(processes_mentioning(&dir.to_string_lossy()).is_empty());
    assert_eq!(o.status.code(), Some(3));

    let mut child = verify_command("local-native", out.path(), &["--drills", "--only", "BR-06"]).spawn().unwrap();
    let pid = child.id();
    let dir = restoring(pid);
    child.kill().unwrap();
    child.wait().unwrap();
    // The orphaned restore runs on; when it is done, a server in the copy stands for one a drill had started.
    let d = dir.to_string_lossy().to_string();
    wait_for("the orphaned restore to finish", Duration::from_secs(120), || processes_mentioning(&d).is_empty());
    assert!(dir.exists(), "SIGKILL cannot clean up");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let options = format!("-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={d} -c shared_preload_libraries= -c archive_mode=off");
    let mut start = if crate::backup::is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl"]);
        c
    } else {
        Command::new("/usr/lib/postgresql/15/bin/pg_ctl")
    };
    let started = start
        .current_dir("/")
        .env("PGBACKREST_CONFIG", stack().var("PGBACKREST_CONFIG"))
        .args(["-D", &d, "-l", &format!("{d}/left.log"), "-o", &options, "-w", "start"])
        .output()
        .unwrap();
    assert!(started.status.success(), "{}", String::from_utf8_lossy(&started.stderr));

    let run = verify("local-native", out.path(), &["--only", "BR-01"]);
    assert!(
        run.stderr.contains(&format!(
            "scratch restore {d} with a scratch server running in it, left by an interrupted glctl run (pid {pid}): stopped and removed"
        )),
        "{}",
        run.stderr
    );
    assert!(!dir.exists());
    assert!(processes_mentioning(&d).is_empty(), "its server was stopped: {:?}", processes_mentioning(&d));
}

/// How long a drill that must end at once may take here (a restore of the stack's small database and its
/// start take seconds); past it the run is stopped and the test fails as a hang.
const QUICKLY: Duration = Duration::from_secs(120);

/// `verify` bounded by `limit` (`output_within`): a wait without an end fails the test, it does not stall it.
fn verify_within(env: &str, out: &Path, args: &[&str], limit: Duration) -> (Run, u32) {
    let started = Instant::now();
    let (o, pid) = crate::backup::output_within(verify_command(env, out, args), limit);
    let run = Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        took: started.elapsed(),
    };
    (run, pid)
}

fn pgbackrest_settings(extra: &str) -> String {
    format!(
        "backup:\n  pgbackrest: {{ stanza: glctl, repo: 1, dr_repo: 2, restore_role: glctl_admin, \
         restore_timeout_seconds: 900{extra} }}\n"
    )
}

/// Regression (issue 25): a copy without the role `backup.pgbackrest.restore_role` names refused every login
/// (`FATAL: role … does not exist`, a thousand times) while the drill waited until its 4-hour limit. It is an
/// ERROR at once, naming the role and the setting, and the copy is removed.
#[test]
fn a_copy_without_the_restore_role_is_an_error_naming_the_setting_not_a_wait() {
    let _one = backups_lock();
    let out = tempfile::tempdir().unwrap();
    prepared(out.path());
    let settings = pgbackrest_settings("").replace("restore_role: glctl_admin", "restore_role: glctl_nobody");
    let env = local_native_with(out.path(), "no-role", &settings);
    let (run, pid) = verify_within(&env, out.path(), &["--drills", "--only", "BR-06"], QUICKLY);
    let results = statuses(&run.stdout);
    let br06 = result(&results, "BR-06");
    assert_eq!(br06.1, "ERROR", "{results:#?}\n{}", run.stderr);
    assert!(br06.2.contains("\"glctl_nobody\"") && br06.2.contains("(backup.pgbackrest.restore_role)"), "{}", br06.2);
    assert!(br06.2.contains(&format!("removed /tmp/glctl-drill.glctl.{pid}.br-06")), "{}", br06.2);
    assert!(scratch_of(pid).is_empty());
    assert_eq!(run.code, 3);
    eprintln!("a copy without the restore role: {:.1} s", run.took.as_secs_f64());
}

/// A database of the stack's made by a test: dropped with its pg_cron jobs (apply schedules them there).
struct ScratchDatabase(String);
impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let name = &self.0;
        psql(&format!("SELECT count(cron.unschedule(jobid)) FROM cron.job WHERE database = '{name}'"));
        psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
}

/// Regression (issue 25): with `--database-url …/restoreme` the drills wrote their markers into `restoreme`
/// but read the copy in connection.database (`glctl`). The copy is read in the database the source is read
/// in: BR-04 finds its markers there; BR-06, from a backup taken before `restoreme` existed, is an ERROR at
/// once naming the database, not a wait on `FATAL: database … does not exist`.
#[test]
fn the_copy_is_read_in_the_database_glctl_was_told_to_use() {
    let _one = backups_lock();
    let out = tempfile::tempdir().unwrap();
    prepared(out.path());
    // A name no backup has seen (so BR-06's newest full backup cannot hold it), dropped with its pg_cron jobs
    // afterwards, and those of earlier runs first.
    for old in
        psql("SELECT string_agg(datname, ' ') FROM pg_database WHERE datname LIKE 'restoreme%'").split_whitespace()
    {
        drop(ScratchDatabase(old.to_string()));
    }
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let name = format!("restoreme_{}_{nanos}", std::process::id());
    psql(&format!("CREATE DATABASE {name}"));
    let _drop = ScratchDatabase(name.clone());
    let url = database_url().replace("/glctl?", &format!("/{name}?"));
    let apply = Command::new(env!("CARGO_BIN_EXE_glctl"))
        .args(["apply", "-e", "local-native", "--only", "database", "--out", out.path().to_str().unwrap()])
        .current_dir(crate::support::repo())
        .env("GLCTL_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(apply.status.success(), "{}", String::from_utf8_lossy(&apply.stderr));

    let (run, _) =
        verify_within("local-native", out.path(), &["--drills", "--only", "BR-04", "--database-url", &url], QUICKLY);
    let results = statuses(&run.stdout);
    assert_eq!(result(&results, "BR-04").1, "PASS", "{results:#?}\n{}\n{}", run.stdout, run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let observed = json["results"][0]["evidence"][0]["observed"].as_str().unwrap().to_string();
    assert!(observed.contains(":br-04:before) held: true"), "the marker written into restoreme: {observed}");

    let (run, pid) =
        verify_within("local-native", out.path(), &["--drills", "--only", "BR-06", "--database-url", &url], QUICKLY);
    let results = statuses(&run.stdout);
    let br06 = result(&results, "BR-06");
    assert_eq!(br06.1, "ERROR", "{results:#?}\n{}", run.stderr);
    assert!(br06.2.contains(&format!("no database \"{name}\"")), "{}", br06.2);
    assert!(scratch_of(pid).is_empty());
    eprintln!("a copy without the database: {:.1} s", run.took.as_secs_f64());
}

/// A bin directory whose `pg_ctl` forces one side of the race between `pg_ctl start -w` returning and a
/// recovery that ends before its target (the server then shuts down), and the real `psql`:
/// - `fails-after-the-end`: pg_ctl start returns only once the server is gone, and fails (as when its look at
///   the postmaster comes after the end);
/// - `succeeds-first`: pg_ctl start returns as soon as the server runs, before recovery has ended (as when the
///   server accepted read-only connections first: the side the drill used to wait on forever).
fn pg_ctl_forcing(parent: &Path, side: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let bin = parent.join(format!("bin-{side}"));
    std::fs::create_dir_all(&bin).unwrap();
    let real = "/usr/lib/postgresql/15/bin";
    let then = match side {
        "fails-after-the-end" => {
            "\"$real\" \"$@\"\n\
             i=0; while [ -f \"$dir/postmaster.pid\" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done\n\
             echo 'pg_ctl: could not start server (forced: the server ended before pg_ctl returned)' >&2; exit 1\n"
        }
        _ => {
            "\"$real\" \"$@\" -W || exit $?\n\
             i=0; while [ ! -f \"$dir/postmaster.pid\" ] && [ $i -lt 6000 ]; do sleep 0.01; i=$((i+1)); done\n\
             echo 'server started (forced: before recovery ended)'; exit 0\n"
        }
    };
    let script = format!(
        "#!/bin/sh\nreal={real}/pg_ctl\ncase \" $* \" in *\" start \"*) ;; *) exec \"$real\" \"$@\";; esac\n\
         dir=''; prev=''\nfor a in \"$@\"; do [ \"$prev\" = -D ] && dir=\"$a\"; prev=\"$a\"; done\n{then}"
    );
    std::fs::write(bin.join("pg_ctl"), script).unwrap();
    let _ = std::fs::remove_file(bin.join("psql"));
    std::os::unix::fs::symlink(format!("{real}/psql"), bin.join("psql")).unwrap();
    // The server's OS user runs them (runuser when root): every directory on the way must let it in.
    for dir in [parent, bin.as_path()] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(bin.join("pg_ctl"), std::fs::Permissions::from_mode(0o755)).unwrap();
    bin.to_string_lossy().into_owned()
}

/// Regression (issue 25): a point-in-time restore whose archive lacks a segment replays to the gap and
/// shuts down (`FATAL: recovery ended before configured recovery target was reached`). Whether `pg_ctl start
/// -w` returned before that (the drill then waited on a dead server until its limit) or failed after it, BR-04
/// FAILs at once with the restored server's log lines as evidence, and the copy is removed.
#[test]
fn a_restore_whose_recovery_ends_before_its_target_fails_with_the_servers_log_on_either_side_of_pg_ctl_start() {
    let _one = backups_lock();
    let out = tempfile::tempdir().unwrap();
    prepared(out.path());
    let backup = pgbackrest(&["--repo=1", "--type=incr", "backup"]);
    assert!(backup.status.success(), "{}", String::from_utf8_lossy(&backup.stderr));
    for _ in 0..3 {
        psql("SELECT pg_switch_wal() FROM (SELECT txid_current()) t");
    }
    let check = pgbackrest(&["check"]);
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    let (name, _put_back) = crate::backup::remove_second_newest_segment();
    for side in ["succeeds-first", "fails-after-the-end"] {
        let bin = pg_ctl_forcing(out.path(), side);
        let env = local_native_with(
            out.path(),
            &format!("pg-ctl-{side}"),
            &pgbackrest_settings(&format!(", bin_dir: {bin}")),
        );
        let (run, pid) = verify_within(&env, out.path(), &["--drills", "--only", "BR-04"], QUICKLY);
        let results = statuses(&run.stdout);
        let br04 = result(&results, "BR-04");
        assert_eq!(br04.1, "FAIL", "{side}: {results:#?}\n{}", run.stderr);
        assert!(br04.2.contains("stopped short"), "{side}: {}", br04.2);
        assert!(br04.2.contains(&format!("repo1's archive lacks {name}")), "{side}: {}", br04.2);
        let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let observed = json["results"][0]["evidence"][0]["observed"].as_str().unwrap_or_default().to_string();
        assert!(
            observed.starts_with("the restored server's log: ")
                && observed.contains("restored log file")
                && observed.ends_with("recovery ended before configured recovery target was reached"),
            "{side}: {observed}"
        );
        assert!(br04.2.contains(&format!("removed /tmp/glctl-drill.glctl.{pid}.br-04")), "{side}: {}", br04.2);
        assert!(scratch_of(pid).is_empty());
        assert_eq!(run.code, 1, "{side}");
        eprintln!("recovery ended before its target, pg_ctl start {side}: {:.1} s", run.took.as_secs_f64());
    }
}
