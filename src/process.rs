//! Every child process glctl starts, under one policy. Its environment is an allow-list: `BASE` (what any
//! program needs to run: no credential is among it) and then only the variables the caller names, each passed
//! on from glctl's environment or set to a value, so a password reaches a child only when the caller names
//! the variable that holds it. Its stdin is null unless the caller pipes it; the caller chooses its working
//! directory; `as_user` runs it as another OS user (through `runuser` when glctl is root); a long-lived child
//! runs in a process group of its own (`spawn_group`) whose whole group is killed when its guard drops.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

/// What every child gets of glctl's environment: where programs are, who and where it runs, its locale, its
/// clock and its temporary directory.
pub const BASE: &[&str] = &["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR"];

/// A child process to start: the program, its arguments, its environment, directory and user.
#[derive(Clone, Debug)]
pub struct Program {
    program: OsString,
    args: Vec<OsString>,
    env: BTreeMap<OsString, OsString>,
    dir: Option<PathBuf>,
    user: Option<String>,
    own_group: bool,
}

impl Program {
    /// `program` with `BASE` of glctl's environment and nothing else.
    pub fn new(program: impl AsRef<OsStr>) -> Program {
        let mut p = Program {
            program: program.as_ref().to_os_string(),
            args: Vec::new(),
            env: BTreeMap::new(),
            dir: None,
            user: None,
            own_group: false,
        };
        for name in BASE {
            p.pass(name);
        }
        p
    }

    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Program {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(&mut self, args: I) -> &mut Program {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// Passes glctl's `name` on, when glctl has it.
    pub fn pass(&mut self, name: &str) -> &mut Program {
        if let Some(value) = std::env::var_os(name) {
            self.env.insert(name.into(), value);
        }
        self
    }

    /// Passes on every variable of glctl's whose name starts with `prefix` (a program's own namespace).
    pub fn pass_prefixed(&mut self, prefix: &str) -> &mut Program {
        let named = std::env::vars_os().filter(|(k, _)| k.to_str().is_some_and(|k| k.starts_with(prefix)));
        self.env.extend(named);
        self
    }

    /// Sets `name` to `value` for the child.
    pub fn env(&mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Program {
        self.env.insert(name.as_ref().to_os_string(), value.as_ref().to_os_string());
        self
    }

    pub fn current_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Program {
        self.dir = Some(dir.into());
        self
    }

    /// Runs it as the OS user `user` when glctl is root (`runuser -u USER --`, which sets HOME, USER and
    /// LOGNAME to the user's own); otherwise as glctl's user, who cannot switch.
    pub fn as_user(&mut self, user: &str) -> &mut Program {
        self.user = Some(user.to_string());
        self
    }

    /// Runs it in a process group of its own: a terminal's Ctrl-C reaches glctl alone, which decides.
    pub fn own_group(&mut self) -> &mut Program {
        self.own_group = true;
        self
    }

    /// The `Command` that starts it (stdin null; stdout and stderr as the caller sets them).
    pub fn command(&self) -> Command {
        let mut command = match &self.user {
            Some(user) if is_root() => {
                let mut c = Command::new("runuser");
                c.args(["-u", user.as_str(), "--"]).arg(&self.program);
                c
            }
            _ => Command::new(&self.program),
        };
        command.args(&self.args).env_clear().envs(&self.env).stdin(Stdio::null());
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        if self.own_group {
            command.process_group(0);
        }
        command
    }

    /// Runs it to the end and collects what it printed.
    pub fn output(&self) -> std::io::Result<Output> {
        self.command().output()
    }

    /// Starts it in a process group of its own with stdout and stderr piped: the group is killed when the
    /// returned guard drops before the child exited.
    pub fn spawn_group(&self) -> std::io::Result<Group> {
        let mut command = self.command();
        command.process_group(0).stdout(Stdio::piped()).stderr(Stdio::piped());
        command.spawn().map(|child| Group { child })
    }
}

/// A child leading a process group of its own (`Program::spawn_group`); its whole group is killed (SIGKILL)
/// when this drops while the child still runs.
#[derive(Debug)]
pub struct Group {
    child: Child,
}

impl Group {
    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Kills the group when the child has not exited, and waits for the child.
    pub fn kill(&mut self) {
        // Until the child is waited for its pid, and so the group's id, cannot be reused.
        if let Ok(None) = self.child.try_wait() {
            // The shell's builtin `kill` (no procps needed; dash's takes no `--`); the group's id is the
            // child's pid.
            let mut kill = Program::new("sh");
            kill.args(["-c", &format!("kill -KILL -{}", self.child.id())]);
            let _ = kill.command().stdout(Stdio::null()).stderr(Stdio::null()).status();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether glctl runs as root (then `as_user` switches users).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(program: &Program) -> BTreeMap<String, String> {
        let out = program.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// This test's body runs in a copy of the test binary started with the variables set: setting them in
    /// this process would race the other tests' threads reading the environment.
    #[test]
    fn a_child_sees_the_base_and_the_named_variables_and_no_glctl_secret() {
        const MARK: &str = "GLCTL_PROCESS_TEST_COPY";
        if std::env::var_os(MARK).is_none() {
            let out = Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "process::tests::a_child_sees_the_base_and_the_named_variables_and_no_glctl_secret"])
                .env(MARK, "1")
                .env("GLCTL_POOLER_URL", "postgres://u:marker-pw@h/db")
                .env("PGPASSWORD", "marker-pw")
                .env("AWS_PROFILE", "p")
                .env("LANG", "C.UTF-8")
                .output()
                .unwrap();
            let said = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && said.contains("1 passed"),
                "{said}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        let mut program = Program::new("env");
        program.pass("PGPASSWORD").env("PGCONNECT_TIMEOUT", "10").pass_prefixed("AWS_").pass("UNSET_HERE");
        let env = env_of(&program);
        let allowed =
            |k: &str| BASE.contains(&k) || k.starts_with("AWS_") || ["PGPASSWORD", "PGCONNECT_TIMEOUT"].contains(&k);
        assert!(env.keys().all(|k| allowed(k)), "{env:?}");
        assert_eq!(env.get("PGPASSWORD").map(String::as_str), Some("marker-pw"), "named: passed on");
        assert_eq!(env.get("AWS_PROFILE").map(String::as_str), Some("p"));
        assert_eq!(env.get("LANG").map(String::as_str), Some("C.UTF-8"), "the base is passed on");
        assert!(!env.contains_key("GLCTL_POOLER_URL") && !env.contains_key(MARK), "{env:?}");
        assert!(!env_of(&Program::new("env")).values().any(|v| v.contains("marker-pw")), "not named: withheld");
    }

    #[test]
    fn a_child_runs_in_its_directory_with_stdin_null() {
        let dir = tempfile::tempdir().unwrap();
        let mut program = Program::new("sh");
        program.args(["-c", "pwd; cat"]).current_dir(dir.path());
        let out = program.output().unwrap();
        let canonical = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), canonical.to_string_lossy(), "and cat read nothing");
    }

    #[test]
    fn as_another_user_it_runs_as_that_user_when_glctl_is_root() {
        let mut program = Program::new("id");
        program.arg("-un").as_user("postgres");
        let Ok(out) = program.output() else { return };
        let user = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if is_root() && out.status.success() {
            assert_eq!(user, "postgres");
        } else if !is_root() {
            assert_ne!(user, "postgres", "glctl's own user: {user}");
        }
    }

    #[test]
    fn dropping_the_guard_kills_the_whole_group() {
        let mut program = Program::new("sh");
        // A grandchild in the same group, and the shell waiting for it.
        program.args(["-c", "sleep 60 & echo $!; wait"]);
        let mut group = program.spawn_group().unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(group.child().stdout.take().unwrap()), &mut line)
            .unwrap();
        let grandchild: u32 = line.trim().parse().unwrap();
        let gone = |pid: u32| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|s| s.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')))
                .unwrap_or(true)
        };
        assert!(!gone(grandchild));
        let dropped = std::time::Instant::now();
        drop(group);
        // Not by waiting for the shell to end on its own.
        assert!(dropped.elapsed() < std::time::Duration::from_secs(5), "{:?}", dropped.elapsed());
        let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !gone(grandchild) && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(gone(grandchild), "the grandchild {grandchild} was killed with its group");
    }

    /// Every spawn goes through this module: no other file of `src/` builds a `Command` itself.
    #[test]
    fn no_other_module_starts_a_process() {
        fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("src/process.rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for (n, line) in text.lines().enumerate() {
                        let code = line.split("//").next().unwrap_or_default();
                        if ["Command::new(", "tokio::process", ".process_group("].iter().any(|p| code.contains(p)) {
                            found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                        }
                    }
                }
            }
        }
        let mut found = Vec::new();
        walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
        assert!(found.is_empty(), "start it with process::Program instead:\n{}", found.join("\n"));
    }
}
