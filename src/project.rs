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

    /// The nearest folder at or above `start` holding `environments/` (the project's marker), the way git
    /// finds `.git` and cargo `Cargo.toml`; `None` when no folder up to `/` has one.
    pub fn find_root(start: &Path) -> Option<PathBuf> {
        start.ancestors().find(|dir| dir.join("environments").is_dir()).map(Path::to_path_buf)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_found_from_a_subfolder_and_not_past_it() {
        let dir = std::env::temp_dir().join(format!("glctl-root-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("project/environments")).unwrap();
        std::fs::create_dir_all(dir.join("project/sql/migrations")).unwrap();
        std::fs::create_dir_all(dir.join("elsewhere")).unwrap();
        let found = Project::find_root(&dir.join("project/sql/migrations"));
        assert_eq!(found.as_deref(), Some(dir.join("project").as_path()));
        assert_eq!(Project::find_root(&dir.join("project")).as_deref(), Some(dir.join("project").as_path()));
        assert!(Project::find_root(&dir.join("elsewhere")).is_none_or(|p| !p.starts_with(&dir)));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
