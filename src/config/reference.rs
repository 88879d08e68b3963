//! The environment field reference, generated from the model's schema (and so from its doc comments).
//! docs/reference/environment.md embeds it; a test keeps the two identical.

use serde_json::Value;

use super::structure::{describe, resolve_ref as resolve};

/// A Markdown table of every field: dotted path, type, default, meaning.
pub fn markdown() -> String {
    let schema = super::schema();
    let mut rows = Vec::new();
    walk(&schema, &schema, "", &mut rows);
    let mut out = String::from("| field | type | default | meaning |\n|---|---|---|---|\n");
    for (path, kind, default, description) in rows {
        out.push_str(&format!("| `{path}` | {kind} | {default} | {} |\n", description.replace('|', "\\|")));
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
        return values.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(" \\| ");
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
