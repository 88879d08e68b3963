//! Terminal conventions: colour only on a terminal (and never with --no-color or NO_COLOR).

use std::io::IsTerminal;

#[derive(Clone, Copy, Debug)]
pub struct Style {
    colour: bool,
}

impl Style {
    pub fn for_stderr(no_color: bool) -> Self {
        let colour = !no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal();
        Style { colour }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn error(&self, text: &str) -> String {
        self.paint("1;31", text)
    }

    pub fn warning(&self, text: &str) -> String {
        self.paint("1;33", text)
    }

    pub fn ok(&self, text: &str) -> String {
        self.paint("1;32", text)
    }

    pub fn quiet(&self, text: &str) -> String {
        self.paint("2", text)
    }

    /// Colour only when stdout is a terminal (reports go to stdout).
    pub fn for_stdout(no_color: bool) -> Self {
        let colour = !no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
        Style { colour }
    }
}
