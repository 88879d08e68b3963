//! `terraform init` only when what it installs changed: the provider requirements and backend
//! (`versions.tf` of the root and of every module, and the `-backend-config` settings), the module calls and
//! their sources, and the plugin mirror. Their digest is kept inside `.terraform/`, so removing that directory forces an init again.
//! glctl plans and applies re-render the root module on every run; most runs change only values, which
//! need no init, and `promote` and `drift` plan again and again.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::runner::{Terraform, TerraformError};

const STAMP: &str = ".terraform/glctl-init.sha256";

/// The digest of what `terraform init` depends on in the rendered directory `dir`.
pub fn digest(dir: &Path, plugin_dir: Option<&Path>, backend_config: &[String]) -> String {
    let mut files = Vec::new();
    collect(dir, &mut files);
    files.sort();
    let mut hasher = Sha256::new();
    hasher.update(format!("plugin_dir {:?}\n", plugin_dir));
    for setting in backend_config {
        hasher.update(format!("backend_config {setting}\n"));
    }
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        let relative = file.strip_prefix(dir).unwrap_or(&file).to_string_lossy().replace('\\', "/");
        hasher.update(format!("file {relative}\n"));
        let whole = file.file_name().is_some_and(|n| n == "versions.tf");
        for line in text.lines() {
            let t = line.trim();
            if whole || t.starts_with("module \"") || t.starts_with("source") {
                hasher.update(t.as_bytes());
                hasher.update(b"\n");
            }
        }
    }
    format!("{:x}", hasher.finalize())
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != ".terraform") {
                collect(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "tf") {
            out.push(path);
        }
    }
}

/// Runs `terraform init` in `dir` unless the last init there was made from the same requirements.
/// Returns whether it ran.
pub fn init_if_needed(tf: &Terraform, dir: &Path, plugin_dir: Option<&Path>) -> Result<bool, TerraformError> {
    let wanted = digest(dir, plugin_dir, tf.backend_config());
    let stamp = dir.join(STAMP);
    let current = std::fs::read_to_string(&stamp).ok();
    if current.as_deref().map(str::trim) == Some(wanted.as_str()) && dir.join(".terraform.lock.hcl").is_file() {
        return Ok(false);
    }
    tf.init()?;
    // A stamp that cannot be written only costs another init next time.
    let _ = std::fs::write(&stamp, format!("{wanted}\n"));
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::digest;

    #[test]
    fn values_do_not_need_an_init_but_providers_and_module_sources_do() {
        let dir = tempfile::tempdir().unwrap();
        let write = |file: &str, text: &str| {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("versions.tf", "terraform {\n  required_providers { aws = { version = \"~> 5.0\" } }\n}\n");
        write("main.tf", "module \"kms\" {\n  source = \"./modules/kms\"\n  name = \"a\"\n}\n");
        write("modules/kms/versions.tf", "terraform {}\n");
        let first = digest(dir.path(), None, &[]);
        write("main.tf", "module \"kms\" {\n  source = \"./modules/kms\"\n  name = \"b\"\n}\n");
        assert_eq!(digest(dir.path(), None, &[]), first, "a changed value needs no init");
        write("main.tf", "module \"kms\" {\n  source = \"./modules/kms2\"\n  name = \"b\"\n}\n");
        let moved = digest(dir.path(), None, &[]);
        assert_ne!(moved, first, "a module source does");
        write("modules/kms/versions.tf", "terraform { required_providers { random = {} } }\n");
        assert_ne!(digest(dir.path(), None, &[]), moved, "a module's providers do");
        assert_ne!(digest(dir.path(), Some(std::path::Path::new("/m")), &[]), digest(dir.path(), None, &[]));
        let path_style = ["use_path_style=true".to_string()];
        assert_ne!(digest(dir.path(), None, &path_style), digest(dir.path(), None, &[]), "a backend setting does");
    }
}
