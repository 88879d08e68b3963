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

/// `text` wrapped at `width` columns (counted in characters), every line starting with `indent`. A word longer
/// than a line gets a line of its own rather than being cut.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::from(indent);
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = String::from(indent);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    if !empty {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_keeps_every_line_within_the_width() {
        let text = "a reasonably long sentence that has to be wrapped somewhere around here ".repeat(5);
        let wrapped = wrap(&text, 40, "    ");
        assert!(wrapped.lines().all(|l| l.chars().count() <= 40 && l.starts_with("    ")), "{wrapped}");
        assert_eq!(wrapped.split_whitespace().collect::<Vec<_>>(), text.split_whitespace().collect::<Vec<_>>());
        assert_eq!(wrap("", 40, "  "), "");
    }
}
