//! Verify against an AWS emulator (moto on the local stack): which results an emulator can invent, which
//! only read back what Terraform sent, and the one rule that applies this to a run's final results.
//!
//! **Detection.** glctl talks to an emulator when an endpoint override sends its AWS calls somewhere that
//! is not AWS: the SDK's resolved `endpoint_url` (from `AWS_ENDPOINT_URL` or a profile's `endpoint_url`),
//! `AWS_ENDPOINT_URL` itself, or a service's `AWS_ENDPOINT_URL_<SERVICE>`, whose host is not AWS's
//! (`*.amazonaws.com`, `*.amazonaws.com.cn`, `*.api.aws`; AWS's own FIPS, dual-stack and VPC endpoints
//! live there too). An override that cannot be parsed counts as an emulator: nothing unproven is trusted.
//! `facts::gather` records the answer once, in `Facts::aws_emulator`.
//!
//! **The rule** (`apply`, run on the final results after the drills, backup listings and PgBouncer checks
//! have put theirs in, before any report is rendered), for every check that reads AWS in this environment:
//! - `Invented`: a PASS or FAIL rests on a value the emulator makes up (a status, a time, an account, a
//!   restore with no data). It becomes SKIP (`emulated`) with the reason "decided by an emulator (moto at
//!   …): why; it reported …": neither a PASS nor a FAIL, and the evidence is kept.
//! - `Weighed`: the check weighs the emulator itself against evidence from the real PostgreSQL (GL-06: a
//!   pending restart in `pg_settings` is real either way). Its FAIL, ERROR or SKIP stands, labelled; a PASS
//!   (which the check never gives against an emulator) would become SKIP (`emulated`) as an invented one.
//! - `ReadBack`: the check reads back configuration Terraform sent. Its status stays, labelled: it proves
//!   what Terraform sent, not what AWS holds.
//! - Every other result of a check that reads AWS (an ERROR, say) is labelled too. Skips decided from the
//!   environment file alone (waived, not applicable, needs drills) read nothing and stay as they are.

use std::fmt;

use serde::Serialize;

use super::{CheckResult, Skip, Status};
use crate::config::model::{EngineKind, Environment};

/// The emulator glctl talks to instead of AWS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Emulator {
    /// "moto" when the emulator says it is moto (its STS caller ARN ends in `user/moto`), else "an AWS
    /// emulator".
    pub name: String,
    pub endpoint: String,
}

impl fmt::Display for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.name, self.endpoint)
    }
}

/// Whether `url` is one of AWS's own endpoints (the public, FIPS, dual-stack and VPC endpoints of every
/// partition glctl can reach are under these domains).
pub fn is_aws_endpoint(url: &str) -> bool {
    let Some(rest) = url.split_once("://").map(|(_, rest)| rest) else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    ["amazonaws.com", "amazonaws.com.cn", "api.aws"]
        .iter()
        .any(|domain| host.strip_suffix(domain).is_some_and(|before| before.ends_with('.')))
}

/// The first endpoint override that is not AWS, from the SDK's resolved endpoint and the process
/// environment's `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` variables (empty ones are unset).
pub fn overridden_endpoint(
    sdk_endpoint: Option<&str>,
    variables: impl IntoIterator<Item = (String, String)>,
) -> Option<String> {
    let mut candidates: Vec<String> = sdk_endpoint.map(str::to_string).into_iter().collect();
    let mut vars: Vec<(String, String)> = variables
        .into_iter()
        .filter(|(name, value)| {
            (name == "AWS_ENDPOINT_URL" || name.starts_with("AWS_ENDPOINT_URL_")) && !value.trim().is_empty()
        })
        .collect();
    vars.sort();
    candidates.extend(vars.into_iter().map(|(_, value)| value));
    candidates.into_iter().map(|c| c.trim().to_string()).find(|c| !c.is_empty() && !is_aws_endpoint(c))
}

