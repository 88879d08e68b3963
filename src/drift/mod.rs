//! `drift`: what changed outside glctl, in four layers, each a list of named differences:
//! infrastructure (a refresh-only Terraform plan of the state where the environment keeps it — its S3
//! backend, or the work directory for `state_backend: local` — read from its JSON `resource_drift`), the
//! migration ledger against `sql/migrations/`, the live time-series policies (the same diff `plan` uses)
//! against what the last apply made — so a change of the file, which the next apply or promotion brings, is
//! not drift — and the objects the migrations made (triggers, indexes, grants) against the baseline `apply`
//! kept. An environment that declares indexes gets a fifth layer, `indexes`: each declared one missing,
//! INVALID or incomplete, and each extra one on a declared table (`database::indexes::extras`).
//!
//! A layer is one of three things, never more: compared (its differences, none is "clean"), read and found
//! with nothing glctl applied (an empty state, an empty ledger: not "clean", there is nothing to compare),
//! or not read, with why (never "no drift"). Acknowledged drift (`drift.acknowledged` in the environment
//! file) is listed with its reason and does not count.

use std::path::Path;
use std::time::Duration;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::aws::AwsContext;
use crate::config::model::StateBackend;
use crate::config::Loaded;
use crate::database::indexes;
use crate::database::migrate;
use crate::database::objects;
use crate::database::stage::DatabaseStage;
use crate::error::Exit;
use crate::infra::terraform::runner::TerraformError;
use crate::infra::terraform::{emulator, init_cache, plugin_dir, root_module};
use crate::project::Project;

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

/// How far a layer was read. In the JSON: nothing for `Compared`, else `not_read` or `nothing_applied`
/// with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reading {
    /// Read and compared: its differences are what was found (none: the layer is clean).
    Compared,
    /// Read, and nothing glctl applies is there (the backend answered and holds no state; the ledger is
    /// empty): there is nothing to compare, which is not "clean". Says where glctl looked.
    NothingApplied(String),
    /// Could not be read, and why: never "clean".
    NotRead(String),
}

