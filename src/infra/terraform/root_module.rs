//! Renders an environment into a self-contained Terraform root module: the root files from the tera
//! templates in `templates/root/`, the modules copied verbatim from `templates/modules/` (the same code in
//! every environment), normalised with `terraform fmt`. The same environment renders byte-identical files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::config::model::{Backend, EngineKind, Environment, LoginAuth};
use crate::config::Loaded;
use crate::engine::capabilities;
use crate::engine::parameters::for_parameter_group;

/// Files of a rendered root module, by relative path, and their digest (what a saved plan was made from).
pub struct RootModule {
    pub files: BTreeMap<PathBuf, String>,
}

impl RootModule {
    pub fn digest(&self) -> String {
        let mut hash = Sha256::new();
        for (path, text) in &self.files {
            hash.update(path.to_string_lossy().as_bytes());
            hash.update([0]);
            hash.update(text.as_bytes());
            hash.update([0]);
        }
        format!("{:x}", hash.finalize())
    }

    /// Writes the files under `dir`, removing rendered files that are no longer produced.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        for sub in ["modules", "main.tf", "versions.tf", "outputs.tf"] {
            let path = dir.join(sub);
            if path.is_dir() {
                std::fs::remove_dir_all(&path)?;
            }
        }
        for (path, text) in &self.files {
            let target = dir.join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(target, text)?;
        }
        Ok(())
    }
}

pub fn from_templates(loaded: &Loaded, templates: &Path) -> Result<RootModule, String> {
    let context = context(&loaded.name, &loaded.environment)?;
    let mut tera = tera::Tera::default();
    tera.register_filter("hcl", hcl_filter);
    let mut files = BTreeMap::new();
    for name in ["versions.tf", "main.tf", "outputs.tf"] {
        let template = templates.join("root").join(format!("{name}.tera"));
        let source =
            std::fs::read_to_string(&template).map_err(|e| format!("cannot read {}: {e}", template.display()))?;
        tera.add_raw_template(name, &source)
            .map_err(|e| format!("template {}: {}", template.display(), error_chain(&e)))?;
        let ctx = tera::Context::from_value(context.clone()).map_err(|e| e.to_string())?;
        let text = tera.render(name, &ctx).map_err(|e| format!("rendering {name}: {}", error_chain(&e)))?;
        files.insert(PathBuf::from(name), squeeze_blank_lines(&text));
    }
    let modules = templates.join("modules");
    for module in modules_used(&loaded.environment) {
        let dir = modules.join(module);
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "tf"))
            .collect();
        entries.sort();
        for file in entries {
            let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            files.insert(Path::new("modules").join(module).join(file.file_name().unwrap()), text);
        }
    }
    Ok(RootModule { files })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// Templates leave blank lines where a block was skipped; keep at most one.
fn squeeze_blank_lines(text: &str) -> String {
    let mut out = String::new();
    let mut blank = 0;
    for line in text.lines() {
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.trim_start_matches('\n').to_string()
}

/// Where in `terraform.state_bucket` the environment `name` keeps its state (with `state_backend: s3`).
pub fn state_key(name: &str, env: &Environment) -> String {
    format!("{}/{name}/terraform.tfstate", env.project)
}

pub fn modules_used(env: &Environment) -> Vec<&'static str> {
    let mut modules = match env.engine.kind {
        EngineKind::External => vec!["kms", "secrets"],
        EngineKind::AuroraPostgresql => with_copy(env, vec!["kms", "secrets", "network_access", "aurora", "alarms"]),
        EngineKind::RdsPostgresql => with_copy(env, vec!["kms", "secrets", "network_access", "rds", "alarms"]),
    };
    if rds_proxy(env) {
        modules.push("rds_proxy");
    }
    modules
}

/// Whether the environment puts RDS Proxy in front of a provisioned writer.
fn rds_proxy(env: &Environment) -> bool {
    env.pooling.kind == crate::config::pooling::PoolKind::RdsProxy && capabilities::of(env.engine.kind).provisioned
}

