//! `glctl drift -e ENV`: what changed outside glctl, layer by layer.

use std::time::Duration;

use super::progress::with_spinner;
use super::Context;
use crate::cli::{DriftArgs, ReportFormat, Stage};
use crate::drift::{self as layers, DriftReport, Reading};
use crate::error::{Error, Exit};
use crate::ops::drift::{self, DriftOptions};
use crate::output::Style;

pub fn run(ctx: &Context, args: &DriftArgs) -> Result<Exit, Error> {
    let session = ctx.session(args.out.as_deref(), super::Warnings::Undecided)?;
    let options = DriftOptions {
        infrastructure: args.only != Some(Stage::Database),
        database: args.only != Some(Stage::Infra),
        lock_timeout: Duration::from_secs(args.lock_timeout),
    };
    let report = with_spinner(&format!("reading drift of {}", session.loaded.name), || drift::run(&session, &options))?;
    match args.output {
        ReportFormat::Json => super::json::print(&report),
        ReportFormat::Text => print!("{}", text(&report, &ctx.stdout_style)),
    }
    Ok(report.exit())
}

/// The text report: one status line per layer (`clean` only for a layer read, compared and without
/// differences; `empty` where nothing is applied; `NOT READ` with why), its differences, notes and a summary.
pub fn text(report: &DriftReport, style: &Style) -> String {
    let mut out = String::new();
    for layer in &report.layers {
        match &layer.reading {
            Reading::NotRead(why) => out.push_str(&format!("{}  {}: {why}\n", style.warning("NOT READ"), layer.layer)),
            Reading::NothingApplied(why) => {
                out.push_str(&format!("{}  {}: {why}\n", style.quiet("empty"), layer.layer))
            }
            Reading::Compared if layer.is_clean() => out.push_str(&format!("{}  {}\n", style.ok("clean"), layer.layer)),
            Reading::Compared => {}
        }
        for d in &layer.differences {
            let (label, why) = match (&d.acknowledged, &d.emulator) {
                (Some(a), _) => (style.quiet("ack"), format!(" ({a})")),
                (None, Some(e)) => (style.quiet("emulator"), format!(" ({e})")),
                _ => (style.error("DRIFT"), String::new()),
            };
            out.push_str(&format!("{label}  {}: {}{why}\n", d.name, d.detail));
        }
        for note in &layer.notes {
            out.push_str(&format!("      {}: {note}\n", layer.layer));
        }
    }
    let names = |list: Vec<&layers::Layer>| list.iter().map(|l| l.layer).collect::<Vec<_>>().join(", ");
    let (unread, empty) = (report.unread(), report.nothing_applied());
    out.push_str(&format!(
        "{}: {} drift, {} layer(s) not read{}{}\n",
        report.environment,
        report.drift().len(),
        unread.len(),
        if unread.is_empty() { String::new() } else { format!(" ({})", names(unread)) },
        if empty.is_empty() {
            String::new()
        } else {
            format!(", {} with nothing applied ({})", empty.len(), names(empty))
        }
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::text;
    use crate::drift::{DriftReport, Layer, Reading};
    use crate::error::Exit;
    use crate::output::Style;

    const LAYERS: [&str; 4] = ["infrastructure", "migrations", "policies", "objects"];

    fn report(layer: &'static str, reading: Reading) -> DriftReport {
        let layer = Layer { layer, reading, differences: vec![], notes: vec!["a note".into()] };
        DriftReport { environment: "prod".into(), layers: vec![layer] }
    }

    /// Regression (issue 25): `drift -e prod --only infra` printed `clean infrastructure` and exited 0 for a
    /// layer it never read. For every layer: unread is NOT READ and exit 3, nothing applied is `empty` and
    /// exit 0; neither ever says clean, in the text or the JSON.
    #[test]
    fn no_layer_is_called_clean_unless_it_was_read_and_compared() {
        let plain = Style::for_stdout(true);
        for name in LAYERS {
            let unread = report(name, Reading::NotRead("no AWS credentials".into()));
            let shown = text(&unread, &plain);
            assert!(shown.starts_with(&format!("NOT READ  {name}: no AWS credentials\n")), "{shown}");
            assert!(shown.ends_with(&format!("prod: 0 drift, 1 layer(s) not read ({name})\n")), "{shown}");
            assert!(!shown.contains("clean"), "{shown}");
            assert_eq!(unread.exit(), Exit::Incomplete);
            let json = serde_json::to_value(&unread).unwrap();
            assert_eq!(json["layers"][0]["not_read"], "no AWS credentials", "{json}");

            let empty = report(name, Reading::NothingApplied("the backend s3://b/k holds no state".into()));
            let shown = text(&empty, &plain);
            assert!(shown.starts_with(&format!("empty  {name}: the backend s3://b/k holds no state\n")), "{shown}");
            assert!(shown.ends_with(&format!(", 1 with nothing applied ({name})\n")), "{shown}");
            assert!(!shown.contains("clean"), "{shown}");
            assert_eq!(empty.exit(), Exit::Ok);
            let json = serde_json::to_value(&empty).unwrap();
            assert_eq!(json["layers"][0]["nothing_applied"], "the backend s3://b/k holds no state", "{json}");
            assert!(json["layers"][0].get("not_read").is_none(), "{json}");

            let read = report(name, Reading::Compared);
            assert!(text(&read, &plain).starts_with(&format!("clean  {name}\n")));
            assert_eq!(read.exit(), Exit::Ok);
            let json = serde_json::to_value(&read).unwrap();
            assert!(json["layers"][0].get("not_read").is_none() && json["layers"][0].get("nothing_applied").is_none());
        }
    }
}
