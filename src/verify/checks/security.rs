//! PRD §10.5, security (ST-*), and the reviewer's exact security-group check (GL-10): what the server
//! refuses, what is encrypted, what rotates, and who may reach port 5432.

use std::collections::BTreeSet;

use super::{all_members, aws, aws_any, each_member, evidence, fail, na, pass, yes_no};
use crate::config::model::Environment;
use crate::verify::facts::{Attempt, BehaviourFacts, DbFacts, Facts, IngressRule, NetworkFacts};
use crate::verify::Outcome;

pub(super) fn st01(b: &BehaviourFacts) -> Outcome {
    let source = format!("connect to {} with sslmode=disable", b.target);
    match &b.plaintext {
        // Only the server's refusal is evidence; a network error says nothing about TLS.
        Attempt::Refused(why)
            if why.contains("(28000)") || why.to_ascii_lowercase().contains("ssl") || why.contains("encryption") =>
        {
            pass(evidence(format!("refused: {why}"), "refused", source))
        }
        Attempt::Refused(why) => {
            Outcome::Error(format!("the attempt failed, but not with the server's refusal: {why}"))
        }
        Attempt::Succeeded(how) => {
            fail("a plaintext connection was accepted", evidence(how.as_str(), "refused", source))
        }
    }
}

pub(super) fn st02(b: &BehaviourFacts) -> Outcome {
    let source = format!("connect to {} with a wrong password", b.target);
    match &b.wrong_password {
        Attempt::Refused(why) if why.contains("28P01") || why.contains("28000") || why.contains("password") => {
            pass(evidence(format!("refused: {why}"), "authentication refused", source))
        }
        Attempt::Refused(why) => Outcome::Error(format!("refused, but not for the password: {why}")),
        Attempt::Succeeded(how) => fail("a wrong password was accepted", evidence(how.as_str(), "refused", source)),
    }
}

pub(super) fn st04(e: &Environment, f: &Facts) -> Outcome {
    aws(e, f, |a| {
        let key = a.kms_key_arn.clone().unwrap_or_default();
        let values = each_member(a, |c| (c.encrypted, c.kms_key.clone()), |i| (i.encrypted, i.kms_key.clone()))
            .into_iter()
            .map(|(id, (enc, k))| {
                (id, format!("encrypted {} with {}", yes_no(enc), k.unwrap_or_else(|| "no key reported".into())))
            })
            .collect();
        let wanted = format!("encrypted yes with {key}");
        all_members("RDS StorageEncrypted, KmsKeyId", &wanted, values, |v| !key.is_empty() && v == wanted)
    })
}

pub(super) fn st05(e: &Environment, f: &Facts) -> Outcome {
    aws(e, f, |a| {
        let values = a.instances.iter().map(|i| (i.id.clone(), yes_no(i.publicly_accessible))).collect::<Vec<_>>();
        all_members("RDS PubliclyAccessible", "no", values, |v| v == "no")
    })
}

pub(super) fn st06(e: &Environment, f: &Facts) -> Outcome {
    if e.secrets.values().all(|s| s.rotation_days.is_none()) {
        return na("no secret declares rotation_days");
    }
    aws_any(f, |a| {
        if let Some(why) = super::secrets_not_read(e, a, |s| s.rotation_days.is_some()) {
            return Outcome::Error(why);
        }
        let declared: Vec<_> = a.secrets.iter().filter(|s| s.declared_rotation_days.is_some()).collect();
        let mut observed = Vec::new();
        let mut problems = Vec::new();
        for s in declared {
            let days = s.declared_rotation_days.map(i64::from);
            let days_ago =
                |d: Option<i64>, never: &str| d.map_or_else(|| never.to_string(), |d| format!("{d} days ago"));
            let line = format!(
                "{}: rotation {} {}, last rotated {}, created {}",
                s.name,
                if s.rotation_enabled { "on" } else { "off" },
                s.rotation_days.map_or_else(|| "with no schedule".to_string(), |d| format!("every {d} days")),
                days_ago(s.days_since_rotation, "never"),
                days_ago(s.days_since_creation, "at a time not reported")
            );
            let due = days.unwrap_or(0);
            let on_time = s.days_since_rotation.or(s.days_since_creation).is_some_and(|d| d <= due);
            if !s.rotation_enabled || s.rotation_days != days || !on_time {
                problems.push(line.clone());
            }
            observed.push(line);
        }
        let ev = evidence(
            observed.join("; "),
            "rotation on, on the declared schedule, last rotation within it",
            "Secrets Manager DescribeSecret",
        );
        if problems.is_empty() {
            pass(ev)
        } else {
            fail(format!("{} secret(s) do not rotate as declared", problems.len()), ev)
        }
    })
}