/// How an emulator bears on a check that reads AWS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emulated {
    /// The verdict rests on something the emulator makes up; why.
    Invented(&'static str),
    /// The check decides with the emulator in view, from evidence of the real PostgreSQL too; why the
    /// emulator's side is never a PASS.
    Weighed(&'static str),
    /// The check reads back configuration Terraform sent.
    ReadBack,
}

/// Checks whose verdict an emulator invents, wherever they read AWS, with why (moto 5.2.5, read in its
/// source and seen on the local stack).
pub const INVENTED: &[(&str, &str)] = &[
    ("GL-01", "the emulator answers STS GetCallerIdentity with its own account for any credentials"),
    ("ST-06", "moto sets LastRotatedDate on RotateSecret although no rotation Lambda ever runs"),
    (
        "BR-01",
        "moto reports an \"active\" automated backup and snapshots of a database that holds no data, and a \
         LatestRestorableTime that is always now",
    ),
    ("BR-02", "moto's automated snapshots are records of a database that holds no data"),
    ("BR-03", "moto's LatestRestorableTime is always now: no WAL is archived"),
    (
        "BR-04",
        "moto's restore window starts when the emulated cluster was created, and a restore copies metadata, \
         never data",
    ),
    (
        "BR-05",
        "moto's restore window starts when the emulated cluster was created, and a restore copies metadata, \
         never data",
    ),
    ("BR-06", "a restore in moto copies metadata, never data"),
    ("BR-07", "a cross-region copy and restore in moto copies metadata, never data"),
    ("BR-08", "a restore in moto is instant and holds no data: no restore time is measured"),
    ("HA-01", "moto's failover flips the writer flag instantly with no event, and a reboot ignores ForceFailover"),
    ("HA-02", "moto's failover flips the writer flag instantly with no event, and a reboot ignores ForceFailover"),
    ("HA-03", "moto's failover flips the writer flag instantly with no event, and a reboot ignores ForceFailover"),
    ("HA-04", "moto's failover flips the writer flag instantly with no event, and a reboot ignores ForceFailover"),
];

/// Checks that weigh the emulator themselves (`Emulated::Weighed`), with why its side is never a PASS.
pub const WEIGHED: &[(&str, &str)] = &[(
    "GL-06",
    "moto reports every parameter group `in-sync` forever and never fills PendingModifiedValues; a pending reboot \
     never shows",
)];

/// Why an emulator's side of check `id` is never a PASS, for a check that weighs it itself.
pub fn weighed_why(id: &str) -> Option<&'static str> {
    WEIGHED.iter().find(|(i, _)| *i == id).map(|(_, why)| *why)
}

/// Checks that read back what Terraform sent: true of the emulator's state, not proof that AWS holds it.
pub const READ_BACK: &[&str] =
    &["FA-02", "FA-10", "GL-02", "GL-03", "GL-04", "GL-05", "GL-09", "GL-10", "ST-03", "ST-04", "ST-05"];

/// Checks that read AWS on every engine (Secrets Manager, KMS and STS are used by an external server's
/// environment too); the rest of `INVENTED` and `READ_BACK` read AWS only on RDS and Aurora (on an external
/// server they are decided from PostgreSQL, pgBackRest or a local drill, or do not apply).
const ON_EVERY_ENGINE: &[&str] = &["GL-01", "GL-02", "GL-05", "ST-06"];

/// How an emulator bears on check `id` in `env`; `None` when the check reads nothing from AWS there.
pub fn classify(env: &Environment, id: &str) -> Option<Emulated> {
    let provisioned = env.engine.kind != EngineKind::External;
    if !provisioned && !ON_EVERY_ENGINE.contains(&id) {
        return None;
    }
    // A Multi-AZ RDS primary gets no AZ from Terraform: the emulator picks it.
    if id == "GL-09" && env.engine.kind == EngineKind::RdsPostgresql && env.engine.multi_az {
        return Some(Emulated::Invented("a Multi-AZ primary's availability zone is the emulator's pick"));
    }
    if let Some((_, why)) = INVENTED.iter().find(|(i, _)| *i == id) {
        return Some(Emulated::Invented(why));
    }
    if let Some(why) = weighed_why(id) {
        return Some(Emulated::Weighed(why));
    }
    READ_BACK.contains(&id).then_some(Emulated::ReadBack)
}

