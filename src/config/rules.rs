//! Semantic rules: what a well-typed environment must also satisfy before anything touches AWS or a
//! database. Each rule says what is wrong and what was expected; limits are AWS's and TimescaleDB's own.
//! Identity, tags, monitoring and the accepted-risk bookkeeping are here; the rest by subject in
//! `infrastructure`, `recovery` and `timeseries`.

use std::collections::BTreeSet;

use super::diagnostics::{FieldPath, Finding};
use super::model::*;
use crate::engine::capabilities;

mod infrastructure;
mod recovery;
mod timeseries;

pub fn check(env: &Environment) -> Vec<Finding> {
    let mut r = Rules { env, out: Vec::new(), risks_taken: BTreeSet::new() };
    r.identity();
    r.engine();
    r.network();
    r.storage();
    r.parameters();
    r.kms();
    r.secrets();
    r.backup();
    r.pgbackrest();
    r.monitoring();
    r.connection();
    r.timeseries();
    r.terraform();
    r.tags();
    r.recovery_targets();
    r.unused_risks();
    r.out.extend(super::pooling::check(env));
    r.out
}

struct Rules<'e> {
    env: &'e Environment,
    out: Vec<Finding>,
    risks_taken: BTreeSet<Risk>,
}

fn p(dotted: &str) -> FieldPath {
    FieldPath::parse(dotted)
}

impl Rules<'_> {
    fn error(&mut self, path: FieldPath, message: impl Into<String>) {
        self.out.push(Finding::error(path, message));
    }

    fn warning(&mut self, path: FieldPath, message: impl Into<String>) {
        self.out.push(Finding::warning(path, message));
    }

    /// A weakened safe default: an error unless `accepted_risks` lists it, then a warning.
    fn risk(&mut self, risk: Risk, path: FieldPath, what: &str) {
        self.risks_taken.insert(risk);
        if self.env.accepted_risks.contains(&risk) {
            self.out.push(Finding::accepted_risk(path, format!("{what} (accepted risk `{}`)", risk.name())));
        } else {
            self.error(
                path,
                format!("{what}; list `{}` under `accepted_risks` to accept this on purpose", risk.name()),
            );
        }
    }

    fn provisioned(&self) -> bool {
        capabilities::of(self.env.engine.kind).provisioned
    }

    fn production(&self) -> bool {
        self.env.tier == Tier::Production
    }

    fn identity(&mut self) {
        let project = &self.env.project;
        if !is_resource_name_part(project, 20) {
            self.error(p("project"), format!("'{project}' is not usable in resource names; expected 1-20 characters of a-z, 0-9 and single '-', starting with a letter and not ending with '-'"));
        }
        let aws = &self.env.aws;
        if aws.account_id.len() != 12 || !aws.account_id.chars().all(|c| c.is_ascii_digit()) {
            self.error(
                p("aws.account_id"),
                format!("'{}' is not an AWS account id; expected 12 digits (quoted)", aws.account_id),
            );
        }
        if !is_region(&aws.region) {
            self.error(
                p("aws.region"),
                format!("'{}' is not an AWS region; expected a name such as 'us-east-1'", aws.region),
            );
        }
        if let Some(dr) = &aws.dr_region {
            if !is_region(dr) {
                self.error(
                    p("aws.dr_region"),
                    format!("'{dr}' is not an AWS region; expected a name such as 'us-west-2'"),
                );
            } else if *dr == aws.region {
                self.error(p("aws.dr_region"), "the DR region is the primary region; expected a different region");
            }
        }
    }

    fn monitoring(&mut self) {
        let m = &self.env.monitoring;
        self.out.extend(super::monitoring::check(&m.thresholds, &m.pagerduty_routing_key_file));
        let external = !capabilities::of(self.env.engine.kind).provisioned;
        self.out.extend(super::replication::check(&self.env.replication, external));
        let kind = self.env.engine.kind;
        if !capabilities::of(kind).provisioned {
            return;
        }
        let m = &self.env.monitoring;
        let allowed: &[&str] = match kind {
            EngineKind::AuroraPostgresql => &["postgresql", "iam-db-auth-error", "instance"],
            _ => &["postgresql", "upgrade", "iam-db-auth-error"],
        };
        for (i, log) in m.log_exports.iter().enumerate() {
            if !allowed.contains(&log.as_str()) {
                self.error(
                    p("monitoring.log_exports").index(i),
                    format!(
                        "'{log}' is not a log {} exports; expected some of: {}",
                        capabilities::engine_label(kind),
                        allowed.join(", ")
                    ),
                );
            }
        }
        let days = m.performance_insights_retention_days;
        if m.performance_insights && !(days == 7 || days == 731 || (days % 31 == 0 && (31..=713).contains(&days))) {
            self.error(
                p("monitoring.performance_insights_retention_days"),
                format!("{days} days is not offered; expected 7, a multiple of 31 up to 713, or 731"),
            );
        }
        let interval = m.enhanced_monitoring_interval_seconds;
        if ![0, 1, 5, 10, 15, 30, 60].contains(&interval) {
            self.error(
                p("monitoring.enhanced_monitoring_interval_seconds"),
                format!("{interval} is not offered; expected 0, 1, 5, 10, 15, 30 or 60"),
            );
        }
    }

    fn terraform(&mut self) {
        let t = &self.env.terraform;
        if !self.provisioned() {
            return;
        }
        if t.state_backend == StateBackend::S3 {
            if t.state_bucket.is_none() {
                self.error(p("terraform.state_bucket"), "missing; the s3 state backend needs a bucket");
            }
            if t.lock_table.is_none() {
                self.error(p("terraform.lock_table"), "missing; the s3 state backend needs a DynamoDB lock table");
            }
        } else if self.production() {
            self.warning(
                p("terraform.state_backend"),
                "production state kept on one machine; expected `s3` with a lock table",
            );
        }
    }

    fn tags(&mut self) {
        // glctl adds `Environment` when the file does not set it; AWS allows 50 tags per resource.
        let total = self.env.tags.len() + usize::from(!self.env.tags.contains_key("Environment"));
        if total > 50 {
            self.error(p("tags"), format!("{total} tags (with Environment); AWS allows at most 50 per resource"));
        }
        for (key, value) in &self.env.tags {
            let at = p("tags").key(key);
            if key.starts_with("aws:") {
                self.error(at.clone(), "tag keys starting with 'aws:' are reserved by AWS");
            }
            // AWS counts characters (Unicode), not bytes.
            let (key_chars, value_chars) = (key.chars().count(), value.chars().count());
            if key_chars > 128 || value_chars > 256 {
                self.error(
                    at,
                    format!(
                        "too long ({key_chars}-character key, {value_chars}-character value); AWS allows 128-character keys and 256-character values"
                    ),
                );
            }
        }
    }

    fn unused_risks(&mut self) {
        for (i, risk) in self.env.accepted_risks.iter().enumerate() {
            if !self.risks_taken.contains(risk) {
                self.warning(
                    p("accepted_risks").index(i),
                    format!("`{}` is accepted but not taken; remove it so the list stays true", risk.name()),
                );
            }
        }
    }
}

