//! The one rule of `--output json` (docs/output.md): a command prints a single JSON object whose first key
//! is `"glctl_output"`, the version of that command's shape. Adding a field keeps the version; removing or
//! renaming one, or changing what it means, raises it. `show` and `schema` print the environment file and
//! its JSON Schema, which are versioned by the file format, not by this rule.

use serde::Serialize;
use serde_json::{Map, Value};

/// The shape version every command prints today.
pub const VERSION: u64 = 1;

/// `value` (an object) with `"glctl_output"` in front; anything else is wrapped as `{"glctl_output", "items"}`.
pub fn document(value: impl Serialize) -> Value {
    let value = serde_json::to_value(value).expect("glctl's results serialise");
    let mut out = Map::new();
    out.insert("glctl_output".into(), Value::from(VERSION));
    match value {
        Value::Object(fields) => out.extend(fields.into_iter().filter(|(k, _)| k != "glctl_output")),
        other => {
            out.insert("items".into(), other);
        }
    }
    Value::Object(out)
}

/// The document, pretty-printed, with a final newline.
pub fn text(value: impl Serialize) -> String {
    format!("{}\n", serde_json::to_string_pretty(&document(value)).expect("json"))
}

/// Prints the document on stdout.
pub fn print(value: impl Serialize) {
    print!("{}", text(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_comes_first_and_arrays_are_wrapped() {
        let doc = document(serde_json::json!({"a": 1, "glctl_output": 9}));
        assert_eq!(serde_json::to_string(&doc).unwrap(), r#"{"glctl_output":1,"a":1}"#);
        let doc = document(vec![1, 2]);
        assert_eq!(serde_json::to_string(&doc).unwrap(), r#"{"glctl_output":1,"items":[1,2]}"#);
    }
}
