//! `glctl init NAME --from ENV`: a new environment file modelled on ENV. It extends what ENV extends (its
//! layer, usually `base`) and carries ENV's own settings; every value that names ENV (secret names, tags,
//! promotion) is renamed and marked `# CHANGE ME`, as are the per-environment fields (account, network),
//! so a reviewer sees what must differ. The file is validated; an existing file is never overwritten.

use std::io::Write;

use super::Context;
use crate::cli::InitArgs;
use crate::config::{self, loader, ConfigError};
use crate::error::{Error, Exit};

/// Keys whose value belongs to one environment even when it does not spell the environment's name.
const PER_ENVIRONMENT: &[&str] = &["account_id", "vpc_id", "subnet_ids", "allowed_cidrs", "security_group_ids", "from"];

pub fn run(ctx: &Context, args: &InitArgs) -> Result<Exit, Error> {
    let name = &args.name;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        return Err(Error::Usage(format!(
            "environment name '{name}': expected lowercase letters, digits and '-' (it becomes resource names)"
        )));
    }
    let dir = ctx.project.root.join("environments");
    let source = loader::resolve(&ctx.project.root, &args.from).map_err(Error::Usage)?;
    if source.parent().and_then(|p| p.canonicalize().ok()) != dir.canonicalize().ok() {
        return Err(Error::Usage(format!(
            "--from {}: expected the name of an environment under {}",
            args.from,
            dir.display()
        )));
    }
    // A model that does not validate would hand its problems on: refuse it first.
    let model = config::load(&ctx.project.root, &args.from)?;
    let text =
        std::fs::read_to_string(&source).map_err(|e| Error::Usage(format!("cannot read {}: {e}", source.display())))?;
    let written = derive(&text, &model.name, name);
    let target = dir.join(format!("{name}.yaml"));
    let mut file = match std::fs::OpenOptions::new().write(true).create_new(true).open(&target) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::Usage(format!("{} exists already; glctl init never overwrites", target.display())))
        }
        Err(e) => return Err(Error::Usage(format!("cannot create {}: {e}", target.display()))),
    };
    file.write_all(written.text.as_bytes())
        .map_err(|e| Error::Usage(format!("cannot write {}: {e}", target.display())))?;
    drop(file);
    match config::load(&ctx.project.root, name) {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                eprintln!("{}", ctx.diagnostic_line(warning));
            }
            println!(
                "wrote {} (modelled on {}, {}); {} line(s) marked `# CHANGE ME` to review; it validates",
                target.display(),
                model.name,
                match layer(&text) {
                    Some(layer) => format!("extends {layer}"),
                    None => "standalone, like its model".into(),
                },
                written.marked
            );
            Ok(Exit::Ok)
        }
        Err(ConfigError::Invalid { name, diagnostics }) => {
            // glctl's own output must validate; leave nothing half-made behind.
            let _ = std::fs::remove_file(&target);
            for d in &diagnostics {
                eprintln!("{}", ctx.diagnostic_line(d));
            }
            Err(Error::Usage(format!("the file glctl init made for {name} does not validate; nothing was written")))
        }
        Err(e) => {
            let _ = std::fs::remove_file(&target);
            Err(e.into())
        }
    }
}

/// The file's own top-level `extends:` (the merged model no longer carries it).
fn layer(text: &str) -> Option<&str> {
    text.lines().find_map(|l| l.strip_prefix("extends:")).map(|v| v.split(" #").next().unwrap_or_default().trim())
}

