//! The two PgBouncers of the local stack, started once for this test binary from the file glctl renders:
//! `glctl apply -e local-native --only database` (which makes PgBouncer's auth_query lookup in the stack's
//! database `glctl`), `glctl render -e local-native` with the stack's address (pooling/pgbouncer.ini), then
//! `scripts/stack pgbouncer --ini` with that file. The stack cannot do this at its own start: it runs before
//! glctl is built. The stack stops them with everything else.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};

use super::repo;
use super::stack::stack;

pub struct Poolers {
    /// Both PgBouncers as one multi-host URL (GLCTL_POOLER_URL), as glctl_admin.
    pub url: String,
    /// Their admin console (GLCTL_POOLER_ADMIN_URL).
    pub admin_url: String,
    pub ports: Vec<u16>,
    /// The file glctl rendered.
    pub rendered: PathBuf,
    /// Each instance's pgbouncer.ini, as the stack runs it.
    pub running: Vec<PathBuf>,
}

/// The stack's PostgreSQL as `--database-url`, verified against the CA copy PostgreSQL's own user can read.
pub fn database_url() -> String {
    let s = stack();
    format!(
        "postgres://{}:{}@localhost:{}/glctl?sslmode=verify-full&sslrootcert={}/tls/ca.crt",
        s.var("GLCTL_PG_USER"),
        s.var("GLCTL_PG_PASSWORD"),
        s.var("GLCTL_PG_PORT"),
        pg_home().display()
    )
}

fn pg_home() -> PathBuf {
    let dir = Path::new(stack().var("GLCTL_STACK_DIR"));
    PathBuf::from(std::fs::read_to_string(dir.join("pg-home")).expect("the stack's pg-home").trim())
}

fn glctl(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_glctl"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env("GLCTL_DATABASE_URL", database_url())
        .output()
        .expect("glctl runs");
    assert!(
        out.status.success(),
        "glctl {}: {}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn poolers() -> &'static Poolers {
    static POOLERS: OnceLock<Poolers> = OnceLock::new();
    POOLERS.get_or_init(|| {
        let dir = PathBuf::from(stack().var("GLCTL_STACK_DIR"));
        let work = tempfile::tempdir().unwrap().keep();
        let out = work.to_str().unwrap();
        glctl(&["apply", "-e", "local-native", "--only", "database", "--out", out]);
        glctl(&["render", "-e", "local-native", "--out", out]);
        let rendered = work.join("pooling/pgbouncer.ini");
        let started = Command::new(repo().join("scripts/stack"))
            .args(["pgbouncer", "--dir"])
            .arg(&dir)
            .arg("--ini")
            .arg(&rendered)
            .output()
            .expect("scripts/stack runs");
        assert!(started.status.success(), "scripts/stack pgbouncer: {}", String::from_utf8_lossy(&started.stderr));
        let env = std::fs::read_to_string(dir.join("env")).unwrap();
        let var = |name: &str| {
            env.lines()
                .find_map(|l| l.strip_prefix(&format!("export {name}=")))
                .map(|v| v.trim_matches('\'').to_string())
                .unwrap_or_else(|| panic!("the stack's env file has no {name}"))
        };
        let ports = var("GLCTL_PGBOUNCER_PORTS").split(',').map(|p| p.parse().unwrap()).collect();
        let home = pg_home();
        Poolers {
            url: var("GLCTL_POOLER_URL"),
            admin_url: var("GLCTL_POOLER_ADMIN_URL"),
            ports,
            rendered,
            running: ["pgbouncer1", "pgbouncer2"].iter().map(|n| home.join(n).join("pgbouncer.ini")).collect(),
        }
    })
}

/// The PgBouncer tests hold this: the drill stops one PgBouncer, which the others' sessions would notice. The
/// live alert test holds it too: its connection threshold sits 20 sessions above what the server holds when it
/// starts, and the PgBouncers' server pools (tens of sessions, idle for minutes) would keep that alert firing.
pub fn poolers_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `glctl ARGS` against the stack's PostgreSQL and the PgBouncers, from the repository.
pub fn glctl_pooled(args: &[&str]) -> super::Output {
    let p = poolers();
    let out = Command::new(env!("CARGO_BIN_EXE_glctl"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env("GLCTL_DATABASE_URL", database_url())
        .env("GLCTL_POOLER_URL", &p.url)
        .env("GLCTL_POOLER_ADMIN_URL", &p.admin_url)
        .env("GLCTL_STACK_DIR", stack().var("GLCTL_STACK_DIR"))
        .env("AWS_ENDPOINT_URL", stack().var("AWS_ENDPOINT_URL"))
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", stack().var("AWS_REGION"))
        .output()
        .expect("glctl runs");
    super::Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
