//! The reviewer's additions (GL-01…GL-09): the account, the key, deletion protection, retention, parameter
//! groups, the audit log's append-only rule, the TLS minimum and the AZ spread.

use super::{all_members, aws, aws_any, each_member, evidence, fail, na, or_not_reported, pass, provisioned, yes_no};
use crate::config::model::{EngineKind, Environment, Risk, TlsMode};
use crate::verify::facts::{Attempt, BehaviourFacts, Facts};
use crate::verify::{Evidence, Outcome, Skip};

pub(super) fn gl01(e: &Environment, f: &Facts) -> Outcome {
    aws_any(f, |a| {
        let ev = evidence(a.account.as_str(), e.aws.account_id.as_str(), "STS GetCallerIdentity");
        if a.account == e.aws.account_id {
            pass(ev)
        } else {
            fail("the credentials belong to another account", ev)
        }
    })
}

pub(super) fn gl02(e: &Environment, f: &Facts) -> Outcome {
    if !e.kms.enable_rotation {
        return na("the environment turns key rotation off (kms.enable_rotation: false)");
    }
    aws_any(f, |a| {
        let Some(key) = a.kms_key_arn.as_deref() else {
            return Outcome::Error("no Terraform output `kms_key_arn` names the environment's key".into());
        };
        let ev = evidence(
            format!("rotation enabled: {}", yes_no(a.kms_rotation)),
            "rotation enabled: yes",
            format!("KMS GetKeyRotationStatus {key}"),
        );
        if a.kms_rotation == Some(true) {
            pass(ev)
        } else {
            fail("the key does not rotate", ev)
        }
    })
}

pub(super) fn gl03(e: &Environment, f: &Facts) -> Outcome {
    if e.accepted_risks.contains(&Risk::NoDeletionProtection) {
        return Outcome::Skip(Skip::Waived, "the environment accepts the risk `no-deletion-protection`".into());
    }
    aws(e, f, |a| {
        let values = each_member(a, |c| c.deletion_protection, |i| i.deletion_protection)
            .into_iter()
            .filter(|(id, _)| a.cluster.as_ref().is_none_or(|c| c.id == *id))
            .map(|(id, v)| (id, yes_no(v)))
            .collect();
        all_members("RDS DeletionProtection", "yes", values, |v| v == "yes")
    })
}

pub(super) fn gl04(e: &Environment, f: &Facts) -> Outcome {
    aws(e, f, |a| {
        let wanted = format!("{} days", e.backup.retention_days);
        let values = each_member(a, |c| c.backup_retention_days, |i| i.backup_retention_days)
            .into_iter()
            .filter(|(id, _)| a.cluster.as_ref().is_none_or(|c| c.id == *id))
            .filter(|(id, _)| !e.engine.replicas.iter().any(|r| id.ends_with(&format!("-{}", r.name))))
            .map(|(id, v)| (id, v.map_or_else(|| "not reported".to_string(), |d| format!("{d} days"))))
            .collect();
        all_members("RDS BackupRetentionPeriod", &wanted, values, |v| v == wanted)
    })
}

pub(super) fn gl05(e: &Environment, f: &Facts) -> Outcome {
    if e.secrets.is_empty() {
        return na("the environment declares no secrets glctl manages");
    }
    aws_any(f, |a| {
        if let Some(why) = super::secrets_not_read(e, a, |_| true) {
            return Outcome::Error(why);
        }
        let key = a.kms_key_arn.clone().unwrap_or_default();
        let values = a
            .secrets
            .iter()
            .map(|s| (s.name.clone(), s.kms_key.clone().unwrap_or_else(|| "(AWS managed key)".into())))
            .collect();
        all_members("Secrets Manager DescribeSecret KmsKeyId", &key, values, |v| v == key)
    })
}

