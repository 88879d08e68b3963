//! What glctl knows of PostgreSQL and its engines, independent of any environment file: the kinds of engine
//! and backend, what each engine can do (`capabilities`), PostgreSQL's own parameter table with its unit
//! conversions, and the versions AWS offers per engine with their parameter-group family (`versions`). The configuration checks
//! against it and the Terraform stage renders with it; it imports neither.

pub mod capabilities;
pub mod kinds;
pub mod parameters;
pub mod versions;
