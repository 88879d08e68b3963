//! The SQL statements inside a `DO $$ … $$` block, read with PL/pgSQL's own grammar (libpg_query's
//! `parse_plpgsql`) so the rules judge them like any other statement: an `ALTER TABLE` or `CREATE INDEX`
//! inside a DO block locks the same tables.
//!
//! Read: every SQL statement of the body (`PLpgSQL_stmt_execsql`), at any depth (IF, LOOP, nested blocks,
//! exception handlers), and `EXECUTE 'constant string'`. Not read: `EXECUTE` of a string built at run time
//! (`format(…)`, concatenation) — its text does not exist until it runs.

use pg_query::protobuf::DoStmt;
use pg_query::NodeEnum;

/// One statement found in a DO body: where it starts in the file, and its parse.
pub(super) struct Embedded {
    pub offset: usize,
    pub parsed: pg_query::ParseResult,
}

/// The statements of the DO block `s`, which starts at byte `start` of `sql` and ends at `end`. `Err` with
/// the parser's message when the body does not parse as PL/pgSQL; an empty list for another language.
pub(super) fn embedded(sql: &str, start: usize, end: usize, s: &DoStmt) -> Result<Vec<Embedded>, String> {
    let mut body = None;
    for arg in &s.args {
        let Some(NodeEnum::DefElem(d)) = arg.node.as_ref() else { continue };
        let value = d.arg.as_deref().and_then(|a| match a.node.as_ref() {
            Some(NodeEnum::String(v)) => Some(v.sval.clone()),
            _ => None,
        });
        match (d.defname.as_str(), value) {
            ("as", Some(text)) => body = Some(text),
            ("language", Some(language)) if !language.eq_ignore_ascii_case("plpgsql") => return Ok(Vec::new()),
            _ => {}
        }
    }
    let Some(body) = body else { return Ok(Vec::new()) };
    // Where the body's text sits in the file (a dollar-quoted body is verbatim); else at the statement.
    let statement = &sql[start.min(sql.len())..end.min(sql.len())];
    let body_offset = statement.find(body.as_str()).map(|p| start + p);
    let function = format!("CREATE FUNCTION glctl_do() RETURNS void LANGUAGE plpgsql AS $glctl_do${body}$glctl_do$");
    let tree = pg_query::parse_plpgsql(&function).map_err(|e| super::source::error_message(&e))?;
    let mut found = Vec::new();
    collect(&tree, &mut found);
    let mut out = Vec::new();
    for (lineno, query) in found {
        let Ok(parsed) = pg_query::parse(&query, pg_query::ParserOptions::DEFAULT) else { continue };
        let offset = match body_offset {
            Some(base) => base + locate(&body, lineno, &query),
            None => start,
        };
        out.push(Embedded { offset, parsed });
    }
    Ok(out)
}

/// Byte offset in `body` of `query`, searched from line `lineno` (1 = the body's first line); the line's
/// first non-blank character when the text was rewritten by the parser.
fn locate(body: &str, lineno: usize, query: &str) -> usize {
    let line_start: usize = body.split_inclusive('\n').take(lineno.saturating_sub(1)).map(str::len).sum();
    let rest = &body[line_start.min(body.len())..];
    match rest.find(query) {
        Some(p) => line_start + p,
        None => line_start + (rest.len() - rest.trim_start().len()),
    }
}

/// `(lineno, query)` of every SQL statement and constant `EXECUTE` in the PL/pgSQL tree.
fn collect(value: &serde_json::Value, out: &mut Vec<(usize, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            let line = |v: &serde_json::Value| v.get("lineno").and_then(|l| l.as_u64()).unwrap_or(1) as usize;
            if let Some(stmt) = map.get("PLpgSQL_stmt_execsql") {
                if let Some(q) = stmt.pointer("/sqlstmt/PLpgSQL_expr/query").and_then(|q| q.as_str()) {
                    out.push((line(stmt), q.to_string()));
                }
            }
            if let Some(stmt) = map.get("PLpgSQL_stmt_dynexecute") {
                let q = stmt.pointer("/query/PLpgSQL_expr/query").and_then(|q| q.as_str()).and_then(constant_string);
                if let Some(q) = q {
                    out.push((line(stmt), q));
                }
            }
            map.values().for_each(|v| collect(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        _ => {}
    }
}

/// The text of `'…'` when the expression is one standard string literal and nothing else.
fn constant_string(expr: &str) -> Option<String> {
    let inner = expr.trim().strip_prefix('\'')?.strip_suffix('\'')?;
    // A lone quote inside means concatenation or more than one literal.
    if inner.replace("''", "").contains('\'') {
        return None;
    }
    Some(inner.replace("''", "'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn do_stmt(sql: &str) -> DoStmt {
        let parsed = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT).unwrap();
        match parsed.protobuf.stmts[0].stmt.as_deref().and_then(|n| n.node.clone()) {
            Some(NodeEnum::DoStmt(s)) => s,
            other => panic!("{other:?}"),
        }
    }

    fn statements(sql: &str) -> Vec<(usize, String)> {
        let found = embedded(sql, 0, sql.len(), &do_stmt(sql)).unwrap();
        found
            .iter()
            .map(|e| {
                let (line, col) = super::super::source::line_col(sql, e.offset);
                (line, format!("{col}:{}", e.parsed.statement_types().join(",")))
            })
            .collect()
    }

    #[test]
    fn statements_at_any_depth_and_constant_executes_are_found_where_they_are() {
        let sql = "DO $$\nDECLARE n int;\nBEGIN\n  IF NOT EXISTS (SELECT 1) THEN\n    CREATE INDEX i ON t (a);\n  END IF;\n  ALTER TABLE t ADD COLUMN b int;\n  EXECUTE 'CREATE INDEX z ON t (b)';\n  EXECUTE format('CREATE INDEX %I ON t (b)', n);\n  PERFORM 1;\nEND $$;";
        assert_eq!(
            statements(sql),
            [
                (5, "5:IndexStmt".to_string()),
                (7, "3:AlterTableStmt".to_string()),
                // Located inside the literal: where the statement's text is.
                (8, "12:IndexStmt".to_string()),
            ]
        );
    }

    #[test]
    fn another_language_is_left_alone_and_a_broken_body_is_an_error() {
        let sql = "DO LANGUAGE plperl $$ my $x = 1; $$";
        assert!(embedded(sql, 0, sql.len(), &do_stmt(sql)).unwrap().is_empty());
        let broken = "DO $$ BEGIN IF THEN END $$";
        assert!(embedded(broken, 0, broken.len(), &do_stmt(broken)).is_err());
    }

    #[test]
    fn only_a_lone_literal_is_a_constant_string() {
        assert_eq!(constant_string("'SELECT ''x'''"), Some("SELECT 'x'".into()));
        assert_eq!(constant_string("'a' || b"), None);
        assert_eq!(constant_string("'a' || 'b'"), None);
        assert_eq!(constant_string("format('x')"), None);
    }
}
