//! A readable summary of `terraform show -json PLAN`: changes grouped by module, and every replacement or
//! destruction of a stateful resource called out, because those lose data.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::change::{self, EnginePlan};

/// Resource types that hold data or keys: replacing or destroying one loses something.
pub const STATEFUL: &[&str] =
    &["aws_rds_cluster", "aws_rds_cluster_instance", "aws_db_instance", "aws_kms_key", "aws_secretsmanager_secret"];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Replace,
    Delete,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Change {
    pub address: String,
    pub module: String,
    pub r#type: String,
    pub action: Action,
    /// Attributes whose change forces the replacement.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace_paths: Vec<String>,
    /// Top-level attributes an update changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed_attributes: Vec<String>,
    /// Why this change is not a real difference (known gaps of an emulator); shown, never hidden.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emulator_drift: Option<String>,
    /// Static parameters (`pending-reboot`) this parameter-group change sets: they take effect only after
    /// the instances reboot.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reboot_needed_for: Vec<String>,
}

impl Change {
    pub fn is_destructive(&self) -> bool {
        matches!(self.action, Action::Replace | Action::Delete) && STATEFUL.contains(&self.r#type.as_str())
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PlanSummary {
    pub changes: Vec<Change>,
    /// What the engine and parameter-group changes are and take (`engine::change`).
    #[serde(default, skip_serializing_if = "EnginePlan::is_empty")]
    pub engine: EnginePlan,
}

impl PlanSummary {
    /// `emulated`: AWS is an emulator (AWS_ENDPOINT_URL is set), so its known gaps are explained.
    pub fn from_show_json(plan: &Value, emulated: bool) -> Self {
        let mut changes = Vec::new();
        for rc in plan["resource_changes"].as_array().into_iter().flatten() {
            let actions: Vec<&str> =
                rc["change"]["actions"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            let action = match actions.as_slice() {
                ["create"] => Action::Create,
                ["update"] => Action::Update,
                ["delete"] => Action::Delete,
                ["delete", "create"] | ["create", "delete"] => Action::Replace,
                _ => continue, // no-op, read
            };
            let replace_paths = rc["change"]["replace_paths"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    p.as_array()
                        .into_iter()
                        .flatten()
                        .map(|s| s.to_string().trim_matches('"').to_string())
                        .collect::<Vec<_>>()
                        .join(".")
                })
                .collect();
            let r#type = rc["type"].as_str().unwrap_or_default().to_string();
            let changed_attributes = if action == Action::Update { changed_attributes(&rc["change"]) } else { vec![] };
            let emulator_drift = if emulated && action == Action::Update {
                super::emulator::explain(&r#type, &changed_attributes, &rc["change"])
            } else {
                None
            };
            let reboot_needed_for =
                if action == Action::Update && r#type.ends_with("parameter_group") && emulator_drift.is_none() {
                    static_parameters_changed(&rc["change"])
                } else {
                    vec![]
                };
            changes.push(Change {
                reboot_needed_for,
                address: rc["address"].as_str().unwrap_or_default().to_string(),
                module: rc["module_address"].as_str().unwrap_or("(root)").to_string(),
                r#type,
                action,
                replace_paths,
                changed_attributes,
                emulator_drift,
            });
        }
        changes.sort_by(|a, b| (&a.module, &a.address).cmp(&(&b.module, &b.address)));
        PlanSummary { changes, engine: EnginePlan::default() }
    }

    pub fn count(&self, action: Action) -> usize {
        self.changes.iter().filter(|c| c.action == action).count()
    }

    pub fn destructive(&self) -> Vec<&Change> {
        self.changes.iter().filter(|c| c.is_destructive()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Text for people: a line per module with its counts, then every destructive change.
    pub fn describe(&self) -> String {
        if self.changes.is_empty() {
            return "No changes: the infrastructure matches the environment file.\n".into();
        }
        let mut by_module: BTreeMap<&str, BTreeMap<Action, usize>> = BTreeMap::new();
        for c in &self.changes {
            *by_module.entry(&c.module).or_default().entry(c.action).or_default() += 1;
        }
        let width = by_module.keys().map(|m| m.len()).max().unwrap_or(0);
        let mut out = String::new();
        for (module, counts) in &by_module {
            let parts: Vec<String> = counts.iter().map(|(action, n)| format!("{} {n}", symbol(*action))).collect();
            out.push_str(&format!("  {module:<width$}  {}\n", parts.join("  ")));
        }
        for c in self.changes.iter().filter(|c| c.action != Action::Create) {
            let why = if !c.replace_paths.is_empty() {
                format!(" (forced by {})", c.replace_paths.join(", "))
            } else if !c.changed_attributes.is_empty() {
                format!(" ({})", c.changed_attributes.join(", "))
            } else {
                String::new()
            };
            out.push_str(&format!("  {} {}{why}\n", symbol(c.action), c.address));
            if let Some(drift) = &c.emulator_drift {
                out.push_str(&format!("      emulator drift, not a real difference: {drift}\n"));
            }
            if !c.reboot_needed_for.is_empty() {
                out.push_str(&format!(
                    "      REBOOT PENDING: {} take effect only after the instances reboot (static parameters)\n",
                    c.reboot_needed_for.join(", ")
                ));
            }
        }
        out.push_str(&change::describe(&self.engine));
        for c in self.destructive() {
            out.push_str(&format!(
                "DESTRUCTIVE: {} will be {} — data or keys are lost; `glctl apply` refuses without --allow-destroy\n",
                c.address,
                if c.action == Action::Replace { "replaced" } else { "destroyed" }
            ));
        }
        out.push_str(&format!(
            "Plan: {} to add, {} to change, {} to replace, {} to destroy.\n",
            self.count(Action::Create),
            self.count(Action::Update),
            self.count(Action::Replace),
            self.count(Action::Delete)
        ));
        let drift = self.changes.iter().filter(|c| c.emulator_drift.is_some()).count();
        if drift > 0 {
            out.push_str(&format!(
                "{drift} of these are emulator drift (AWS_ENDPOINT_URL is set); {} real change(s).\n",
                self.changes.len() - drift
            ));
        }
        out
    }
}

/// Names of `pending-reboot` parameters whose entry the update adds or changes.
fn static_parameters_changed(change: &Value) -> Vec<String> {
    let entries = |side: &str| -> Vec<Value> { change[side]["parameter"].as_array().cloned().unwrap_or_default() };
    let before = entries("before");
    let mut names: Vec<String> = entries("after")
        .iter()
        .filter(|p| p["apply_method"] == "pending-reboot" && !before.contains(p))
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Top-level attributes whose planned value differs from the current one (or is not known yet).
fn changed_attributes(change: &Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let before = change["before"].as_object().unwrap_or(&empty);
    let after = change["after"].as_object().unwrap_or(&empty);
    let unknown = change["after_unknown"].as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| unknown.get(*k) == Some(&Value::Bool(true)) || before.get(*k) != after.get(*k))
        .filter(|k| !matches!(k.as_str(), "tags_all")) // derived from tags and default_tags
        .cloned()
        .collect()
}

fn symbol(action: Action) -> &'static str {
    match action {
        Action::Create => "+",
        Action::Update => "~",
        Action::Replace => "-/+",
        Action::Delete => "-",
    }
}

#[cfg(test)]
mod tests {
    use super::{Action, PlanSummary};
    use serde_json::json;

    fn resource(
        address: &str,
        module: &str,
        r#type: &str,
        actions: &[&str],
        change: serde_json::Value,
    ) -> serde_json::Value {
        let mut c = change;
        c["actions"] = json!(actions);
        json!({ "address": address, "module_address": module, "type": r#type, "change": c })
    }

    fn show(resources: Vec<serde_json::Value>) -> serde_json::Value {
        json!({ "resource_changes": resources })
    }

    #[test]
    fn actions_are_read_and_no_ops_skipped() {
        let plan = show(vec![
            resource("module.kms.aws_kms_key.this", "module.kms", "aws_kms_key", &["create"], json!({})),
            resource("module.kms.aws_kms_alias.this", "module.kms", "aws_kms_alias", &["no-op"], json!({})),
            resource(
                "module.database.aws_rds_cluster.this",
                "module.database",
                "aws_rds_cluster",
                &["delete", "create"],
                json!({"replace_paths": [["database_name"]]}),
            ),
            resource(
                "module.secrets.aws_secretsmanager_secret.app",
                "module.secrets",
                "aws_secretsmanager_secret",
                &["delete"],
                json!({}),
            ),
        ]);
        let summary = PlanSummary::from_show_json(&plan, false);
        assert_eq!(summary.changes.len(), 3);
        assert_eq!(summary.count(Action::Create), 1);
        assert_eq!(summary.count(Action::Replace), 1);
        assert_eq!(summary.count(Action::Delete), 1);
        assert_eq!(summary.changes[0].replace_paths, ["database_name"], "sorted by module: database first");
    }

    #[test]
    fn replacing_or_destroying_a_stateful_resource_is_destructive_and_other_changes_are_not() {
        let plan = show(vec![
            resource(
                "module.database.aws_rds_cluster.this",
                "module.database",
                "aws_rds_cluster",
                &["create", "delete"],
                json!({}),
            ),
            resource(
                "module.network_access.aws_security_group.this",
                "module.network_access",
                "aws_security_group",
                &["delete", "create"],
                json!({}),
            ),
            resource(
                "module.kms.aws_kms_key.this",
                "module.kms",
                "aws_kms_key",
                &["update"],
                json!({"before": {"a": 1}, "after": {"a": 2}}),
            ),
        ]);
        let summary = PlanSummary::from_show_json(&plan, false);
        let destructive: Vec<&str> = summary.destructive().iter().map(|c| c.address.as_str()).collect();
        assert_eq!(destructive, ["module.database.aws_rds_cluster.this"]);
        let text = summary.describe();
        assert!(text.contains("DESTRUCTIVE: module.database.aws_rds_cluster.this will be replaced"), "{text}");
        assert!(text.contains("Plan: 0 to add, 1 to change, 2 to replace, 0 to destroy."), "{text}");
    }

    #[test]
    fn an_update_names_the_attributes_it_changes_but_not_derived_tags() {
        let change = json!({
            "before": {"backup_retention_period": 7, "tags_all": {"a": "1"}, "port": 5432, "endpoint": "e"},
            "after": {"backup_retention_period": 30, "tags_all": {"a": "2"}, "port": 5432, "endpoint": "e"},
            "after_unknown": {"endpoint": true}
        });
        let plan = show(vec![resource(
            "module.database.aws_rds_cluster.this",
            "module.database",
            "aws_rds_cluster",
            &["update"],
            change,
        )]);
        let summary = PlanSummary::from_show_json(&plan, false);
        assert_eq!(summary.changes[0].changed_attributes, ["backup_retention_period", "endpoint"]);
        assert!(summary
            .describe()
            .contains("~ module.database.aws_rds_cluster.this (backup_retention_period, endpoint)"));
    }

    #[test]
    fn a_changed_static_parameter_says_a_reboot_is_pending() {
        let change = json!({
            "before": {"parameter": [
                {"name": "shared_preload_libraries", "value": "pg_stat_statements", "apply_method": "pending-reboot"},
                {"name": "work_mem", "value": "4096", "apply_method": "immediate"}]},
            "after": {"parameter": [
                {"name": "shared_preload_libraries", "value": "pg_stat_statements,pg_cron", "apply_method": "pending-reboot"},
                {"name": "work_mem", "value": "8192", "apply_method": "immediate"}]}
        });
        let plan = show(vec![resource(
            "module.database.aws_db_parameter_group.this",
            "module.database",
            "aws_db_parameter_group",
            &["update"],
            change,
        )]);
        let summary = PlanSummary::from_show_json(&plan, false);
        assert_eq!(summary.changes[0].reboot_needed_for, ["shared_preload_libraries"]);
        assert!(summary.describe().contains("REBOOT PENDING: shared_preload_libraries take effect only after"));
    }

    #[test]
    fn an_empty_plan_says_the_infrastructure_matches() {
        let summary = PlanSummary::from_show_json(&show(vec![]), false);
        assert!(summary.is_empty());
        assert_eq!(summary.describe(), "No changes: the infrastructure matches the environment file.\n");
    }

    #[test]
    fn counts_are_grouped_by_module() {
        let plan = show(vec![
            resource("module.kms.aws_kms_key.this", "module.kms", "aws_kms_key", &["create"], json!({})),
            resource("module.kms.aws_kms_alias.this", "module.kms", "aws_kms_alias", &["create"], json!({})),
            resource(
                "module.secrets.aws_secretsmanager_secret.app",
                "module.secrets",
                "aws_secretsmanager_secret",
                &["create"],
                json!({}),
            ),
        ]);
        let text = PlanSummary::from_show_json(&plan, false).describe();
        assert!(text.starts_with("  module.kms      + 2\n  module.secrets  + 1\n"), "{text}");
    }
}