/// GL-06: no parameter change waits for a restart. Two sides, each decided from what it reports:
/// - the server (any engine glctl connects to): `pg_settings` rows with `pending_restart`;
/// - AWS (RDS and Aurora): each instance's `DBParameterGroups[].ParameterApplyStatus`, each Aurora member's
///   `DBClusterParameterGroupStatus`, and the instances' and cluster's `PendingModifiedValues`.
///
/// Something pending on a side that was read is a FAIL naming it (a pending restart read from the real
/// PostgreSQL is evidence even against an emulator). Otherwise a side that could not be read leaves it
/// not decided (ERROR); an emulated AWS side is never clean (SKIP `emulated`: it cannot report a pending
/// reboot); a PASS needs every side read and clean.
pub(super) fn gl06(e: &Environment, f: &Facts) -> Outcome {
    let mut sides = vec![server_side(f)];
    if e.engine.kind != EngineKind::External {
        sides.push(aws_side(f));
    }
    let mut evidence_all = Vec::new();
    let mut pending = Vec::new();
    let mut unread = Vec::new();
    let mut emulated = Vec::new();
    for side in sides {
        match side {
            Side::Clean(ev) => evidence_all.push(ev),
            Side::Pending(why, ev) => {
                pending.push(why);
                evidence_all.push(ev);
            }
            Side::Unread(why) => unread.push(why),
            Side::Emulated(why, ev) => {
                emulated.push(why);
                evidence_all.push(ev);
            }
        }
    }
    if !pending.is_empty() {
        let mut why = pending.join("; ");
        if !unread.is_empty() {
            why.push_str(&format!(" (not read: {})", unread.join("; ")));
        }
        return Outcome::Fail(why, evidence_all);
    }
    if !unread.is_empty() {
        return Outcome::Error(format!("not decided: {}", unread.join("; ")));
    }
    if !emulated.is_empty() {
        let server = evidence_all.first().map(|ev| ev.observed.clone()).unwrap_or_default();
        return Outcome::Skip(
            Skip::Emulated,
            format!("PostgreSQL reports {server}, but the AWS side is not decided: {}", emulated.join("; ")),
        );
    }
    Outcome::Pass(evidence_all)
}

/// One side of GL-06.
enum Side {
    Clean(Evidence),
    /// Why (naming what is pending) and the evidence.
    Pending(String, Evidence),
    Unread(String),
    /// Read from an AWS emulator, which cannot report a pending reboot: why, and what it reported.
    Emulated(String, Evidence),
}

fn server_side(f: &Facts) -> Side {
    let source = "SELECT name, setting FROM pg_settings WHERE pending_restart";
    match &f.pending_restart {
        Err(why) => Side::Unread(format!("PostgreSQL could not be read: {why}")),
        Ok(p) if p.settings_read == 0 => Side::Unread("pg_settings returned no rows".into()),
        Ok(p) if p.pending.is_empty() => {
            Side::Clean(evidence("no setting pending a restart", "no setting pending a restart", source))
        }
        Ok(p) => {
            let named: Vec<String> =
                p.pending.iter().map(|(name, setting)| format!("{name} (running with {setting})")).collect();
            Side::Pending(
                format!("needs a restart to take effect: {}", named.join(", ")),
                evidence(format!("pending_restart: {}", named.join(", ")), "no setting pending a restart", source),
            )
        }
    }
}

fn aws_side(f: &Facts) -> Side {
    let a = match &f.aws {
        Ok(a) => a,
        Err(why) => return Side::Unread(format!("AWS could not be read: {why}")),
    };
    let source = "RDS DescribeDBInstances DBParameterGroups.ParameterApplyStatus, PendingModifiedValues; \
                  DescribeDBClusters DBClusterMembers.DBClusterParameterGroupStatus, PendingModifiedValues";
    let mut observed = Vec::new();
    let mut wrong = Vec::new();
    for i in &a.instances {
        let groups = if i.parameter_status.is_empty() {
            "no parameter group reported".into()
        } else {
            i.parameter_status.join(", ")
        };
        observed.push(format!("{}: {groups}", i.id));
        if i.parameter_status.is_empty() || !i.parameter_status.iter().all(|s| s.ends_with(": in-sync")) {
            wrong.push(format!("{}: {groups}", i.id));
        }
        if !i.pending_modified.is_empty() {
            let p = format!("{} PendingModifiedValues {}", i.id, i.pending_modified.join(", "));
            observed.push(p.clone());
            wrong.push(p);
        }
    }
    if let Some(c) = &a.cluster {
        for member in &c.parameter_status {
            observed.push(format!("{} cluster parameter group on {member}", c.id));
            if !member.ends_with(": in-sync") {
                wrong.push(format!("{} cluster parameter group on {member}", c.id));
            }
        }
        if !c.pending_modified.is_empty() {
            let p = format!("{} PendingModifiedValues {}", c.id, c.pending_modified.join(", "));
            observed.push(p.clone());
            wrong.push(p);
        }
    }
    let ev = evidence(observed.join("; "), "in-sync on every member; no PendingModifiedValues", source);
    if let Some(emulator) = &f.aws_emulator {
        let why = crate::verify::emulator::weighed_why("GL-06").unwrap_or_default();
        let reported = if observed.is_empty() { "nothing".to_string() } else { observed.join("; ") };
        return Side::Emulated(format!("decided by an emulator ({emulator}): {why}; it reported {reported}"), ev);
    }
    if a.instances.is_empty() {
        return Side::Unread("no cluster or instance was found for the environment".into());
    }
    if wrong.is_empty() {
        Side::Clean(ev)
    } else {
        Side::Pending(format!("a reboot or modification is pending on AWS: {}", wrong.join("; ")), ev)
    }
}

