//! A closed standard output is a normal end (`glctl show -e prod | head -1`), not a crash.
//!
//! `println!` panics when stdout's reader has gone (Rust ignores SIGPIPE, so the write fails with EPIPE).
//! Turning every print into a fallible write would thread an error through every command for a case that
//! needs no handling but a quiet exit. Instead the panic is recognised: its message is not printed, the
//! stack unwinds (so drills' cleanup guards still run), and `main` ends with 0.

use std::any::Any;

/// The panic message std's print macros use when stdout is closed.
fn is_closed_stdout_message(message: &str) -> bool {
    message.starts_with("failed printing to stdout") && message.contains("Broken pipe")
}

/// Whether a caught panic's payload is the closed-stdout panic.
pub fn is_closed_stdout(payload: &(dyn Any + Send)) -> bool {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    is_closed_stdout_message(message)
}

/// Keeps the default panic report for every panic but the closed-stdout one.
pub fn install_quiet_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !is_closed_stdout(info.payload()) {
            default(info);
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_std_s_broken_pipe_message_is_the_closed_stdout_panic() {
        let broken: Box<dyn Any + Send> = Box::new("failed printing to stdout: Broken pipe (os error 32)".to_string());
        assert!(is_closed_stdout(broken.as_ref()));
        let other: Box<dyn Any + Send> = Box::new("index out of bounds");
        assert!(!is_closed_stdout(other.as_ref()));
        let full: Box<dyn Any + Send> = Box::new("failed printing to stdout: No space left on device".to_string());
        assert!(!is_closed_stdout(full.as_ref()));
    }
}
