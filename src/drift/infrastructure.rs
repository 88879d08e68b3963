//! The infrastructure layer of `drift`, read from a refresh-only plan's JSON:
//!
//! - `resource_drift` (the state before the refresh against the refreshed one), counting only attributes the
//!   configuration sets. What AWS computes by itself (`latest_restorable_time`, the `managed_policy_arns` a
//!   separate attachment adds, an SNS topic's default policy) changes on every refresh and is not drift; it
//!   is noted, not counted. A resource deleted outside glctl always counts.
//! - Security-group rules. glctl declares every rule as its own resource
//!   (`aws_vpc_security_group_ingress_rule`/`_egress_rule`), so the group's `ingress`/`egress` attributes are
//!   not in the configuration and terraform never judges them: a rule added by hand shows up only as a change
//!   of a computed attribute of the group. The refreshed group still lists every live rule (the provider
//!   reads them all), so each live rule is matched against the declared rule resources of that group; one
//!   that no resource declares is drift, named with the rule. A declared rule deleted by hand is a deleted
//!   resource in `resource_drift`.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

/// One security-group rule, as the group lists it or a rule resource declares it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rule {
    pub group_id: String,
    /// `ingress` or `egress`.
    pub direction: &'static str,
    /// `tcp`, `udp`, `icmp`, … or `-1` for all traffic.
    pub protocol: String,
    pub from_port: i64,
    pub to_port: i64,
    /// A security group (`sg-…`), a CIDR block, or a prefix list (`pl-…`).
    pub peer: String,
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match (self.protocol.as_str(), self.from_port, self.to_port) {
            ("-1", _, _) => "all traffic".to_string(),
            (p, from, to) if from == to => format!("{p} {from}"),
            (p, from, to) => format!("{p} {from}-{to}"),
        };
        let way = if self.direction == "ingress" { "from" } else { "to" };
        write!(f, "{} {what} {way} {}", self.direction, self.peer)
    }
}

/// EC2 keeps a protocol given by number as that number; glctl's files name them.
fn protocol(p: &str) -> String {
    match p {
        "6" => "tcp".into(),
        "17" => "udp".into(),
        "1" => "icmp".into(),
        "all" => "-1".into(),
        other => other.to_ascii_lowercase(),
    }
}

/// Every resource of a state's `values.root_module`, child modules included, with its module's address
/// (`module.a.module.b`, empty for the root).
pub fn state_resources(module: &Value) -> Vec<(String, &Value)> {
    let here = module["address"].as_str().unwrap_or_default().to_string();
    let mut all: Vec<(String, &Value)> =
        module["resources"].as_array().into_iter().flatten().map(|r| (here.clone(), r)).collect();
    for child in module["child_modules"].as_array().into_iter().flatten() {
        all.extend(state_resources(child));
    }
    all
}

/// The attribute names the configuration sets for the resource `type.name` in the module at
/// `module_address`, or `None` when the configuration does not hold it (then every attribute counts).
/// `root` is the rendered directory: `dynamic` blocks are missing from the plan's JSON configuration, so
/// they are read from the module's `.tf` files.
pub fn configured_attributes(
    configuration: &Value,
    root: Option<&Path>,
    module_address: &str,
    resource_type: &str,
    name: &str,
) -> Option<BTreeSet<String>> {
    let mut module = &configuration["root_module"];
    let mut dir = root.map(Path::to_path_buf);
    for call in module_address.split("module.").filter(|s| !s.is_empty()) {
        // `module.a["x"].module.b` → a, b (an instance key does not change the configuration).
        let name = call.trim_end_matches('.').split('[').next().unwrap_or_default();
        let source = module["module_calls"][name]["source"].as_str().unwrap_or_default();
        dir = dir.filter(|_| source.starts_with("./") || source.starts_with("../")).map(|d| d.join(source));
        module = &module["module_calls"][name]["module"];
        if module.is_null() {
            return None;
        }
    }
    let address = format!("{resource_type}.{name}");
    let resource =
        module["resources"].as_array()?.iter().find(|r| r["address"] == address.as_str() && r["mode"] != "data")?;
    let mut set: BTreeSet<String> =
        resource["expressions"].as_object().map(|e| e.keys().cloned().collect()).unwrap_or_default();
    if let Some(dir) = dir {
        set.extend(dynamic_blocks(&dir, resource_type, name));
    }
    Some(set)
}

