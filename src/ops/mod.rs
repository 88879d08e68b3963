//! Operations: what a command calls. Each takes an option struct (no clap type reaches below `cmd`), runs the
//! stages it needs, and returns a typed result; none prints, and none calls a command. An operation that
//! needs another (promote needs drift, apply and verify) calls that operation and gets its result in memory.

pub(crate) mod apply;
pub(crate) mod drift;
pub(crate) mod promote;
pub(crate) mod rehearse;
mod session;
pub(crate) mod verify;

pub use session::Session;
