//! PRD §10.1, functional acceptance (FA-*): the server, its extensions, partitions, policies and summaries as
//! the environment file declares them.

use super::{all_members, aws, aws_any, database, each_member, evidence, fail, na, pass, tls_mode, yes_no};
use crate::config::model::{Backend, EngineKind, Environment};
use crate::config::replication::StandbyMode;
use crate::verify::facts::{Attempt, BehaviourFacts, DbFacts, Facts};
use crate::verify::{replication, Outcome};

pub(super) fn fa01(b: &BehaviourFacts) -> Outcome {
    let source = format!("connect to {} (tls_mode {})", b.target, tls_mode(b.tls_mode));
    match &b.configured {
        Attempt::Succeeded(how) => pass(evidence(how.as_str(), "a connection", source)),
        Attempt::Refused(why) => {
            fail("the configured connection was refused", evidence(why.as_str(), "a connection", source))
        }
    }
}

pub(super) fn fa02(e: &Environment, f: &Facts) -> Outcome {
    match e.engine.kind {
        EngineKind::External => replication::check(e, f, StandbyMode::Sync),
        EngineKind::AuroraPostgresql => {
            na("Aurora keeps six copies across three AZs in its storage layer; it has no synchronous standby instance")
        }
        EngineKind::RdsPostgresql if !e.engine.multi_az => {
            na("the environment declares no Multi-AZ standby (engine.multi_az: false)")
        }
        EngineKind::RdsPostgresql => aws_any(f, |a| {
            let primary = a.instances.iter().find(|i| i.id.ends_with("-primary"));
            let observed = primary.and_then(|i| i.multi_az);
            let ev = evidence(format!("MultiAZ = {}", yes_no(observed)), "MultiAZ = yes", "RDS DescribeDBInstances");
            if observed == Some(true) {
                pass(ev)
            } else {
                fail("the primary has no Multi-AZ standby", ev)
            }
        }),
    }
}

pub(super) fn fa03(e: &Environment, f: &Facts) -> Outcome {
    let wanted = e.engine.replicas.len();
    if e.engine.kind == EngineKind::External {
        return replication::check(e, f, StandbyMode::Async);
    }
    if wanted == 0 {
        return na("the environment declares no replicas");
    }
    database(f, |d| {
        let source = if e.engine.kind == EngineKind::AuroraPostgresql {
            "aurora_replica_status()"
        } else {
            "pg_stat_replication"
        };
        let ev = evidence(
            format!("{} streaming: {}", d.replicas.len(), d.replicas.join("; ")),
            format!("{wanted} replica(s)"),
            source,
        );
        if d.replicas.len() >= wanted {
            pass(ev)
        } else {
            fail("fewer replicas stream than declared", ev)
        }
    })
}

pub(super) fn fa04(e: &Environment, d: &DbFacts) -> Outcome {
    let wanted: &[&str] = match e.timeseries.backend {
        Backend::Timescaledb => &["timescaledb"],
        Backend::Native => &["pg_partman", "pg_cron"],
    };
    let found: Vec<String> =
        wanted.iter().map(|n| format!("{n} {}", d.extensions.get(*n).map_or("missing", String::as_str))).collect();
    let ev = evidence(
        format!("PostgreSQL {}: {}", d.server_version, found.join(", ")),
        wanted.join(", "),
        "SHOW server_version; SELECT extname, extversion FROM pg_extension",
    );
    if wanted.iter().all(|n| d.extensions.contains_key(*n)) {
        pass(ev)
    } else {
        fail("an extension is missing", ev)
    }
}

/// The reconciler's changes for these settings, as evidence lines.
pub(super) fn differences(d: &DbFacts, settings: &[&str]) -> Vec<String> {
    d.policies.changes.iter().filter(|c| settings.contains(&c.setting.as_str())).map(|c| c.describe()).collect()
}

