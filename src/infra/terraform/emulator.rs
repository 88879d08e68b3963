//! Known gaps of the AWS emulator (moto 5.2.5) that show up as drift in a second plan. glctl does not hide
//! them: the plan still lists the change, with the reason it is not a real difference. Each entry was found
//! by applying an environment to moto and reading the second plan; real AWS stores these attributes.
//! Also the one setting the S3 state backend needs to reach an emulator (`backend_config`).

use crate::config::model::StateBackend;

/// (resource type, attributes moto does not read back, why)
const GAPS: &[(&str, &[&str], &str)] = &[
    (
        "aws_db_instance",
        &["performance_insights_enabled", "performance_insights_kms_key_id", "performance_insights_retention_period"],
        "moto does not store Performance Insights settings of DB instances",
    ),
    (
        "aws_rds_cluster",
        &["scaling_configuration"],
        "moto returns a Serverless v1 scaling configuration for provisioned clusters",
    ),
    (
        "aws_rds_cluster_instance",
        &["performance_insights_enabled", "performance_insights_kms_key_id", "performance_insights_retention_period"],
        "moto does not store Performance Insights settings of cluster instances",
    ),
    (
        "aws_vpc_security_group_ingress_rule",
        &["description"],
        "moto does not store descriptions of security group rules",
    ),
    (
        "aws_vpc_security_group_egress_rule",
        &["description"],
        "moto does not store descriptions of security group rules",
    ),
];

/// Why an update of `resource_type` touching `changed` is emulator drift, if every changed attribute is a
/// known gap. `change` is the plan's `change` object (before/after).
pub fn explain(resource_type: &str, changed: &[String], change: &serde_json::Value) -> Option<String> {
    if changed.is_empty() {
        return None;
    }
    // moto does not mark parameters a user set as `Source: user`, and the provider reads back only those:
    // every parameter looks missing. Only that exact picture is drift; a real parameter change is not.
    if resource_type == "aws_db_parameter_group"
        && changed == ["parameter"]
        && change["before"]["parameter"].as_array().is_some_and(|p| p.is_empty())
    {
        return Some("moto does not mark parameters set by a user as `Source: user`, so none are read back".into());
    }
    gap(resource_type, changed)
}

/// The same for a `resource_drift` entry of a refresh-only plan, where `before` is the state glctl's apply
/// left and `after` what the emulator reads back: the parameter group's parameters read back as none.
pub fn explain_drift(resource_type: &str, changed: &[String], change: &serde_json::Value) -> Option<String> {
    if changed.is_empty() {
        return None;
    }
    if resource_type == "aws_db_parameter_group"
        && changed == ["parameter"]
        && change["after"]["parameter"].as_array().is_some_and(|p| p.is_empty())
    {
        return Some("moto does not mark parameters set by a user as `Source: user`, so none are read back".into());
    }
    gap(resource_type, changed)
}

fn gap(resource_type: &str, changed: &[String]) -> Option<String> {
    GAPS.iter()
        .find(|(t, attributes, _)| *t == resource_type && changed.iter().all(|c| attributes.contains(&c.as_str())))
        .map(|(_, _, why)| why.to_string())
}

/// Whether glctl talks to an emulator rather than AWS (an endpoint override is set).
pub fn in_use() -> bool {
    std::env::var_os("AWS_ENDPOINT_URL").is_some_and(|v| !v.is_empty())
}

/// `-backend-config` settings `terraform init` needs to reach the state through an emulator, none for AWS.
/// The S3 backend honours AWS_ENDPOINT_URL, but addresses a bucket as a host name (`BUCKET.localhost`),
/// which an emulator on `localhost` does not answer (it works by chance on `127.0.0.1`, where the SDK falls
/// back to paths). Passed at init rather than rendered, so the module applied to AWS has no trace of tests.
pub fn backend_config(backend: StateBackend, emulated: bool) -> Vec<String> {
    match backend {
        StateBackend::S3 if emulated => vec!["use_path_style=true".into()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_s3_backend_of_an_emulator_gets_path_style_addressing() {
        assert_eq!(backend_config(StateBackend::S3, true), ["use_path_style=true"]);
        assert!(backend_config(StateBackend::S3, false).is_empty(), "AWS itself: nothing");
        assert!(backend_config(StateBackend::Local, true).is_empty(), "the local backend has no such setting");
    }
}
