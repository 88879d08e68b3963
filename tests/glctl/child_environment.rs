//! Issue 26: no child process glctl starts sees a variable holding a password it does not need. glctl runs with
//! the stack's env file loaded (its passwords real where glctl needs them: GLCTL_DATABASE_URL, GLCTL_POOLER_URL,
//! GLCTL_POOLER_ADMIN_URL) and a marker password in every other secret-bearing variable (GLCTL_PG_PASSWORD,
//! PGPASSWORD, DATABASE_URL, GLCTL_STAGING_DATABASE_URL). Each child is observed by a **recorder**: a small
//! script of the child's name first on PATH (or in `backup.pgbackrest.bin_dir`, or declared as the drill's
//! command) that copies `/proc/$$/environ` and its arguments into a directory, then execs the real program —
//! a recorder, not a stand-in (only the failover command is the recorder alone: it causes no failover). No
//! child needs any of these passwords: pgBackRest and the scratch copy's psql reach the server as an OS user
//! over its socket, the failover and restart commands read the stack's own files, terraform and git need
//! none, so no recorded environment may hold one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::backup::backups_lock;
use crate::support::poolers::{poolers, poolers_lock};
use crate::support::repo;
use crate::support::stack::stack;

/// A recorder directory: `bin/` holds the recorders, `records/` what each child was started with.
struct Recorders {
    _dir: tempfile::TempDir,
    bin: PathBuf,
    records: PathBuf,
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

impl Recorders {
    fn new() -> Recorders {
        let dir = tempfile::tempdir().unwrap();
        // pgBackRest, pg_ctl and psql run as the server's OS user when the tests run as root: they must reach
        // the recorders and write their records.
        chmod(dir.path(), 0o755);
        let (bin, records) = (dir.path().join("bin"), dir.path().join("records"));
        std::fs::create_dir(&bin).unwrap();
        std::fs::create_dir(&records).unwrap();
        chmod(&bin, 0o755);
        chmod(&records, 0o777);
        Recorders { _dir: dir, bin, records }
    }

    /// A recorder named `name` in `bin/` that then runs `then` (a shell line; `"$@"` are its arguments).
    fn add(&self, name: &str, then: &str) -> PathBuf {
        let path = self.bin.join(name);
        let script = format!(
            "#!/bin/sh\n# A recorder: notes what it was started with, then runs the real program.\n\
             f='{}/{name}.'$$\ncat /proc/$$/environ >\"$f.env\"\nprintf '%s\\n' \"$@\" >\"$f.args\"\n{then}\n",
            self.records.display()
        );
        std::fs::write(&path, script).unwrap();
        chmod(&path, 0o755);
        path
    }

    /// A recorder in front of the program `name` that PATH finds now.
    fn add_in_front_of(&self, name: &str) -> Option<PathBuf> {
        let real = which(name)?;
        Some(self.add(name, &format!("exec '{}' \"$@\"", real.display())))
    }

    /// PATH with the recorders first.
    fn path(&self) -> std::ffi::OsString {
        let rest = std::env::var_os("PATH").unwrap_or_default();
        std::env::join_paths(std::iter::once(self.bin.clone()).chain(std::env::split_paths(&rest))).unwrap()
    }

    /// Every recorded child: its name, arguments and environment.
    fn children(&self) -> Vec<Child> {
        let mut children = Vec::new();
        for entry in std::fs::read_dir(&self.records).unwrap().flatten() {
            let file = entry.file_name().to_string_lossy().to_string();
            let Some(stem) = file.strip_suffix(".env") else { continue };
            let name = stem.rsplit_once('.').map(|(n, _)| n.to_string()).unwrap_or_default();
            let raw = std::fs::read(entry.path()).unwrap();
            let env = raw
                .split(|b| *b == 0)
                .filter(|v| !v.is_empty())
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .filter_map(|v| v.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
                .collect();
            let args = std::fs::read_to_string(self.records.join(format!("{stem}.args"))).unwrap_or_default();
            children.push(Child { name, args: args.lines().collect::<Vec<_>>().join(" "), env });
        }
        children.sort_by(|a, b| (&a.name, &a.args).cmp(&(&b.name, &b.args)));
        children
    }
}

struct Child {
    name: String,
    args: String,
    env: BTreeMap<String, String>,
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(name)).find(|p| p.is_file())
}

/// The stack's env file as `source` would export it.
fn env_file() -> BTreeMap<String, String> {
    let dir = PathBuf::from(stack().var("GLCTL_STACK_DIR"));
    std::fs::read_to_string(dir.join("env"))
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.split('\'').nth(1).unwrap_or(v).to_string()))
        .collect()
}