/// The reconciler's verdict on `settings` of the `declared` objects. It passes only on what the reconciler
/// read and found as declared (`PolicyPlan::matched`), never on the absence of a difference alone: a
/// difference, a missing object (with `missing`), a setting it could not compare (with why) or one it did
/// not report on at all each FAIL, by name.
pub(super) fn from_diff(d: &DbFacts, settings: &[&str], declared: &[String], missing: bool, what: &str) -> Outcome {
    let mut found = differences(d, settings);
    if missing {
        found.extend(d.policies.missing.iter().map(|m| format!("{m}: missing")));
    }
    let mut matched = Vec::new();
    for object in declared {
        let of =
            |c: &&crate::database::policies::Compared| c.object == *object && settings.contains(&c.setting.as_str());
        let read: Vec<String> =
            d.policies.matched.iter().filter(of).map(|c| format!("{object} {}: {}", c.setting, c.detail)).collect();
        if !read.is_empty() {
            matched.extend(read);
            continue;
        }
        let mentioned =
            d.policies.changes.iter().any(|c| c.object == *object && settings.contains(&c.setting.as_str()))
                || (missing && d.policies.missing.contains(object));
        if mentioned {
            continue;
        }
        found.push(match d.policies.not_compared.iter().find(of) {
            Some(c) => format!("{object} {}: declared, but not in place: {}", c.setting, c.detail),
            None => format!("{object}: the reconciler did not report its {}", settings.join("/")),
        });
    }
    let source = "the policy reconciler (as `glctl plan`)";
    if found.is_empty() {
        pass(evidence(matched.join("; "), format!("{what} as the environment file declares"), source))
    } else {
        fail(format!("{what} differ from the environment file"), evidence(found.join("; "), "no difference", source))
    }
}

pub(super) fn fa05(e: &Environment, f: &Facts) -> Outcome {
    if e.hypertables.is_empty() {
        return na("the environment declares no tables");
    }
    let declared: Vec<String> = e.hypertables.keys().cloned().collect();
    database(f, |d| {
        let settings = ["chunk_interval", "partition_interval", "partitioning", "premake", "infinite_time_partitions"];
        with_declared_indexes(e, d, from_diff(d, &settings, &declared, true, "partitions"))
    })
}

/// FA-05 also holds the declared indexes: each present and valid on every partition (or chunk). A missing,
/// INVALID or incomplete one fails it, named.
fn with_declared_indexes(e: &Environment, d: &DbFacts, partitions: Outcome) -> Outcome {
    if e.hypertables.values().all(|h| h.indexes.is_empty()) {
        return partitions;
    }
    let source = "pg_index.indisvalid, pg_inherits (each partition's index attached to the parent's)";
    let wrong: Vec<String> = d.indexes.iter().filter(|s| s.is_change()).map(|s| s.describe()).collect();
    let present: Vec<String> = d.indexes.iter().filter(|s| !s.is_change()).map(|s| s.describe()).collect();
    match partitions {
        Outcome::Pass(mut found) if wrong.is_empty() => {
            found.push(evidence(present.join("; "), "every declared index valid on every partition", source));
            Outcome::Pass(found)
        }
        Outcome::Pass(found) | Outcome::Fail(_, found) if !wrong.is_empty() => {
            let mut found = found;
            found.push(evidence(wrong.join("; "), "every declared index valid on every partition", source));
            Outcome::Fail(format!("{} declared index(es) missing, INVALID or incomplete", wrong.len()), found)
        }
        other => other,
    }
}

pub(super) fn fa06(e: &Environment, f: &Facts) -> Outcome {
    if e.timeseries.backend == Backend::Native {
        return na("the native backend cannot compress (validate warns where compression is declared)");
    }
    let declared: Vec<String> =
        e.hypertables.iter().filter(|(_, t)| t.compression.is_some()).map(|(n, _)| n.clone()).collect();
    if declared.is_empty() {
        return na("the environment declares no compression");
    }
    database(f, |d| {
        from_diff(d, &["compression", "compress_after"], &declared, false, "compression settings and policies")
    })
}

/// FA-07: every declared retention in place as declared, and no retention where none is declared.
pub(super) fn fa07(e: &Environment, f: &Facts) -> Outcome {
    let declared: Vec<String> =
        e.hypertables.iter().filter(|(_, t)| t.retention.is_some()).map(|(n, _)| n.clone()).collect();
    database(f, |d| {
        if declared.is_empty() && differences(d, &["retention"]).is_empty() {
            return na("the environment declares no retention");
        }
        from_diff(d, &["retention"], &declared, false, "retention policies")
    })
}