thread_local! {
    /// Every enumeration value of the model (engine kinds, backends, `local`/`s3`…).
    static KEYWORDS: Vec<String> = {
        fn collect(value: &serde_json::Value, out: &mut Vec<String>) {
            match value {
                serde_json::Value::Object(map) => {
                    for (key, v) in map {
                        match (key.as_str(), v) {
                            ("enum", serde_json::Value::Array(items)) => {
                                out.extend(items.iter().filter_map(|i| i.as_str().map(str::to_string)))
                            }
                            ("const", serde_json::Value::String(s)) => out.push(s.clone()),
                            _ => collect(v, out),
                        }
                    }
                }
                serde_json::Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        collect(&config::schema(), &mut out);
        out
    };
}

struct Derived {
    text: String,
    marked: usize,
}

/// ENV's own file rewritten for NAME: a new header, ENV's name replaced (case kept) and such lines marked.
fn derive(text: &str, from: &str, name: &str) -> Derived {
    let mut out = format!(
        "# {name}: made by `glctl init {name} --from {from}` from {from}'s own settings.\n\
         # Lines marked `# CHANGE ME` name {from} or hold a per-environment value: make them {name}'s.\n\
         # Every field: docs/reference/environment.md (or `glctl fields`).\n"
    );
    let mut marked = 0;
    // ENV's own header comment describes ENV: it is replaced by the one above.
    let body = text.lines().skip_while(|l| l.starts_with('#'));
    for line in body {
        let (code, comment) = match line.find(" #") {
            Some(at) => line.split_at(at),
            None => (line, ""),
        };
        if line.trim_start().starts_with('#') {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        // A value that is a word of the model (`state_backend: local`) is a keyword, not ENV's name.
        let value = code.split_once(':').map(|(_, v)| v.trim().trim_matches('"')).unwrap_or_default();
        let keyword = KEYWORDS.with(|words| words.iter().any(|w| w == value));
        let renamed = if keyword { code.to_string() } else { rename(code, from, name) };
        let key = code.trim_start().trim_start_matches("- ").split(':').next().unwrap_or_default().trim();
        let mark = if renamed != code {
            Some(format!("was {from}'s"))
        } else if PER_ENVIRONMENT.contains(&key) && code.contains(':') {
            Some(format!("{from}'s value"))
        } else {
            None
        };
        out.push_str(&renamed);
        match mark {
            Some(why) => {
                marked += 1;
                out.push_str(&format!("  # CHANGE ME ({why})"));
            }
            None => out.push_str(comment),
        }
        out.push('\n');
    }
    Derived { text: out, marked }
}

/// `code` with every whole-word `from` (lowercase, Capitalised or UPPER) replaced by `to` in the same case.
fn rename(code: &str, from: &str, to: &str) -> String {
    let capital = |s: &str| s.chars().take(1).flat_map(char::to_uppercase).chain(s.chars().skip(1)).collect::<String>();
    let mut out = code.to_string();
    for (f, t) in
        [(from.to_string(), to.to_string()), (capital(from), capital(to)), (from.to_uppercase(), to.to_uppercase())]
    {
        let mut result = String::new();
        let mut rest = out.as_str();
        while let Some(at) = rest.find(&f) {
            let before = rest[..at].chars().next_back();
            let after = rest[at + f.len()..].chars().next();
            let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            result.push_str(&rest[..at]);
            result.push_str(if word(before) || word(after) { &f } else { &t });
            rest = &rest[at + f.len()..];
        }
        result.push_str(rest);
        out = result;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_replaced_as_whole_words_in_their_case() {
        assert_eq!(
            rename("  master: { name: greenlang/staging/db }", "staging", "qa"),
            "  master: { name: greenlang/qa/db }"
        );
        assert_eq!(rename("  Environment: Staging", "staging", "qa"), "  Environment: Qa");
        assert_eq!(rename("tier: production", "prod", "qa"), "tier: production");
    }

    #[test]
    fn the_derived_file_marks_what_must_differ_and_keeps_the_layer() {
        let text =
            "# Staging: words\nextends: base\ntags:\n  Environment: Staging # a tag\naws:\n  account_id: \"123\"\n";
        let d = derive(text, "staging", "qa");
        assert!(d.text.contains("\nextends: base\n"), "{}", d.text);
        assert!(d.text.contains("  Environment: Qa  # CHANGE ME (was staging's)"), "{}", d.text);
        assert!(d.text.contains("  account_id: \"123\"  # CHANGE ME (staging's value)"), "{}", d.text);
        assert!(!d.text.contains("# Staging: words"));
        assert_eq!(d.marked, 2);
        let keyword = derive("terraform:\n  state_backend: local\nsecrets: { a: local/x }\n", "local", "qa");
        assert!(keyword.text.contains("  state_backend: local\n"), "{}", keyword.text);
        assert!(keyword.text.contains("secrets: { a: qa/x }  # CHANGE ME"), "{}", keyword.text);
    }
}
