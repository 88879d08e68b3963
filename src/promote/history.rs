//! What `verify` and `promote` keep next to each environment's work directory, and reading it back:
//! `.glctl/ENV/verify/<time>.json` (every verify run) and `.glctl/ENV/promotions/<time>.json` (every
//! promotion record). Each file has a `<file>.sha256` beside it; a file that does not match it (edited,
//! truncated) or cannot be parsed is an error naming the file, never a pass.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::promote::bundle::Bundle;

pub const VERIFY_DIR: &str = "verify";
pub const PROMOTIONS_DIR: &str = "promotions";
pub const APPLIES_DIR: &str = "applies";

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot read or write {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{} does not match its checksum ({}): it was changed or truncated after glctl wrote it; \
             run `glctl verify` again rather than trusting it", path.display(), sidecar(path).display())]
    Tampered { path: PathBuf },
    #[error("{} has no checksum file ({}), so it cannot be trusted; run `glctl verify` again",
            path.display(), sidecar(path).display())]
    Unsigned { path: PathBuf },
    #[error("{} is not a record glctl wrote: {message}", path.display())]
    Corrupt { path: PathBuf, message: String },
}

fn sidecar(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".sha256");
    path.with_file_name(name)
}

fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Writes `text` as `dir/folder/<at>.json` with its checksum beside it; returns the path.
pub fn save(dir: &Path, folder: &str, at: &str, text: &str) -> Result<PathBuf, HistoryError> {
    let folder = dir.join(folder);
    let path = folder.join(format!("{}.json", at.replace(':', "-")));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| HistoryError::Io { path, source }
    };
    std::fs::create_dir_all(&folder).map_err(io(&folder))?;
    std::fs::write(&path, text).map_err(io(&path))?;
    let sum = sidecar(&path);
    std::fs::write(&sum, format!("{}\n", sha256(text.as_bytes()))).map_err(io(&sum))?;
    Ok(path)
}

/// The saved files of `dir/folder`, oldest first (names are UTC times).
pub fn list(dir: &Path, folder: &str) -> Result<Vec<PathBuf>, HistoryError> {
    let folder = dir.join(folder);
    let entries = match std::fs::read_dir(&folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(source) => return Err(HistoryError::Io { path: folder, source }),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// Reads one saved file, checked against its checksum.
pub fn read<T: DeserializeOwned>(path: &Path) -> Result<T, HistoryError> {
    let text = std::fs::read(path).map_err(|source| HistoryError::Io { path: path.to_path_buf(), source })?;
    let sum = match std::fs::read_to_string(sidecar(path)) {
        Ok(sum) => sum,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(HistoryError::Unsigned { path: path.to_path_buf() })
        }
        Err(source) => return Err(HistoryError::Io { path: sidecar(path), source }),
    };
    if sum.trim() != sha256(&text) {
        return Err(HistoryError::Tampered { path: path.to_path_buf() });
    }
    serde_json::from_slice(&text)
        .map_err(|e| HistoryError::Corrupt { path: path.to_path_buf(), message: e.to_string() })
}

/// A saved verify run, as promotion reads it.
#[derive(Clone, Debug, Deserialize)]
pub struct SavedRun {
    pub environment: String,
    pub at: String,
    pub git_commit: Option<String>,
    #[serde(default)]
    pub bundle: Option<Bundle>,
    pub results: Vec<SavedResult>,
    #[serde(skip)]
    pub path: PathBuf,
}

#[derive(Clone, Debug, Deserialize)]
pub struct SavedResult {
    pub id: String,
    pub status: String,
}

/// The newest verify run of the environment whose work directory is `dir`, if any.
pub fn latest_run(dir: &Path) -> Result<Option<SavedRun>, HistoryError> {
    match list(dir, VERIFY_DIR)?.pop() {
        None => Ok(None),
        Some(path) => {
            let mut run: SavedRun = read(&path)?;
            run.path = path;
            Ok(Some(run))
        }
    }
}

#[derive(Debug, serde::Serialize, Deserialize)]
struct ApplyRecord {
    environment: String,
    at: String,
}

/// Notes that `environment` was applied at `at` (for `promotion.min_soak`).
pub fn record_apply(dir: &Path, environment: &str, at: &str) -> Result<PathBuf, HistoryError> {
    let text = serde_json::to_string_pretty(&ApplyRecord { environment: environment.into(), at: at.into() })
        .expect("the record serialises");
    save(dir, APPLIES_DIR, at, &text)
}

/// When the environment whose work directory is `dir` was last applied, if glctl recorded it.
pub fn latest_apply(dir: &Path) -> Result<Option<String>, HistoryError> {
    match list(dir, APPLIES_DIR)?.pop() {
        None => Ok(None),
        Some(path) => Ok(Some(read::<ApplyRecord>(&path)?.at)),
    }
}

/// The newest promotion record into the environment whose work directory is `dir`.
pub fn latest_promotion(dir: &Path) -> Result<Option<super::PromotionRecord>, HistoryError> {
    match list(dir, PROMOTIONS_DIR)?.pop() {
        None => Ok(None),
        Some(path) => read(&path).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: &str = r#"{"environment":"e","at":"2026-12-01T10:00:00Z","git_commit":null,"results":[{"id":"FA-01","status":"PASS"}]}"#;

    #[test]
    fn a_saved_run_reads_back_and_the_newest_is_latest() {
        let dir = tempfile::tempdir().unwrap();
        save(dir.path(), VERIFY_DIR, "2026-12-01T09:00:00Z", &RUN.replace("10:00", "09:00")).unwrap();
        save(dir.path(), VERIFY_DIR, "2026-12-01T10:00:00Z", RUN).unwrap();
        let run = latest_run(dir.path()).unwrap().unwrap();
        assert_eq!(run.at, "2026-12-01T10:00:00Z");
        assert_eq!(run.results.iter().filter(|r| r.status == "PASS").count(), 1);
        assert!(latest_run(&dir.path().join("none")).unwrap().is_none());
    }

    #[test]
    fn a_changed_truncated_or_unsigned_run_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = save(dir.path(), VERIFY_DIR, "2026-12-01T10:00:00Z", RUN).unwrap();
        std::fs::write(&path, RUN.replace("PASS", "FAIL")).unwrap();
        let e = latest_run(dir.path()).unwrap_err();
        assert!(
            matches!(e, HistoryError::Tampered { .. }) && e.to_string().contains("2026-12-01T10-00-00Z.json"),
            "{e}"
        );
        std::fs::write(&path, &RUN[..20]).unwrap();
        assert!(matches!(latest_run(dir.path()).unwrap_err(), HistoryError::Tampered { .. }));
        std::fs::write(sidecar(&path), format!("{}\n", sha256(&RUN.as_bytes()[..20]))).unwrap();
        let e = latest_run(dir.path()).unwrap_err();
        assert!(matches!(e, HistoryError::Corrupt { .. }), "{e}");
        std::fs::remove_file(sidecar(&path)).unwrap();
        assert!(matches!(latest_run(dir.path()).unwrap_err(), HistoryError::Unsigned { .. }));
    }
}
