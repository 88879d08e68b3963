//! Located findings about an environment: `FILE:LINE:COL: error: field: what is wrong, what was expected`.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A field path through the merged document: keys and list indexes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Seg>);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl FieldPath {
    pub fn root() -> Self {
        FieldPath(vec![])
    }
    pub fn key(&self, key: &str) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.to_string()));
        FieldPath(segs)
    }
    pub fn index(&self, index: usize) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Index(index));
        FieldPath(segs)
    }
    /// `a.b.c` from literal keys (no dots inside keys).
    pub fn parse(dotted: &str) -> Self {
        FieldPath(dotted.split('.').filter(|s| !s.is_empty()).map(|s| Seg::Key(s.to_string())).collect())
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(top level)");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                // Keys with dots (`rds.force_ssl`) are quoted so the path stays unambiguous.
                Seg::Key(k) if k.contains('.') => write!(f, "{}\"{k}\"", if i > 0 { "." } else { "" })?,
                Seg::Key(k) => write!(f, "{}{k}", if i > 0 { "." } else { "" })?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    #[serde(flatten)]
    pub location: Location,
    /// Dotted path of the field, or empty for file-level problems.
    pub field: String,
    pub message: String,
    /// A weakened default the file accepts on purpose (`accepted_risks`): a decision already made, so only
    /// `validate` and `plan` repeat it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub accepted_risk: bool,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}:{}:{}: {severity}: ", self.location.file.display(), self.location.line, self.location.column)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// A finding from a rule, before it is placed in a file.
#[derive(Clone, Debug)]
pub struct Finding {
    pub severity: Severity,
    pub path: FieldPath,
    pub message: String,
    pub accepted_risk: bool,
}

impl Finding {
    pub fn error(path: FieldPath, message: impl Into<String>) -> Self {
        Finding { severity: Severity::Error, path, message: message.into(), accepted_risk: false }
    }
    pub fn warning(path: FieldPath, message: impl Into<String>) -> Self {
        Finding { severity: Severity::Warning, path, message: message.into(), accepted_risk: false }
    }
    pub fn accepted_risk(path: FieldPath, message: impl Into<String>) -> Self {
        Finding { accepted_risk: true, ..Finding::warning(path, message) }
    }
}

/// The closest candidate, when one is close enough to be a likely typo.
pub fn did_you_mean<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(given, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
