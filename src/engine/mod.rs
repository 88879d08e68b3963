//! What glctl knows of PostgreSQL and its engines, independent of any environment file: the kinds of engine
//! and backend, what each engine can do (`capabilities`), PostgreSQL's own parameter table with its unit
//! conversions and each parameter's apply type (`parameters`), the versions AWS offers per engine with their
//! parameter-group family (`versions`), and what an engine change takes (`change`). The configuration checks
//! against it and the Terraform stage renders with it; it imports neither.

pub mod capabilities;
pub mod change;
pub mod kinds;
pub mod parameters;
pub mod versions;
