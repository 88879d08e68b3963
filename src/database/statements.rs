//! A migration's text as the runner sends it: split into statements at top-level semicolons (quotes, dollar
//! quotes and comments respected), each with the line it starts on. PostgreSQL runs a multi-statement string
//! as one implicit transaction, so a no-transaction file must be sent statement by statement; a file run in a
//! transaction is sent the same way, so a failure names its statement.

/// One statement of a migration and the line it starts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub text: String,
    pub line: usize,
}

impl Statement {
    /// `statement 2 of 5 (line 7)`.
    pub(super) fn label(&self, index: usize, total: usize) -> String {
        format!("statement {} of {total} (line {})", index + 1, self.line)
    }

    /// Its text on one line without the comment lines that lead it, at most 200 characters.
    pub(super) fn shown(&self) -> String {
        let code = self.text.lines().skip_while(|l| l.trim().is_empty() || l.trim_start().starts_with("--"));
        let one_line = code.flat_map(str::split_whitespace).collect::<Vec<_>>().join(" ");
        if one_line.chars().count() > 200 {
            format!("{}…", one_line.chars().take(200).collect::<String>())
        } else {
            one_line
        }
    }
}

/// The statements of `sql` as the runner sends them, each with its first line in the file.
pub fn located_statements(sql: &str) -> Vec<Statement> {
    let mut cursor = 0;
    split_statements(sql)
        .into_iter()
        .map(|text| {
            let start = sql[cursor..].find(text.as_str()).map_or(cursor, |p| cursor + p);
            cursor = (start + text.len()).min(sql.len());
            // The line of its first token, past the comments that lead it (a silence, a note).
            let mut first = start;
            for piece in text.split_inclusive('\n') {
                let trimmed = piece.trim_start();
                if trimmed.is_empty() || trimmed.starts_with("--") {
                    first += piece.len();
                } else {
                    first += piece.len() - trimmed.len();
                    break;
                }
            }
            let line = sql[..first.min(sql.len())].matches('\n').count() + 1;
            Statement { text, line }
        })
        .collect()
}

/// Splits SQL into statements at top-level semicolons, respecting quotes (`'…'`, `E'…\\''`, `"…"`), dollar
/// quotes and comments (`--`, and `/* */`, which nest in PostgreSQL). PostgreSQL runs a multi-statement
/// string as one implicit transaction, so no-transaction files must be sent statement by statement.
pub fn split_statements(sql: &str) -> Vec<String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut statements = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let next_is = |i: usize, c: char| chars.get(i + 1) == Some(&c);
    while i < chars.len() {
        let c = chars[i];
        i = match c {
            '-' if next_is(i, '-') => chars[i..].iter().position(|&ch| ch == '\n').map_or(chars.len(), |p| i + p),
            '/' if next_is(i, '*') => block_comment_end(&chars, i),
            '\'' => {
                let escapes = i > 0
                    && matches!(chars[i - 1], 'E' | 'e')
                    && (i < 2 || !(chars[i - 2].is_alphanumeric() || chars[i - 2] == '_'));
                quoted_end(&chars, i, '\'', escapes)
            }
            '"' => quoted_end(&chars, i, '"', false),
            '$' => dollar_quoted_end(&chars, i).unwrap_or(i + 1),
            ';' => {
                push_statement(&mut statements, &chars[start..i]);
                start = i + 1;
                i + 1
            }
            _ => i + 1,
        };
    }
    push_statement(&mut statements, &chars[start..chars.len().min(i)]);
    statements
}

fn push_statement(statements: &mut Vec<String>, chars: &[char]) {
    let text: String = chars.iter().collect();
    if !text.trim().is_empty() && !is_only_comments(&text) {
        statements.push(text.trim().to_string());
    }
}

/// Index after the `*/` that closes the comment opened at `i`, counting nested comments.
fn block_comment_end(chars: &[char], mut i: usize) -> usize {
    let mut depth = 0;
    while i < chars.len() {
        if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
            depth += 1;
            i += 2;
        } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    chars.len()
}

/// Index after the quote that closes the one at `i`; a doubled quote is part of the text, and with
/// `backslash_escapes` (an `E'…'` string) so is a quote after a backslash.
fn quoted_end(chars: &[char], i: usize, quote: char, backslash_escapes: bool) -> usize {
    let mut j = i + 1;
    while j < chars.len() {
        if backslash_escapes && chars[j] == '\\' {
            j += 2;
        } else if chars[j] == quote {
            if chars.get(j + 1) == Some(&quote) {
                j += 2;
            } else {
                return j + 1;
            }
        } else {
            j += 1;
        }
    }
    chars.len()
}

