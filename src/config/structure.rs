//! Checks the merged tree against the model's JSON Schema (derived from `model.rs`) and reports every
//! structural problem at once: unknown keys (with a did-you-mean), wrong types, missing fields, values
//! outside an enumeration, intervals that do not parse.
//!
//! serde would stop at the first problem; walking the schema ourselves lets a user fix a file in one pass.

use marked_yaml::types::MarkedScalarNode;
use marked_yaml::Node;
use serde_json::{Map, Value};

use super::diagnostics::{did_you_mean, FieldPath, Finding};
use super::interval::Interval;

/// Keys people write that hold credentials. They get a targeted message rather than "unknown key".
const CREDENTIAL_KEYS: &[&str] = &["password", "passwd", "secret_string", "secret_value", "master_password", "token"];

pub struct Checker<'s> {
    root: &'s Value,
}

/// Where a finding points: the key (for unknown keys) or the value.
pub struct Located {
    pub finding: Finding,
    pub span: marked_yaml::Span,
}

impl<'s> Checker<'s> {
    pub fn new(root: &'s Value) -> Self {
        Checker { root }
    }

    pub fn check(&self, tree: &Node) -> Vec<Located> {
        let mut out = Vec::new();
        self.walk(tree, self.root, &FieldPath::root(), &mut out);
        out
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        resolve_ref(self.root, schema)
    }

    fn walk(&self, node: &Node, schema: &Value, path: &FieldPath, out: &mut Vec<Located>) {
        let schema = self.resolve(schema);
        let mut report = |message: String| {
            out.push(Located { finding: Finding::error(path.clone(), message), span: *node.span() });
        };

        // Enumerations: `enum: [...]`, or one `const` per documented variant.
        if let Some(allowed) = enumeration(schema) {
            match node.as_scalar() {
                Some(s) if allowed.iter().any(|a| a == s.as_str()) => {}
                Some(s) => {
                    let hint = did_you_mean(s.as_str(), allowed.iter().map(String::as_str))
                        .map(|c| format!("; did you mean '{c}'?"))
                        .unwrap_or_default();
                    report(format!("'{}' is not allowed; expected one of: {}{hint}", s.as_str(), allowed.join(", ")));
                }
                None => report(format!("expected one of: {}; found {}", allowed.join(", "), kind_of(node))),
            }
            return;
        }

        // Option<T>: `anyOf: [T, {type: null}]`.
        if let Some(variants) = schema.get("anyOf").or_else(|| schema.get("oneOf")).and_then(Value::as_array) {
            if is_null(node) && variants.iter().any(|v| self.resolve(v).get("type") == Some(&Value::from("null"))) {
                return;
            }
            let non_null: Vec<&Value> =
                variants.iter().filter(|v| self.resolve(v).get("type") != Some(&Value::from("null"))).collect();
            if let [only] = non_null.as_slice() {
                self.walk(node, only, path, out);
            }
            return;
        }

        let types = type_names(schema);
        if is_null(node) && types.contains(&"null") {
            return;
        }
        let wanted = types.iter().find(|t| **t != "null").copied().unwrap_or("any");
        match (wanted, node) {
            ("object", Node::Mapping(map)) => {
                let properties = schema.get("properties").and_then(Value::as_object);
                let extra = schema.get("additionalProperties");
                for (key, value) in map.iter() {
                    let name = key.as_str();
                    let child = path.key(name);
                    if let Some(sub) = properties.and_then(|p| p.get(name)) {
                        self.walk(value, sub, &child, out);
                    } else if let Some(sub) = extra.filter(|e| e.is_object()) {
                        self.walk(value, sub, &child, out);
                    } else {
                        out.push(Located {
                            finding: Finding::error(child, unknown_key_message(name, properties)),
                            span: *key.span(),
                        });
                    }
                }
                let required = schema.get("required").and_then(Value::as_array).into_iter().flatten();
                for name in required.filter_map(Value::as_str) {
                    if map.get_node(name).is_none() {
                        let description = properties
                            .and_then(|p| p.get(name))
                            .map(|s| describe(self.resolve(s)))
                            .map(|d| d.trim_end_matches('.').to_string())
                            .filter(|d| !d.is_empty())
                            .map(|d| format!(" ({d})"))
                            .unwrap_or_default();
                        // At the top level, point at the start of the file rather than the first key.
                        let span = if path.0.is_empty() { top_of_file(node) } else { *node.span() };
                        out.push(Located {
                            finding: Finding::error(path.key(name), format!("missing required field{description}")),
                            span,
                        });
                    }
                }
            }
            ("array", Node::Sequence(items)) => {
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.walk(item, item_schema, &path.index(i), out);
                    }
                }
            }
            ("string", Node::Scalar(s)) => {
                if schema.get("format") == Some(&Value::from("interval")) {
                    if let Err(e) = Interval::parse(s.as_str()) {
                        report(format!("expected {e}"));
                    }
                }
            }
            ("integer", Node::Scalar(s)) => check_integer(s, schema, &mut report),
            ("number", Node::Scalar(s)) => {
                if !s.may_coerce() || s.as_str().parse::<f64>().is_err() {
                    report(format!("expected a number, found '{}'", s.as_str()));
                }
            }
            ("boolean", Node::Scalar(s)) => {
                if !s.may_coerce() || s.as_bool().is_none() {
                    report(format!("expected true or false, found '{}'", s.as_str()));
                }
            }
            ("any", _) => {}
            (wanted, node) => report(format!("expected {}, found {}", article(wanted), kind_of(node))),
        }
    }
}

