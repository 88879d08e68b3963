use super::*;

fn rds(readers: &[&str], multi_az: bool) -> Topology {
    Topology {
        kind: EngineKind::RdsPostgresql,
        writer: "primary".into(),
        readers: readers.iter().map(|r| r.to_string()).collect(),
        multi_az,
        production: false,
    }
}

fn aurora(readers: &[&str]) -> Topology {
    Topology { kind: EngineKind::AuroraPostgresql, writer: "writer".into(), production: true, ..rds(readers, false) }
}

fn version(before: &str, after: &str, allow: bool) -> PlannedVersion {
    PlannedVersion {
        address: "module.database.aws_db_instance.primary".into(),
        before: Some(before.into()),
        after: Some(after.into()),
        allow_major_version_upgrade: allow,
    }
}

fn params(pairs: &[(&str, &str)]) -> Vec<Parameter> {
    pairs.iter().map(|(n, v)| Parameter { name: n.to_string(), value: v.to_string() }).collect()
}

fn group(family_before: &str, family_after: &str, before: &[(&str, &str)], after: &[(&str, &str)]) -> PlannedGroup {
    PlannedGroup {
        address: "module.database.aws_db_parameter_group.this".into(),
        family_before: Some(family_before.into()),
        family_after: Some(family_after.into()),
        before: params(before),
        after: params(after),
        before_unknown: false,
    }
}

#[test]
fn a_minor_version_is_an_outage_of_every_instance_without_a_major_flag() {
    let plan = classify(&rds(&[], true), Some(&version("16.6", "16.8", false)), &[]);
    assert_eq!(plan.changes.len(), 1);
    let c = &plan.changes[0];
    assert_eq!((c.class, c.downtime), (Class::MinorVersion, Downtime::Outage));
    assert!(c.blockers.is_empty(), "{c:?}");
    assert!(c.steps.iter().any(|s| s.contains("Multi-AZ standby are upgraded at the same time")), "{c:?}");
    assert!(c.steps.iter().any(|s| s.contains("maintenance window")), "{c:?}");
    assert_eq!(c.apply_flag, None, "not production");
}

#[test]
fn a_major_version_names_the_family_change_the_flag_and_the_order() {
    let plan = classify(&rds(&["replica1"], false), Some(&version("16.6", "17.4", true)), &[]);
    let c = &plan.changes[0];
    assert_eq!((c.class, c.downtime), (Class::MajorVersion, Downtime::LongOutage));
    assert!(c.blockers.is_empty(), "{c:?}");
    let text = c.steps.join("\n");
    assert!(text.contains("family postgres17 is created before the change, the postgres16 one removed"), "{text}");
    assert!(text.contains("allow_major_version_upgrade = true on module.database.aws_db_instance.primary"), "{text}");
    assert!(text.contains("in-Region read replicas (replica1) are upgraded with the primary"), "{text}");
    assert!(text.contains("extensions are not upgraded with the engine"), "{text}");
}

#[test]
fn a_major_version_without_the_flag_is_refused_naming_the_field() {
    let plan = classify(&rds(&[], false), Some(&version("16.6", "17.4", false)), &[]);
    assert_eq!(plan.blockers().len(), 1);
    assert!(plan.blockers()[0].contains("set engine.allow_major_version_upgrade: true"), "{plan:?}");
}

#[test]
fn aurora_upgrades_the_cluster_first_and_production_needs_the_apply_flag() {
    let mut v = version("16.6", "17.4", true);
    v.address = "module.database.aws_rds_cluster.this".into();
    let plan = classify(&aurora(&["replica1", "replica2"]), Some(&v), &[]);
    let c = &plan.changes[0];
    assert!(c.steps.iter().any(|s| s.starts_with("order: the cluster first")), "{c:?}");
    assert!(c.steps.iter().any(|s| s.contains("aurora-postgresql17")), "{c:?}");
    assert_eq!(plan.apply_flags(), [PRODUCTION_FLAG]);
}

