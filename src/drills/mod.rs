//! Drills act: they restore backups into scratch copies, fail the writer over, stop a PgBouncer — on a
//! target or a copy of it — journal every step (`journal`), clean up also on Ctrl-C/SIGTERM, and hand what
//! they observed to verify, whose pure judgements (`verify::restore_verdict`, `verify::point_in_time`,
//! `verify::failover_verdict`, `verify::restore_size`) decide the checks. Drills import verify; verify never
//! imports drills.

pub mod failover;
pub mod journal;
pub mod pgbackrest;
pub mod pgbouncer;
pub mod point_in_time;
pub mod rds;
pub mod scratch;
pub mod wait;
