//! A restore drill's scratch resources on the local machine: a data directory named
//! `<tmp>/glctl-drill.<stanza>.<pid>.<check>` (the prefix and the owner's pid make it findable), a server
//! started in it, and the child processes the drill runs. Everything is journaled and undone when its guard
//! drops: on success, on an error, on a timeout and when the drill's future is dropped on Ctrl-C/SIGTERM. A
//! run killed outright (SIGKILL) cannot clean up: the next verify finds what it left (`sweep`) and removes it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::journal::Journal;
use super::wait::{self, Ended, Wait};
use crate::config::pgbackrest::Pgbackrest;
use crate::process::{self, Program};
use crate::verify::poll::Poll;
use crate::verify::restore_verdict::last_lines;

/// The name every scratch directory starts with, under the system's temporary directory.
pub const PREFIX: &str = "glctl-drill.";

/// `program args` as the configured OS user (when glctl is root), in a process group of its own (a
/// terminal's Ctrl-C reaches glctl, which stops it), with only `process::BASE` of glctl's environment: pg_ctl,
/// the server and psql (over the copy's socket) need nothing else.
pub(crate) fn command(config: &Pgbackrest, program: &str, args: &[String]) -> Program {
    let mut command = Program::new(program);
    // The server's user may not enter glctl's working directory (a checkout under /root).
    command.as_user(&config.os_user).current_dir("/").args(args).own_group();
    command
}

/// `pgbackrest args` as `command` runs it, with pgBackRest's own settings (PGBACKREST_CONFIG, a repository's
/// cipher pass…) and no database password (it reads the repository, not the server).
pub(crate) fn pgbackrest(config: &Pgbackrest, args: &[String]) -> Program {
    let mut command = command(config, "pgbackrest", args);
    command.pass_prefixed("PGBACKREST_");
    command
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut out);
        }
        out
    })
}

/// Runs `command` without blocking the runtime, for at most `limit`: past it, or when the future is dropped
/// (a timeout, Ctrl-C), its process group is killed. Ok(stdout) on success, Err(what it said) otherwise —
/// also when it had to be killed, with how long it ran and the last of what it printed.
pub(crate) async fn run(command: Program, shown: &str, limit: Duration) -> Result<String, String> {
    let mut running = command.spawn_group().map_err(|e| format!("cannot run {shown}: {e}"))?;
    let pid = running.id();
    let (stdout, stderr) = (drain(running.child().stdout.take()), drain(running.child().stderr.take()));
    let exited = Wait::new(format!("{shown} (pid {pid}) to exit"), limit, Duration::from_millis(50))
        .until(|| {
            let polled = match running.child().try_wait() {
                Ok(Some(status)) => Poll::Ready(status),
                Ok(None) => Poll::Waiting("still running".into()),
                Err(e) => Poll::Gone(format!("{shown}: {e}")),
            };
            async move { polled }
        })
        .await;
    // Killed here when it has not exited: its pipes close, so what it printed can be read.
    drop(running);
    let text =
        |h: std::thread::JoinHandle<Vec<u8>>| String::from_utf8_lossy(&h.join().unwrap_or_default()).trim().to_string();
    let (stdout, stderr) = (text(stdout), text(stderr));
    let said = if stderr.is_empty() { stdout.clone() } else { stderr };
    let status = match exited {
        Ok(status) => status,
        Err(Ended::Gone(why, _)) => return Err(why),
        Err(Ended::TimedOut(w)) => {
            return Err(format!(
                "{shown} did not exit within {} and was killed; it printed: {}",
                wait::seconds(w.limit),
                last_lines(&said, 5)
            ))
        }
    };
    if status.success() {
        Ok(stdout)
    } else {
        Err(format!("{shown} exited with {status}: {said}"))
    }
}

/// A scratch data directory (and the server started in it): stopped and removed when dropped.
pub struct Scratch {
    pub dir: PathBuf,
    pub pg_ctl: String,
    pub port: Option<u16>,
    config: Pgbackrest,
    journal: Journal,
}

/// The directory a drill of `check` by this process uses.
pub fn dir_for(stanza: &str, check: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{PREFIX}{stanza}.{}.{}", std::process::id(), check.to_ascii_lowercase()))
}