/// The names of the `dynamic "X"` blocks in `resource "TYPE" "NAME" { … }` of the `.tf` files in `dir`.
/// A plain scan of glctl's own modules: braces inside strings and comments are skipped (they use no heredocs).
pub fn dynamic_blocks(dir: &Path, resource_type: &str, name: &str) -> BTreeSet<String> {
    let header = format!("resource \"{resource_type}\" \"{name}\"");
    let mut found = BTreeSet::new();
    let files = std::fs::read_dir(dir).into_iter().flatten().filter_map(|e| e.ok().map(|e| e.path()));
    for file in files.filter(|p| p.extension().is_some_and(|x| x == "tf")) {
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        let Some(at) = text.find(&header) else { continue };
        let Some(open) = text[at..].find('{') else { continue };
        let body = block_body(&text[at + open..]);
        let mut rest = body;
        while let Some(i) = rest.find("dynamic \"") {
            rest = &rest[i + "dynamic \"".len()..];
            if let Some(end) = rest.find('"') {
                found.insert(rest[..end].to_string());
            }
        }
    }
    found
}

/// The text of the block that `text` opens with `{`, up to its matching `}` (strings and comments skipped).
fn block_body(text: &str) -> &str {
    let bytes = text.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'#' => i += text[i..].find('\n').unwrap_or(text.len() - i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => i += text[i..].find('\n').unwrap_or(text.len() - i),
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return &text[..=i];
                }
            }
            _ => {}
        }
        i += 1;
    }
    text
}

/// Whether two attribute values mean the same: null, an empty list, map or string are one "nothing"
/// (providers read an unset list back as `[]`).
fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    let empty = |v: Option<&Value>| match v {
        None | Some(Value::Null) => true,
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        Some(Value::String(s)) => s.is_empty(),
        _ => false,
    };
    a == b || (empty(a) && empty(b))
}

/// The attributes whose value differs between `change.before` and `change.after` (`tags_all` is the
/// provider's merge of `tags`, which is compared itself).
pub fn changed_attributes(change: &Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let before = change["before"].as_object().unwrap_or(&empty);
    let after = change["after"].as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter().filter(|k| !same(before.get(*k), after.get(*k)) && k.as_str() != "tags_all").cloned().collect()
}

/// The rules a refreshed `aws_security_group` lists in `ingress`/`egress` (one per peer).
pub fn live_rules(group: &Value) -> Vec<Rule> {
    let id = group["values"]["id"].as_str().unwrap_or_default();
    let mut rules = Vec::new();
    for direction in ["ingress", "egress"] {
        for entry in group["values"][direction].as_array().into_iter().flatten() {
            let mut peers: Vec<String> = Vec::new();
            for list in ["cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids", "security_groups"] {
                peers
                    .extend(entry[list].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_string));
            }
            if entry["self"].as_bool() == Some(true) {
                peers.push(id.to_string());
            }
            for peer in peers {
                rules.push(Rule {
                    group_id: id.to_string(),
                    direction,
                    protocol: protocol(entry["protocol"].as_str().unwrap_or("?")),
                    from_port: entry["from_port"].as_i64().unwrap_or(-1),
                    to_port: entry["to_port"].as_i64().unwrap_or(-1),
                    peer: peer.to_ascii_lowercase(),
                });
            }
        }
    }
    rules
}

