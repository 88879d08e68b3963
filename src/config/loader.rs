//! Reads an environment file and the files it `extends`, and merges them into one marked YAML tree.
//!
//! Every node keeps the file, line and column it was written at, so a problem in an inherited value is
//! reported where it was written, not where it was inherited.

use std::path::{Path, PathBuf};

use marked_yaml::types::MarkedScalarNode;
use marked_yaml::{LoadError, LoaderOptions, Node};

use super::diagnostics::{did_you_mean, Diagnostic, FieldPath, Location, Seg, Severity};

/// The files that make up one environment; a node's source id indexes `files`.
#[derive(Debug, Default)]
pub struct Sources {
    pub files: Vec<PathBuf>,
}

impl Sources {
    pub fn location(&self, node_span: &marked_yaml::Span, fallback_file: usize) -> Location {
        match node_span.start() {
            Some(mark) => Location { file: self.display_path(mark.source()), line: mark.line(), column: mark.column() },
            None => Location { file: self.display_path(fallback_file), line: 1, column: 1 },
        }
    }

    pub fn display_path(&self, source: usize) -> PathBuf {
        relative_to_cwd(&self.files[source.min(self.files.len().saturating_sub(1))])
    }
}

/// `path` relative to the working directory when that is shorter to read (`../base.yaml`), else as is.
pub fn relative_to_cwd(path: &Path) -> PathBuf {
    let Ok(cwd) = std::env::current_dir() else {
        return path.to_path_buf();
    };
    let (Ok(cwd), true) = (cwd.canonicalize(), path.is_absolute()) else {
        return path.to_path_buf();
    };
    let common = cwd.components().zip(path.components()).take_while(|(a, b)| a == b).count();
    if common <= 1 {
        return path.to_path_buf();
    }
    let ups = cwd.components().count() - common;
    let mut relative: PathBuf = std::iter::repeat_n("..", ups).collect();
    relative.extend(path.components().skip(common));
    // Only when it is shorter: `../../.tmpX/dev.yaml` reads worse than `/tmp/.tmpX/dev.yaml`.
    if relative.as_os_str().len() < path.as_os_str().len() {
        relative
    } else {
        path.to_path_buf()
    }
}

/// An environment's merged tree, before it is checked.
#[derive(Debug)]
pub struct Merged {
    pub sources: Sources,
    pub tree: Node,
}

/// Which file `-e ENV` names: a path (contains `/` or ends in `.yaml`/`.yml`) or a name under `environments/`.
pub fn resolve(root: &Path, env: &str) -> Result<PathBuf, String> {
    let looks_like_path = env.contains('/') || env.ends_with(".yaml") || env.ends_with(".yml");
    if looks_like_path {
        let path = PathBuf::from(env);
        if path.exists() {
            return Ok(path);
        }
        // `-e dev.yaml` or `-e environments/dev.yaml` typed where that path does not lead: the name works.
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        let named = root.join("environments").join(format!("{stem}.yaml"));
        let hint = if named.is_file() {
            format!(
                "; to use {}, pass `-e {stem}` (a name, looked up under the project's environments/)",
                relative_to_cwd(&named).display()
            )
        } else {
            String::new()
        };
        return Err(format!("environment file '{env}' does not exist{hint}"));
    }
    let dir = root.join("environments");
    let candidate = dir.join(format!("{env}.yaml"));
    if candidate.is_file() {
        return Ok(candidate);
    }
    let names = list(root);
    let mut message = format!("no environment named '{env}' in {}", relative_to_cwd(&dir).display());
    if !dir.is_dir() {
        message.push_str(
            " (glctl looks for the project's environments/ here and in every folder above; run it inside the \
             project or pass --root)",
        );
    }
    if let Some(close) = did_you_mean(env, names.iter().map(String::as_str)) {
        message.push_str(&format!("; did you mean '{close}'?"));
    }
    if !names.is_empty() {
        message.push_str(&format!(" (available: {})", names.join(", ")));
    }
    Err(message)
}

