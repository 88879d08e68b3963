//! glctl's integration tests: one binary that drives the real `glctl` executable and the real local stack.

mod support;

mod backup;
mod bench;
mod credentials;
mod database;
mod drift;
mod examples;
mod gitlab;
mod logins;
mod migrate;
mod monitoring;
mod monitoring_live;
mod native;
mod promote;
mod readme;
mod replication;
mod schema;
mod secrets;
mod show;
mod stack;
mod terraform;
mod validate;
mod verify;