/// The rule a rule resource of the refreshed state declares, if `resource` is one.
pub fn declared_rule(resource: &Value) -> Option<Rule> {
    let v = &resource["values"];
    let text = |k: &str| v[k].as_str().filter(|s| !s.is_empty()).map(str::to_string);
    let port = |k: &str| v[k].as_i64().unwrap_or(-1);
    let (direction, protocol_key) = match resource["type"].as_str()? {
        "aws_vpc_security_group_ingress_rule" => ("ingress", "ip_protocol"),
        "aws_vpc_security_group_egress_rule" => ("egress", "ip_protocol"),
        // The older single-rule resource: one peer only where it declares one (a list of CIDRs is expanded
        // by `declared_rules`).
        "aws_security_group_rule" => (if v["type"] == "egress" { "egress" } else { "ingress" }, "protocol"),
        _ => return None,
    };
    let peer = text("referenced_security_group_id")
        .or_else(|| text("source_security_group_id"))
        .or_else(|| text("cidr_ipv4"))
        .or_else(|| text("cidr_ipv6"))
        .or_else(|| text("prefix_list_id"))
        .or_else(|| (v["self"].as_bool() == Some(true)).then(|| text("security_group_id")).flatten())
        .unwrap_or_default();
    Some(Rule {
        group_id: text("security_group_id")?,
        direction,
        protocol: protocol(&text(protocol_key).unwrap_or_else(|| "?".into())),
        from_port: port("from_port"),
        to_port: port("to_port"),
        peer: peer.to_ascii_lowercase(),
    })
}

/// Every rule the rule resources of the refreshed state declare (`aws_security_group_rule` with lists of
/// CIDRs or prefix lists expanded to one rule per peer).
pub fn declared_rules(resources: &[(String, &Value)]) -> BTreeSet<Rule> {
    let mut rules = BTreeSet::new();
    for (_, r) in resources {
        let Some(rule) = declared_rule(r) else { continue };
        let lists: Vec<String> = ["cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids"]
            .iter()
            .flat_map(|k| r["values"][*k].as_array().into_iter().flatten().filter_map(Value::as_str))
            .map(str::to_ascii_lowercase)
            .collect();
        if lists.is_empty() {
            rules.insert(rule);
        } else {
            for peer in lists {
                rules.insert(Rule { peer, ..rule.clone() });
            }
        }
    }
    rules
}

/// A live rule of a group whose rules are separate resources that no resource declares.
pub struct UndeclaredRule {
    /// The group's resource address.
    pub address: String,
    pub rule: Rule,
}

