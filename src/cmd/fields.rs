//! `glctl fields`: the environment field reference, generated from the model.

use crate::error::{Exit, Failure};

pub fn run() -> Result<Exit, Failure> {
    print!("{}", crate::config::reference::markdown());
    Ok(Exit::Ok)
}
