//! What an environment file points at outside itself: the file `connection.ca_bundle` names (relative to
//! the project root, where glctl runs) and the accounts of the ARNs it holds. Both are warnings: a bundle may
//! be fetched at deploy time, and a cross-account ARN may be meant (a shared rotation Lambda) — but a
//! newcomer's copied example is caught here rather than half-way through an apply.

use std::path::Path;

use marked_yaml::Node;

use super::diagnostics::{FieldPath, Finding};
use super::structure::Located;

pub fn findings(tree: &Node, root: &Path) -> Vec<Located> {
    let mut out = Vec::new();
    let scalar = |path: &[&str]| {
        path.iter().try_fold(tree, |node, key| node.as_mapping()?.get_node(key)).and_then(Node::as_scalar)
    };
    if let Some(bundle) = scalar(&["connection", "ca_bundle"]) {
        let file = root.join(bundle.as_str());
        if !file.is_file() {
            let where_ = if Path::new(bundle.as_str()).is_absolute() { "" } else { " under the project root" };
            out.push(Located {
                finding: Finding::warning(
                    FieldPath::parse("connection.ca_bundle"),
                    format!(
                        "'{}' is not a file{where_}; glctl reads it to verify the server's certificate when it \
                         connects: put the CA bundle there (for RDS and Aurora, AWS's global-bundle.pem) or name \
                         where it is",
                        bundle.as_str(),
                    ),
                ),
                span: *bundle.span(),
            });
        }
    }
    if let Some(account) = scalar(&["aws", "account_id"]) {
        arns(tree, &FieldPath::root(), account.as_str(), &mut out);
    }
    out
}

/// Every ARN under `node` whose account is neither `account` nor empty (AWS-owned resources have none).
fn arns(node: &Node, path: &FieldPath, account: &str, out: &mut Vec<Located>) {
    match node {
        Node::Mapping(map) => {
            for (key, value) in map.iter() {
                arns(value, &path.key(key.as_str()), account, out);
            }
        }
        Node::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                arns(item, &path.index(i), account, out);
            }
        }
        Node::Scalar(s) => {
            // arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE
            let parts: Vec<&str> = s.as_str().splitn(6, ':').collect();
            if let ["arn", _, service, _, other, _] = parts.as_slice() {
                if !other.is_empty() && *other != account {
                    out.push(Located {
                        finding: Finding::warning(
                            path.clone(),
                            format!(
                                "this {service} ARN is in account {other}, not aws.account_id {account}; expected \
                                 {account} (a copied example?), or a resource policy that lets {account} use it"
                            ),
                        ),
                        span: *s.span(),
                    });
                }
            }
        }
    }
}
