//! `glctl schema`: the JSON Schema of an environment file, for editors and CI (docs/cli.md).

use crate::cli::SchemaArgs;
use crate::error::{Error, Exit};

pub fn run(args: &SchemaArgs) -> Result<Exit, Error> {
    let text = format!(
        "{}\n",
        serde_json::to_string_pretty(&crate::config::reference::editor_schema()).expect("the schema serialises")
    );
    match &args.out {
        Some(file) => {
            std::fs::write(file, text)
                .map_err(|e| Error::Usage(format!("cannot write the schema to {}: {e}", file.display())))?;
            eprintln!("wrote the environment file schema to {}", file.display());
        }
        None => print!("{text}"),
    }
    Ok(Exit::Ok)
}
