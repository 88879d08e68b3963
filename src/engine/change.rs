//! What an engine change is and what it takes, decided from a plan's before and after alone (pure: no
//! terraform, AWS or database here). A minor version, a major version, a downgrade, an extension version and a
//! parameter change are each classified with the steps AWS takes, their order, the expected downtime class and
//! what AWS (or glctl, where an emulator would let it through) refuses, each refusal naming what satisfies it.
//! The knowledge is the shipped tables: `versions.tsv` (families) and the parameters' apply types.

use serde::{Deserialize, Serialize};

use super::kinds::EngineKind;
use super::parameters::{apply_type, ApplyType};
use super::versions;

/// The flag `glctl apply` needs to change a production environment's engine version.
pub const PRODUCTION_FLAG: &str = "--allow-engine-upgrade";
/// The environment field that renders `allow_major_version_upgrade`.
pub const MAJOR_FIELD: &str = "engine.allow_major_version_upgrade";

/// The instances of the environment, by the names its file gives them.
#[derive(Clone, Debug)]
pub struct Topology {
    pub kind: EngineKind,
    /// `writer` (Aurora) or `primary` (RDS).
    pub writer: String,
    /// Aurora readers or RDS read replicas, in promotion order (the first is the failover target).
    pub readers: Vec<String>,
    pub multi_az: bool,
    pub production: bool,
}

/// The engine version the plan moves from and to, on the RDS primary or the Aurora cluster.
#[derive(Clone, Debug, Default)]
pub struct PlannedVersion {
    pub address: String,
    /// `None`: the resource is being created.
    pub before: Option<String>,
    pub after: Option<String>,
    /// `allow_major_version_upgrade` in the planned resource.
    pub allow_major_version_upgrade: bool,
}

/// One entry of a parameter group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parameter {
    pub name: String,
    pub value: String,
}

/// A parameter group in the plan (created, updated, replaced or unchanged).
#[derive(Clone, Debug, Default)]
pub struct PlannedGroup {
    pub address: String,
    /// `None`: the group is being created.
    pub family_before: Option<String>,
    /// `None`: the group is being destroyed.
    pub family_after: Option<String>,
    pub before: Vec<Parameter>,
    pub after: Vec<Parameter>,
    /// The current values could not be read (an emulator reads none back): which parameters change is unknown.
    pub before_unknown: bool,
}

/// What an engine change is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    MinorVersion,
    MajorVersion,
    Downgrade,
    ExtensionVersion,
    StaticParameter,
    DynamicParameter,
}

impl Class {
    pub fn label(self) -> &'static str {
        match self {
            Class::MinorVersion => "minor version",
            Class::MajorVersion => "MAJOR version",
            Class::Downgrade => "DOWNGRADE",
            Class::ExtensionVersion => "extension version",
            Class::StaticParameter => "static parameter (reboot)",
            Class::DynamicParameter => "dynamic parameter",
        }
    }
}

/// How long the database is unavailable, as a class (AWS documents no numbers that hold for every size).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Downtime {
    /// Applied online.
    None,
    /// Each named instance restarts in turn; with a reader to fail over to, the writer is away only for the
    /// failover.
    Restart,
    /// The engine restarts on the new binaries: minutes, every instance at once.
    Outage,
    /// pg_upgrade runs with the database down: minutes to hours, growing with the number of objects.
    LongOutage,
}

impl Downtime {
    pub fn describe(self) -> &'static str {
        match self {
            Downtime::None => "none (applied online)",
            Downtime::Restart => "restart of each instance in turn (connections to a restarting instance drop)",
            Downtime::Outage => "outage while the engine restarts on the new version (minutes; every instance)",
            Downtime::LongOutage => {
                "long outage: pg_upgrade runs with the database down (minutes to hours, grows with the number of objects)"
            }
        }
    }
}

/// One classified change with what it takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineChange {
    pub class: Class,
    /// What changes (`engine 16.6 → 17.4`, `shared_buffers`).
    pub subject: String,
    /// The steps it takes, in order.
    pub steps: Vec<String>,
    pub downtime: Downtime,
    /// What AWS (or glctl) refuses, each naming what would satisfy it; `apply` refuses while one is left.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blockers: Vec<String>,
    /// A `glctl apply` flag this change needs (a production engine change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_flag: Option<String>,
}