#[test]
fn a_downgrade_is_refused_naming_the_version_to_keep() {
    let plan = classify(&rds(&[], false), Some(&version("16.6", "15.10", true)), &[]);
    let c = &plan.changes[0];
    assert_eq!(c.class, Class::Downgrade);
    assert!(c.blockers[0].contains("set engine.version back to 16.6"), "{c:?}");
    let minor_down = classify(&rds(&[], false), Some(&version("16.8", "16.6", false)), &[]);
    assert_eq!(minor_down.changes[0].class, Class::Downgrade, "16.8 → 16.6 compares numbers, not text");
    let numeric = classify(&rds(&[], false), Some(&version("16.9", "16.10", false)), &[]);
    assert_eq!(numeric.changes[0].class, Class::MinorVersion, "16.10 is after 16.9");
}

#[test]
fn a_group_whose_family_does_not_match_the_version_is_refused() {
    let g = group("postgres16", "postgres16", &[], &[]);
    let plan = classify(&rds(&[], false), Some(&version("16.6", "17.4", true)), &[g]);
    let blockers = plan.blockers();
    assert_eq!(blockers.len(), 1, "{plan:?}");
    assert!(blockers[0].contains("family postgres16, which does not match engine version 17.4"), "{blockers:?}");
    assert!(blockers[0].contains("must be of family postgres17"), "{blockers:?}");
}

#[test]
fn nothing_to_classify_when_nothing_changes_or_on_first_create() {
    assert!(classify(&rds(&[], false), Some(&version("16.6", "16.6", false)), &[]).is_empty());
    let created = PlannedVersion { before: None, ..version("16.6", "16.6", false) };
    let new_group =
        PlannedGroup { family_before: None, ..group("postgres16", "postgres16", &[], &[("work_mem", "1")]) };
    assert!(classify(&rds(&[], false), Some(&created), &[new_group]).is_empty());
}

#[test]
fn a_left_over_major_flag_is_noted() {
    let plan = classify(&rds(&[], false), Some(&version("17.4", "17.4", true)), &[]);
    assert!(plan.changes.is_empty());
    assert!(plan.notes[0].contains("remove it once the upgrade is done"), "{plan:?}");
}

#[test]
fn static_and_dynamic_parameters_are_told_apart_with_the_reboot_order() {
    let g = group(
        "aurora-postgresql16",
        "aurora-postgresql16",
        &[("work_mem", "4096"), ("max_connections", "200")],
        &[("work_mem", "8192"), ("max_connections", "400"), ("pgaudit.log", "ddl")],
    );
    let plan = classify(&aurora(&["replica1", "replica2"]), None, &[g]);
    let classes: Vec<(Class, &str)> = plan.changes.iter().map(|c| (c.class, c.subject.as_str())).collect();
    assert_eq!(
        classes,
        [
            (Class::StaticParameter, "max_connections 200 → 400"),
            (Class::DynamicParameter, "pgaudit.log (default) → ddl"),
            (Class::DynamicParameter, "work_mem 4096 → 8192"),
        ]
    );
    let order = plan.changes[0].steps.join("\n");
    assert!(order.contains("1. reboot the readers one at a time: replica1, replica2"), "{order}");
    assert!(order.contains("2. fail over to replica1"), "{order}");
    assert!(order.contains("3. reboot the old writer (writer)"), "{order}");
    assert_eq!(plan.changes[0].downtime, Downtime::Restart);
    assert_eq!(plan.changes[1].downtime, Downtime::None);
}

#[test]
fn rds_reboots_replicas_then_the_primary_and_a_removed_static_parameter_counts() {
    let g = group("postgres16", "postgres16", &[("shared_buffers", "16384")], &[]);
    let plan = classify(&rds(&["replica1"], true), None, &[g]);
    let c = &plan.changes[0];
    assert_eq!((c.class, c.subject.as_str()), (Class::StaticParameter, "shared_buffers 16384 → (default)"));
    let order = c.steps.join("\n");
    assert!(order.contains("1. reboot the read replicas one at a time: replica1"), "{order}");
    assert!(order.contains("2. reboot the primary with failover"), "{order}");
    let single = reboot_order(&rds(&[], false)).join("\n");
    assert!(single.contains("1. reboot the primary (no standby: an outage"), "{single}");
}

