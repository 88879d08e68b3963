//! `backup.cross_region_copy.restore_into`: where in `aws.dr_region` BR-07 (`verify --drills`) restores the
//! newest DR copy into a scratch instance. The DR region holds no network of the environment's that glctl
//! manages, so the file names the DB subnet group and security groups there. Types and their semantic rules.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::diagnostics::{FieldPath, Finding};

/// The DR region's network for a scratch restore of the DR copy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RestoreInto {
    /// A DB subnet group in `aws.dr_region` (private subnets) the scratch copy is restored into.
    pub db_subnet_group: String,
    /// The security groups (`sg-…`, in that subnet group's VPC) the scratch copy gets; at least one.
    pub security_group_ids: Vec<String>,
}

/// Semantic rules of `backup.cross_region_copy.restore_into`.
pub fn check(into: &RestoreInto) -> Vec<Finding> {
    let at = |field: &str| FieldPath::parse(&format!("backup.cross_region_copy.restore_into.{field}"));
    let mut out = Vec::new();
    // RDS: 1 to 255 letters, digits, spaces, '-', '_' or '.'; not `default`.
    let name = &into.db_subnet_group;
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.');
    if name.is_empty() || name.len() > 255 || !name.chars().all(valid) || name.eq_ignore_ascii_case("default") {
        out.push(Finding::error(
            at("db_subnet_group"),
            format!(
                "'{name}' is not a DB subnet group name; expected 1 to 255 letters, digits, spaces, '-', '_' or '.' \
                 (not `default`)"
            ),
        ));
    }
    if into.security_group_ids.is_empty() {
        out.push(Finding::error(
            at("security_group_ids"),
            "no security group; expected at least one `sg-…` of the DR region",
        ));
    }
    for (i, id) in into.security_group_ids.iter().enumerate() {
        if !is_group_id(id) {
            out.push(Finding::error(
                at("security_group_ids").index(i),
                format!("'{id}' is not a security group ID; expected `sg-` and 8 or 17 hexadecimal digits"),
            ));
        }
    }
    out
}

fn is_group_id(id: &str) -> bool {
    id.strip_prefix("sg-").is_some_and(|hex| matches!(hex.len(), 8 | 17) && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subnet_group_and_security_groups_are_checked_by_field() {
        let good =
            RestoreInto { db_subnet_group: "greenlang-prod-dr".into(), security_group_ids: vec!["sg-0123abcd".into()] };
        assert!(check(&good).is_empty());
        let bad =
            RestoreInto { db_subnet_group: "default".into(), security_group_ids: vec!["sg-1".into(), "web".into()] };
        let found: Vec<String> = check(&bad).iter().map(|f| f.path.to_string()).collect();
        assert_eq!(
            found,
            [
                "backup.cross_region_copy.restore_into.db_subnet_group",
                "backup.cross_region_copy.restore_into.security_group_ids[0]",
                "backup.cross_region_copy.restore_into.security_group_ids[1]"
            ]
        );
        let none = RestoreInto { security_group_ids: vec![], ..good };
        assert_eq!(check(&none).len(), 1);
    }
}
