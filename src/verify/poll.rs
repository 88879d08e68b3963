//! One look at a thing a drill waits on, judged: there, not yet (with what was seen), or never (with why).
//! The judgements over what drills observe answer in it (`restore_verdict::judge_recovery`, `judge_status`,
//! `judge_job`); the drills' waits (`drills::wait`) act on the answer.

/// What one look at the awaited thing found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Poll<T, E = String> {
    /// It is there.
    Ready(T),
    /// Not yet; what was seen (kept for the error when the deadline passes).
    Waiting(String),
    /// It never will be (the server died, the job failed): stop now with this.
    Gone(E),
}