fn check_integer(s: &MarkedScalarNode, schema: &Value, report: &mut impl FnMut(String)) {
    // i128 holds every whole number a YAML file can sensibly write, so a huge one is "out of range", not
    // "not a number".
    let Ok(n) = s.as_str().parse::<i128>().map_err(|_| ()).and_then(|n| if s.may_coerce() { Ok(n) } else { Err(()) })
    else {
        report(format!("expected a whole number, found '{}'", s.as_str()));
        return;
    };
    // The model's own type bounds the value where the schema states no explicit range (a u32 field).
    let (type_min, type_max) = format_range(schema.get("format").and_then(Value::as_str));
    let min = schema.get("minimum").and_then(Value::as_i64).map(i128::from).or(type_min);
    let max = schema.get("maximum").and_then(Value::as_i64).map(i128::from).or(type_max);
    if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
        let range = match (min, max) {
            (Some(lo), Some(hi)) => format!("between {lo} and {hi}"),
            (Some(lo), None) => format!("at least {lo}"),
            (None, Some(hi)) => format!("at most {hi}"),
            (None, None) => unreachable!(),
        };
        report(format!("{n} is out of range; expected a whole number {range}"));
    }
}

/// The range of the Rust type behind a schemars integer `format`.
fn format_range(format: Option<&str>) -> (Option<i128>, Option<i128>) {
    match format {
        Some("uint8") => (Some(0), Some(u8::MAX.into())),
        Some("uint16") => (Some(0), Some(u16::MAX.into())),
        Some("uint32") => (Some(0), Some(u32::MAX.into())),
        Some("uint64" | "uint") => (Some(0), Some(u64::MAX.into())),
        Some("int8") => (Some(i8::MIN.into()), Some(i8::MAX.into())),
        Some("int16") => (Some(i16::MIN.into()), Some(i16::MAX.into())),
        Some("int32") => (Some(i32::MIN.into()), Some(i32::MAX.into())),
        Some("int64" | "int") => (Some(i64::MIN.into()), Some(i64::MAX.into())),
        _ => (None, None),
    }
}

fn unknown_key_message(name: &str, properties: Option<&Map<String, Value>>) -> String {
    if CREDENTIAL_KEYS.contains(&name.to_ascii_lowercase().as_str()) {
        return "credentials do not belong in environment files; store them in Secrets Manager and reference the \
                secret under `secrets`"
            .into();
    }
    let known: Vec<&str> = properties.map(|p| p.keys().map(String::as_str).collect()).unwrap_or_default();
    let mut message = format!("unknown key `{name}`");
    match did_you_mean(name, known.iter().copied()) {
        Some(close) => message.push_str(&format!("; did you mean `{close}`?")),
        None if !known.is_empty() => message.push_str(&format!("; expected one of: {}", known.join(", "))),
        None => {}
    }
    message
}

