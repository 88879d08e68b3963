//! The pgBackRest restore drill: `pgbackrest restore` of a backup set (BR-06) or from the DR repository
//! (BR-07) into a scratch data directory, started on a free loopback port as the server's OS user with its
//! scheduler and archiving off (so the copy neither writes heartbeats nor archives into the source's stanza),
//! the heartbeat read, then stopped and removed — also when a step fails (the guard's Drop). It never touches
//! the source. The point-in-time drills (BR-04/BR-05) are not implemented yet.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::config::pgbackrest::Pgbackrest;

/// What a restore drill measured and found.
#[derive(Debug)]
pub struct Restored {
    pub what: String,
    pub scratch: PathBuf,
    pub restore_seconds: f64,
    pub start_seconds: f64,
    pub bytes: u64,
    /// Heartbeat rows, lowest and highest `seq`, and the newest `written_at` (Unix seconds).
    pub heartbeat: (i64, i64, i64, i64),
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

/// Runs `program args` as the configured OS user (when root), without glctl's database secrets.
fn as_user(config: &Pgbackrest, program: &str, args: &[String]) -> Result<String, String> {
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", &config.os_user, "--", program]);
        c
    } else {
        Command::new(program)
    };
    command.current_dir("/").args(args);
    for secret in ["GLCTL_DATABASE_URL", "PGPASSWORD", "GLCTL_PG_PASSWORD"] {
        command.env_remove(secret);
    }
    let out = command.output().map_err(|e| format!("cannot run {program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!("{program} {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// The scratch cluster: stopped and removed when dropped, whatever happened before.
struct Scratch<'a> {
    config: &'a Pgbackrest,
    dir: PathBuf,
    pg_ctl: String,
}

impl Drop for Scratch<'_> {
    fn drop(&mut self) {
        if self.dir.join("postmaster.pid").exists() {
            let args = ["-D", &self.dir.to_string_lossy(), "-m", "immediate", "-w", "stop"].map(String::from);
            let _ = as_user(self.config, &self.pg_ctl, &args);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
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

/// Restores `set` (a backup label) from `repo` into a scratch directory, starts it, reads the heartbeat
/// in `database` as `role`, and removes it. `bin_dir` holds pg_ctl and psql.
pub fn restore_set(
    config: &Pgbackrest,
    repo: u32,
    set: &str,
    bin_dir: &str,
    database: &str,
) -> Result<Restored, String> {
    let dir = std::env::temp_dir().join(format!("glctl-drill.{}.{}.repo{repo}", config.stanza, std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).map_err(|e| format!("cannot create the scratch directory {}: {e}", dir.display()))?;
    let scratch = Scratch { config, dir: dir.clone(), pg_ctl: format!("{bin_dir}/pg_ctl") };
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| e.to_string())?;
    }
    if is_root() {
        let out = Command::new("chown").arg(&config.os_user).arg(&dir).output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "chown {} {}: {}",
                config.os_user,
                dir.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    let d = dir.to_string_lossy().to_string();
    let mut args = Vec::new();
    if let Some(file) = &config.config {
        args.push(format!("--config={file}"));
    }
    args.extend([
        format!("--stanza={}", config.stanza),
        format!("--repo={repo}"),
        "restore".into(),
        format!("--pg1-path={d}"),
        format!("--set={set}"),
        "--type=immediate".into(),
        "--target-action=promote".into(),
        "--archive-mode=off".into(),
    ]);
    let started = Instant::now();
    as_user(config, "pgbackrest", &args)?;
    let restore_seconds = started.elapsed().as_secs_f64();
    let bytes = size_of(&dir);
    let port = free_port()?;
    let options = format!(
        "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={d} -c shared_preload_libraries= \
         -c archive_mode=off"
    );
    let started = Instant::now();
    let log = format!("{d}/drill.log");
    as_user(
        config,
        &scratch.pg_ctl,
        &["-D", &d, "-l", &log, "-o", &options, "-w", "-t", "300", "start"].map(String::from),
    )
    .map_err(|e| format!("{e}; log: {}", std::fs::read_to_string(&log).unwrap_or_default()))?;
    let psql = format!("{bin_dir}/psql");
    let query = |sql: &str| {
        as_user(
            config,
            &psql,
            &["-h", &d, "-p", &port.to_string(), "-U", &config.restore_role, "-d", database, "-Atc", sql]
                .map(String::from),
        )
    };
    let mut promoted = false;
    for _ in 0..600 {
        if query("SELECT pg_is_in_recovery()").as_deref() == Ok("f") {
            promoted = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    if !promoted {
        return Err(format!("the restored copy did not finish recovery within 60 s (scratch {d}, removed)"));
    }
    let start_seconds = started.elapsed().as_secs_f64();
    let row = query(
        "SELECT count(*) || '|' || coalesce(min(seq), 0) || '|' || coalesce(max(seq), 0) || '|' || \
         coalesce(extract(epoch FROM max(written_at))::bigint, 0) FROM glctl_heartbeat",
    )?;
    let parts: Vec<&str> = row.split('|').collect();
    let number = |i: usize| parts.get(i).and_then(|p| p.parse::<i64>().ok()).unwrap_or(-1);
    let heartbeat = (number(0), number(1), number(2), number(3));
    drop(scratch);
    Ok(Restored {
        what: format!("{set} from repo{repo}"),
        scratch: dir,
        restore_seconds,
        start_seconds,
        bytes,
        heartbeat,
    })
}
