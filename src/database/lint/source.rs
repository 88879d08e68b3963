//! Positions in a migration's text: byte offsets to `LINE:COL`, where a statement's first token is, the
//! `-- glctl:allow` silences in the comments before it, and where a file that does not parse fails.

use super::Rule;

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The offset of the first token at or after `from`: whitespace, `--` and (nested) `/* */` comments skipped.
pub(super) fn first_token(text: &str, from: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = from.min(text.len());
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
        } else if text[i..].starts_with("--") {
            i = text[i..].find('\n').map_or(bytes.len(), |p| i + p + 1);
        } else if text[i..].starts_with("/*") {
            let mut depth = 0;
            while i < bytes.len() {
                if text[i..].starts_with("/*") {
                    depth += 1;
                    i += 2;
                } else if text[i..].starts_with("*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else {
            break;
        }
    }
    i
}

/// One `-- glctl:allow …` comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Silence {
    /// Byte offset of the comment.
    pub offset: usize,
    pub rules: Vec<Rule>,
    /// A problem with the comment itself: no reason, or a rule that does not exist.
    pub problem: Option<(Rule, String)>,
}

pub(super) const ALLOW: &str = "glctl:allow";

/// The silences in the comment lines of `text[from..to]` (the text between the previous statement and this
/// one's first token).
pub(super) fn silences(text: &str, from: usize, to: usize) -> Vec<Silence> {
    let mut out = Vec::new();
    let mut offset = from;
    for line in text[from..to].split_inclusive('\n') {
        let here = offset;
        offset += line.len();
        let trimmed = line.trim_start();
        let Some(comment) = trimmed.strip_prefix("--") else { continue };
        let Some(rest) = comment.trim_start().strip_prefix(ALLOW) else { continue };
        let at = here + (line.len() - trimmed.len());
        out.push(parse_silence(rest, at));
    }
    out
}

/// `rest` is what follows `glctl:allow`: ` ML001[, ML011]: reason`.
fn parse_silence(rest: &str, offset: usize) -> Silence {
    let (ids, reason) = match rest.split_once(':') {
        Some((ids, reason)) => (ids, reason.trim()),
        None => (rest, ""),
    };
    let mut rules = Vec::new();
    let mut unknown = Vec::new();
    for id in ids.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()) {
        match Rule::from_id(id) {
            Some(rule) => rules.push(rule),
            None => unknown.push(id.to_string()),
        }
    }
    let problem = if !unknown.is_empty() || rules.is_empty() {
        let named = if unknown.is_empty() { "no rule".to_string() } else { format!("`{}`", unknown.join(", ")) };
        Some((Rule::SilenceNamesNothing, format!("`-- {ALLOW}` names {named}, which is not a rule of migrate lint")))
    } else if reason.is_empty() {
        let ids: Vec<&str> = rules.iter().map(|r| r.id()).collect();
        Some((
            Rule::SilenceWithoutReason,
            format!("`-- {ALLOW} {}` gives no reason; a silence says why the statement is safe here", ids.join(", ")),
        ))
    } else {
        None
    };
    Silence { offset, rules, problem }
}

/// Where a text that did not parse fails: the statement that does not parse on its own (its start, or the
/// token the parser names in `at or near "…"`), with PostgreSQL's message. libpg_query reports no position,
/// so the file is split as the runner splits it and each piece parsed alone.
pub(super) fn locate_parse_error(text: &str, whole_message: &str) -> (usize, String) {
    let mut cursor = 0;
    for piece in super::super::migrate::split_statements(text) {
        let Some(found) = text[cursor..].find(piece.as_str()) else { break };
        let start = cursor + found;
        cursor = start + piece.len();
        if let Err(e) = pg_query::parse(&piece, pg_query::ParserOptions::DEFAULT) {
            let message = error_message(&e);
            let near = message
                .split_once("at or near \"")
                .and_then(|(_, rest)| rest.rsplit_once('"'))
                .and_then(|(token, _)| piece.find(token))
                .or_else(|| message.contains("at end of input").then_some(piece.len()));
            return (start + near.unwrap_or(0), message);
        }
    }
    (first_token(text, 0), whole_message.to_string())
}

pub(super) fn error_message(e: &pg_query::Error) -> String {
    match e {
        pg_query::Error::Parse(m) | pg_query::Error::Split(m) => m.clone(),
        other => other.to_string(),
    }
}