/// Every engine change in a plan, and notes about the plan as a whole.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnginePlan {
    pub changes: Vec<EngineChange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl EnginePlan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.notes.is_empty()
    }

    pub fn blockers(&self) -> Vec<&str> {
        self.changes.iter().flat_map(|c| c.blockers.iter().map(String::as_str)).collect()
    }

    /// The apply flags the changes need.
    pub fn apply_flags(&self) -> Vec<&str> {
        let mut flags: Vec<&str> = self.changes.iter().filter_map(|c| c.apply_flag.as_deref()).collect();
        flags.dedup();
        flags
    }
}

/// Classifies the engine changes of a plan: the version of the primary or cluster, and the parameter groups.
pub fn classify(topology: &Topology, version: Option<&PlannedVersion>, groups: &[PlannedGroup]) -> EnginePlan {
    let mut plan = EnginePlan::default();
    let mut major = false;
    if let Some(v) = version {
        if let Some(change) = version_change(topology, v) {
            major = change.class == Class::MajorVersion;
            plan.changes.push(change);
        } else if v.allow_major_version_upgrade && v.before.is_some() {
            plan.notes.push(format!(
                "{MAJOR_FIELD} is set but the plan changes no major version: remove it once the upgrade is done, \
                 so the next major change is a deliberate one"
            ));
        }
    }
    for group in groups {
        if let Some(blocker) = family_mismatch(topology.kind, version.and_then(|v| v.after.as_deref()), group) {
            match plan.changes.iter_mut().find(|c| matches!(c.class, Class::MajorVersion | Class::MinorVersion)) {
                Some(change) => change.blockers.push(blocker),
                None => plan.notes.push(blocker),
            }
        }
        // A new group (first apply) or a new family (its values go with the major upgrade) is no change of a
        // running parameter.
        if group.family_before.is_none() || group.family_after.is_none() || major {
            continue;
        }
        if group.family_before != group.family_after {
            continue;
        }
        if group.before_unknown {
            plan.notes.push(unknown_parameters(topology, group));
            continue;
        }
        plan.changes.extend(parameter_changes(topology, group));
    }
    plan
}

/// The family a group of `version` must have, or a blocker when the planned group has another.
fn family_mismatch(kind: EngineKind, version: Option<&str>, group: &PlannedGroup) -> Option<String> {
    let (version, family) = (version?, group.family_after.as_deref()?);
    let expected = versions::find(kind, version)?.family;
    (family != expected).then(|| {
        format!(
            "{} has family {family}, which does not match engine version {version} (AWS refuses it): the group \
             must be of family {expected}",
            group.address
        )
    })
}

