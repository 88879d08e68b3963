//! `drift`: what changed outside glctl, in four layers, each a list of named differences:
//! infrastructure (a refresh-only Terraform plan, read from its JSON `resource_drift`), the migration
//! ledger against `sql/migrations/`, the live time-series policies (the same diff `plan` uses) against what
//! the last apply made — so a change of the file, which the next apply or promotion brings, is not drift —
//! and the objects the migrations made (triggers, indexes, grants) against the baseline `apply` kept.
//!
//! A layer that cannot be read is reported as such, never as "no drift". Acknowledged drift
//! (`drift.acknowledged` in the environment file) is listed with its reason and does not count.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::config::Loaded;
use crate::database::migrate;
use crate::database::objects;
use crate::database::stage::DatabaseStage;
use crate::error::Exit;
use crate::terraform::runner::Terraform;
use crate::terraform::{emulator, init_cache, plugin_dir};

mod infrastructure;

pub const DRIFT_PLAN: &str = "drift.tfplan";

#[derive(Clone, Debug, Serialize)]
pub struct Difference {
    /// `LAYER: NAME`, as `drift.acknowledged[].item` names it.
    pub name: String,
    /// What was seen against what was expected.
    pub detail: String,
    /// The acknowledgement's reason and expiry, when the file acknowledges it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<String>,
    /// A known gap of the AWS emulator, not a real difference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emulator: Option<String>,
}

