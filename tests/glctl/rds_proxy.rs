//! `pooling.kind: rds-proxy`: prod (Aurora) and staging (RDS) render RDS Proxy in front of the writer — the
//! proxy (TLS required, IAM authentication, the Secrets Manager secrets), its default target group's pool and
//! the target — and the module validates with the real provider; an external server is refused.

use std::path::Path;

use crate::support::{glctl, repo};

fn render_with(parent: &str, pooling: &str) -> (tempfile::TempDir, crate::support::Output) {
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(format!("{parent}-proxy.yaml"));
    std::fs::write(
        &env,
        format!("extends: {}\npooling: {pooling}\n", repo().join(format!("environments/{parent}.yaml")).display()),
    )
    .unwrap();
    let out = dir.path().join("tf");
    let render = glctl(&["render", "-e", env.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    (dir, render)
}

fn validate(out: &Path) {
    let plugin_dir = std::env::var("GLCTL_TF_PLUGIN_DIR").unwrap_or_else(|_| "/opt/tf-plugins".into());
    let init = std::process::Command::new("terraform")
        .args(["init", "-backend=false", "-input=false", "-no-color", &format!("-plugin-dir={plugin_dir}")])
        .current_dir(out)
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let validate =
        std::process::Command::new("terraform").args(["validate", "-no-color"]).current_dir(out).output().unwrap();
    assert!(validate.status.success(), "{}", String::from_utf8_lossy(&validate.stdout));
}

/// A line with its runs of whitespace made one space (the rendered files are `terraform fmt`-aligned).
fn squeeze(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn rds_proxy_renders_the_proxy_its_target_group_and_target_with_iam_auth_and_the_secrets() {
    let (dir, render) = render_with("prod", "{ kind: rds-proxy, rds_proxy: { max_connections_percent: 80 } }");
    assert_eq!(render.code, 0, "{}", render.stderr);
    let out = dir.path().join("tf");
    let main = std::fs::read_to_string(out.join("main.tf")).unwrap();
    for line in [
        "module \"rds_proxy\" {",
        "secret_arns                  = merge({ master = module.database.master_secret_arn }, module.secrets.secret_arns)",
        "iam_auth                     = \"REQUIRED\"",
        "db_cluster_identifier        = module.database.cluster_identifier",
        "max_connections_percent      = 80",
        "max_idle_connections_percent = 50",
    ] {
        assert!(main.lines().any(|l| squeeze(l) == squeeze(line)), "missing `{line}` in:\n{main}");
    }
    let module = std::fs::read_to_string(out.join("modules/rds_proxy/main.tf")).unwrap();
    for needle in [
        "require_tls            = true",
        "auth_scheme = \"SECRETS\"",
        "aws_db_proxy_default_target_group",
        "aws_db_proxy_target",
    ] {
        assert!(module.contains(needle), "missing `{needle}`");
    }
    assert!(std::fs::read_to_string(out.join("outputs.tf")).unwrap().contains("output \"rds_proxy_endpoint\""));
    validate(&out);

    // RDS (staging): the target is the primary instance.
    let (dir, render) = render_with("staging", "{ kind: rds-proxy, rds_proxy: { iam_auth: disabled } }");
    assert_eq!(render.code, 0, "{}", render.stderr);
    let main = std::fs::read_to_string(dir.path().join("tf/main.tf")).unwrap();
    assert!(
        main.lines().any(|l| squeeze(l) == "db_instance_identifier = module.database.primary_identifier"),
        "{main}"
    );
    assert!(main.lines().any(|l| squeeze(l) == "iam_auth = \"DISABLED\""), "{main}");
}

#[test]
fn rds_proxy_on_an_external_server_and_impossible_pool_settings_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("bad.yaml");
    let text = std::fs::read_to_string(repo().join("environments/local-native.yaml")).unwrap();
    let text = text.replace(
        "  kind: pgbouncer\n",
        "  kind: rds-proxy\n  rds_proxy: { max_connections_percent: 40, max_idle_connections_percent: 60 }\n",
    );
    std::fs::write(&env, text).unwrap();
    let out = glctl(&["validate", "-e", env.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("pooling.kind: rds-proxy fronts RDS or Aurora only"), "{all}");
    assert!(
        all.contains("pooling.rds_proxy.max_idle_connections_percent: 60 exceeds max_connections_percent 40"),
        "{all}"
    );
}
