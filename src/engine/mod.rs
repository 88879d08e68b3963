//! What glctl knows of PostgreSQL and its engines, independent of any environment file: the kinds of engine
//! and backend, what each engine can do (`capabilities`), and PostgreSQL's own parameter table with its unit
//! conversions. The configuration checks
//! against it and the Terraform stage renders with it; it imports neither.

pub mod capabilities;
pub mod kinds;
pub mod parameters;