impl Serialize for Reading {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self {
            Reading::Compared => {}
            Reading::NothingApplied(why) => map.serialize_entry("nothing_applied", why)?,
            Reading::NotRead(why) => map.serialize_entry("not_read", why)?,
        }
        map.end()
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Layer {
    pub layer: &'static str,
    #[serde(flatten)]
    pub reading: Reading,
    pub differences: Vec<Difference>,
    /// What the reader should know (pending migrations, partitions and chunks left out).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Layer {
    fn new(layer: &'static str) -> Layer {
        Layer { layer, reading: Reading::Compared, differences: vec![], notes: vec![] }
    }

    fn failed(layer: &'static str, why: String) -> Layer {
        Layer { reading: Reading::NotRead(why), ..Layer::new(layer) }
    }

    fn nothing_applied(layer: &'static str, why: String) -> Layer {
        Layer { reading: Reading::NothingApplied(why), ..Layer::new(layer) }
    }

    /// Why the layer could not be read, if it could not.
    pub fn not_read(&self) -> Option<&str> {
        match &self.reading {
            Reading::NotRead(why) => Some(why),
            _ => None,
        }
    }

    /// Where glctl looked and found nothing applied, if it did.
    pub fn found_nothing_applied(&self) -> Option<&str> {
        match &self.reading {
            Reading::NothingApplied(why) => Some(why),
            _ => None,
        }
    }

    /// Read, compared, and nothing differs: the only layer that may be called clean.
    pub fn is_clean(&self) -> bool {
        self.reading == Reading::Compared && self.differences.is_empty()
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
        self.layers.iter().filter(|l| l.not_read().is_some()).collect()
    }

    /// The layers read and found with nothing glctl applied (not clean, not unread).
    pub fn nothing_applied(&self) -> Vec<&Layer> {
        self.layers.iter().filter(|l| l.found_nothing_applied().is_some()).collect()
    }

    /// 1 drift found (also when a layer could not be read), 3 a layer could not be read, 0 none (a layer
    /// with nothing applied is read: 0).
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

/// What the infrastructure layer reads with: the environment's templates, its AWS context (the account
/// is checked before terraform runs, as for `plan`) and its work directory (the root module is rendered
/// there; with `state_backend: local` the state is there too).
pub struct InfraTarget<'a> {
    pub project: &'a Project,
    pub aws: &'a AwsContext,
    pub work_dir: &'a Path,
}

/// Reads every layer of `loaded`. Never fails: a layer that cannot be read says why.
pub async fn detect(
    loaded: &Loaded,
    infra: &InfraTarget<'_>,
    stage: &DatabaseStage<'_>,
    options: &DriftOptions,
    today: &str,
) -> DriftReport {
    let mut layers = Vec::new();
    if options.infrastructure {
        layers.push(infrastructure(loaded, infra).await);
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

/// A refresh-only plan of the environment's state, read from its JSON. The root module is rendered into
/// the work directory and initialised with its backend, as `plan` does, so a checkout without that
/// directory reads the same state as the machine that applied. The state is pulled first: a backend that
/// answers with no state (or one without resources) is "nothing applied", which glctl can show; anything
/// that stops the read is NOT READ with terraform's or AWS's reason.
async fn infrastructure(loaded: &Loaded, target: &InfraTarget<'_>) -> Layer {
    const LAYER: &str = "infrastructure";
    let dir = target.work_dir;
    let settings = &loaded.environment.terraform;
    let backend = match settings.state_backend {
        StateBackend::Local => {
            // The local backend's state is this file; no file is a state that holds nothing.
            let state = dir.join("terraform.tfstate");
            if !state.is_file() {
                return Layer::nothing_applied(
                    LAYER,
                    format!(
                        "no Terraform state at {} (state_backend: local): nothing applied from this directory yet",
                        state.display()
                    ),
                );
            }
            state.display().to_string()
        }
        StateBackend::S3 => format!(
            "s3://{}/{}",
            settings.state_bucket.as_deref().unwrap_or("(no terraform.state_bucket)"),
            root_module::state_key(&loaded.name, &loaded.environment)
        ),
    };
    let not_read = |why: String| Layer::failed(LAYER, format!("the state in {backend} was not read: {why}"));
    if let Err(e) = target.aws.verify().await {
        return not_read(e.to_string());
    }
    if let Err(e) = crate::infra::write_work_dir(target.project, loaded, dir) {
        return not_read(format!("cannot render the root module into {}: {e}", dir.display()));
    }
    let tf = crate::infra::terraform::for_environment(loaded, dir);
    let state = init_cache::init_if_needed(&tf, dir, plugin_dir(loaded).as_deref()).and_then(|_| tf.state_pull());
    match state {
        Err(e) => return not_read(terraform_reason(&e)),
        Ok(None) => {
            return Layer::nothing_applied(LAYER, format!("the backend {backend} holds no state: nothing applied yet"))
        }
        Ok(Some(state)) if managed_resources(&state) == 0 => {
            return Layer::nothing_applied(
                LAYER,
                format!("the state in {backend} holds no resources: nothing applied yet, or all of it destroyed"),
            )
        }
        Ok(Some(_)) => {}
    }
    let plan = tf.plan_refresh_only(DRIFT_PLAN).and_then(|_| tf.show_json(DRIFT_PLAN));
    let _ = std::fs::remove_file(dir.join(DRIFT_PLAN));
    match plan {
        Ok(plan) => resource_drift(&plan, emulator::in_use(), Some(dir)),
        Err(e) => not_read(terraform_reason(&e)),
    }
}

/// The managed resources a pulled state holds (data sources are read again on every plan).
fn managed_resources(state: &Value) -> usize {
    state["resources"].as_array().into_iter().flatten().filter(|r| r["mode"] == "managed").count()
}

/// terraform's own error, without the warnings before it and the box drawing around it.
fn terraform_reason(e: &TerraformError) -> String {
    let output = e.output.replace(['│', '╷', '╵'], "");
    let text = output.find("Error:").map(|at| &output[at..]).unwrap_or(&output);
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    format!("terraform {} failed: {}", e.step, lines.join(" "))
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
        Err(e) => ledger.reading = Reading::NotRead(e.to_string()),
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
            if nothing_applied && ledger.differences.is_empty() {
                ledger.reading = Reading::NothingApplied(
                    "the ledger (glctl.schema_migrations) is empty: nothing applied yet".into(),
                );
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
            policies.reading =
                Reading::NothingApplied("nothing applied yet: the first apply or promotion creates the policies".into())
        }
        Err(e) => policies.reading = Reading::NotRead(e.to_string()),
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
        (Err(e), _) | (_, Err(e)) => catalog.reading = Reading::NotRead(crate::database::connect::reason(&e)),
        (Ok(None), _) if nothing_applied => {
            catalog.reading = Reading::NothingApplied("nothing applied yet: no objects of glctl's to compare".into())
        }
        (Ok(None), _) => {
            catalog.reading =
                Reading::NotRead("no baseline: `glctl apply` keeps one of what the migrations made".into())
        }
        (Ok(Some(base)), Ok(now)) => {
            for line in objects::differences(&base, &now) {
                catalog.push(line, "changed since the last apply (the catalog against its baseline)".into());
            }
            catalog.notes.push("partitions and chunks (pg_partman, TimescaleDB) are expected, never drift".into());
        }
    }
    layers.push(catalog);
    if loaded.environment.hypertables.values().any(|h| !h.indexes.is_empty()) {
        layers.push(declared_indexes(loaded, stage, &client, nothing_applied).await);
    }
    migrate::unlock_shared(&client).await;
    layers
}

/// The declared indexes: missing, INVALID or on some partitions only; and extra ones on a declared table —
/// neither declared, nor made by a migration (read from `sql/migrations/`), nor backing a constraint.
async fn declared_indexes(
    loaded: &Loaded,
    stage: &DatabaseStage<'_>,
    client: &tokio_postgres::Client,
    nothing_applied: bool,
) -> Layer {
    let mut layer = Layer::new("indexes");
    if nothing_applied {
        layer.reading = Reading::NothingApplied("nothing applied yet: the first apply builds the indexes".into());
        return layer;
    }
    let env = &loaded.environment;
    let schema = indexes::migration_schema(&stage.migrations);
    let read = async {
        Ok::<_, tokio_postgres::Error>((
            indexes::status(client, env).await?,
            indexes::extras(client, env, &schema).await?,
        ))
    };
    match read.await {
        Err(e) => layer.reading = Reading::NotRead(crate::database::connect::reason(&e)),
        Ok((statuses, extras)) => {
            for s in statuses.iter().filter(|s| s.is_change()) {
                layer.push(format!("{}.{}", s.table, s.index), s.describe());
            }
            for e in extras {
                layer.push(
                    format!("{}.{}", e.table, e.index),
                    "extra: on a declared table, neither declared nor made by a migration nor backing a constraint"
                        .into(),
                );
            }
        }
    }
    layer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terraform_s_reason_is_its_error_on_one_line_without_warnings_or_box_drawing() {
        let e = TerraformError {
            step: "init".into(),
            output: "╷\n│ Warning: Unable to open CLI configuration file\n╵\nInitializing the backend...\n╷\n│ Error: Failed to get existing workspaces: S3 bucket \"x\" does not exist.\n│\n│ The referenced S3 bucket must have been previously created.\n╵\n".into(),
            applied: vec![],
        };
        assert_eq!(
            terraform_reason(&e),
            "terraform init failed: Error: Failed to get existing workspaces: S3 bucket \"x\" does not exist. The \
             referenced S3 bucket must have been previously created."
        );
    }

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
