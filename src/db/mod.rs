//! Talking to PostgreSQL: where to connect, with which credentials, over which TLS.

pub mod connect;
pub mod migrate;
pub mod target;
pub mod tls;
