//! Imports run one way: the rooms of `src/` are listed lowest first in `docs/architecture.md` (`## Rooms`),
//! and a module may import only rooms listed above it, and itself. This reads every `crate::x` path in
//! `src/**/*.rs` (in `use` lines and inline, outside comments and string literals) and names each arrow that
//! runs up. No services needed.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::support::repo;

/// One thing `docs/architecture.md` forbids, found in `src/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// `from` imports `to`, which is listed below it.
    Up { file: PathBuf, line: usize, from: String, to: String },
    /// A module of `src/` that `## Rooms` does not list.
    Unlisted { file: PathBuf, room: String },
    /// `crate::name` where `name` is no room: an item of `lib.rs`, the top.
    Top { file: PathBuf, line: usize, from: String, to: String },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Up { file, line, from, to } => write!(
                f,
                "{}:{line}: {from} → {to} runs up ({to} is listed below {from} in docs/architecture.md)",
                file.display()
            ),
            Violation::Unlisted { file, room } => {
                write!(f, "{}: module {room} is not listed in docs/architecture.md's ## Rooms", file.display())
            }
            Violation::Top { file, line, from, to } => write!(
                f,
                "{}:{line}: {from} → crate::{to} runs up to lib.rs (the top); import it from its room",
                file.display()
            ),
        }
    }
}

/// The rooms of `docs/architecture.md`, lowest first: every line ``- `name` — …`` of its `## Rooms` section.
/// A line marked "(moving into `home`)" comes back as `name=home`.
pub fn rooms(architecture_md: &str) -> Vec<String> {
    let mut in_rooms = false;
    let mut rooms = Vec::new();
    for line in architecture_md.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            in_rooms = heading.trim() == "Rooms";
            continue;
        }
        let Some(rest) = line.strip_prefix("- `").filter(|_| in_rooms) else { continue };
        let Some((name, description)) = rest.split_once('`') else { continue };
        let home = description.split_once("(moving into `").and_then(|(_, h)| h.split_once('`')).map(|(h, _)| h);
        rooms.push(match home {
            Some(home) => format!("{name}={home}"),
            None => name.to_string(),
        });
    }
    rooms
}

/// Every import in `files` (paths under `src/`, with their text) that runs against `rooms` (lowest first; an
/// entry `name=home` is a module moving into room `home`, which counts as part of it), and every module of
/// `src/` that `rooms` does not list. `lib.rs` and `main.rs` are the top: exempt.
pub fn check(rooms: &[String], files: &[(PathBuf, String)]) -> Vec<Violation> {
    let rank = |name: &str| -> Option<usize> {
        let entry = rooms.iter().position(|r| r == name || r.split_once('=').is_some_and(|(n, _)| n == name))?;
        match rooms[entry].split_once('=') {
            Some((_, home)) => rank_of_plain(rooms, home).or(Some(entry)),
            None => Some(entry),
        }
    };
    let modules: Vec<String> = files.iter().filter_map(|(path, _)| room_of(path)).collect();
    let mut violations = Vec::new();
    let mut reported = Vec::<String>::new();
    for (path, text) in files {
        let Some(from) = room_of(path) else { continue };
        let Some(from_rank) = rank(&from) else {
            if !reported.contains(&from) {
                reported.push(from.clone());
                violations.push(Violation::Unlisted { file: path.clone(), room: from });
            }
            continue;
        };
        for (line, to) in crate_paths(text) {
            if to == from {
                continue;
            }
            match rank(&to) {
                Some(to_rank) if to_rank > from_rank => {
                    violations.push(Violation::Up { file: path.clone(), line, from: from.clone(), to })
                }
                Some(_) => {}
                // An unlisted module is reported once, as such; anything else under `crate::` lives in lib.rs.
                None if modules.contains(&to) => {}
                None => violations.push(Violation::Top { file: path.clone(), line, from: from.clone(), to }),
            }
        }
    }
    violations
}

fn rank_of_plain(rooms: &[String], name: &str) -> Option<usize> {
    rooms.iter().position(|r| r == name)
}

/// The room a file of `src/` belongs to: `src/x.rs` and `src/x/…` are room `x`; `lib.rs` and `main.rs` none.
fn room_of(path: &Path) -> Option<String> {
    let inside = path.strip_prefix("src").unwrap_or(path);
    let first = inside.components().next()?.as_os_str().to_str()?;
    if inside.components().count() == 1 {
        let name = first.strip_suffix(".rs")?;
        return (name != "lib" && name != "main").then(|| name.to_string());
    }
    Some(first.to_string())
}