fn version_change(t: &Topology, v: &PlannedVersion) -> Option<EngineChange> {
    let (before, after) = (v.before.as_deref()?, v.after.as_deref()?);
    if before == after {
        return None;
    }
    let subject = format!("engine {before} → {after}");
    let (Some(from), Some(to)) = (versions::split(before), versions::split(after)) else {
        return Some(EngineChange {
            class: Class::MinorVersion,
            subject,
            steps: vec![],
            downtime: Downtime::Outage,
            blockers: vec![format!("{before} or {after} is not major.minor: set engine.version to a known version")],
            apply_flag: None,
        });
    };
    let apply_flag = t.production.then(|| PRODUCTION_FLAG.to_string());
    if to < from {
        return Some(EngineChange {
            class: Class::Downgrade,
            subject,
            steps: vec![],
            downtime: Downtime::None,
            blockers: vec![format!(
                "AWS cannot move an engine to an older version ({before} → {after}): set engine.version back to \
                 {before}; an older version needs a new environment loaded from a dump"
            )],
            apply_flag: None,
        });
    }
    let mut blockers = Vec::new();
    let mut unknown_before = Vec::new();
    if versions::find(t.kind, before).is_none() {
        // The running version is not in the table: said, but it does not stop a move to a known one.
        unknown_before.push(format!(
            "note: the running version {before} is not in glctl's version table (src/engine/versions.tsv)"
        ));
    }
    let family = |version: &str| versions::find(t.kind, version).map(|v| v.family).unwrap_or("?");
    let window = "in the next maintenance window (apply_immediately is off): AWS shows it as PendingModifiedValues \
                  until then, and GL-06 fails while it waits";
    let replicas = if t.readers.is_empty() { String::new() } else { t.readers.join(", ") };
    if to.0 == from.0 {
        let mut steps = unknown_before;
        steps.push(format!("when: {window}"));
        match t.kind {
            EngineKind::AuroraPostgresql => steps.push(
                "the cluster's engine version changes and every instance (writer and readers) restarts on it together"
                    .into(),
            ),
            _ => {
                if t.multi_az {
                    steps.push("the primary and its Multi-AZ standby are upgraded at the same time".into());
                } else {
                    steps.push(format!("the {} restarts on {after}", t.writer));
                }
                if !replicas.is_empty() {
                    steps.push(format!(
                        "read replicas ({replicas}) are not changed by this plan (AWS upgrades in-Region replicas with \
                         the source for a major version only): upgrade them before or after, or let auto minor \
                         version upgrade do it"
                    ));
                }
            }
        }
        return Some(EngineChange {
            class: Class::MinorVersion,
            subject,
            steps,
            downtime: Downtime::Outage,
            blockers,
            apply_flag,
        });
    }
    let mut steps = unknown_before;
    steps.extend([
        format!(
            "parameter group: a new one of family {} is created before the change, the {} one removed after",
            family(after),
            family(before)
        ),
        format!(
            "allow_major_version_upgrade = true on {} ({MAJOR_FIELD}: {})",
            v.address,
            if v.allow_major_version_upgrade { "set" } else { "NOT set" }
        ),
        format!("when: {window}"),
    ]);
    match t.kind {
        EngineKind::AuroraPostgresql => {
            steps.push("order: the cluster first (ModifyDBCluster with the new version and cluster parameter group); AWS upgrades the writer and every reader together, then terraform updates each instance's engine_version to match".into());
        }
        _ => {
            steps.push(format!(
                "order: the {} (ModifyDBInstance); AWS takes a snapshot, runs pg_upgrade{}",
                t.writer,
                if t.multi_az { ", the Multi-AZ standby with it" } else { "" }
            ));
            if !replicas.is_empty() {
                steps.push(format!(
                    "in-Region read replicas ({replicas}) are upgraded with the primary, in the same operation"
                ));
            }
        }
    }
    steps.push("extensions are not upgraded with the engine: each needs ALTER EXTENSION … UPDATE afterwards (`glctl upgrade check` lists each path)".into());
    if !v.allow_major_version_upgrade {
        blockers.push(format!(
            "AWS refuses a major version change without AllowMajorVersionUpgrade (an emulator accepts it, so glctl \
             checks): set {MAJOR_FIELD}: true in the environment file"
        ));
    }
    Some(EngineChange {
        class: Class::MajorVersion,
        subject,
        steps,
        downtime: Downtime::LongOutage,
        blockers,
        apply_flag,
    })
}

/// Each added, changed or removed parameter of a group that stays, classified by its apply type.
fn parameter_changes(t: &Topology, group: &PlannedGroup) -> Vec<EngineChange> {
    let value = |set: &[Parameter], name: &str| set.iter().find(|p| p.name == name).map(|p| p.value.clone());
    let mut names: Vec<&str> = group.before.iter().chain(&group.after).map(|p| p.name.as_str()).collect();
    names.sort();
    names.dedup();
    let mut changes = Vec::new();
    for name in names {
        let (old, new) = (value(&group.before, name), value(&group.after, name));
        if old == new {
            continue;
        }
        let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "(default)".into());
        let subject = format!("{name} {} → {}", shown(&old), shown(&new));
        let change = match apply_type(name) {
            Some(ApplyType::Dynamic) => EngineChange {
                class: Class::DynamicParameter,
                subject,
                steps: vec!["takes effect when the parameter group is applied, without a restart".into()],
                downtime: Downtime::None,
                blockers: vec![],
                apply_flag: None,
            },
            known => {
                let mut steps = reboot_order(t);
                if known.is_none() {
                    steps.insert(0, format!("apply type of {name} not known to glctl (src/engine/parameter_apply.tsv): treated as static"));
                }
                EngineChange {
                    class: Class::StaticParameter,
                    subject,
                    steps,
                    downtime: Downtime::Restart,
                    blockers: vec![],
                    apply_flag: None,
                }
            }
        };
        changes.push(change);
    }
    changes
}

/// What can be said of a group whose current values are unknown: never "no change", but which of its planned
/// parameters are static and the reboots a change to one of them would take.
fn unknown_parameters(t: &Topology, group: &PlannedGroup) -> String {
    let statics: Vec<&str> = group
        .after
        .iter()
        .filter(|p| apply_type(&p.name) != Some(ApplyType::Dynamic))
        .map(|p| p.name.as_str())
        .collect();
    let order: Vec<String> = reboot_order(t).into_iter().skip(1).collect();
    format!(
        "{}: which parameters change is NOT KNOWN: the current values were not read back (an AWS emulator reads \
         none); of those planned, static (a change needs reboots): {}; the reboots would be: {}",
        group.address,
        if statics.is_empty() { "none".to_string() } else { statics.join(", ") },
        order.join("; ")
    )
}