fn with_copy(env: &Environment, mut modules: Vec<&'static str>) -> Vec<&'static str> {
    if env.backup.cross_region_copy.enabled {
        modules.push("backup_copy");
    }
    modules
}

/// Everything the templates need, computed here so the templates stay declarative.
fn context(name: &str, env: &Environment) -> Result<Value, String> {
    let caps = capabilities::of(env.engine.kind);
    let prefix = format!("{}-{name}", env.project);
    let mut tags: BTreeMap<String, String> = env.tags.clone();
    tags.entry("Environment".into()).or_insert_with(|| name.to_string());
    let provisioned = caps.provisioned;
    // The RDS-managed master secret is created by RDS itself; glctl declares the other roles' secrets.
    // IAM logins have no password, so no secret; the platform attaches the rds-db:connect policy instead.
    let iam_logins: Vec<String> = env
        .secrets
        .iter()
        .filter(|(_, s)| s.auth == LoginAuth::Iam)
        .map(|(role, s)| s.username.clone().unwrap_or_else(|| role.clone()))
        .collect();
    let role_secrets: BTreeMap<&String, Value> = env
        .secrets
        .iter()
        .filter(|(_, s)| s.auth == LoginAuth::Password)
        .filter(|(role, _)| !(provisioned && role.as_str() == "master"))
        .map(|(role, s)| {
            let username = s.username.clone().unwrap_or_else(|| role.clone());
            (role, json!({ "name": s.name, "username": username, "description": s.description, "rotation_days": s.rotation_days }))
        })
        .collect();
    let database = if provisioned { Some(database_context(&prefix, env)?) } else { None };
    let copy = &env.backup.cross_region_copy;
    let backup_copy = (provisioned && copy.enabled).then(|| {
        // The daily AWS Backup job starts at the beginning of the environment's backup window.
        let (hour, minute) = env.backup.window.split('-').next().and_then(|s| s.split_once(':')).unwrap_or(("02", "00"));
        json!({
            "region": env.aws.dr_region,
            "retention_days": copy.retention_days.unwrap_or(env.backup.retention_days),
            "schedule": format!("cron({} {} * * ? *)", minute.trim_start_matches('0').parse::<u32>().unwrap_or(0), hour.trim_start_matches('0').parse::<u32>().unwrap_or(0)),
        })
    });
    Ok(json!({
        "env_name": name,
        "name": prefix,
        "region": env.aws.region,
        "account_id": env.aws.account_id,
        "tags": tags,
        "state": {
            "backend": serde_json::to_value(env.terraform.state_backend).unwrap(),
            "bucket": env.terraform.state_bucket,
            "lock_table": env.terraform.lock_table,
            "key": state_key(name, env),
        },
        "kms": env.kms,
        "role_secrets": role_secrets,
        "iam_logins": iam_logins,
        "rotation_lambda_arn": env.rotation_lambda_arn,
        "network": env.network,
        "connection": env.connection,
        "database": database,
        "backup_copy": backup_copy,
        "rds_proxy": rds_proxy(env).then(|| {
            let p = &env.pooling.rds_proxy;
            json!({
                "iam_auth": p.iam_auth.api(),
                "max_connections_percent": p.max_connections_percent,
                "max_idle_connections_percent": p.max_idle_connections_percent,
                "connection_borrow_timeout_seconds": p.connection_borrow_timeout_seconds,
                "idle_client_timeout_seconds": p.idle_client_timeout_seconds,
            })
        }),
    }))
}

fn database_context(prefix: &str, env: &Environment) -> Result<Value, String> {
    let aurora = env.engine.kind == EngineKind::AuroraPostgresql;
    let writer = env.engine.writer.as_ref().ok_or("a provisioned engine needs engine.writer")?;
    let major = env.engine.version.split('.').next().unwrap_or_default();
    let family = format!("{}{major}", capabilities::of(env.engine.kind).parameter_family_prefix);
    let parameters: Vec<_> = parameters_with_backend_needs(env)
        .iter()
        .map(|(name, value)| for_parameter_group(name, value))
        .collect::<Result<_, _>>()?;
    let replicas: BTreeMap<&String, Value> = env
        .engine
        .replicas
        .iter()
        .map(|r| {
            let mut v = json!({ "instance_class": r.instance_class, "availability_zone": r.availability_zone });
            if aurora {
                v["promotion_tier"] = json!(r.promotion_tier);
            }
            (&r.name, v)
        })
        .collect();
    let writer_role = if aurora { "writer" } else { "primary" };
    // Memory in bytes per instance, for the FreeableMemory (and Aurora FreeLocalStorage) thresholds.
    let memory = |class: &str| capabilities::instance_memory_gib(class).map(|gib| gib.saturating_mul(1 << 30));
    let mut alarm_instances = BTreeMap::new();
    alarm_instances.insert(
        writer_role.to_string(),
        json!({ "identifier": format!("{prefix}-{writer_role}"), "replica": false, "memory_bytes": memory(&writer.instance_class) }),
    );
    for r in &env.engine.replicas {
        alarm_instances.insert(
            r.name.clone(),
            json!({ "identifier": format!("{prefix}-{}", r.name), "replica": true, "memory_bytes": memory(&r.instance_class) }),
        );
    }
    let storage = &env.storage;
    let master_rotation = env.secrets.get("master").and_then(|s| s.rotation_days).unwrap_or(7);
    Ok(json!({
        "module": if aurora { "aurora" } else { "rds" },
        "engine_version": env.engine.version,
        "parameter_family": family,
        "allow_major_version_upgrade": env.engine.allow_major_version_upgrade,
        "database_name": env.connection.database,
        "writer": { "instance_class": writer.instance_class, "availability_zone": writer.availability_zone },
        "replicas": replicas,
        "multi_az": env.engine.multi_az,
        "storage": {
            "type": serde_json::to_value(storage.r#type).unwrap(),
            "allocated_gb": storage.allocated_gb,
            "max_allocated_gb": storage.max_allocated_gb,
            "iops": storage.iops,
            "throughput_mibps": storage.throughput_mibps,
        },
        "storage_encrypted": storage.encrypted,
        "parameters": parameters,
        "master_secret_rotation_days": master_rotation,
        "backup": env.backup,
        "maintenance_window": env.maintenance_window,
        "monitoring": env.monitoring,
        "deletion_protection": env.deletion_protection,
        "alarm_instances": alarm_instances,
    }))
}

/// The environment's parameters plus what its time-series backend needs loaded: on `native`, pg_cron in
/// `shared_preload_libraries` and `cron.database_name` set to the application database, so the jobs glctl
/// schedules run where the tables are. A value the file sets itself is kept (pg_cron is appended).
pub fn parameters_with_backend_needs(env: &Environment) -> BTreeMap<String, String> {
    let mut parameters: BTreeMap<String, String> =
        env.parameters.iter().map(|(name, value)| (name.clone(), value.0.clone())).collect();
    if env.timeseries.backend == Backend::Native {
        let libraries = parameters.entry("shared_preload_libraries".into()).or_default();
        let listed = libraries.split(',').any(|l| l.trim().trim_matches('\'') == "pg_cron");
        if !listed {
            *libraries = if libraries.trim().is_empty() { "pg_cron".into() } else { format!("{libraries},pg_cron") };
        }
        parameters.entry("cron.database_name".into()).or_insert_with(|| env.connection.database.clone());
    }
    parameters
}

/// Renders a JSON value as an HCL expression: strings quoted (with `${`/`%{` escaped so nothing
/// interpolates), lists and objects in HCL syntax, null as `null`.
fn hcl_filter(value: &Value, _: &std::collections::HashMap<String, Value>) -> tera::Result<Value> {
    Ok(Value::String(hcl(value)))
}

pub fn hcl(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let quoted = serde_json::to_string(s).expect("strings serialise");
            quoted.replace("${", "$${").replace("%{", "%%{")
        }
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(hcl).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            if map.is_empty() {
                return "{}".into();
            }
            let mut out = String::from("{\n");
            for (k, v) in map {
                out.push_str(&format!("{} = {}\n", serde_json::to_string(k).unwrap(), hcl(v)));
            }
            out.push('}');
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{hcl, parameters_with_backend_needs};
    use crate::config::model::Environment;
    use serde_json::json;

    fn env(backend: &str, parameters: &str) -> Environment {
        let yaml = format!(
            "project: p\ntier: non-production\naws: {{ account_id: '123456789012', region: us-east-1 }}\n\
             engine: {{ kind: rds-postgresql, version: '16.6' }}\ntimeseries: {{ backend: {backend} }}\n\
             connection: {{ database: climate }}\nparameters: {{ {parameters} }}\n"
        );
        serde_yaml_ng::from_str(&yaml).unwrap()
    }

    #[test]
    fn the_native_backend_loads_pg_cron_in_the_application_database() {
        let p = parameters_with_backend_needs(&env("native", "shared_preload_libraries: pg_stat_statements"));
        assert_eq!(p["shared_preload_libraries"], "pg_stat_statements,pg_cron");
        assert_eq!(p["cron.database_name"], "climate");
        let p = parameters_with_backend_needs(&env("native", "shared_preload_libraries: 'pg_cron,pgaudit'"));
        assert_eq!(p["shared_preload_libraries"], "pg_cron,pgaudit", "already listed");
        let p = parameters_with_backend_needs(&env("timescaledb", "work_mem: 64MB"));
        assert!(!p.contains_key("cron.database_name") && !p.contains_key("shared_preload_libraries"));
    }

    #[test]
    fn strings_never_interpolate() {
        assert_eq!(hcl(&json!("a ${b} %{c}")), r#""a $${b} %%{c}""#);
    }

    #[test]
    fn objects_and_lists_are_hcl() {
        assert_eq!(hcl(&json!({"a": [1, "x"], "b": null})), "{\n\"a\" = [1, \"x\"]\n\"b\" = null\n}");
    }
}