/// The room named after each `crate::` in `text` (comments and literals left out), with its line (1-based).
/// `crate::{a::b, c}` names `a` and `c`; `super::` and `self::` paths stay inside a room and are not read.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let code: Vec<char> = code_only(text).chars().collect();
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let line_at = |i: usize| code[..i].iter().filter(|&&c| c == '\n').count() + 1;
    let skip_space = |mut i: usize| {
        while i < code.len() && code[i].is_whitespace() {
            i += 1;
        }
        i
    };
    let ident_at = |i: usize| -> String { code[i..].iter().take_while(|&&c| is_ident(c)).collect() };
    let mut found = Vec::new();
    let mut i = 0;
    while i + 5 <= code.len() {
        let starts = code[i..i + 5].iter().copied().eq("crate".chars())
            && (i == 0 || !is_ident(code[i - 1]))
            && code.get(i + 5).is_none_or(|&c| !is_ident(c));
        if !starts {
            i += 1;
            continue;
        }
        let at = i;
        i = skip_space(i + 5);
        if code.get(i) != Some(&':') || code.get(i + 1) != Some(&':') {
            continue;
        }
        i = skip_space(i + 2);
        if code.get(i) == Some(&'{') {
            // A group: the first name of each item at depth one.
            let mut depth = 0;
            let mut item_start = true;
            while i < code.len() {
                match code[i] {
                    '{' => {
                        depth += 1;
                        item_start = depth == 1;
                    }
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => item_start = true,
                    c if item_start && is_ident(c) => {
                        let name = ident_at(i);
                        i += name.chars().count() - 1;
                        if name != "self" {
                            found.push((line_at(i), name));
                        }
                        item_start = false;
                    }
                    _ => {}
                }
                i += 1;
            }
        } else {
            let name = ident_at(i);
            if !name.is_empty() {
                found.push((line_at(at), name));
            }
        }
    }
    found
}

