//! A database password given to glctl in any of the ways it accepts never appears in what glctl prints nor
//! in the environment of a child process.

use std::path::Path;

use crate::support::repo;
use crate::support::stack::stack;

/// A stand-in `terraform`, first on PATH, records its environment and fails: the one place where a
/// stand-in is right, since what matters is what glctl hands the child, not what terraform does with it.
fn stand_in_terraform(dir: &Path) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = format!(
        "#!/bin/sh\ncat >/dev/null\nenv > '{}/env.'$$\necho \"$@\" >> '{}/args'\necho 'stand-in terraform: refusing' >&2\nexit 1\n",
        dir.display(),
        dir.display()
    );
    let path = bin.join("terraform");
    std::fs::write(&path, script).unwrap();
    std::process::Command::new("chmod").arg("+x").arg(&path).status().unwrap();
}

#[test]
fn a_secret_given_any_way_never_reaches_output_or_a_child_process_stand_in_terraform() {
    let secret = format!("s3cret{}x", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    stand_in_terraform(dir.path());
    let path = format!("{}:{}", dir.path().join("bin").display(), std::env::var("PATH").unwrap());
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let ways: Vec<(&str, Option<String>, Option<String>)> = vec![
        ("--database-url URL", Some(format!("postgres://app:{secret}@127.0.0.1:{closed}/x?sslmode=disable")), None),
        (
            "GLCTL_DATABASE_URL key=value",
            None,
            Some(format!("host=127.0.0.1 port={closed} user=app password={secret} dbname=x sslmode=disable")),
        ),
        (
            "GLCTL_DATABASE_URL with an unencoded /",
            None,
            Some(format!("postgres://app:{secret}/z@127.0.0.1:{closed}/x?sslmode=disable")),
        ),
        ("PGPASSWORD", None, None),
    ];
    let s = stack();
    let mut runs = 0;
    for (way, flag, variable) in &ways {
        for args in [
            vec!["show", "-e", "local"],
            vec!["show", "-e", "local", "--output", "json"],
            vec!["validate", "-e", "local"],
            vec!["plan", "-e", "local", "--out", dir.path().join("tf").to_str().unwrap()],
            vec!["migrate", "status", "-e", "local"],
        ] {
            let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_glctl"));
            command.args(&args).current_dir(repo()).env("NO_COLOR", "1").env("PATH", &path);
            command.env("PGPASSWORD", &secret).env_remove("GLCTL_DATABASE_URL");
            for var in ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] {
                command.env(var, s.var(var));
            }
            if let Some(url) = flag {
                command.args(["--database-url", url]);
            }
            if let Some(url) = variable {
                command.env("GLCTL_DATABASE_URL", url);
            }
            let out = command.output().unwrap();
            let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            assert!(!printed.contains(&secret), "{way}: `glctl {}` printed the secret:\n{printed}", args.join(" "));
            assert!(!printed.contains("panicked"), "{way}: {printed}");
            runs += 1;
        }
    }
    let mut children = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("env.") {
            children += 1;
            let env = std::fs::read_to_string(&path).unwrap();
            assert!(!env.contains(&secret), "a terraform child got the secret:\n{env}");
            assert!(!env.contains("GLCTL_DATABASE_URL"), "a terraform child got GLCTL_DATABASE_URL");
            assert!(env.contains("AWS_ENDPOINT_URL"), "the child keeps what terraform needs");
        }
    }
    assert_eq!(runs, 20);
    assert!(children >= 4, "the stand-in terraform ran for every plan ({children} runs recorded)");
}
