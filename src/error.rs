//! How a command ends: exit codes of the interface contract and the one message printed for a failure.

use std::fmt;

/// Exit codes: 0 ok, 1 the command ran and found problems, 2 bad usage or configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Problems = 1,
    Usage = 2,
}

/// A failure that ends the command: printed once, with every cause, by `main`.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Failure { exit: Exit::Usage, message: message.into() }
    }
    pub fn problems(message: impl Into<String>) -> Self {
        Failure { exit: Exit::Problems, message: message.into() }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}
