//! The async runtime the stages run on. glctl talks to one database and one AWS account at a time: a
//! single-threaded runtime is enough.

pub fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime")
}