/// For a `$tag$` opening at `i`, the index after its closing `$tag$`; `None` when `$` starts no dollar quote
/// (a parameter such as `$1`, or a `$` inside an identifier).
fn dollar_quoted_end(chars: &[char], i: usize) -> Option<usize> {
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return None;
    }
    let tag_len = chars[i + 1..].iter().position(|&ch| !(ch.is_alphanumeric() || ch == '_'))?;
    let close = i + 1 + tag_len;
    if chars[close] != '$' || chars.get(i + 1).is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    let tag = &chars[i..=close];
    let body_start = close + 1;
    (body_start..=chars.len().saturating_sub(tag.len()))
        .find(|&k| &chars[k..k + tag.len()] == tag)
        .map(|k| k + tag.len())
        .or(Some(chars.len()))
}

fn is_only_comments(text: &str) -> bool {
    let statements_text: String = strip_comments(text);
    statements_text.trim().is_empty()
}

/// `text` without `--` and `/* */` comments (outside quotes is not tracked: used on comment-only pieces).
fn strip_comments(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '-' && chars.get(i + 1) == Some(&'-') {
            i = chars[i..].iter().position(|&ch| ch == '\n').map_or(chars.len(), |p| i + p);
        } else if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
            i = block_comment_end(&chars, i);
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{located_statements, split_statements};

    #[test]
    fn statements_are_located_at_their_first_token() {
        let sql = "-- glctl:no-transaction\n\nCREATE TABLE a (x int);\n-- why\n-- glctl:allow ML001: empty\nCREATE INDEX i ON a (x);";
        let located = located_statements(sql);
        assert_eq!(located.iter().map(|s| s.line).collect::<Vec<_>>(), [3, 6]);
        assert_eq!(located[1].shown(), "CREATE INDEX i ON a (x)");
    }

    #[test]
    fn splits_at_top_level_semicolons_only() {
        let sql = "-- glctl:no-transaction\nCREATE TABLE a (t text DEFAULT 'x;y');\nCREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n/* ; */ SELECT \"a;b\" FROM a;\n-- trailing ;\n";
        let statements = split_statements(sql);
        assert_eq!(statements.len(), 3, "{statements:#?}");
        assert!(statements[1].contains("$body$ SELECT 1; $body$"));
        assert!(statements[2].ends_with("FROM a"));
    }

    #[test]
    fn nested_block_comments_hide_their_semicolons() {
        let statements = split_statements("/* outer /* inner; */ still comment; */ SELECT 1; SELECT 2");
        assert_eq!(statements, ["/* outer /* inner; */ still comment; */ SELECT 1", "SELECT 2"]);
    }

    #[test]
    fn escape_strings_keep_a_backslash_quoted_quote() {
        let statements = split_statements(r"INSERT INTO t VALUES (E'it\'s; fine'); SELECT 2");
        assert_eq!(statements, [r"INSERT INTO t VALUES (E'it\'s; fine')", "SELECT 2"]);
    }

    #[test]
    fn a_standard_string_ending_in_a_backslash_ends_at_its_quote() {
        // standard_conforming_strings: a backslash is an ordinary character outside E'…'.
        let statements = split_statements(r"SELECT 'C:\'; SELECT 2");
        assert_eq!(statements, [r"SELECT 'C:\'", "SELECT 2"]);
    }

    #[test]
    fn doubled_quotes_stay_inside_the_string() {
        let statements = split_statements("SELECT 'a'';b'; SELECT \"x\"\";y\" FROM t");
        assert_eq!(statements, ["SELECT 'a'';b'", "SELECT \"x\"\";y\" FROM t"]);
    }

    #[test]
    fn positional_parameters_and_dollar_in_identifiers_are_not_dollar_quotes() {
        let statements = split_statements("PREPARE p AS SELECT $1; SELECT a$b FROM t; SELECT 3");
        assert_eq!(statements, ["PREPARE p AS SELECT $1", "SELECT a$b FROM t", "SELECT 3"]);
    }

    #[test]
    fn an_anonymous_dollar_quote_holds_semicolons() {
        let statements = split_statements("DO $$ BEGIN PERFORM 1; END $$; SELECT 2;");
        assert_eq!(statements, ["DO $$ BEGIN PERFORM 1; END $$", "SELECT 2"]);
    }

    #[test]
    fn comment_only_pieces_are_not_statements() {
        assert!(split_statements("-- nothing;\n/* at all; */\n;").is_empty());
        assert!(split_statements("").is_empty());
    }

    #[test]
    fn an_unterminated_quote_keeps_the_rest_as_one_statement() {
        assert_eq!(split_statements("SELECT 'open; SELECT 2"), ["SELECT 'open; SELECT 2"]);
    }
}
