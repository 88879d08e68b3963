//! `terraform fmt` of the rendered root files, remembered in the work directory so that a run which renders
//! the same text as the last one starts no `terraform fmt` at all (each costs a process start, ~60-130 ms on
//! this project's machines, and `plan`, `promote` and `drift` render on every run).
//!
//! The record lives beside the init stamp in `.terraform/` (terraform's data directory, which glctl's
//! commands that plan already fill): per root file, the digest of the text as rendered and the text as
//! `terraform fmt` returned it, and which `terraform` executable formatted it (its path, size and
//! modification time), so another terraform formats again. A missing, unreadable or foreign record only
//! costs the `terraform fmt` runs it would have saved.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::runner::{Terraform, TerraformError};

const RECORD: &str = ".terraform/glctl-fmt.json";

#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
struct Record {
    /// Which terraform formatted the files (see `terraform_identity`).
    terraform: String,
    /// By root file: what was rendered and what `terraform fmt` made of it.
    files: BTreeMap<String, Formatted>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Formatted {
    rendered_sha256: String,
    formatted: String,
}

fn sha256(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// Formats each of `files` (relative path, rendered text) in place with `terraform fmt`, reusing what the
/// record in `work_dir` holds for the same text and the same terraform; with `work_dir` None, formats all.
pub fn format(files: &mut [(&Path, &mut String)], work_dir: Option<&Path>) -> Result<(), TerraformError> {
    let identity = work_dir.and_then(|_| terraform_identity());
    let (Some(work_dir), Some(identity)) = (work_dir, identity) else {
        for (_, text) in files.iter_mut() {
            **text = Terraform::fmt_stdin(text)?;
        }
        return Ok(());
    };
    let path = work_dir.join(RECORD);
    let old: Record = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .filter(|r: &Record| r.terraform == identity)
        .unwrap_or_default();
    let mut new = Record { terraform: identity, files: BTreeMap::new() };
    for (file, text) in files.iter_mut() {
        let key = file.to_string_lossy().replace('\\', "/");
        let rendered_sha256 = sha256(text);
        let formatted = match old.files.get(&key) {
            Some(entry) if entry.rendered_sha256 == rendered_sha256 => entry.formatted.clone(),
            _ => Terraform::fmt_stdin(text)?,
        };
        **text = formatted.clone();
        new.files.insert(key, Formatted { rendered_sha256, formatted });
    }
    if new != old {
        // A record that cannot be written only costs `terraform fmt` next time.
        let _ = write_atomically(&path, &serde_json::to_string_pretty(&new).expect("json"));
    }
    Ok(())
}

/// Written beside and renamed into place, so a reader never sees half a record.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let parent = path.parent().expect("the record is inside .terraform/");
    std::fs::create_dir_all(parent)?;
    let temp = parent.join(format!(".glctl-fmt.{}.tmp", std::process::id()));
    std::fs::write(&temp, text)?;
    std::fs::rename(&temp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}

/// The `terraform` that `Command::new("terraform")` would start (the first executable of that name on
/// PATH), as its canonical path, size and modification time; None when there is none (then nothing is
/// remembered and `terraform fmt` reports the missing terraform as before).
fn terraform_identity() -> Option<String> {
    let path = find_on_path("terraform", &std::env::var_os("PATH")?)?;
    let canonical = std::fs::canonicalize(&path).ok()?;
    let meta = std::fs::metadata(&canonical).ok()?;
    let modified = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(format!("{} {} {}.{:09}", canonical.display(), meta.len(), modified.as_secs(), modified.subsec_nanos()))
}

fn find_on_path(name: &str, path: &std::ffi::OsStr) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path).filter(|dir| !dir.as_os_str().is_empty()).map(|dir| dir.join(name)).find(|candidate| {
        std::fs::metadata(candidate).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

#[cfg(test)]
mod tests {
    use super::{find_on_path, Formatted, Record, RECORD};
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    #[test]
    fn the_first_executable_on_path_is_the_terraform_that_runs() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        std::fs::write(a.path().join("terraform"), "not executable").unwrap();
        let exe = b.path().join("terraform");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = std::env::join_paths([a.path(), b.path()]).unwrap();
        assert_eq!(find_on_path("terraform", &path), Some(exe));
        assert_eq!(find_on_path("terraform", &std::env::join_paths([a.path()]).unwrap()), None);
    }

    #[test]
    fn a_remembered_text_is_used_only_for_the_same_rendering_and_terraform() {
        // terraform_identity() needs a terraform on PATH; the unit test checks the record's rule through a
        // record made for the terraform that is found (or skips when none is).
        let Some(identity) = super::terraform_identity() else { return };
        let dir = tempfile::tempdir().unwrap();
        let rendered = "a=1\n".to_string();
        let record = Record {
            terraform: identity,
            files: [(
                "main.tf".to_string(),
                Formatted { rendered_sha256: super::sha256(&rendered), formatted: "remembered\n".into() },
            )]
            .into(),
        };
        std::fs::create_dir_all(dir.path().join(".terraform")).unwrap();
        std::fs::write(dir.path().join(RECORD), serde_json::to_string(&record).unwrap()).unwrap();
        let mut text = rendered.clone();
        super::format(&mut [(Path::new("main.tf"), &mut text)], Some(dir.path())).unwrap();
        assert_eq!(text, "remembered\n", "the same rendering reuses the record");

        let mut other = record;
        other.terraform.push_str(" (another)");
        std::fs::write(dir.path().join(RECORD), serde_json::to_string(&other).unwrap()).unwrap();
        let mut text = rendered.clone();
        super::format(&mut [(Path::new("main.tf"), &mut text)], Some(dir.path())).unwrap();
        assert_eq!(text, "a = 1\n", "another terraform formats again");
        let saved: Record = serde_json::from_str(&std::fs::read_to_string(dir.path().join(RECORD)).unwrap()).unwrap();
        assert_eq!(saved.files["main.tf"].formatted, "a = 1\n", "and its result is remembered");
    }
}
