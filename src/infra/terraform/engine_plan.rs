//! The engine side of a plan: reads the engine version and the parameter groups out of `terraform show -json`
//! (no-ops included, since an unchanged group still has to match a new version's family) and hands them, with
//! the environment's instances, to `engine::change`, which decides what the change is and what it takes.

use serde_json::Value;

use crate::config::model::Environment;
use crate::config::Loaded;
use crate::engine::change::{self, EnginePlan, Parameter, PlannedGroup, PlannedVersion, Topology};
use crate::engine::kinds::EngineKind;

/// The environment's instances by the names its file gives them (the writer's role, then each replica).
pub fn topology(env: &Environment) -> Topology {
    let aurora = env.engine.kind == EngineKind::AuroraPostgresql;
    let mut replicas: Vec<&crate::config::model::Replica> = env.engine.replicas.iter().collect();
    // Aurora fails over to the lowest promotion tier first; RDS replicas keep the file's order.
    if aurora {
        replicas.sort_by_key(|r| r.promotion_tier);
    }
    Topology {
        kind: env.engine.kind,
        writer: if aurora { "writer" } else { "primary" }.into(),
        readers: replicas.iter().map(|r| r.name.clone()).collect(),
        multi_az: env.engine.multi_az,
        production: env.tier == crate::config::model::Tier::Production,
    }
}

/// The engine changes of `plan` (`terraform show -json`) for `loaded`, refusals located at `engine.version`.
/// `emulated`: an AWS emulator answered the refresh, and a group it read back without parameters is unknown.
pub fn classify(loaded: &Loaded, plan: &Value, emulated: bool) -> EnginePlan {
    let (version, mut groups) = read(plan);
    for g in &mut groups {
        // moto reads back none of a DB parameter group's parameters (emulator.rs): that is not "none set".
        g.before_unknown = emulated && g.family_before.is_some() && g.before.is_empty() && !g.after.is_empty();
    }
    let mut engine = change::classify(&topology(&loaded.environment), version.as_ref(), &groups);
    let at = &loaded.engine_version_at;
    let located = format!("{}:{}:{}: engine.version: ", at.file.display(), at.line, at.column);
    for c in &mut engine.changes {
        for b in &mut c.blockers {
            b.insert_str(0, &located);
        }
    }
    engine
}

/// The planned engine version (RDS primary or Aurora cluster) and every parameter group.
pub fn read(plan: &Value) -> (Option<PlannedVersion>, Vec<PlannedGroup>) {
    let mut version = None;
    let mut groups = Vec::new();
    for rc in plan["resource_changes"].as_array().into_iter().flatten() {
        let (before, after) = (&rc["change"]["before"], &rc["change"]["after"]);
        let address = rc["address"].as_str().unwrap_or_default().to_string();
        let text = |side: &Value, key: &str| side[key].as_str().map(str::to_string);
        match rc["type"].as_str().unwrap_or_default() {
            // A read replica's version follows its source; the primary is the one without replicate_source_db.
            "aws_db_instance" if after["replicate_source_db"].as_str().is_none_or(str::is_empty) => {
                version.get_or_insert(planned_version(address, before, after));
            }
            "aws_rds_cluster" => {
                version.get_or_insert(planned_version(address, before, after));
            }
            "aws_db_parameter_group" | "aws_rds_cluster_parameter_group" => groups.push(PlannedGroup {
                address,
                family_before: text(before, "family"),
                family_after: text(after, "family"),
                before: parameters(before),
                after: parameters(after),
                before_unknown: false,
            }),
            _ => {}
        }
    }
    (version, groups)
}

fn planned_version(address: String, before: &Value, after: &Value) -> PlannedVersion {
    PlannedVersion {
        address,
        before: before["engine_version"].as_str().map(str::to_string),
        after: after["engine_version"].as_str().map(str::to_string),
        allow_major_version_upgrade: after["allow_major_version_upgrade"] == Value::Bool(true),
    }
}

fn parameters(side: &Value) -> Vec<Parameter> {
    side["parameter"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            Some(Parameter { name: p["name"].as_str()?.to_string(), value: p["value"].as_str()?.to_string() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::read;
    use serde_json::json;

    #[test]
    fn the_primary_s_version_and_every_group_are_read_and_replicas_skipped() {
        let plan = json!({"resource_changes": [
            {"address": "module.database.aws_db_instance.replica[\"r1\"]", "type": "aws_db_instance",
             "change": {"actions": ["update"], "before": {"engine_version": "16.6", "replicate_source_db": "p"},
                        "after": {"engine_version": "16.6", "replicate_source_db": "p"}}},
            {"address": "module.database.aws_db_instance.primary", "type": "aws_db_instance",
             "change": {"actions": ["update"], "before": {"engine_version": "16.6"},
                        "after": {"engine_version": "17.4", "allow_major_version_upgrade": true}}},
            {"address": "module.database.aws_db_parameter_group.this", "type": "aws_db_parameter_group",
             "change": {"actions": ["no-op"], "before": {"family": "postgres16", "parameter": [{"name": "work_mem", "value": "1", "apply_method": "immediate"}]},
                        "after": {"family": "postgres16", "parameter": [{"name": "work_mem", "value": "1", "apply_method": "immediate"}]}}}
        ]});
        let (version, groups) = read(&plan);
        let v = version.unwrap();
        assert_eq!((v.before.as_deref(), v.after.as_deref()), (Some("16.6"), Some("17.4")));
        assert!(v.allow_major_version_upgrade);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].family_after.as_deref(), Some("postgres16"));
        assert_eq!(groups[0].after[0].name, "work_mem");
    }

    #[test]
    fn a_created_resource_has_no_before() {
        let plan = json!({"resource_changes": [
            {"address": "module.database.aws_rds_cluster.this", "type": "aws_rds_cluster",
             "change": {"actions": ["create"], "before": null, "after": {"engine_version": "16.6"}}}
        ]});
        let (version, groups) = read(&plan);
        assert_eq!(version.unwrap().before, None);
        assert!(groups.is_empty());
    }
}