/// The password in a `postgres://user:password@…` URL.
fn password_in(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let userinfo = rest.split_once('@').map(|(u, _)| u).unwrap_or_default();
    userinfo.split_once(':').map(|(_, p)| p.to_string()).unwrap_or_default()
}

/// glctl's environment: the stack's env file, the stack's PostgreSQL as GLCTL_DATABASE_URL, the marker in
/// every secret-bearing variable glctl does not read, the recorders first on PATH. Returns it and the
/// passwords no child may see.
fn environment(recorders: &Recorders) -> (BTreeMap<String, String>, Vec<String>) {
    let mut env = env_file();
    let marker = format!("glctl-marker-{}", std::process::id());
    let admin = env["GLCTL_PG_PASSWORD"].clone();
    let url =
        format!("postgres://{}:{admin}@localhost:{}/glctl?sslmode=require", env["GLCTL_PG_USER"], env["GLCTL_PG_PORT"]);
    let mut secrets = vec![admin, marker.clone()];
    for pooler in ["GLCTL_POOLER_URL", "GLCTL_POOLER_ADMIN_URL"] {
        secrets.extend(env.get(pooler).map(|url| password_in(url)));
    }
    let marked = format!("postgres://postgres:{marker}@127.0.0.1:1/postgres");
    env.insert("GLCTL_DATABASE_URL".into(), url);
    env.insert("GLCTL_PG_PASSWORD".into(), marker.clone());
    env.insert("PGPASSWORD".into(), marker);
    env.insert("DATABASE_URL".into(), marked.clone());
    env.insert("GLCTL_STAGING_DATABASE_URL".into(), marked);
    env.insert("PATH".into(), recorders.path().to_string_lossy().into_owned());
    env.insert("NO_COLOR".into(), "1".into());
    for var in ["HOME", "USER", "LANG", "TMPDIR"] {
        if let Ok(value) = std::env::var(var) {
            env.insert(var.into(), value);
        }
    }
    secrets.retain(|s| s.len() >= 8);
    (env, secrets)
}

fn glctl(env: &BTreeMap<String, String>, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_glctl"))
        .args(args)
        .current_dir(repo())
        .env_clear()
        .envs(env)
        .output()
        .expect("glctl runs")
}

/// Each recorded variable that holds one of `secrets`, as `child (args): NAME`.
fn leaks(children: &[Child], secrets: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for child in children {
        for (name, value) in &child.env {
            if secrets.iter().any(|s| value.contains(s.as_str())) {
                found.push(format!("{} ({}): {name}", child.name, child.args));
            }
        }
    }
    found
}