pub(super) fn fa08(e: &Environment, d: &DbFacts) -> Outcome {
    if e.continuous_aggregates.is_empty() {
        return na("the environment declares no summaries");
    }
    let mut problems = differences(d, &["populated", "refresh", "cron job"]);
    let mut observed = Vec::new();
    for name in e.continuous_aggregates.keys() {
        let Some(job) = d.jobs.iter().find(|j| j.target == *name) else {
            problems.push(format!("{name}: no refresh job"));
            continue;
        };
        // The newest refresh, apply's own populate included: a job that has not had its first run yet is
        // not a stale summary.
        let by_job = job.seconds_since_success.map(|age| (age, "by its job"));
        let by_apply = d.populated_by_apply.get(name).map(|age| (*age, "by glctl apply"));
        let newest = match (by_job, by_apply) {
            (Some(j), Some(a)) => Some(if a.0 < j.0 { a } else { j }),
            (j, a) => j.or(a),
        };
        let allowed = job.schedule_seconds.saturating_mul(2);
        match newest {
            Some((age, by)) if age <= allowed => {
                observed.push(format!("{name}: refreshed {age} s ago {by} (every {} s)", job.schedule_seconds))
            }
            Some((age, by)) => problems.push(format!(
                "{name}: last refreshed {age} s ago {by}, every {} s (last job status {})",
                job.schedule_seconds,
                job.last_status.as_deref().unwrap_or("none")
            )),
            None => problems.push(format!(
                "{name}: {} has never refreshed successfully and apply did not populate it (last status {})",
                job.name,
                job.last_status.as_deref().unwrap_or("none")
            )),
        }
    }
    let source = "job run history (timescaledb_information.job_stats / cron.job_run_details) and \
                  glctl.summary_refreshes (apply's populate)";
    if problems.is_empty() {
        pass(evidence(observed.join("; "), "each within two schedule periods", source))
    } else {
        fail("a summary is stale", evidence(problems.join("; "), "each refreshed within two schedule periods", source))
    }
}

pub(super) fn fa10(e: &Environment, f: &Facts) -> Outcome {
    aws(e, f, |a| {
        let values =
            each_member(a, |c| c.iam_auth, |i| i.iam_auth).into_iter().map(|(id, v)| (id, yes_no(v))).collect();
        all_members("RDS IAMDatabaseAuthenticationEnabled", "yes", values, |v| v == "yes")
    })
}

#[cfg(test)]
mod declared_index_tests {
    use super::*;
    use crate::database::indexes::{IndexStatus, State};

    fn status(index: &str, state: State) -> IndexStatus {
        IndexStatus {
            table: "emission_measurements".into(),
            index: index.into(),
            state,
            partitions: Some((5, 5)),
            invalid_on: vec![],
        }
    }

    fn env_with_index() -> Environment {
        let mut env: Environment = serde_yaml_ng::from_str(include_str!("../../../environments/local.yaml")).unwrap();
        env.hypertables.get_mut("emission_measurements").unwrap().indexes =
            serde_yaml_ng::from_str("- { name: a, columns: [facility_id] }\n- { name: b, columns: [scope] }").unwrap();
        env
    }

    #[test]
    fn fa05_fails_naming_a_missing_declared_index_and_passes_with_them_all_as_evidence() {
        let e = env_with_index();
        let partitions = || pass(evidence("partitions as declared", "no difference", "the reconciler"));
        let d =
            DbFacts { indexes: vec![status("a", State::Present), status("b", State::Create)], ..DbFacts::default() };
        let Outcome::Fail(why, found) = with_declared_indexes(&e, &d, partitions()) else { panic!("must fail") };
        assert!(why.starts_with("1 declared index(es)"), "{why}");
        assert!(found.iter().any(|f| f.observed.contains("emission_measurements.b: to create")), "{found:?}");
        let d =
            DbFacts { indexes: vec![status("a", State::Present), status("b", State::Present)], ..DbFacts::default() };
        let Outcome::Pass(found) = with_declared_indexes(&e, &d, partitions()) else { panic!("must pass") };
        assert!(found.iter().any(|f| f.observed.contains("emission_measurements.b: present (5 of 5 partitions)")));
        // Nothing declared: the partitions' outcome alone.
        let plain: Environment = serde_yaml_ng::from_str(include_str!("../../../environments/local.yaml")).unwrap();
        assert!(matches!(with_declared_indexes(&plain, &d, partitions()), Outcome::Pass(f) if f.len() == 1));
    }
}