/// The rule, over a run's final results: see the module's header.
pub fn apply(results: &mut [CheckResult], env: &Environment, emulator: Option<&Emulator>) {
    let Some(emulator) = emulator else { return };
    for result in results.iter_mut() {
        // Decided from the environment file alone: nothing was read from the emulator. (A check that weighs
        // the emulator itself may have skipped for it: that one is labelled.)
        if result.status == Status::Skip && result.skip != Some(Skip::Emulated) {
            continue;
        }
        let Some(mut kind) = classify(env, result.id) else { continue };
        // ST-06 decided by glctl's own rotation (`rotation_verdict`): the server's answers are real and the
        // secret's versions are what glctl stored; only the schedule is configuration read back.
        if result.id == "ST-06" && result.evidence.iter().any(|e| e.source.starts_with(super::rotation_verdict::SOURCE))
        {
            kind = Emulated::ReadBack;
        }
        match kind {
            Emulated::Invented(why) | Emulated::Weighed(why)
                if result.status == Status::Pass
                    || (result.status == Status::Fail && matches!(kind, Emulated::Invented(_))) =>
            {
                let status = result.status.label();
                let said = match (&result.reason, result.evidence.first()) {
                    (Some(reason), _) => format!("{status}: {reason}"),
                    (None, Some(e)) => format!("{status}: {}", e.observed),
                    (None, None) => status.to_string(),
                };
                result.status = Status::Skip;
                result.skip = Some(Skip::Emulated);
                result.reason = Some(format!("decided by an emulator ({emulator}): {why}; it reported {said}"));
                result.emulated = Some(format!("AWS emulated by {emulator}: not decided"));
            }
            Emulated::Invented(_) => {
                result.emulated = Some(format!("AWS emulated by {emulator}"));
            }
            Emulated::Weighed(_) if result.status == Status::Skip => {
                result.emulated = Some(format!("AWS emulated by {emulator}: not decided"));
            }
            Emulated::Weighed(_) => {
                result.emulated =
                    Some(format!("AWS emulated by {emulator}: its side is not evidence; PostgreSQL's is"));
            }
            Emulated::ReadBack => {
                result.emulated = Some(format!(
                    "configuration read back from {emulator}: what Terraform sent, not proof that AWS holds it"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::checks::CHECKS;
    use crate::verify::Evidence;

    fn env(engine: &str) -> Environment {
        let yaml = format!(
            "project: p\ntier: production\naws: {{ account_id: '123456789012', region: us-east-1 }}\n\
             engine: {engine}\ntimeseries: {{ backend: native }}\n"
        );
        serde_yaml_ng::from_str(&yaml).unwrap()
    }

    fn moto() -> Emulator {
        Emulator { name: "moto".into(), endpoint: "http://127.0.0.1:5000".into() }
    }

    fn result(id: &'static str, status: Status, reason: Option<&str>) -> CheckResult {
        CheckResult {
            id,
            section: "s",
            category: "c",
            title: "t",
            method: "m",
            status,
            skip: None,
            reason: reason.map(str::to_string),
            evidence: vec![Evidence {
                observed: "observed".into(),
                expected: "e".into(),
                source: "s".into(),
                at: "t".into(),
            }],
            emulated: None,
        }
    }

    #[test]
    fn aws_s_own_endpoints_are_not_an_emulator_and_anything_else_is() {
        for aws in [
            "https://rds.us-east-1.amazonaws.com",
            "https://rds-fips.us-gov-west-1.amazonaws.com/",
            "https://sts.cn-north-1.amazonaws.com.cn",
            "https://rds.us-east-1.api.aws",
            "https://vpce-0a1b-x.rds.us-east-1.vpce.amazonaws.com:443/path",
        ] {
            assert!(is_aws_endpoint(aws), "{aws}");
        }
        for emulator in [
            "http://127.0.0.1:5000",
            "http://localhost:4566",
            "http://[::1]:5000",
            "https://amazonaws.com.evil.example",
            "https://notamazonaws.com",
            "https://user@evil.example/amazonaws.com",
            "rds.us-east-1.amazonaws.com",
        ] {
            assert!(!is_aws_endpoint(emulator), "{emulator}");
        }
    }

    #[test]
    fn an_override_anywhere_is_found_and_empty_ones_are_unset() {
        let vars = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
        };
        assert_eq!(overridden_endpoint(None, vars(&[("AWS_ENDPOINT_URL", "")])), None);
        assert_eq!(overridden_endpoint(None, vars(&[("AWS_REGION", "http://x")])), None);
        assert_eq!(
            overridden_endpoint(None, vars(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")])).as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(
            overridden_endpoint(None, vars(&[("AWS_ENDPOINT_URL_RDS", "http://localhost:4566")])).as_deref(),
            Some("http://localhost:4566")
        );
        assert_eq!(overridden_endpoint(Some("https://sts.us-east-1.amazonaws.com"), vars(&[])), None);
        assert_eq!(
            overridden_endpoint(Some("http://10.0.0.9:5000"), vars(&[])).as_deref(),
            Some("http://10.0.0.9:5000")
        );
    }

    #[test]
    fn the_tables_name_only_checks_that_exist_and_none_twice() {
        let ids: Vec<&str> = CHECKS.iter().map(|c| c.id).collect();
        for id in INVENTED.iter().chain(WEIGHED).map(|(id, _)| *id).chain(READ_BACK.iter().copied()) {
            assert!(ids.contains(&id), "{id} is no check");
        }
        assert!(READ_BACK.iter().all(|id| !INVENTED.iter().chain(WEIGHED).any(|(i, _)| i == id)));
        assert!(WEIGHED.iter().all(|(id, _)| !INVENTED.iter().any(|(i, _)| i == id)));
    }

    #[test]
    fn an_invented_pass_or_fail_is_neither_and_says_who_decided_it() {
        let rds = env("{ kind: rds-postgresql, version: '16.6', multi_az: true }");
        let mut results = vec![
            result("GL-06", Status::Pass, None),
            result("BR-05", Status::Fail, Some("the target is outside the restore window")),
            result("ST-04", Status::Pass, None),
            result("GL-01", Status::Error, Some("AWS could not be read")),
            result("FA-04", Status::Pass, None),
            result("GL-09", Status::Pass, None),
        ];
        apply(&mut results, &rds, Some(&moto()));
        let gl06 = &results[0];
        assert_eq!((gl06.status, gl06.skip), (Status::Skip, Some(Skip::Emulated)));
        assert_eq!(
            gl06.reason.as_deref().unwrap(),
            "decided by an emulator (moto at http://127.0.0.1:5000): moto reports every parameter group `in-sync` \
             forever and never fills PendingModifiedValues; a pending reboot never shows; it reported PASS: observed"
        );
        assert_eq!(gl06.evidence.len(), 1, "the evidence is kept");
        let br05 = &results[1];
        assert_eq!(br05.status, Status::Skip);
        assert!(
            br05.reason.as_deref().unwrap().ends_with("it reported FAIL: the target is outside the restore window"),
            "{:?}",
            br05.reason
        );
        let st04 = &results[2];
        assert_eq!(st04.status, Status::Pass, "configuration read back keeps its status");
        assert!(st04
            .emulated
            .as_deref()
            .unwrap()
            .starts_with("configuration read back from moto at http://127.0.0.1:5000"));
        assert_eq!(
            (results[3].status, results[3].emulated.as_deref()),
            (Status::Error, Some("AWS emulated by moto at http://127.0.0.1:5000"))
        );
        assert_eq!((results[4].status, &results[4].emulated), (Status::Pass, &None), "PostgreSQL is not emulated");
        assert_eq!(results[5].status, Status::Skip, "a Multi-AZ primary's AZ is moto's pick");
    }

    #[test]
    fn gl06_s_fail_from_postgresql_stands_against_an_emulator_and_its_own_skip_is_labelled() {
        let aurora = env("{ kind: aurora-postgresql, version: '16.6' }");
        let mut results = vec![
            result("GL-06", Status::Fail, Some("needs a restart to take effect: shared_buffers (running with 16384)")),
            result("GL-06", Status::Skip, Some("PostgreSQL reports …, but the AWS side is not decided")),
        ];
        results[1].skip = Some(Skip::Emulated);
        apply(&mut results, &aurora, Some(&moto()));
        assert_eq!(results[0].status, Status::Fail, "a pending restart read from PostgreSQL is evidence");
        assert_eq!(
            results[0].emulated.as_deref(),
            Some("AWS emulated by moto at http://127.0.0.1:5000: its side is not evidence; PostgreSQL's is")
        );
        assert_eq!((results[1].status, results[1].skip), (Status::Skip, Some(Skip::Emulated)));
        assert_eq!(results[1].emulated.as_deref(), Some("AWS emulated by moto at http://127.0.0.1:5000: not decided"));
    }

    #[test]
    fn on_an_external_server_only_the_aws_services_it_uses_are_labelled_and_without_an_emulator_nothing() {
        let external = env("{ kind: external, version: '16.6' }");
        let mut results = vec![
            result("GL-01", Status::Pass, None),
            result("BR-04", Status::Pass, None),
            result("GL-02", Status::Pass, None),
        ];
        let untouched = results.clone();
        apply(&mut results, &external, None);
        assert_eq!(format!("{results:?}"), format!("{untouched:?}"));
        apply(&mut results, &external, Some(&moto()));
        assert_eq!(results[0].status, Status::Skip);
        assert_eq!((results[1].status, &results[1].emulated), (Status::Pass, &None), "pgBackRest's drill");
        assert_eq!(results[2].status, Status::Pass);
        assert!(results[2].emulated.is_some());
    }

    #[test]
    fn a_skip_from_the_file_is_left_alone() {
        let rds = env("{ kind: rds-postgresql, version: '16.6' }");
        let mut results = vec![result("BR-04", Status::Skip, Some("a drill changes the target"))];
        results[0].skip = Some(Skip::NeedsDrills);
        apply(&mut results, &rds, Some(&moto()));
        assert_eq!((results[0].skip, &results[0].emulated), (Some(Skip::NeedsDrills), &None));
    }
}
