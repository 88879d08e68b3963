//! `glctl fields [PATH]`: the environment field reference, generated from the model, as text (within 100
//! columns), JSON or the Markdown of docs/reference/environment.md; PATH keeps the fields under it.

use crate::cli::{FieldsArgs, ReferenceFormat};
use crate::config::diagnostics::did_you_mean;
use crate::config::reference::{self, Field};
use crate::error::{Error, Exit};
use crate::output::wrap;

pub fn run(args: &FieldsArgs) -> Result<Exit, Error> {
    let mut fields = reference::fields();
    if let Some(prefix) = &args.path {
        let all = fields.clone();
        fields.retain(|f| reference::under(&f.path, prefix));
        if fields.is_empty() {
            let tops: Vec<&str> =
                all.iter().filter(|f| !f.path.contains(['.', '['])).map(|f| f.path.as_str()).collect();
            let first = prefix.split('.').next().unwrap_or_default();
            let hint =
                did_you_mean(first, tops.iter().copied()).map(|c| format!("did you mean '{c}'? ")).unwrap_or_default();
            return Err(Error::Usage(format!(
                "no environment field '{prefix}'; {hint}top-level fields: {}",
                tops.join(", ")
            )));
        }
    }
    match args.output {
        ReferenceFormat::Markdown => print!("{}", reference::markdown_of(&fields)),
        ReferenceFormat::Json => super::json::print(serde_json::json!({ "fields": fields })),
        ReferenceFormat::Text => print!("{}", text(&fields)),
    }
    Ok(Exit::Ok)
}

/// Each field as a heading line (path, type, default) and its meaning indented below, within 100 columns.
fn text(fields: &[Field]) -> String {
    let plain = |s: &str| s.replace('`', "");
    let mut out = String::new();
    for f in fields {
        let default = match f.default.as_str() {
            "—" => String::new(),
            "required" => "; required".into(),
            "see fields" => "; default: see its fields".into(),
            other => format!("; default {}", plain(other)),
        };
        // A hanging indent: the heading's continuation lines line up with the meaning.
        let heading = wrap(&format!("{}  ({}{default})", f.path, plain(&f.kind)), 100, "    ");
        out.push_str(&heading[4..]);
        out.push_str(&wrap(&plain(&f.description), 100, "    "));
    }
    out
}
