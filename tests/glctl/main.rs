//! glctl's integration tests: one binary that drives the real `glctl` executable and the real local stack.

mod support;

mod bench;
mod database;
mod logins;
mod migrate;
mod native;
mod readme;
mod schema;
mod secrets;
mod show;
mod stack;
mod terraform;
mod validate;
mod verify;