pub(super) fn gl07(b: &BehaviourFacts) -> Outcome {
    let tries = match &b.append_only {
        Ok(tries) => tries,
        Err(why) => return Outcome::Error(format!("the changes were not tried: {why}")),
    };
    if tries.is_empty() {
        return Outcome::Error(
            "the application role app_service or audit_logs does not exist yet (migrations 0001, 0002)".into(),
        );
    }
    let allowed: Vec<&str> =
        tries.iter().filter(|(_, a)| matches!(a, Attempt::Succeeded(_))).map(|(s, _)| s.as_str()).collect();
    let observed = tries
        .iter()
        .map(|(s, a)| match a {
            Attempt::Refused(why) => format!("{s}: refused ({why})"),
            Attempt::Succeeded(_) => format!("{s}: ALLOWED"),
        })
        .collect::<Vec<_>>()
        .join("; ");
    let disabled: Vec<&str> = b.append_only_triggers.iter().filter(|(_, on)| !on).map(|(t, _)| t.as_str()).collect();
    let triggers = b
        .append_only_triggers
        .iter()
        .map(|(t, on)| format!("{t} {}", if *on { "enabled" } else { "DISABLED" }))
        .collect::<Vec<_>>()
        .join(", ");
    let ev = evidence(
        format!("{observed}; triggers: {}", if triggers.is_empty() { "none" } else { &triggers }),
        "all three refused; the append-only triggers enabled",
        "as app_service, each in a transaction rolled back; pg_trigger of audit_logs",
    );
    if !allowed.is_empty() {
        fail(format!("the application may {}", allowed.join(", ")), ev)
    } else if b.append_only_triggers.is_empty() || !disabled.is_empty() {
        fail(
            format!(
                "audit_logs is not append-only for every role: trigger(s) missing or disabled: {}",
                disabled.join(", ")
            ),
            ev,
        )
    } else {
        pass(ev)
    }
}

pub(super) fn gl08(b: &BehaviourFacts) -> Outcome {
    if b.tls_mode == TlsMode::Disable {
        return Outcome::Error("the environment connects without TLS, so no handshake can be tried".into());
    }
    match &b.below_minimum_tls {
        None => Outcome::Skip(
            Skip::NotApplicable,
            "the server's minimum is below TLS 1.3, and glctl's TLS library offers nothing older than TLS 1.2 to try"
                .into(),
        ),
        Some((minimum, attempt)) => {
            let source = format!("a TLS 1.2-only handshake with {}", b.target);
            match attempt {
                // Only the server's TLS alert is evidence; a network error says nothing about the minimum.
                Attempt::Refused(why)
                    if why.to_ascii_lowercase().contains("alert") || why.to_ascii_lowercase().contains("protocol") =>
                {
                    pass(evidence(format!("refused: {why}"), format!("refused (minimum {minimum})"), source))
                }
                Attempt::Refused(why) => {
                    Outcome::Error(format!("the TLS 1.2 attempt failed, but not with the server's refusal: {why}"))
                }
                Attempt::Succeeded(how) => {
                    fail("TLS 1.2 was accepted", evidence(how.as_str(), format!("refused (minimum {minimum})"), source))
                }
            }
        }
    }
}

pub(super) fn gl09(e: &Environment, f: &Facts) -> Outcome {
    if e.engine.replicas.is_empty() {
        return provisioned(e).unwrap_or_else(|| na("the environment declares no replicas"));
    }
    aws(e, f, |a| {
        let zones: Vec<String> = a
            .instances
            .iter()
            .map(|i| format!("{}: {}", i.id, or_not_reported(i.availability_zone.as_deref())))
            .collect();
        let mut distinct: Vec<&str> = a.instances.iter().filter_map(|i| i.availability_zone.as_deref()).collect();
        distinct.sort();
        distinct.dedup();
        if a.instances.is_empty() {
            return Outcome::Error("no instance was found for the environment".into());
        }
        let ev = evidence(zones.join("; "), "one AZ per instance", "RDS DescribeDBInstances AvailabilityZone");
        if distinct.len() == a.instances.len() {
            pass(ev)
        } else {
            fail("instances share an AZ", ev)
        }
    })
}
