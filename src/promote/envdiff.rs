//! The environment diff SRC → DST: every field of the effective configuration whose value differs,
//! split into the differences DST declares (`promotion.differs`) and the unexplained ones.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::config::model::Environment;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FieldDifference {
    pub path: String,
    pub from: String,
    pub to: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct EnvironmentDiff {
    pub declared: Vec<FieldDifference>,
    pub unexplained: Vec<FieldDifference>,
}

/// Leaves of a JSON value as dotted paths; lists are compared whole.
fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten(&path, v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// How promotion itself is configured is not part of what is compared.
const NOT_COMPARED: [&str; 3] = ["extends", "promotion", "drift"];

pub fn diff(src: &Environment, dst: &Environment) -> EnvironmentDiff {
    let leaves = |env: &Environment| {
        let mut out = BTreeMap::new();
        flatten("", &serde_json::to_value(env).expect("the model serialises"), &mut out);
        out.retain(|path, _| !NOT_COMPARED.iter().any(|n| path == n || path.starts_with(&format!("{n}."))));
        out
    };
    let (a, b) = (leaves(src), leaves(dst));
    let mut paths: Vec<&String> = a.keys().chain(b.keys()).collect();
    paths.sort();
    paths.dedup();
    let mut out = EnvironmentDiff::default();
    for path in paths {
        let (from, to) = (a.get(path), b.get(path));
        if from == to {
            continue;
        }
        let d = FieldDifference {
            path: path.clone(),
            from: from.cloned().unwrap_or_else(|| "(unset)".into()),
            to: to.cloned().unwrap_or_else(|| "(unset)".into()),
        };
        if dst.promotion.as_ref().is_some_and(|p| p.declares(path)) {
            out.declared.push(d);
        } else {
            out.unexplained.push(d);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(extra: &str) -> Environment {
        let yaml = format!(
            "project: p\ntier: non-production\naws: {{ account_id: '123456789012', region: us-east-1 }}\n\
             engine: {{ kind: external, version: '16.6' }}\ntimeseries: {{ backend: native }}\n{extra}"
        );
        serde_yaml_ng::from_str(&yaml).unwrap()
    }

    #[test]
    fn declared_fields_are_split_from_unexplained_ones() {
        let src = env("tags: { Environment: dev }\nbackup: { retention_days: 7 }\n");
        let dst = env("tags: { Environment: staging }\nbackup: { retention_days: 14 }\n\
             promotion: { from: dev, differs: [tags] }\n");
        let d = diff(&src, &dst);
        assert_eq!(d.declared.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["tags.Environment"]);
        assert_eq!(
            d.unexplained,
            [FieldDifference { path: "backup.retention_days".into(), from: "7".into(), to: "14".into() }]
        );
    }
}
