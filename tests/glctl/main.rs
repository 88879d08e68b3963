//! glctl's integration tests: one binary that drives the real `glctl` executable and the real local stack.

mod support;

mod architecture;
mod backup;
mod backup_drills;
mod bench;
mod bench_timescaledb;
mod child_environment;
mod credentials;
mod database;
mod drift;
mod examples;
mod failover_drill;
mod gitlab;
mod lint;
mod logins;
mod migrate;
mod monitoring;
mod monitoring_live;
mod native;
mod pending_restart;
mod pooling;
mod promote;
mod rds_proxy;
mod readme;
mod rehearse;
mod replication;
mod restore_rds;
mod schema;
mod secrets;
mod show;
mod stack;
mod terraform;
mod validate;
mod verify;
