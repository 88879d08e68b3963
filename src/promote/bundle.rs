//! The promoted artifact: one SHA-256 over everything a promotion carries from one stage to the next, so
//! "what was verified" and "what lands" can be compared by a single name.
//!
//! The bundle holds the migration set the environment's backend runs (LF-normalised checksums, that
//! backend's variants), the policy part of the effective configuration (hypertables, aggregates, the logins
//! glctl manages and their authentication, the acceptance profile with its waivers), the shared layers the
//! environment extends, the templates and modules, and glctl's own version. Not the per-environment values
//! that are meant to differ (sizes, counts, names, account, network): those are in no part.
//!
//! Each part is hashed on its own and the digest is the SHA-256 of the sorted `part hash` lines, so when two
//! bundles differ the parts that differ can be named.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{loader, Loaded};
use crate::database::migrate::Migration;
use crate::project::Project;

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("cannot read {} for the bundle: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot read the layers of {environment}: {message}")]
    Layers { environment: String, message: String },
}

/// A bundle: its digest and the hash of each part it was made from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    pub digest: String,
    /// Part name (`glctl`, `backend`, `migration 0001_roles.sql`, `policy`, `layer environments/base.yaml`,
    /// `template templates/modules/kms/main.tf`) → SHA-256 of its normalised content.
    pub parts: BTreeMap<String, String>,
}

impl Bundle {
    fn from_parts(parts: BTreeMap<String, String>) -> Bundle {
        let lines: String = parts.iter().map(|(name, hash)| format!("{name} {hash}\n")).collect();
        Bundle { digest: sha256(lines.as_bytes()), parts }
    }

    /// The parts that differ between two bundles: added, removed or changed, by name.
    pub fn differences(&self, other: &Bundle) -> Vec<String> {
        let mut out = Vec::new();
        for (name, hash) in &self.parts {
            match other.parts.get(name) {
                None => out.push(format!("{name} is no longer in the bundle")),
                Some(h) if h != hash => out.push(format!("{name} changed")),
                Some(_) => {}
            }
        }
        for name in other.parts.keys().filter(|n| !self.parts.contains_key(*n)) {
            out.push(format!("{name} was added"));
        }
        out
    }

    /// The first 12 hex digits, for messages.
    pub fn short(&self) -> &str {
        short(&self.digest)
    }
}

pub fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Text with CRLF read as LF, so a Windows checkout is the same bundle.
fn normalised(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// The policy part of the effective configuration: what the database must look like and how it is
/// accepted, never where or how big it is.
pub fn policy_value(loaded: &Loaded) -> serde_json::Value {
    let env = &loaded.environment;
    let logins: BTreeMap<&str, serde_json::Value> = env
        .secrets
        .iter()
        .map(|(key, s)| {
            let role = s.username.as_deref().unwrap_or(key);
            (key.as_str(), serde_json::json!({ "role": role, "auth": s.auth }))
        })
        .collect();
    serde_json::json!({
        "backend": env.timeseries.backend,
        "hypertables": env.hypertables,
        "continuous_aggregates": env.continuous_aggregates,
        "logins": logins,
        "acceptance": env.acceptance,
    })
}

/// Computes the bundle of `loaded` (what `-e` named: `env_arg`) in `project`, with the migrations its backend
/// runs.
pub fn compute(
    project: &Project,
    loaded: &Loaded,
    env_arg: &str,
    migrations: &[Migration],
) -> Result<Bundle, BundleError> {
    let mut parts = BTreeMap::new();
    parts.insert("glctl".to_string(), sha256(env!("CARGO_PKG_VERSION").as_bytes()));
    for m in migrations {
        parts.insert(format!("migration {}", m.file_name()), m.checksum.clone());
    }
    let policy = serde_json::to_string(&policy_value(loaded)).expect("the model serialises");
    parts.insert("policy".to_string(), sha256(policy.as_bytes()));
    for layer in layers(project, loaded, env_arg)? {
        let text = std::fs::read(&layer).map_err(|source| BundleError::Io { path: layer.clone(), source })?;
        parts.insert(format!("layer {}", relative(&project.root, &layer)), sha256(&normalised(&text)));
    }
    for file in files_under(&project.templates())? {
        let text = std::fs::read(&file).map_err(|source| BundleError::Io { path: file.clone(), source })?;
        parts.insert(format!("template {}", relative(&project.root, &file)), sha256(&normalised(&text)));
    }
    Ok(Bundle::from_parts(parts))
}

/// The files the environment extends (not its own file: its own values are per environment).
fn layers(project: &Project, loaded: &Loaded, env_arg: &str) -> Result<Vec<PathBuf>, BundleError> {
    let fail = |message: String| BundleError::Layers { environment: loaded.name.clone(), message };
    let file = loader::resolve(&project.root, env_arg).map_err(fail)?;
    let merged =
        loader::load(&file).map_err(|d| fail(d.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("; ")))?;
    Ok(merged.sources.files.into_iter().skip(1).collect())
}

fn relative(root: &Path, path: &Path) -> String {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    path.strip_prefix(&root).unwrap_or(&path).to_string_lossy().replace('\\', "/")
}

/// Every file under `dir`, sorted; a missing directory holds none.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>, BundleError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(BundleError::Io { path: d, source }),
        };
        for entry in entries {
            let path = entry.map_err(|source| BundleError::Io { path: d.clone(), source })?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_is_lf() {
        assert_eq!(normalised(b"a\r\nb\n\r"), b"a\nb\n\r");
    }

    #[test]
    fn the_digest_names_the_parts_and_their_differences() {
        let a = Bundle::from_parts(BTreeMap::from([("policy".into(), "1".into()), ("glctl".into(), "v".into())]));
        let b = Bundle::from_parts(BTreeMap::from([("policy".into(), "2".into()), ("glctl".into(), "v".into())]));
        assert_ne!(a.digest, b.digest);
        assert_eq!(a.differences(&b), ["policy changed"]);
        let c = Bundle::from_parts(BTreeMap::from([("glctl".into(), "v".into())]));
        assert_eq!(a.differences(&c), ["policy is no longer in the bundle"]);
        assert_eq!(c.differences(&a), ["policy was added"]);
        assert_eq!(a, Bundle::from_parts(a.parts.clone()), "the same parts are the same digest");
    }
}