/// A piece of an RDS identifier (`<project>-<environment>-…`): up to `max_len` of a-z, 0-9 and single
/// hyphens, starting with a letter and not ending with a hyphen (RDS refuses `--` and a trailing `-`; most
/// other AWS names are laxer).
pub fn is_resource_name_part(name: &str, max_len: usize) -> bool {
    !name.is_empty()
        && name.len() <= max_len
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && !name.contains("--")
}

/// RDS identifiers (clusters, instances, snapshots) are at most 63 characters.
pub const MAX_RDS_IDENTIFIER: usize = 63;

/// The RDS identifiers glctl derives for environment `name` (`<project>-<name>-<instance>`) that are too
/// long, each reported at the field that makes it so: a replica at its name, the rest at `project`.
pub fn identifier_lengths(env: &Environment, name: &str) -> Vec<Finding> {
    if !capabilities::of(env.engine.kind).provisioned {
        return Vec::new();
    }
    let prefix = format!("{}-{name}", env.project);
    let too_long = |id: &str| {
        format!(
            "'{id}' ({} characters) would be an RDS identifier; RDS allows {MAX_RDS_IDENTIFIER}: shorten the project, \
             the environment (file) name or this name",
            id.len()
        )
    };
    let mut out = Vec::new();
    let own = ["writer", "primary", "final"].iter().map(|s| format!("{prefix}-{s}")).max_by_key(String::len);
    if let Some(id) = own.filter(|id| id.len() > MAX_RDS_IDENTIFIER) {
        out.push(Finding::error(p("project"), too_long(&id)));
    }
    for (i, replica) in env.engine.replicas.iter().enumerate() {
        let id = format!("{prefix}-{}", replica.name);
        if id.len() > MAX_RDS_IDENTIFIER {
            out.push(Finding::error(p("engine.replicas").index(i).key("name"), too_long(&id)));
        }
    }
    out
}

fn is_region(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
        && parts.last().unwrap().chars().all(|c| c.is_ascii_digit())
}
