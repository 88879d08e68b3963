//! The project directory (`--root`): where environments, templates and migrations are read from and where
//! each environment's rendered module, plan and outputs are kept.

use std::path::{Path, PathBuf};

use crate::config::Loaded;

#[derive(Clone, Debug)]
pub struct Project {
    pub root: PathBuf,
}

impl Project {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Project { root: root.into() }
    }

    pub fn templates(&self) -> PathBuf {
        self.root.join("templates")
    }

    pub fn migrations(&self) -> PathBuf {
        self.root.join("sql/migrations")
    }

    /// An environment's rendered module, plan and outputs: `.glctl/<env>/` unless `--out` says otherwise.
    pub fn work_dir(&self, loaded: &Loaded, out: Option<&Path>) -> PathBuf {
        out.map(Path::to_path_buf).unwrap_or_else(|| self.root.join(".glctl").join(&loaded.name))
    }
}
