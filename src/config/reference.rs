//! The environment field reference, generated from the model's schema (and so from its doc comments).
//! docs/reference/environment.md embeds it; a test keeps the two identical.

use serde_json::Value;

use super::structure::{describe, resolve_ref as resolve};

/// One field of the reference.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Field {
    /// Dotted path; `<name>` for a key of the user's choosing, `[]` for a list's items.
    pub path: String,
    /// The type, with Markdown backticks around literal values.
    #[serde(rename = "type")]
    pub kind: String,
    /// `required`, `—` (none), `see fields`, or the default value in backticks.
    pub default: String,
    pub description: String,
}

/// Every field, in the model's order.
pub fn fields() -> Vec<Field> {
    let schema = super::schema();
    let mut rows = Vec::new();
    walk(&schema, &schema, "", &mut rows);
    rows.into_iter().map(|(path, kind, default, description)| Field { path, kind, default, description }).collect()
}

/// Whether `path` is `prefix` or lies under it. A segment of `prefix` matches the same segment, or a
/// `<name>` placeholder (so `hypertables.sensor_readings` finds `hypertables.<name>…`); `[]` is ignored.
pub fn under(path: &str, prefix: &str) -> bool {
    let norm = |p: &str| p.replace("[]", "");
    let (path, prefix) = (norm(path), norm(prefix.trim_end_matches('.')));
    let mut segments = path.split('.');
    prefix.split('.').all(|want| segments.next().is_some_and(|have| have == want || have == "<name>"))
}

/// A Markdown table of `fields`.
pub fn markdown_of(fields: &[Field]) -> String {
    let mut out = String::from("| field | type | default | meaning |\n|---|---|---|---|\n");
    for f in fields {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            f.path,
            f.kind.replace('|', "\\|"),
            f.default,
            f.description.replace('|', "\\|")
        ));
    }
    out
}

/// The schema without its `null` alternative (Option<T>).
fn non_null<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    let schema = resolve(root, schema);
    if let Some(variants) = schema.get("anyOf").and_then(Value::as_array) {
        let rest: Vec<&Value> =
            variants.iter().filter(|v| resolve(root, v).get("type") != Some(&Value::from("null"))).collect();
        if let [only] = rest.as_slice() {
            return resolve(root, only);
        }
    }
    schema
}

fn walk(root: &Value, schema: &Value, prefix: &str, rows: &mut Vec<(String, String, String, String)>) {
    let schema = non_null(root, schema);
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    let required: Vec<&str> =
        schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    for (name, field) in properties {
        let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
        let target = non_null(root, field);
        let description = [describe(field), describe(target)].into_iter().find(|d| !d.is_empty()).unwrap_or_default();
        let default = match field.get("default") {
            _ if required.contains(&name.as_str()) => "required".to_string(),
            Some(Value::Null) | None => "—".to_string(),
            Some(Value::Object(_)) => "see fields".to_string(),
            Some(v) => format!("`{}`", serde_json::to_string(v).unwrap_or_default()),
        };
        rows.push((path.clone(), kind(root, target), default, description));
        let type_name = match target.get("type") {
            Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).find(|t| *t != "null"),
            other => other.and_then(Value::as_str),
        };
        match type_name {
            Some("object") if target.get("properties").is_some() => walk(root, target, &path, rows),
            Some("object") => {
                if let Some(values) = target.get("additionalProperties").filter(|v| v.is_object()) {
                    walk(root, values, &format!("{path}.<name>"), rows);
                }
            }
            Some("array") => {
                if let Some(items) = target.get("items") {
                    walk(root, items, &format!("{path}[]"), rows);
                }
            }
            _ => {}
        }
    }
}

fn kind(root: &Value, schema: &Value) -> String {
    let schema = non_null(root, schema);
    if let Some(values) = enum_values(schema) {
        return values.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(" | ");
    }
    let type_name = match schema.get("type") {
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        other => other.and_then(Value::as_str),
    };
    match type_name {
        Some("string") if schema.get("format") == Some(&Value::from("interval")) => "interval".into(),
        Some("object") if schema.get("properties").is_some() => "mapping".into(),
        Some("object") => "map of name → value".into(),
        Some("array") => format!("list of {}", schema.get("items").map(|i| kind(root, i)).unwrap_or_default()),
        Some("integer") => "integer".into(),
        Some("boolean") => "boolean".into(),
        Some("string") => "string".into(),
        _ => "value".into(),
    }
}

fn enum_values(schema: &Value) -> Option<Vec<String>> {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return Some(values.iter().filter_map(Value::as_str).map(str::to_string).collect());
    }
    let variants = schema.get("oneOf")?.as_array()?;
    variants.iter().map(|v| v.get("const").and_then(Value::as_str).map(str::to_string)).collect()
}

/// The JSON Schema (draft-07, which editors' YAML servers support best) of one environment file, from the
/// same model `validate` checks against: names, types and allowed values. Nothing is required: a file may be
/// a layer others extend (`base.yaml`) or extend one, so completeness is `validate`'s to judge, as are the
/// cross-field rules, engine versions and ARNs.
pub fn editor_schema() -> Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let mut schema = generator.into_root_schema_for::<super::model::Environment>().to_value();
    strip_required(&mut schema);
    let object = schema.as_object_mut().expect("the model is an object");
    object.insert("title".into(), Value::from("glctl environment file"));
    schema
}

fn strip_required(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("required");
            map.values_mut().for_each(strip_required);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_required),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_finds_the_fields_under_it_and_names_fill_placeholders() {
        assert!(under("engine.kind", "engine"));
        assert!(under("engine", "engine"));
        assert!(!under("engine_extra", "engine"));
        assert!(under("hypertables.<name>.compression.segment_by", "hypertables.sensor_readings.compression"));
        assert!(under("network.allowed_cidrs[]", "network.allowed_cidrs"));
        assert!(!under("engine", "engine.kind"));
    }
}
