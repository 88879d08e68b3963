//! One promotion into a target at a time: `.glctl/DST/promote.lock`, created exclusively and holding the
//! owner's process id. A second promotion waits for it and then checks its gates again (they are checked
//! under the lock). A lock whose owner no longer runs (killed, Ctrl-C) is taken over, so an interrupted
//! promotion never blocks the next one; the guard removes the file when the promotion ends.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const LOCK_FILE: &str = "promote.lock";

#[derive(Debug)]
pub struct PromoteLock {
    path: PathBuf,
}

impl Drop for PromoteLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn owner_runs(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else { return false };
    match text.trim().parse::<u32>() {
        Ok(pid) => Path::new(&format!("/proc/{pid}")).exists(),
        // Being written right now by its owner.
        Err(_) => true,
    }
}

/// Takes the lock of the target whose work directory is `dir`, waiting up to `wait`; `on_wait` is told once.
/// Returns the guard and whether it had to wait.
pub fn acquire(dir: &Path, wait: Duration, on_wait: impl Fn()) -> Result<(PromoteLock, bool), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(LOCK_FILE);
    let started = Instant::now();
    let mut waited = false;
    loop {
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                let _ = writeln!(file, "{}", std::process::id());
                return Ok((PromoteLock { path }, waited));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if !owner_runs(&path) {
                    let _ = std::fs::remove_file(&path);
                    continue;
                }
                if !waited {
                    on_wait();
                    waited = true;
                }
                if started.elapsed() >= wait {
                    return Err(format!(
                        "another promotion into this target holds {} ; gave up after {} s",
                        path.display(),
                        wait.as_secs()
                    ));
                }
                std::thread::sleep(Duration::from_millis(250));
            }
            Err(e) => return Err(format!("cannot create {}: {e}", path.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_waits_and_a_dead_owner_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let (guard, waited) = acquire(dir.path(), Duration::from_secs(1), || {}).unwrap();
        assert!(!waited);
        let e = acquire(dir.path(), Duration::from_millis(300), || {}).unwrap_err();
        assert!(e.contains("gave up"), "{e}");
        drop(guard);
        assert!(!dir.path().join(LOCK_FILE).exists(), "the guard cleans up");
        std::fs::write(dir.path().join(LOCK_FILE), "999999999\n").unwrap();
        assert!(acquire(dir.path(), Duration::from_secs(1), || {}).is_ok(), "a dead owner's lock is taken over");
    }
}