/// `text` with comments, string literals and char literals blanked out (newlines kept, so lines still count).
fn code_only(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let is_ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
        } else if c[i] == 'r'
            && (i == 0 || !is_ident(c[i - 1]) || (c[i - 1] == 'b' && (i < 2 || !is_ident(c[i - 2]))))
            && matches!(next, Some('"') | Some('#'))
        {
            // A raw string r"…", r#"…"#, br"…": it ends at a quote followed by as many #.
            let hashes = c[i + 1..].iter().take_while(|&&ch| ch == '#').count();
            if c.get(i + 1 + hashes) != Some(&'"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            out.push('r');
            i += 1;
            for _ in 0..hashes + 1 {
                out.push(' ');
                i += 1;
            }
            while i < c.len() {
                if c[i] == '"' && c[i + 1..].iter().take(hashes).filter(|&&ch| ch == '#').count() == hashes {
                    for _ in 0..hashes + 1 {
                        out.push(' ');
                        i += 1;
                    }
                    break;
                }
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '"' {
            out.push(' ');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    blank(&mut out, c[i]);
                    i += 1;
                }
                if i < c.len() {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c[i] == '\'' && next == Some('\\') {
            // An escaped char literal ('\'', '\n', '\u{1F600}'): the quote, the backslash and the escaped
            // character, then whatever comes up to the closing quote.
            for _ in 0..3 {
                if i < c.len() {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
            while i < c.len() {
                let ch = c[i];
                blank(&mut out, ch);
                i += 1;
                if ch == '\'' {
                    break;
                }
            }
        } else if c[i] == '\'' && c.get(i + 2) == Some(&'\'') {
            out.push_str("   ");
            i += 3;
        } else {
            // Code, or a lifetime ('a: no closing quote two characters on).
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// Every `.rs` file under `dir`, with its path relative to `root`.
fn sources(root: &Path, dir: &Path, files: &mut Vec<(PathBuf, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sources(root, &path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            files.push((path.strip_prefix(root).unwrap().to_path_buf(), text));
        }
    }
}

fn the_tree() -> (Vec<String>, Vec<(PathBuf, String)>) {
    let doc = std::fs::read_to_string(repo().join("docs/architecture.md")).unwrap();
    let rooms = rooms(&doc);
    assert!(rooms.len() > 10, "docs/architecture.md lists its rooms under ## Rooms: {rooms:?}");
    let mut files = Vec::new();
    sources(&repo(), &repo().join("src"), &mut files);
    (rooms, files)
}

fn listed(violations: &[Violation]) -> String {
    violations.iter().map(|v| format!("  {v}\n")).collect()
}

#[test]
fn imports_run_one_way() {
    let (rooms, files) = the_tree();
    let violations = check(&rooms, &files);
    assert!(
        violations.is_empty(),
        "{} imports run against docs/architecture.md:\n{}",
        violations.len(),
        listed(&violations)
    );
}

/// The part of the rule today's tree already keeps: every module of `src/` is a listed room.
#[test]
fn every_module_of_src_is_a_listed_room() {
    let (rooms, files) = the_tree();
    let unlisted: Vec<_> =
        check(&rooms, &files).into_iter().filter(|v| matches!(v, Violation::Unlisted { .. })).collect();
    assert!(unlisted.is_empty(), "{}", listed(&unlisted));
}

mod checker {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn file(path: &str, text: &str) -> (PathBuf, String) {
        (PathBuf::from(path), text.to_string())
    }

    fn messages(violations: &[Violation]) -> Vec<String> {
        violations.iter().map(ToString::to_string).collect()
    }

    const ROOMS: &[&str] = &["clock", "config", "verify", "cmd"];

    #[test]
    fn clean_input_passes() {
        let files = [
            file("src/lib.rs", "pub mod cmd;\nuse crate::cmd::run;\n"),
            file("src/clock.rs", "pub fn now() {}\n"),
            file("src/config/mod.rs", "use crate::clock::now;\n"),
            file("src/verify/facts.rs", "use crate::config::Model;\nuse crate::verify::report;\n"),
            file("src/cmd/verify.rs", "use crate::{clock, config::Model, verify::{facts, report}};\n"),
        ];
        assert_eq!(check(&names(ROOMS), &files), vec![]);
    }

    #[test]
    fn an_arrow_up_is_caught_and_named() {
        let files = [file("src/config/rules.rs", "use std::fmt;\nuse crate::clock::now;\nuse crate::verify::Check;\n")];
        assert_eq!(
            messages(&check(&names(ROOMS), &files)),
            ["src/config/rules.rs:3: config → verify runs up (verify is listed below config in docs/architecture.md)"]
        );
    }

    #[test]
    fn inline_paths_and_groups_are_caught() {
        let files = [file(
            "src/clock.rs",
            "fn f() {\n    let t = crate::verify::facts::now();\n}\nuse crate::{\n    config::Model,\n    clock::x,\n};\n",
        )];
        assert_eq!(
            messages(&check(&names(ROOMS), &files)),
            [
                "src/clock.rs:2: clock → verify runs up (verify is listed below clock in docs/architecture.md)",
                "src/clock.rs:5: clock → config runs up (config is listed below clock in docs/architecture.md)",
            ]
        );
    }

    #[test]
    fn comments_and_string_literals_are_not_counted() {
        let text = r##"
//! Like `crate::verify::facts::now()`, but pure.
/// See [`crate::cmd::run`].
/* crate::cmd /* nested crate::cmd */ crate::cmd */
const A: &str = "crate::cmd::run";
const B: &str = "an \" escaped quote, then crate::cmd";
const C: &str = r#"raw "quoted" crate::cmd"#;
const D: char = '"';
const E: char = '\'';
fn f<'a>(x: &'a str) -> &'a str { x }
const F: &str = "crate::verify";
"##;
        let files = [file("src/clock.rs", text)];
        assert_eq!(check(&names(ROOMS), &files), vec![]);
        // The same path outside a literal, after all of the above, is still read (the lexer found its way out).
        let files = [file("src/clock.rs", &format!("{text}use crate::cmd::run;\n"))];
        assert_eq!(messages(&check(&names(ROOMS), &files)).len(), 1);
    }

    #[test]
    fn super_and_self_paths_are_ignored() {
        let files =
            [file("src/clock/mod.rs", "mod tests { use super::*; use self::inner::x; use super::super::cmd; }\n")];
        assert_eq!(check(&names(ROOMS), &files), vec![]);
    }

    #[test]
    fn a_module_file_and_its_folder_are_one_room() {
        let files = [
            file("src/verify.rs", "pub mod facts;\nuse crate::verify::facts::now;\n"),
            file("src/verify/facts.rs", "use crate::verify::report;\nuse crate::cmd::x;\n"),
        ];
        assert_eq!(
            messages(&check(&names(ROOMS), &files)),
            ["src/verify/facts.rs:2: verify → cmd runs up (cmd is listed below verify in docs/architecture.md)"]
        );
    }

    #[test]
    fn an_unlisted_module_fails_and_a_listed_room_may_not_exist_yet() {
        let files = [
            file("src/pooling.rs", "use crate::config::x;\n"),
            file("src/pooling/ini.rs", ""),
            file("src/config/mod.rs", "use crate::pooling::y;\n"),
        ];
        // `clock` and `cmd` have no files: fine. `pooling` has two and is reported once; arrows into it are not judged.
        assert_eq!(
            messages(&check(&names(ROOMS), &files)),
            ["src/pooling.rs: module pooling is not listed in docs/architecture.md's ## Rooms"]
        );
    }

    #[test]
    fn a_module_moving_into_a_room_counts_as_part_of_it() {
        let rooms = names(&["clock", "promote", "bundle=promote", "verify"]);
        let files = [
            file("src/promote/mod.rs", "use crate::bundle::Bundle;\n"),
            file("src/bundle.rs", "use crate::promote::gates;\nuse crate::verify::x;\n"),
        ];
        assert_eq!(
            messages(&check(&rooms, &files)),
            ["src/bundle.rs:2: bundle → verify runs up (verify is listed below bundle in docs/architecture.md)"]
        );
    }

    #[test]
    fn a_path_to_an_item_of_lib_rs_runs_up_to_the_top() {
        let files = [file("src/config/mod.rs", "use crate::TlsMode;\n")];
        assert_eq!(
            messages(&check(&names(ROOMS), &files)),
            ["src/config/mod.rs:1: config → crate::TlsMode runs up to lib.rs (the top); import it from its room"]
        );
    }

    #[test]
    fn the_rooms_section_is_read_in_order_with_moving_modules() {
        let doc = "# A\n\n## Rooms\n\nintro `x`\n- `clock` — the time\n- `bundle` — the hash (moving into `promote`)\n- `promote` — gates\n\n## How a command runs\n- `not` — a room\n";
        assert_eq!(rooms(doc), ["clock", "bundle=promote", "promote"]);
    }
}