impl Difference {
    pub fn counts(&self) -> bool {
        self.acknowledged.is_none() && self.emulator.is_none()
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Layer {
    pub layer: &'static str,
    /// Why the layer could not be read, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_read: Option<String>,
    pub differences: Vec<Difference>,
    /// What the reader should know (nothing applied yet, partitions and chunks left out).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Layer {
    fn new(layer: &'static str) -> Layer {
        Layer { layer, not_read: None, differences: vec![], notes: vec![] }
    }

    fn failed(layer: &'static str, why: String) -> Layer {
        Layer { not_read: Some(why), ..Layer::new(layer) }
    }

    fn push(&mut self, name: String, detail: String) {
        self.differences.push(Difference {
            name: format!("{}: {name}", self.layer),
            detail,
            acknowledged: None,
            emulator: None,
        });
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct DriftReport {
    pub environment: String,
    pub layers: Vec<Layer>,
}

impl DriftReport {
    /// The differences that count (not acknowledged, not the emulator's).
    pub fn drift(&self) -> Vec<&Difference> {
        self.layers.iter().flat_map(|l| &l.differences).filter(|d| d.counts()).collect()
    }

    pub fn unread(&self) -> Vec<&Layer> {
        self.layers.iter().filter(|l| l.not_read.is_some()).collect()
    }

    /// 1 drift found (also when a layer could not be read), 3 a layer could not be read, 0 none.
    pub fn exit(&self) -> Exit {
        if !self.drift().is_empty() {
            Exit::Problems
        } else if !self.unread().is_empty() {
            Exit::Incomplete
        } else {
            Exit::Ok
        }
    }
}

/// What `drift` reads.
pub struct DriftOptions {
    /// Read the infrastructure (terraform); off with `--only database`.
    pub infrastructure: bool,
    /// Read the database layers.
    pub database: bool,
    /// How long to wait for an apply in flight (the migration lock, taken shared).
    pub lock_timeout: Duration,
}

/// Reads every layer of `loaded`. Never fails: a layer that cannot be read says why.
pub async fn detect(
    loaded: &Loaded,
    stage: &DatabaseStage<'_>,
    work_dir: &Path,
    options: &DriftOptions,
    today: &str,
) -> DriftReport {
    let mut layers = Vec::new();
    if options.infrastructure {
        layers.push(infrastructure(loaded, work_dir));
    }
    if options.database {
        layers.extend(database(loaded, stage, options.lock_timeout).await);
    }
    let mut report = DriftReport { environment: loaded.name.clone(), layers };
    acknowledge(loaded, &mut report, today);
    report
}

fn acknowledge(loaded: &Loaded, report: &mut DriftReport, today: &str) {
    let Some(settings) = &loaded.environment.drift else { return };
    for d in report.layers.iter_mut().flat_map(|l| l.differences.iter_mut()) {
        if let Some(a) = settings.acknowledged.iter().find(|a| a.matches(&d.name) && a.expires.as_str() >= today) {
            d.acknowledged = Some(format!("acknowledged until {}: {}", a.expires, a.reason));
        }
    }
}

/// A refresh-only plan in the environment's work directory, read from its JSON.
fn infrastructure(loaded: &Loaded, dir: &Path) -> Layer {
    const LAYER: &str = "infrastructure";
    let has_state = dir.join("terraform.tfstate").is_file() || dir.join(".terraform").is_dir();
    if !has_state {
        let mut layer = Layer::new(LAYER);
        layer.notes.push(format!("nothing applied from {} yet: no Terraform state to compare", dir.display()));
        return layer;
    }
    let plugins = plugin_dir(loaded);
    let tf = Terraform::new(dir, plugins.clone());
    let plan = init_cache::init_if_needed(&tf, dir, plugins.as_deref())
        .and_then(|_| tf.plan_refresh_only(DRIFT_PLAN))
        .and_then(|_| tf.show_json(DRIFT_PLAN));
    let _ = std::fs::remove_file(dir.join(DRIFT_PLAN));
    match plan {
        Ok(plan) => resource_drift(&plan, emulator::in_use(), Some(dir)),
        Err(e) => Layer::failed(LAYER, format!("terraform {} failed: {}", e.step, e.output.trim())),
    }
}

/// `resource_drift` of a refresh-only plan's JSON: one difference per resource, naming the configured
/// attributes that changed (attributes AWS computes are noted, not counted), and one per live
/// security-group rule that no rule resource declares (`infrastructure.rs`). terraform's exit code says
/// nothing here (it can exit 2 with "No changes").
pub fn resource_drift(plan: &Value, emulated: bool, root: Option<&Path>) -> Layer {
    let mut layer = Layer::new("infrastructure");
    let mut computed_only: Vec<String> = Vec::new();
    for rd in plan["resource_drift"].as_array().into_iter().flatten() {
        let address = rd["address"].as_str().unwrap_or_default().to_string();
        let actions: Vec<&str> =
            rd["change"]["actions"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let all_changed = infrastructure::changed_attributes(&rd["change"]);
        let configured = infrastructure::configured_attributes(
            &plan["configuration"],
            root,
            rd["module_address"].as_str().unwrap_or_default(),
            rd["type"].as_str().unwrap_or_default(),
            rd["name"].as_str().unwrap_or_default(),
        );
        let (changed, computed): (Vec<String>, Vec<String>) = match &configured {
            Some(set) => all_changed.into_iter().partition(|a| set.contains(a)),
            None => (all_changed, vec![]),
        };
        if actions != ["delete"] && changed.is_empty() {
            // Only attributes AWS computes, or nothing but null against empty: not drift.
            if !computed.is_empty() {
                computed_only.push(format!("{address} ({})", computed.join(", ")));
            }
            continue;
        }
        let detail = match actions.as_slice() {
            ["delete"] => "deleted outside glctl".to_string(),
            _ if changed.is_empty() => format!("{} outside glctl", actions.join("/")),
            _ => format!("changed outside glctl: {}", changed.join(", ")),
        };
        let explained = if emulated {
            emulator::explain_drift(rd["type"].as_str().unwrap_or_default(), &changed, &rd["change"])
        } else {
            None
        };
        layer.push(address, detail);
        if let Some(why) = explained {
            layer.differences.last_mut().expect("pushed").emulator =
                Some(format!("emulator drift, not a real difference: {why}"));
        }
    }
    for found in infrastructure::undeclared_rules(plan, root) {
        layer.push(
            format!("{} {}", found.address, found.rule),
            format!("a rule of {} added outside glctl: no rule resource declares it", found.rule.group_id),
        );
    }
    if !computed_only.is_empty() {
        let shown: Vec<&str> = computed_only.iter().take(3).map(String::as_str).collect();
        layer.notes.push(format!(
            "{} resource(s) changed only in attributes the configuration does not set (AWS computes them; not \
             drift): {}{}",
            computed_only.len(),
            shown.join("; "),
            if computed_only.len() > shown.len() { "; …" } else { "" }
        ));
    }
    layer
}

/// The ledger, the policies and the objects, read under the migration lock taken shared.
async fn database(loaded: &Loaded, stage: &DatabaseStage<'_>, lock_timeout: Duration) -> Vec<Layer> {
    let names = ["migrations", "policies", "objects"];
    let all_failed = |why: String| names.iter().map(|l| Layer::failed(l, why.clone())).collect::<Vec<_>>();
    let (client, target) = match stage.connect_with_target().await {
        Ok(c) => c,
        Err(e) => return all_failed(e.to_string()),
    };
    if let Err(e) = migrate::lock_shared(&client, lock_timeout).await {
        return all_failed(e);
    }
    let mut layers = Vec::new();

    let mut ledger = Layer::new("migrations");
    let mut nothing_applied = false;
    match stage.status(&client).await {
        Err(e) => ledger.not_read = Some(e.to_string()),
        Ok(status) => {
            nothing_applied = status.applied.is_empty() && status.missing.is_empty();
            for m in &status.changed {
                ledger.push(m.file_name(), "applied, then the file changed (checksum differs)".into());
            }
            for row in &status.missing {
                ledger.push(
                    format!("{:04}_{}", row.version, row.name),
                    "in the ledger, but no such file in sql/migrations/ (unknown version)".into(),
                );
            }
            for (m, done) in &status.partial {
                ledger.push(m.file_name(), format!("stopped part-way after {done} statement(s)"));
            }
            if !status.pending.is_empty() {
                ledger.notes.push(format!(
                    "{} pending migration(s) are not drift: they are the next apply or promotion",
                    status.pending.len()
                ));
            }
        }
    }
    layers.push(ledger);

    let baseline = objects::baseline(&client).await;
    let applied = match &baseline {
        Ok(Some(base)) => objects::applied_policies(base, &loaded.environment),
        _ => None,
    };
    let mut policies = Layer::new("policies");
    let planned = match &applied {
        Some(env) => stage.policy_plan_against(env, &client, &target).await,
        None => {
            if !nothing_applied {
                policies.notes.push("no record of the policies apply made: compared with the file".into());
            }
            stage.policy_plan(&client, &target).await
        }
    };
    if applied.is_some() {
        policies.notes.push("compared with what the last apply made; changes of the file are the next apply".into());
    }
    match planned {
        Ok(_) if nothing_applied => {
            policies.notes.push("nothing applied yet: the first apply or promotion creates the policies".into())
        }
        Err(e) => policies.not_read = Some(e.to_string()),
        Ok(plan) => {
            for c in &plan.changes {
                policies.push(
                    format!("{} {}", c.object, c.setting),
                    format!(
                        "live {} against {} in the file",
                        c.from.as_deref().unwrap_or("(none)"),
                        c.to.as_deref().unwrap_or("(none)")
                    ),
                );
            }
            for name in &plan.missing {
                policies.push(name.clone(), "declared, but the database has no such table or summary".into());
            }
        }
    }
    layers.push(policies);

    let mut catalog = Layer::new("objects");
    match (baseline, objects::snapshot(&client).await) {
        (Err(e), _) | (_, Err(e)) => catalog.not_read = Some(crate::database::connect::reason(&e)),
        (Ok(None), _) if nothing_applied => {
            catalog.notes.push("nothing applied yet: no objects of glctl's to compare".into())
        }
        (Ok(None), _) => {
            catalog.not_read = Some("no baseline: `glctl apply` keeps one of what the migrations made".into())
        }
        (Ok(Some(base)), Ok(now)) => {
            for line in objects::differences(&base, &now) {
                catalog.push(line, "changed since the last apply (the catalog against its baseline)".into());
            }
            catalog.notes.push("partitions and chunks (pg_partman, TimescaleDB) are expected, never drift".into());
        }
    }
    layers.push(catalog);
    migrate::unlock_shared(&client).await;
    layers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_drift_is_read_from_the_json_and_emulator_gaps_are_labelled() {
        let plan = serde_json::json!({ "resource_drift": [
            { "address": "module.network_access.aws_security_group.this", "type": "aws_security_group",
              "change": { "actions": ["update"], "before": { "ingress": [] }, "after": { "ingress": [{ "from_port": 22 }] } } },
            { "address": "module.network_access.aws_vpc_security_group_ingress_rule.app", "type": "aws_vpc_security_group_ingress_rule",
              "change": { "actions": ["update"], "before": { "description": "x" }, "after": { "description": null } } }
        ]});
        let layer = resource_drift(&plan, true, None);
        assert_eq!(layer.differences.len(), 2);
        assert_eq!(layer.differences[0].name, "infrastructure: module.network_access.aws_security_group.this");
        assert_eq!(layer.differences[0].detail, "changed outside glctl: ingress");
        assert!(layer.differences[0].counts());
        assert!(layer.differences[1].emulator.as_deref().unwrap().starts_with("emulator drift"));
        assert!(resource_drift(&serde_json::json!({}), true, None).differences.is_empty(), "no resource_drift: none");
    }

    #[test]
    fn attributes_aws_computes_are_noted_and_moto_s_parameter_gap_is_labelled_in_the_drift_direction() {
        let plan = serde_json::json!({
            "resource_drift": [
                { "address": "module.database.aws_db_instance.primary", "type": "aws_db_instance", "name": "primary",
                  "module_address": "module.database",
                  "change": { "actions": ["update"], "before": { "latest_restorable_time": "a", "backup_retention_period": 7 },
                              "after": { "latest_restorable_time": "b", "backup_retention_period": 7 } } },
                { "address": "module.database.aws_db_parameter_group.this", "type": "aws_db_parameter_group", "name": "this",
                  "module_address": "module.database",
                  "change": { "actions": ["update"], "before": { "parameter": [{ "name": "work_mem" }] },
                              "after": { "parameter": [] } } },
                { "address": "module.database.aws_db_instance.replica", "type": "aws_db_instance", "name": "replica",
                  "module_address": "module.database",
                  "change": { "actions": ["update"], "before": { "backup_retention_period": 7 },
                              "after": { "backup_retention_period": 1 } } }
            ],
            "configuration": { "root_module": { "module_calls": { "database": { "source": "./modules/rds", "module": {
                "resources": [
                    { "address": "aws_db_instance.primary", "mode": "managed", "expressions": { "backup_retention_period": {} } },
                    { "address": "aws_db_instance.replica", "mode": "managed", "expressions": { "backup_retention_period": {} } },
                    { "address": "aws_db_parameter_group.this", "mode": "managed", "expressions": { "parameter": [] } }
                ] } } } } }
        });
        let layer = resource_drift(&plan, true, None);
        let counted: Vec<&str> = layer.differences.iter().filter(|d| d.counts()).map(|d| d.name.as_str()).collect();
        assert_eq!(counted, ["infrastructure: module.database.aws_db_instance.replica"], "{layer:#?}");
        assert!(layer.differences[0].emulator.is_some(), "the parameter group read back empty: {layer:#?}");
        assert!(layer.notes[0].contains("aws_db_instance.primary (latest_restorable_time)"), "{:?}", layer.notes);
        let real = resource_drift(&plan, false, None);
        assert_eq!(real.differences.iter().filter(|d| d.counts()).count(), 2, "on AWS the parameters count");
    }

    #[test]
    fn an_unread_layer_is_incomplete_and_drift_outranks_it() {
        let mut report = DriftReport { environment: "e".into(), layers: vec![Layer::failed("objects", "down".into())] };
        assert_eq!(report.exit(), Exit::Incomplete);
        let mut drifted = Layer::new("policies");
        drifted.push("t retention".into(), "x".into());
        report.layers.push(drifted);
        assert_eq!(report.exit(), Exit::Problems);
        report.layers.remove(0);
        report.layers[0].differences[0].acknowledged = Some("until".into());
        assert_eq!(report.exit(), Exit::Ok);
    }
}