/// Environment names under `environments/`, sorted.
pub fn list(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("environments"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".yaml")).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Loads `path` and its ancestors and merges them; every problem found is returned at once.
pub fn load(path: &Path) -> Result<Merged, Vec<Diagnostic>> {
    let mut sources = Sources::default();
    let mut chain: Vec<Node> = Vec::new(); // leaf first
    let mut next = Some((path.to_path_buf(), None::<Location>));
    while let Some((file, referenced_at)) = next.take() {
        let canonical = file.canonicalize().unwrap_or_else(|_| file.clone());
        if let Some(seen) = sources.files.iter().position(|f| *f == canonical) {
            let cycle: Vec<String> = sources.files[seen..]
                .iter()
                .chain(std::iter::once(&canonical))
                .map(|f| sources.display_path_of(f))
                .collect();
            let at = referenced_at.expect("the first file cannot close a cycle");
            return Err(vec![file_error(at, "extends", format!("`extends` forms a cycle: {}", cycle.join(" -> ")))]);
        }
        let text = match read_environment_file(&file) {
            Ok(text) => text,
            Err(message) => {
                return Err(vec![match referenced_at {
                    Some(at) => file_error(at, "extends", format!("parent {message}{}", sibling_hint(&file))),
                    None => file_error(whole_file(&file), "", message),
                }]);
            }
        };
        let source = sources.files.len();
        sources.files.push(canonical.clone());
        let node = parse(source, &text, &sources)?;
        next = match extends_of(&node) {
            Some(Ok(parent)) => {
                let at = sources.location(parent.span(), source);
                Some((parent_path(&canonical, parent.as_str()), Some(at)))
            }
            Some(Err(span)) => {
                let at = sources.location(&span, source);
                return Err(vec![file_error(at, "extends", "expected the name of a parent file, e.g. `base`".into())]);
            }
            None => None,
        };
        chain.push(node);
    }
    let mut merged = chain.pop().expect("at least one file");
    while let Some(child) = chain.pop() {
        merged = merge(merged, child);
    }
    if let Node::Mapping(map) = &mut merged {
        map.retain(|k, _| k.as_str() != "extends");
    }
    drop_nulls(&mut merged);
    Ok(Merged { sources, tree: merged })
}

/// Environment files are small; anything larger is not one (and `/dev/zero` must not be read until memory
/// runs out).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Reads an environment file: a regular file (symlinks followed) of at most `MAX_FILE_BYTES`, UTF-8, with a
/// leading byte-order mark dropped. The error says what was expected.
fn read_environment_file(file: &Path) -> Result<String, String> {
    use std::io::Read;
    let shown = relative_to_cwd(file).display().to_string();
    let metadata = std::fs::metadata(file).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("'{shown}' does not exist; expected an existing file"),
        _ => format!("cannot read '{shown}': {e}"),
    })?;
    if !metadata.is_file() {
        return Err(format!("'{shown}' is not a regular file; expected a YAML file"));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read '{shown}': {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("'{shown}' is larger than {} KiB; expected an environment file", MAX_FILE_BYTES / 1024));
    }
    let text = String::from_utf8(bytes).map_err(|e| format!("'{shown}' is not UTF-8 text ({e})"))?;
    Ok(text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text))
}

/// Problems the YAML parser would pass over: a NUL byte, and a second document after `---` (glctl reads
/// one document per file, so the rest would be silently ignored).
fn unread_content(text: &str) -> Option<(usize, usize, &'static str)> {
    let mut content_seen = false;
    for (index, line) in text.lines().enumerate() {
        if let Some(column) = line.find('\0') {
            return Some((index + 1, line[..column].chars().count() + 1, "a NUL byte; expected YAML text"));
        }
        let starts_document = line == "---" || line.starts_with("--- ") || line.starts_with("---\t");
        if starts_document && content_seen {
            return Some((
                index + 1,
                1,
                "a second YAML document starts here; expected one document per environment file (use `extends` to layer files)",
            ));
        }
        let trimmed = line.trim();
        if !trimmed.is_empty() && !trimmed.starts_with('#') && !starts_document {
            content_seen = true;
        }
    }
    None
}

impl Sources {
    fn display_path_of(&self, path: &Path) -> String {
        relative_to_cwd(path).display().to_string()
    }
}

fn whole_file(file: &Path) -> Location {
    Location { file: file.to_path_buf(), line: 1, column: 1 }
}

fn file_error(location: Location, field: &str, message: String) -> Diagnostic {
    Diagnostic { severity: Severity::Error, location, field: field.to_string(), message, accepted_risk: false }
}

fn parse(source: usize, text: &str, sources: &Sources) -> Result<Node, Vec<Diagnostic>> {
    let file = sources.display_path(source);
    let is_blank = text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    if is_blank {
        return Err(vec![file_error(
            whole_file(&file),
            "",
            "the file is empty; expected a YAML mapping of environment settings (every field: \
             docs/reference/environment.md, or `glctl fields`)"
                .into(),
        )]);
    }
    if let Some((line, column, message)) = unread_content(text) {
        return Err(vec![file_error(Location { file, line, column }, "", message.into())]);
    }
    let options = LoaderOptions::default().error_on_duplicate_keys(true);
    marked_yaml::parse_yaml_with_options(source, text, options).map_err(|e| {
        let (mark, message) = match &e {
            LoadError::TopLevelMustBeMapping(m) => {
                (*m, "expected a YAML mapping of environment settings at the top level".to_string())
            }
            LoadError::TopLevelMustBeSequence(m) => (*m, "unexpected top-level sequence".into()),
            LoadError::UnexpectedAnchor(m) => (*m, "YAML anchors and aliases are not supported; use `extends`".into()),
            LoadError::MappingKeyMustBeScalar(m) => (*m, "mapping keys must be plain names".into()),
            LoadError::UnexpectedTag(m) => (*m, "YAML tags (`!foo`) are not supported".into()),
            LoadError::ScanError(m, scan) => (*m, format!("not valid YAML: {}", scan_message(scan))),
            LoadError::DuplicateKey(inner) => (
                *inner.key.span().start().expect("keys have a start"),
                format!("key `{}` appears twice in the same mapping", inner.key.as_str()),
            ),
        };
        vec![file_error(Location { file: file.clone(), line: mark.line(), column: mark.column() }, "", message)]
    })
}