/// Which instances need a reboot for a static parameter, and in what order: readers first, then a failover
/// to a rebooted reader, then the old writer — so the writer is away only for the failover.
pub fn reboot_order(t: &Topology) -> Vec<String> {
    let mut steps = vec!["the group changes at apply; the value takes effect only at each instance's reboot (pending-reboot until then; GL-06 fails)".to_string()];
    match (t.kind, t.readers.first()) {
        (EngineKind::AuroraPostgresql, Some(first)) => {
            steps.push(format!("1. reboot the readers one at a time: {}", t.readers.join(", ")));
            steps
                .push(format!("2. fail over to {first} (FailoverDBCluster): the writer is away only for the failover"));
            steps.push(format!("3. reboot the old writer ({}), now a reader", t.writer));
        }
        (EngineKind::AuroraPostgresql, None) => {
            steps.push(format!("1. reboot the {} (no reader to fail over to: an outage while it restarts)", t.writer))
        }
        (_, Some(_)) => {
            steps.push(format!("1. reboot the read replicas one at a time: {}", t.readers.join(", ")));
            steps.push(format!("2. reboot the {}{}", t.writer, primary_reboot(t.multi_az)));
        }
        (_, None) => steps.push(format!("1. reboot the {}{}", t.writer, primary_reboot(t.multi_az))),
    }
    steps
}

fn primary_reboot(multi_az: bool) -> &'static str {
    if multi_az {
        " with failover (RebootDBInstance ForceFailover: the standby takes over, the old primary restarts)"
    } else {
        " (no standby: an outage while it restarts)"
    }
}

/// An extension moving from one version to another, with what the move changes for glctl. `terraform plan`
/// shows no extension version, so the plan does not call it; `glctl upgrade` (built alongside, issue 28) is
/// meant to, with the installed and target versions it reads.
#[allow(dead_code)]
pub fn extension_change(name: &str, from: &str, to: &str) -> EngineChange {
    let major = |v: &str| v.split('.').next().unwrap_or(v).to_string();
    let mut steps = vec![format!("ALTER EXTENSION {name} UPDATE TO '{to}' in each database that has it")];
    let mut blockers = Vec::new();
    match name {
        "pg_partman" if major(from) == "4" && major(to) != "4" => {
            steps.push("pg_partman 5 changes partman.part_config (no trigger-based partitioning; `p_type => 'range'` instead of 'native') and its functions: glctl's own pg_partman calls and maintenance job must be migrated with it".into());
            steps.push("pause pg_partman maintenance during the update; its issue #599 reports the 4 → 5 update failing on RDS: rehearse it on a copy".into());
        }
        "timescaledb" => {
            steps.push("must be the first command of a fresh session (psql -X); recycle every older session afterwards (pooler included)".into());
        }
        "pg_cron" => {
            steps.push("pause the cron jobs while the extension updates; cron.job_run_details keeps its history".into())
        }
        _ => {}
    }
    if dotted(to) < dotted(from) {
        blockers.push(format!("{name} cannot be downgraded ({from} → {to}): keep {from}"));
    }
    EngineChange {
        class: Class::ExtensionVersion,
        subject: format!("extension {name} {from} → {to}"),
        steps,
        downtime: if name == "timescaledb" { Downtime::Restart } else { Downtime::None },
        blockers,
        apply_flag: None,
    }
}

#[allow(dead_code)]
/// `5.1.0` as numbers, for comparing extension versions (a part that is not a number counts as 0).
fn dotted(version: &str) -> Vec<u32> {
    version.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// Text for people: one block per change.
pub fn describe(plan: &EnginePlan) -> String {
    let mut out = String::new();
    if plan.is_empty() {
        return out;
    }
    out.push_str("Engine changes:\n");
    for c in &plan.changes {
        out.push_str(&format!("  {}: {}\n", c.class.label(), c.subject));
        for step in &c.steps {
            out.push_str(&format!("      {step}\n"));
        }
        out.push_str(&format!("      downtime: {}\n", c.downtime.describe()));
        if let Some(flag) = &c.apply_flag {
            out.push_str(&format!("      production: `glctl apply` refuses this without {flag}\n"));
        }
        for b in &c.blockers {
            out.push_str(&format!("      REFUSED: {b}\n"));
        }
    }
    for note in &plan.notes {
        out.push_str(&format!("  note: {note}\n"));
    }
    out
}

#[cfg(test)]
#[path = "change_tests.rs"]
mod tests;