fn table(children: &[Child]) -> String {
    children
        .iter()
        .map(|c| format!("{} ({}): {}", c.name, c.args, c.env.keys().cloned().collect::<Vec<_>>().join(" ")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One `verify --drills --only BR-06,HA-01,HA-05` on local-native with standbys (the shape the issue measured
/// 8 children leaking on): git, chown and runuser (as root), pgbackrest, pg_ctl and psql (the scratch copy's
/// server and its queries: `backup.pgbackrest.bin_dir` points at their recorders), the failover command and
/// PgBouncer's restart command. None is given a password. About 13 s on the local stack.
#[test]
fn recorders_in_front_of_every_child_of_a_drill_run_see_no_password() {
    let _backups = backups_lock();
    let _poolers = poolers_lock();
    poolers();
    let out = tempfile::tempdir().unwrap();
    crate::backup_drills::prepared(out.path());
    let recorders = Recorders::new();
    for name in ["git", "chown", "runuser", "pgbackrest"] {
        recorders.add_in_front_of(name);
    }
    let pg_bin = Path::new("/usr/lib/postgresql/15/bin");
    for name in ["pg_ctl", "psql"] {
        recorders.add(name, &format!("exec '{}' \"$@\"", pg_bin.join(name).display()));
    }
    let failover = recorders.add("failover", "exit 0");
    let restart = recorders
        .add("restart", &format!("exec '{}' pgbouncer-restart \"$@\"", repo().join("scripts/stack").display()));
    let (env, secrets) = environment(&recorders);
    let file = out.path().join("children.yaml");
    std::fs::write(
        &file,
        format!(
            "extends: {}
replication:
  standbys:
    - {{ name: standby_sync, mode: sync, port: {} }}
    - {{ name: standby_async, mode: async, port: {} }}
drills: {{ failover_command: ['{}'], failover_timeout_seconds: 2 }}
backup:
  pgbackrest: {{ bin_dir: '{}' }}
pooling:
  restart_command: ['{}', '{{instance}}']
",
            repo().join("environments/local-native.yaml").display(),
            env["GLCTL_PG_SYNC_PORT"],
            env["GLCTL_PG_ASYNC_PORT"],
            failover.display(),
            recorders.bin.display(),
            restart.display()
        ),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let run = glctl(
        &env,
        &[
            "verify",
            "-e",
            file.to_str().unwrap(),
            "--out",
            out.path().to_str().unwrap(),
            "--format",
            "json",
            "--drills",
            "--only",
            "BR-06,HA-01,HA-05",
        ],
    );
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let children = recorders.children();
    let seen = |name: &str| children.iter().any(|c| c.name == name);
    let mut wanted = vec!["git", "pgbackrest", "pg_ctl", "psql", "failover", "restart"];
    if crate::backup::is_root() {
        wanted.extend(["chown", "runuser"]);
    }
    for name in wanted {
        assert!(
            seen(name),
            "no {name} was recorded (after {took:?}):\n{}\n{stdout}\n{}",
            table(&children),
            String::from_utf8_lossy(&run.stderr)
        );
    }
    assert_no_leaks(&children, &secrets);
}

/// `glctl plan -e local --only infra` against the stack's moto with the same environment: terraform (fmt,
/// init, plan, show) gets its AWS_* and TF_* settings and no password. About 7 s.
#[test]
fn a_recorder_in_front_of_terraform_sees_no_password_in_a_plan() {
    let recorders = Recorders::new();
    recorders.add_in_front_of("terraform").expect("terraform on PATH");
    let (env, secrets) = environment(&recorders);
    let out = tempfile::tempdir().unwrap();
    let plan = glctl(&env, &["plan", "-e", "local", "--only", "infra", "--out", out.path().to_str().unwrap()]);
    assert_eq!(plan.status.code(), Some(0), "{}", String::from_utf8_lossy(&plan.stderr));
    let children = recorders.children();
    let subcommands: Vec<&str> = children.iter().filter_map(|c| c.args.split(' ').next()).collect();
    assert!(subcommands.contains(&"plan"), "terraform plan was recorded: {subcommands:?}");
    let terraform = children.iter().find(|c| c.args.starts_with("plan")).unwrap();
    assert!(terraform.env.contains_key("AWS_ENDPOINT_URL"), "{}", table(&children));
    assert_no_leaks(&children, &secrets);
}

/// Fails naming every child that was given a password it does not need, with every child's environment.
fn assert_no_leaks(children: &[Child], secrets: &[String]) {
    let leaks = leaks(children, secrets);
    assert!(
        leaks.is_empty(),
        "children given a password they do not need:\n{}\n\nevery child:\n{}",
        leaks.join("\n"),
        table(children)
    );
}