fn enumeration(schema: &Value) -> Option<Vec<String>> {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return Some(values.iter().filter_map(Value::as_str).map(str::to_string).collect());
    }
    let variants = schema.get("oneOf").or_else(|| schema.get("anyOf"))?.as_array()?;
    let consts: Option<Vec<String>> = variants
        .iter()
        .map(|v| {
            v.get("const").and_then(Value::as_str).map(str::to_string).or_else(|| {
                let values = v.get("enum")?.as_array()?;
                (values.len() == 1).then(|| values[0].as_str().map(str::to_string))?
            })
        })
        .collect();
    consts.filter(|c| !c.is_empty())
}

fn type_names(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

/// Follows `$ref`s (`#/$defs/Name`) from `schema` to the definition in `root`.
pub fn resolve_ref<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    let mut schema = schema;
    while let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        schema = &root["$defs"][reference.rsplit('/').next().unwrap_or_default()];
    }
    schema
}

pub fn describe(schema: &Value) -> String {
    schema.get("description").and_then(Value::as_str).unwrap_or_default().replace('\n', " ")
}

use super::loader::is_null;

fn kind_of(node: &Node) -> String {
    match node {
        Node::Scalar(s) => format!("'{}'", s.as_str()),
        Node::Mapping(_) => "a mapping".into(),
        Node::Sequence(_) => "a list".into(),
    }
}

fn article(type_name: &str) -> &'static str {
    match type_name {
        "object" => "a mapping",
        "array" => "a list",
        "string" => "a string",
        "integer" => "a whole number",
        "number" => "a number",
        "boolean" => "true or false",
        _ => "a value",
    }
}

fn top_of_file(node: &Node) -> marked_yaml::Span {
    let source = node.span().start().map(|m| m.source()).unwrap_or(0);
    marked_yaml::Span::new_start(marked_yaml::Marker::new(source, 0, 1, 1))
}

/// The keyed sections whose keys name things: a key no file declared completely is more likely a typo of a
/// known name than a new one, so its missing fields are reported as one unknown name with the names known.
const NAMED_SECTIONS: &[(&str, &str)] = &[("hypertables", "table"), ("continuous_aggregates", "continuous aggregate")];

/// Replaces the "missing required field" findings of an entry under `hypertables:` (or
/// `continuous_aggregates:`) that no layer declares completely with one finding at its key: an unknown
/// table, the close name it likely meant and the names the environment knows.
pub fn name_unknown_entries(tree: &Node, found: Vec<Located>) -> Vec<Located> {
    use super::diagnostics::Seg;
    let missing_in = |l: &Located, section: &str| -> Option<String> {
        match l.finding.path.0.as_slice() {
            [Seg::Key(s), Seg::Key(name), Seg::Key(_)]
                if s == section && l.finding.message.starts_with("missing required field") =>
            {
                Some(name.clone())
            }
            _ => None,
        }
    };
    let mut found = found;
    for (section, noun) in NAMED_SECTIONS {
        let Some(map) = tree.as_mapping().and_then(|m| m.get_node(section)).and_then(Node::as_mapping) else {
            continue;
        };
        let incomplete: Vec<String> = {
            let mut names: Vec<String> = found.iter().filter_map(|l| missing_in(l, section)).collect();
            names.dedup();
            names
        };
        if incomplete.is_empty() {
            continue;
        }
        let known: Vec<&str> =
            map.iter().map(|(k, _)| k.as_str()).filter(|k| !incomplete.iter().any(|i| i == k)).collect();
        for name in &incomplete {
            let fields: Vec<String> = found
                .iter()
                .filter(|l| missing_in(l, section).as_deref() == Some(name.as_str()))
                .filter_map(|l| match l.finding.path.0.last() {
                    Some(Seg::Key(field)) => Some(field.clone()),
                    _ => None,
                })
                .collect();
            found.retain(|l| missing_in(l, section).as_deref() != Some(name.as_str()));
            let Some((key, _)) = map.iter().find(|(k, _)| k.as_str() == name) else { continue };
            let hint = match did_you_mean(name, known.iter().copied()) {
                Some(close) => format!("did you mean '{close}'? "),
                None => String::new(),
            };
            let known_list = if known.is_empty() { "none".to_string() } else { known.join(", ") };
            found.push(Located {
                finding: Finding::error(
                    FieldPath::root().key(section).key(name),
                    format!(
                        "unknown {noun} '{name}': no file of this environment declares it; {hint}known: {known_list} \
                         (a new {noun} needs {})",
                        fields.join(" and ")
                    ),
                ),
                span: *key.span(),
            });
        }
    }
    found
}