/// The live rules of every group whose `ingress`/`egress` are not in the configuration (its rules are
/// separate resources) that no rule resource declares. `plan` is a refresh-only plan's JSON.
pub fn undeclared_rules(plan: &Value, root: Option<&Path>) -> Vec<UndeclaredRule> {
    let resources = state_resources(&plan["prior_state"]["values"]["root_module"]);
    let declared = declared_rules(&resources);
    let mut found = Vec::new();
    for (module, group) in resources.iter().filter(|(_, r)| r["type"] == "aws_security_group" && r["mode"] == "managed")
    {
        let name = group["name"].as_str().unwrap_or_default();
        let configured =
            configured_attributes(&plan["configuration"], root, module, "aws_security_group", name).unwrap_or_default();
        for rule in live_rules(group) {
            if configured.contains(rule.direction) || declared.contains(&rule) {
                continue;
            }
            found.push(UndeclaredRule { address: group["address"].as_str().unwrap_or_default().to_string(), rule });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(extra_ingress: Value) -> Value {
        let mut ingress = vec![
            json!({ "protocol": "tcp", "from_port": 5432, "to_port": 5432, "cidr_blocks": [], "ipv6_cidr_blocks": [],
                    "prefix_list_ids": [], "security_groups": ["sg-eks"], "self": false }),
            json!({ "protocol": "tcp", "from_port": 5432, "to_port": 5432, "cidr_blocks": [], "ipv6_cidr_blocks": [],
                    "prefix_list_ids": [], "security_groups": [], "self": true }),
        ];
        if !extra_ingress.is_null() {
            ingress.push(extra_ingress);
        }
        json!({
            "prior_state": { "values": { "root_module": { "child_modules": [{ "address": "module.network_access", "resources": [
                { "address": "module.network_access.aws_security_group.database", "mode": "managed",
                  "type": "aws_security_group", "name": "database",
                  "values": { "id": "sg-db", "ingress": ingress, "egress": [] } },
                { "address": "module.network_access.aws_vpc_security_group_ingress_rule.from_security_group[\"sg-eks\"]",
                  "mode": "managed", "type": "aws_vpc_security_group_ingress_rule",
                  "values": { "security_group_id": "sg-db", "ip_protocol": "tcp", "from_port": 5432, "to_port": 5432,
                              "referenced_security_group_id": "sg-eks", "cidr_ipv4": null } },
                { "address": "module.network_access.aws_vpc_security_group_ingress_rule.replication",
                  "mode": "managed", "type": "aws_vpc_security_group_ingress_rule",
                  "values": { "security_group_id": "sg-db", "ip_protocol": "6", "from_port": 5432, "to_port": 5432,
                              "referenced_security_group_id": "sg-db" } }
            ]}]}}},
            "configuration": { "root_module": { "module_calls": { "network_access": { "module": { "resources": [
                { "address": "aws_security_group.database", "mode": "managed",
                  "expressions": { "name": {}, "vpc_id": {}, "description": {}, "tags": {} } }
            ]}}}}}
        })
    }

    #[test]
    fn a_rule_added_by_hand_is_undeclared_and_the_declared_ones_are_not() {
        assert!(undeclared_rules(&plan(Value::Null), None).is_empty(), "the declared rules match the live ones");
        let opened = json!({ "protocol": "tcp", "from_port": 5432, "to_port": 5432, "cidr_blocks": ["0.0.0.0/0"],
                             "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": false });
        let found = undeclared_rules(&plan(opened), None);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].address, "module.network_access.aws_security_group.database");
        assert_eq!(found[0].rule.to_string(), "ingress tcp 5432 from 0.0.0.0/0");
        let all = json!({ "protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": [], "ipv6_cidr_blocks": ["::/0"],
                          "prefix_list_ids": [], "security_groups": [], "self": false });
        assert_eq!(undeclared_rules(&plan(all), None)[0].rule.to_string(), "ingress all traffic from ::/0");
    }

    #[test]
    fn inline_rules_are_left_to_resource_drift() {
        let mut p = plan(json!({ "protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["10.0.0.0/8"] }));
        p["configuration"]["root_module"]["module_calls"]["network_access"]["module"]["resources"][0]["expressions"]
            ["ingress"] = json!([]);
        assert!(undeclared_rules(&p, None).is_empty());
    }

    #[test]
    fn configured_attributes_follow_the_module_path_and_ignore_instance_keys() {
        let c = &plan(Value::Null)["configuration"];
        let attrs = configured_attributes(c, None, "module.network_access", "aws_security_group", "database").unwrap();
        assert!(attrs.contains("vpc_id") && !attrs.contains("ingress"), "{attrs:?}");
        assert!(
            configured_attributes(c, None, "module.network_access[\"a\"]", "aws_security_group", "database").is_some()
        );
        assert!(configured_attributes(c, None, "module.gone", "aws_security_group", "database").is_none());
        assert!(configured_attributes(c, None, "module.network_access", "aws_security_group", "other").is_none());
    }

    #[test]
    fn dynamic_blocks_are_read_from_the_module_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("modules/rds")).unwrap();
        std::fs::write(
            dir.path().join("modules/rds/main.tf"),
            "resource \"aws_db_parameter_group\" \"this\" {\n  name = \"x}\" # }\n  dynamic \"parameter\" {\n    for_each = var.p\n    content { name = parameter.key }\n  }\n}\nresource \"aws_x\" \"y\" {\n  dynamic \"other\" {}\n}\n",
        )
        .unwrap();
        let configuration = json!({ "root_module": { "module_calls": { "database": { "source": "./modules/rds",
            "module": { "resources": [{ "address": "aws_db_parameter_group.this", "mode": "managed",
                                        "expressions": { "name": {} } }] } } } } });
        let attrs = configured_attributes(
            &configuration,
            Some(dir.path()),
            "module.database",
            "aws_db_parameter_group",
            "this",
        )
        .unwrap();
        assert_eq!(attrs.into_iter().collect::<Vec<_>>(), ["name", "parameter"], "not `other`, of another resource");
    }

    #[test]
    fn null_and_empty_are_the_same_value() {
        let change = json!({ "before": { "a": null, "b": "x", "c": [], "tags_all": {"k": "1"} },
                             "after": { "a": [], "b": "y", "c": null, "tags_all": {} } });
        assert_eq!(changed_attributes(&change), ["b"]);
    }
}
