//! The kinds of engine, time-series backend and storage glctl knows. The environment model names them
//! (`engine.kind`, `timeseries.backend`, `storage.type`); the capability table says what each can do. They
//! live here, below both, so neither imports the other.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EngineKind {
    /// Amazon Aurora PostgreSQL: cluster with writer and reader instances.
    AuroraPostgresql,
    /// Amazon RDS for PostgreSQL: Multi-AZ primary with read replicas.
    RdsPostgresql,
    /// A PostgreSQL server glctl does not provision (the local stack, a self-managed TimescaleDB).
    External,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// TimescaleDB hypertables, compression, retention and continuous aggregates. Needs a server with the
    /// extension: not Amazon RDS or Aurora.
    Timescaledb,
    /// Native range partitioning with pg_partman and materialized views (offered by RDS and Aurora).
    Native,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StorageType {
    Gp3,
    Io1,
    Io2,
    /// Aurora standard storage.
    Aurora,
    /// Aurora I/O-Optimized storage.
    AuroraIopt1,
}