pub(super) fn st07(d: &DbFacts) -> Outcome {
    let audited = matches!(d.log_statement.as_str(), "mod" | "all")
        || d.pgaudit_log.as_deref().is_some_and(|l| l.contains("all") || (l.contains("ddl") && l.contains("write")));
    let ev = evidence(
        format!(
            "log_statement = {}, pgaudit.log = {}",
            d.log_statement,
            d.pgaudit_log.as_deref().unwrap_or("(pgaudit not loaded)")
        ),
        "log_statement mod or all, or pgaudit.log with ddl and write",
        "SHOW log_statement; current_setting('pgaudit.log', true)",
    );
    if audited {
        pass(ev)
    } else {
        fail("DML is not logged", ev)
    }
}

pub(super) fn network(e: &Environment, f: &Facts, decide: impl FnOnce(&NetworkFacts) -> Outcome) -> Outcome {
    aws(e, f, |a| match &a.network {
        Some(Ok(n)) => decide(n),
        Some(Err(why)) => Outcome::Error(format!("the security groups could not be read: {why}")),
        None => Outcome::Error("the security groups were not read".into()),
    })
}

/// The sources the environment admits to PostgreSQL: its allowed groups and CIDR blocks, and the managed
/// group itself (replication between members).
pub(super) fn declared_sources(e: &Environment, n: &NetworkFacts) -> BTreeSet<String> {
    let network = &e.network;
    network
        .allowed_security_group_ids
        .iter()
        .chain(&network.allowed_cidrs)
        .chain(&n.managed_group)
        .map(|s| s.to_ascii_lowercase())
        .collect()
}

pub(super) fn listed(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join("; ")
    }
}

/// PRD ST-03 as a property of the rules: a member of any group (or address) not declared cannot reach 5432
/// when no ingress rule of an attached group admits it. A group's self-reference admits its members, so only
/// the managed group's counts as declared (a default group's "all traffic from itself" does not).
pub(super) fn st03(e: &Environment, f: &Facts) -> Outcome {
    network(e, f, |n| {
        if n.attached_groups.is_empty() {
            return Outcome::Error("RDS reports no security group attached to the instances".into());
        }
        let declared = declared_sources(e, n);
        let admitting: Vec<&IngressRule> = n.ingress.iter().filter(|r| r.admits_postgres()).collect();
        let undeclared: Vec<String> =
            admitting.iter().filter(|r| !declared.contains(&r.source)).map(|r| r.to_string()).collect();
        let ev = evidence(
            listed(&admitting.iter().map(|r| r.to_string()).collect::<Vec<_>>()),
            format!("5432 only from: {}", declared.iter().cloned().collect::<Vec<_>>().join(", ")),
            format!("EC2 DescribeSecurityGroupRules, groups {}", n.attached_groups.join(", ")),
        );
        if admitting.is_empty() {
            // Nobody can connect: that shows nothing about keeping the unauthorised out.
            fail("no ingress rule admits PostgreSQL's port: no source, declared or not, can connect", ev)
        } else if undeclared.is_empty() {
            pass(ev)
        } else {
            fail(format!("PostgreSQL is open to undeclared sources: {}", undeclared.join("; ")), ev)
        }
    })
}

/// GL-10: the instances carry only the managed group, and its ingress is exactly the declared rules (TCP 5432
/// from each allowed group and CIDR block, and from itself): nothing added by hand, nothing missing.
pub(super) fn gl10(e: &Environment, f: &Facts) -> Outcome {
    network(e, f, |n| {
        let Some(managed) = &n.managed_group else {
            return Outcome::Error("no Terraform output `security_group_id` names the managed group".into());
        };
        let declared: BTreeSet<String> = declared_sources(e, n)
            .into_iter()
            .map(|source| IngressRule {
                group_id: managed.clone(),
                protocol: "tcp".into(),
                from_port: 5432,
                to_port: 5432,
                source,
            })
            .map(|r| r.to_string())
            .collect();
        let live: BTreeSet<String> = n.ingress.iter().map(|r| r.to_string()).collect();
        let foreign: Vec<String> = n.attached_groups.iter().filter(|g| *g != managed).cloned().collect();
        let extra: Vec<String> = live.difference(&declared).cloned().collect();
        let missing: Vec<String> = declared.difference(&live).cloned().collect();
        let ev = evidence(
            format!(
                "attached {}; ingress {}",
                n.attached_groups.join(", "),
                listed(&live.into_iter().collect::<Vec<_>>())
            ),
            format!("attached {managed}; ingress {}", declared.into_iter().collect::<Vec<_>>().join("; ")),
            "RDS DescribeDBInstances VpcSecurityGroups, EC2 DescribeSecurityGroupRules",
        );
        let mut problems = Vec::new();
        if !foreign.is_empty() {
            problems.push(format!("groups attached that glctl does not manage: {}", foreign.join(", ")));
        }
        if !extra.is_empty() {
            problems.push(format!("rules not declared: {}", extra.join("; ")));
        }
        if !missing.is_empty() {
            problems.push(format!("declared rules missing: {}", missing.join("; ")));
        }
        if problems.is_empty() {
            pass(ev)
        } else {
            fail(problems.join("; "), ev)
        }
    })
}
