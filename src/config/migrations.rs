//! How the environment's migrations are judged (`glctl migrate lint`, and so `plan`, `apply`, `promote`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How migrations are judged before they run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrationSettings {
    /// `previous`: the application version still running while a migration applies must keep working, so
    /// a migration that drops or renames a table, view or column it may use is an error (ML010) until the
    /// release that stops using it is out; `none`: no such promise.
    #[serde(default)]
    pub compatibility: Compatibility,
}

/// Which application version a migration must not break.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Compatibility {
    #[default]
    None,
    Previous,
}