/// The scanner's message without its own "at line X column Y" suffix (we print the location first).
fn scan_message(scan: &impl std::fmt::Display) -> String {
    let text = scan.to_string();
    match text.find(" at byte ").or_else(|| text.find(" at line ")) {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// `; did you mean 'X'?` when `file` does not exist and a YAML file of a close name sits beside it.
fn sibling_hint(file: &Path) -> String {
    if file.exists() {
        return String::new();
    }
    let (Some(dir), Some(stem)) = (file.parent(), file.file_stem().and_then(|s| s.to_str())) else {
        return String::new();
    };
    let siblings: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".yaml")).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    match did_you_mean(stem, siblings.iter().map(String::as_str)) {
        Some(close) => format!("; did you mean '{}'?", relative_to_cwd(&dir.join(format!("{close}.yaml"))).display()),
        None => String::new(),
    }
}

fn extends_of(node: &Node) -> Option<Result<&MarkedScalarNode, marked_yaml::Span>> {
    let value = node.as_mapping()?.get_node("extends")?;
    Some(value.as_scalar().filter(|s| !s.as_str().is_empty()).ok_or(*value.span()))
}

fn parent_path(child: &Path, name: &str) -> PathBuf {
    let dir = child.parent().unwrap_or(Path::new("."));
    let mut path = dir.join(name);
    if path.extension().is_none() {
        path.set_extension("yaml");
    }
    path
}

/// Child over parent: mappings merge key by key, anything else in the child replaces the parent's value.
fn merge(parent: Node, child: Node) -> Node {
    match (parent, child) {
        (Node::Mapping(mut base), Node::Mapping(over)) => {
            *base.span_mut() = *over.span();
            for (key, value) in over.iter() {
                match base.get_mut(key) {
                    // Replace in place so the parent's key order survives in `show`.
                    Some(slot) => {
                        let existing = std::mem::replace(slot, placeholder());
                        *slot = merge(existing, value.clone());
                    }
                    None => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
            Node::Mapping(base)
        }
        (_, child) => child,
    }
}

/// `key: null` (or `~`, or nothing) removes the key, so a child can unset what a parent set and the
/// field falls back to its default (or is reported missing when required).
fn drop_nulls(node: &mut Node) {
    match node {
        Node::Mapping(map) => {
            map.retain(|_, v| !is_null(v));
            for (_, v) in map.iter_mut() {
                drop_nulls(v);
            }
        }
        Node::Sequence(items) => items.iter_mut().for_each(drop_nulls),
        Node::Scalar(_) => {}
    }
}

pub fn is_null(node: &Node) -> bool {
    node.as_scalar().is_some_and(|s| s.may_coerce() && matches!(s.as_str(), "" | "~" | "null" | "Null" | "NULL"))
}

fn placeholder() -> Node {
    Node::Scalar(MarkedScalarNode::new_empty(marked_yaml::Span::new_blank()))
}

/// The node at `path`, or the nearest ancestor that exists (for values that were defaulted).
pub fn nearest<'a>(tree: &'a Node, path: &FieldPath) -> &'a Node {
    let mut node = tree;
    for seg in &path.0 {
        let next = match (seg, node) {
            (Seg::Key(k), Node::Mapping(m)) => m.get_node(k),
            (Seg::Index(i), Node::Sequence(s)) => s.get_node(*i),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    node
}

#[cfg(test)]
mod tests {
    use super::unread_content;

    #[test]
    fn a_second_document_is_found_but_a_leading_marker_is_fine() {
        assert_eq!(unread_content("---\nproject: p\n"), None);
        assert_eq!(unread_content("# c\n---\nproject: p\n"), None);
        let (line, column, message) = unread_content("project: p\n---\ntier: x\n").unwrap();
        assert_eq!((line, column), (2, 1));
        assert!(message.starts_with("a second YAML document"));
        assert_eq!(unread_content("description: |\n  ---\n  text\n"), None, "indented text is not a marker");
    }

    #[test]
    fn a_nul_byte_is_found_where_it_is() {
        assert_eq!(unread_content("project: p\ntier: a\0b\n").map(|(l, c, _)| (l, c)), Some((2, 8)));
    }
}