impl Scratch {
    /// Creates the directory (0700, owned by `os_user` when root) and journals it.
    pub fn create(config: &Pgbackrest, check: &str, bin_dir: &str, journal: &Journal) -> Result<Scratch, String> {
        use std::os::unix::fs::PermissionsExt;
        let dir = dir_for(&config.stanza, check);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).map_err(|e| format!("cannot create the scratch directory {}: {e}", dir.display()))?;
        journal.note(format!("created {}", dir.display()));
        let scratch = Scratch {
            dir: dir.clone(),
            pg_ctl: format!("{bin_dir}/pg_ctl"),
            port: None,
            config: config.clone(),
            journal: journal.clone(),
        };
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| e.to_string())?;
        if process::is_root() {
            let out = Program::new("chown").arg(&config.os_user).arg(&dir).output().map_err(|e| e.to_string())?;
            if !out.status.success() {
                return Err(format!(
                    "chown {} {}: {}",
                    config.os_user,
                    dir.display(),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        Ok(scratch)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let on = self.port.map(|p| format!(" on port {p}")).unwrap_or_default();
        match stop_server(&self.config, &self.pg_ctl, &self.dir) {
            Some(Ok(())) => self.journal.note(format!("stopped the scratch server{on}")),
            Some(Err(e)) => self.journal.note(format!("stopping the scratch server{on} failed: {e}")),
            None => {}
        }
        match std::fs::remove_dir_all(&self.dir) {
            Ok(()) => self.journal.note(format!("removed {}", self.dir.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => self.journal.note(format!("removing {} failed: {e}", self.dir.display())),
        }
    }
}

/// Stops a server running in `dir` (immediate: the copy is thrown away). None when none runs there.
fn stop_server(config: &Pgbackrest, pg_ctl: &str, dir: &Path) -> Option<Result<(), String>> {
    if !dir.join("postmaster.pid").exists() {
        return None;
    }
    let args = ["-D", &dir.to_string_lossy(), "-m", "immediate", "-w", "stop"].map(String::from);
    let out = command(config, pg_ctl, &args).output();
    Some(match out {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(String::from_utf8_lossy(&o.stderr).trim().to_string()),
        Err(e) => Err(e.to_string()),
    })
}

/// A scratch directory left by a run that no longer exists.
#[derive(Clone, Debug)]
pub struct Leftover {
    pub dir: PathBuf,
    pub pid: u32,
    /// A server was still running in it.
    pub server: bool,
    /// What removing it did: Ok, or why it could not be removed (the user's command to do it).
    pub removed: Result<(), String>,
}

impl std::fmt::Display for Leftover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let server = if self.server { " with a scratch server running in it" } else { "" };
        write!(f, "{}{server}, left by an interrupted glctl run (pid {})", self.dir.display(), self.pid)?;
        match &self.removed {
            Ok(()) => write!(f, ": stopped and removed"),
            Err(how) => write!(f, ": could not be removed ({how})"),
        }
    }
}

/// The pid in a scratch directory's name, when it is one of `stanza`'s.
fn owner(name: &str, stanza: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?.strip_prefix(stanza)?.strip_prefix('.')?;
    rest.split('.').next()?.parse().ok()
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Finds `stanza`'s scratch directories whose run is gone and removes them (a server in one is stopped
/// first). A directory of a running glctl is left alone.
pub fn sweep(config: &Pgbackrest, bin_dir: &str) -> Vec<Leftover> {
    let mut found = Vec::new();
    let entries = std::fs::read_dir(std::env::temp_dir()).into_iter().flatten().flatten();
    for entry in entries {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(pid) = owner(&name, &config.stanza) else { continue };
        if pid == std::process::id() || alive(pid) {
            continue;
        }
        let dir = entry.path();
        let pg_ctl = format!("{bin_dir}/pg_ctl");
        let stopped = stop_server(config, &pg_ctl, &dir);
        let server = stopped.is_some();
        let removed = match stopped {
            Some(Err(e)) => Err(format!(
                "stopping its server failed: {e}; remove it with `{pg_ctl} -D {} -m immediate stop && rm -rf {}`",
                dir.display(),
                dir.display()
            )),
            _ => std::fs::remove_dir_all(&dir).map_err(|e| format!("{e}; remove it with `rm -rf {}`", dir.display())),
        };
        found.push(Leftover { dir, pid, server, removed });
    }
    found.sort_by(|a, b| a.dir.cmp(&b.dir));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scratch_directory_names_its_stanza_and_owner() {
        let dir = dir_for("glctl", "BR-04");
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        assert_eq!(name, format!("glctl-drill.glctl.{}.br-04", std::process::id()));
        assert_eq!(owner(&name, "glctl"), Some(std::process::id()));
        assert_eq!(owner(&name, "other"), None, "another stanza's scratch is not ours");
        assert_eq!(owner("glctl-drill.glctl-x.12.br-04", "glctl"), None);
        assert_eq!(owner("glctl-stack.glctl.12", "glctl"), None);
    }
}
