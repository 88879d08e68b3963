//! The Terraform outputs `glctl apply` wrote (`outputs.json` in the environment's work directory), read back
//! in one place for the SQL stage (the writer endpoint and the master secret), verify's facts and the RDS
//! drills. Each caller decides what a missing file means to it.

use std::path::{Path, PathBuf};

use super::OUTPUTS_FILE;

#[derive(Debug, thiserror::Error)]
pub enum OutputsError {
    /// No `outputs.json` (nothing applied yet), or it cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{} is not JSON: {source}", path.display())]
    Json { path: PathBuf, source: serde_json::Error },
}

/// The outputs as `terraform output -json` gave them (`{name: {value, …}}`).
pub fn read(work_dir: &Path) -> Result<serde_json::Value, OutputsError> {
    let path = work_dir.join(OUTPUTS_FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| OutputsError::Read { path: path.clone(), source })?;
    serde_json::from_str(&text).map_err(|source| OutputsError::Json { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_read_back_and_a_missing_or_broken_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(read(dir.path()), Err(OutputsError::Read { .. })));
        std::fs::write(dir.path().join(OUTPUTS_FILE), "{not json").unwrap();
        assert!(matches!(read(dir.path()), Err(OutputsError::Json { .. })));
        std::fs::write(dir.path().join(OUTPUTS_FILE), r#"{"kms_key_arn":{"value":"arn:k"}}"#).unwrap();
        assert_eq!(read(dir.path()).unwrap()["kms_key_arn"]["value"], "arn:k");
    }
}