#[test]
fn a_parameter_of_unknown_apply_type_is_treated_as_static_and_says_so() {
    let g = group("postgres16", "postgres16", &[], &[("made_up.thing", "1")]);
    let plan = classify(&rds(&[], false), None, &[g]);
    assert_eq!(plan.changes[0].class, Class::StaticParameter);
    assert!(plan.changes[0].steps[0].contains("not known to glctl"), "{:?}", plan.changes[0]);
}

#[test]
fn a_major_upgrade_s_new_group_is_not_a_parameter_change() {
    let g = group("postgres16", "postgres17", &[("work_mem", "1")], &[("work_mem", "2")]);
    let plan = classify(&rds(&[], false), Some(&version("16.6", "17.4", true)), &[g]);
    assert_eq!(plan.changes.len(), 1, "{plan:?}");
    assert!(plan.blockers().is_empty(), "{plan:?}");
}

#[test]
fn extension_versions_say_what_the_move_changes() {
    let partman = extension_change("pg_partman", "4.7.4", "5.1.0");
    assert_eq!(partman.class, Class::ExtensionVersion);
    assert!(partman.steps.iter().any(|s| s.contains("part_config")), "{partman:?}");
    assert!(partman.steps.iter().any(|s| s.contains("#599")), "{partman:?}");
    let ts = extension_change("timescaledb", "2.14.2", "2.23.0");
    assert!(ts.steps.iter().any(|s| s.contains("first command of a fresh session")), "{ts:?}");
    assert!(extension_change("pg_cron", "1.6", "1.4").blockers[0].contains("cannot be downgraded"));
    assert!(extension_change("pg_cron", "1.4", "1.10").blockers.is_empty(), "1.10 is after 1.4");
}

#[test]
fn the_text_shows_each_change_its_downtime_flags_and_refusals() {
    let plan = classify(&aurora(&["replica1"]), Some(&version("16.6", "17.4", false)), &[]);
    let text = describe(&plan);
    assert!(text.starts_with("Engine changes:\n  MAJOR version: engine 16.6 → 17.4\n"), "{text}");
    assert!(text.contains("downtime: long outage"), "{text}");
    assert!(text.contains("production: `glctl apply` refuses this without --allow-engine-upgrade"), "{text}");
    assert!(text.contains("REFUSED: AWS refuses a major version change without AllowMajorVersionUpgrade"), "{text}");
    assert_eq!(describe(&EnginePlan::default()), "");
}

#[test]
fn the_plan_round_trips_through_json_as_the_saved_plan_record_does() {
    let plan = classify(&aurora(&["replica1"]), Some(&version("16.6", "17.4", false)), &[]);
    let json = serde_json::to_string(&plan).unwrap();
    assert!(json.contains("\"class\":\"major-version\"") && json.contains("\"downtime\":\"long-outage\""), "{json}");
    assert_eq!(serde_json::from_str::<EnginePlan>(&json).unwrap(), plan);
}

#[test]
fn a_group_whose_values_were_not_read_is_never_no_change() {
    let g = PlannedGroup {
        before_unknown: true,
        ..group("postgres16", "postgres16", &[], &[("work_mem", "1"), ("max_connections", "400")])
    };
    let plan = classify(&rds(&[], false), None, &[g]);
    assert!(plan.changes.is_empty(), "nothing is classified from values not read: {plan:?}");
    assert!(plan.notes[0].contains("which parameters change is NOT KNOWN"), "{plan:?}");
    assert!(plan.notes[0].contains("static (a change needs reboots): max_connections;"), "{plan:?}");
    assert!(plan.notes[0].contains("1. reboot the primary"), "{plan:?}");
}
