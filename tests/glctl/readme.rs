//! The front door and the docs: every link resolves, every page is reachable, and the README stays a short
//! front door. (The generated reference pages are checked in cli.rs.)

use crate::support::repo;

fn section<'a>(readme: &'a str, begin: &str, end: &str) -> &'a str {
    let start = readme.find(begin).unwrap_or_else(|| panic!("the page lacks {begin}")) + begin.len();
    let stop = readme[start..].find(end).unwrap_or_else(|| panic!("the page lacks {end}")) + start;
    readme[start..stop].trim()
}

#[test]
fn readme_quickstart_has_exactly_two_commands_and_ci_runs_the_test_one() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let quickstart = section(&readme, "## Quickstart", "\n## ");
    let block = section(quickstart, "```sh", "```");
    let commands: Vec<&str> = block.lines().collect();
    assert_eq!(commands, ["scripts/demo", "scripts/test"]);
    let ci = std::fs::read_to_string(repo().join(".ci/run")).unwrap();
    let ci_commands: Vec<&str> = ci
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#') && !l.starts_with("set ") && !l.starts_with("cd "))
        .collect();
    assert_eq!(ci_commands, ["scripts/test"]);
}

/// PRD queries that do not run on TimescaleDB 2.23 never appear in what glctl ships or runs (SQL, the README and docs).
#[test]
fn no_shipped_query_uses_the_prd_forms_timescaledb_refuses() {
    let mut files = vec![repo().join("README.md")];
    let mut dirs: Vec<_> =
        ["sql/migrations", "src/database", "src/verify", "src/drills", "docs"].iter().map(|d| repo().join(d)).collect();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        // In Markdown only the examples (fenced blocks) are queries; the prose names the wrong forms.
        let code: String = if file.extension().is_some_and(|e| e == "md") {
            text.split("```").skip(1).step_by(2).collect::<Vec<_>>().join("\n")
        } else {
            text
        };
        for wrong in
            ["time_bucket('1 quarter'", "FROM hypertable_compression_stats", "information.compression_settings"]
        {
            assert!(!code.contains(wrong), "{} uses `{wrong}`", file.display());
        }
    }
}

/// Every Markdown page a reader can open: the README and everything under `docs/`.
fn markdown_pages() -> Vec<std::path::PathBuf> {
    let mut pages = vec![repo().join("README.md")];
    let mut dirs = vec![repo().join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    pages.sort();
    pages
}

/// The text outside fenced code blocks, where a `[x](y)` is a link and not an example.
fn prose(text: &str) -> String {
    text.split("```").step_by(2).collect::<Vec<_>>().join("\n")
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(text: &str) -> Vec<String> {
    prose(text).lines().filter(|l| l.starts_with('#')).map(|l| anchor(l.trim_start_matches('#'))).collect()
}

/// The targets of inline links `[text](target)` in a page's prose.
fn link_targets(text: &str) -> Vec<String> {
    let prose = prose(text);
    let mut targets = Vec::new();
    let mut rest = prose.as_str();
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        if let Some(end) = rest.find(')') {
            targets.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    targets
}

#[test]
fn every_link_in_the_readme_and_the_docs_resolves() {
    let mut broken = Vec::new();
    for page in markdown_pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let name = page.strip_prefix(repo()).unwrap().display().to_string();
        for target in link_targets(&text) {
            if target.starts_with("http://") || target.starts_with("https://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, fragment) = match target.split_once('#') {
                Some((p, f)) => (p, Some(f)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() { page.clone() } else { page.parent().unwrap().join(path) };
            if !file.exists() {
                broken.push(format!("{name}: {target}: no such file"));
                continue;
            }
            if let Some(fragment) = fragment {
                let linked = std::fs::read_to_string(&file).unwrap_or_default();
                if !anchors(&linked).iter().any(|a| a == fragment) {
                    broken.push(format!("{name}: {target}: no heading with that anchor"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_readme_is_a_short_front_door_that_links_every_docs_page() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(lines <= 150, "README.md has {lines} lines; it is the front door (at most 150): move detail to docs/");
    // Every page is reachable: from the README, or from the docs index it links.
    let index = std::fs::read_to_string(repo().join("docs/README.md")).unwrap();
    let linked: Vec<String> = link_targets(&readme)
        .into_iter()
        .chain(link_targets(&index).into_iter().map(|t| format!("docs/{t}")))
        .map(|t| t.split('#').next().unwrap().to_string())
        .collect();
    for page in markdown_pages() {
        let name = page.strip_prefix(repo()).unwrap().display().to_string();
        if name == "README.md" || name.starts_with("docs/man/") {
            continue;
        }
        assert!(linked.contains(&name), "{name} is linked neither from README.md nor from docs/README.md");
    }
}

#[test]
fn headings_become_githubs_anchors() {
    assert_eq!(anchor(" Engines and time-series backends"), "engines-and-time-series-backends");
    assert_eq!(anchor("Verify: acceptance sign-off"), "verify-acceptance-sign-off");
    assert_eq!(link_targets("a [b](c.md#d) and ```\n[x](y)\n``` [e](f)"), ["c.md#d", "f"]);
}
