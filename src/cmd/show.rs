//! `glctl show`: the effective configuration after `extends` and defaults, with secrets redacted.

use serde_json::Value;

use super::Context;
use crate::cli::{DataFormat, ShowArgs};
use crate::error::{Error, Exit};

pub fn run(ctx: &Context, args: &ShowArgs) -> Result<Exit, Error> {
    let loaded = ctx.load_with_warnings(super::Warnings::Undecided)?;
    let mut value = serde_json::to_value(&loaded.environment).expect("the model serialises");
    if let Some(object) = value.as_object_mut() {
        object.remove("extends");
        object.insert("environment".into(), Value::from(loaded.name.clone()));
    }
    if let Some(url) = &ctx.database_url {
        // The override is part of the effective configuration; its password is not. Shown from the parsed
        // settings, so a password in any spelling (key=value, an unencoded '/') never reaches the output.
        let shown = match crate::database::connect::Target::from_url(url) {
            Ok(target) => target.redacted_url(),
            Err(_) => "(not a PostgreSQL URL or key=value string; not shown)".to_string(),
        };
        value["connection"]["database_url"] = Value::from(shown);
    }
    let text = match args.output {
        DataFormat::Json => serde_json::to_string_pretty(&value).expect("json"),
        DataFormat::Yaml => serde_yaml_ng::to_string(&value).expect("yaml"),
    };
    println!("{}", text.trim_end());
    Ok(Exit::Ok)
}
