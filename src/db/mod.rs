//! Talking to PostgreSQL: where to connect, with which credentials, over which TLS; the migrations and
//! the TimescaleDB policies applied there.

pub mod connect;
pub mod migrate;
pub mod policies;
pub mod preflight;
pub mod target;
pub mod tls;
