//! `glctl fields`: the environment field reference, generated from the model.

use crate::error::{Error, Exit};

pub fn run() -> Result<Exit, Error> {
    print!("{}", crate::config::reference::markdown());
    Ok(Exit::Ok)
}
