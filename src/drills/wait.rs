//! Waiting with an end, for the drills: poll a thing until it is ready, until it says it never will be, or
//! until a deadline that fits what is awaited — and then say what was awaited, for how long, and what was
//! last seen. One poll that does not answer is bounded too (`attempt`), so a hung call cannot eat the whole
//! deadline unseen.
//!
//! The poll itself decides (`Poll`): it watches the thing waited on (a server's process and log, a job's
//! status) and says `Gone` as soon as waiting longer cannot help.

use std::future::Future;
use std::time::{Duration, Instant};

use super::journal::Journal;
use crate::verify::poll::Poll;

/// Why a wait ended without its thing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended<E> {
    /// The deadline passed.
    TimedOut(Waited),
    /// The poll said it never will be.
    Gone(E, Waited),
}

/// What a wait was for, how long it went on, and the last thing it saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waited {
    pub what: String,
    pub limit: Duration,
    pub waited: Duration,
    pub last_seen: Option<String>,
}

impl std::fmt::Display for Waited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} did not happen within {}", self.what, seconds(self.limit))?;
        match &self.last_seen {
            Some(seen) => write!(f, "; last seen: {seen}"),
            None => write!(f, "; nothing was seen"),
        }
    }
}

impl<E: std::fmt::Display> std::fmt::Display for Ended<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::TimedOut(w) => w.fmt(f),
            Ended::Gone(why, w) => write!(f, "{why} (after {} waiting for {})", seconds(w.waited), w.what),
        }
    }
}

impl<E: std::fmt::Display> Ended<E> {
    /// The whole story as one line (for the `String` errors most drills carry).
    pub fn text(&self) -> String {
        self.to_string()
    }
}

/// `1.5 s`, `90 s`, `2 h 5 min`: a duration as a reader takes it in an error.
pub fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 10.0 {
        format!("{s:.1} s")
    } else if s < 600.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{} h {} min", d.as_secs() / 3600, (d.as_secs() % 3600) / 60)
    }
}

/// A wait: for `what`, at most `limit`, a look every `every`, each look at most `attempt`.
pub struct Wait<'a> {
    what: String,
    limit: Duration,
    every: Duration,
    attempt: Duration,
    journal: Option<&'a Journal>,
}

impl<'a> Wait<'a> {
    pub fn new(what: impl Into<String>, limit: Duration, every: Duration) -> Wait<'a> {
        Wait { what: what.into(), limit, every, attempt: limit, journal: None }
    }

    /// One look that takes longer than `attempt` counts as "not yet" (seen: it did not answer).
    pub fn attempt(mut self, attempt: Duration) -> Self {
        self.attempt = attempt;
        self
    }

    /// Notes in `journal` each time what is seen changes (not every look: a wait may look thousands of
    /// times), so a drill stopped from outside still tells what its wait saw last.
    pub fn journal(mut self, journal: &'a Journal) -> Self {
        self.journal = Some(journal);
        self
    }

    /// Polls until ready, gone or past the deadline.
    pub async fn until<T, E, F, Fut>(self, mut poll: F) -> Result<T, Ended<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Poll<T, E>>,
    {
        let started = Instant::now();
        let deadline = started + self.limit;
        let mut last_seen: Option<String> = None;
        let waited = |last_seen: Option<String>| Waited {
            what: self.what.clone(),
            limit: self.limit,
            waited: started.elapsed(),
            last_seen,
        };
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let look = self.attempt.min(left);
            let seen = match tokio::time::timeout(look, poll()).await {
                Ok(Poll::Ready(value)) => return Ok(value),
                Ok(Poll::Gone(why)) => return Err(Ended::Gone(why, waited(last_seen))),
                Ok(Poll::Waiting(seen)) => seen,
                Err(_) => format!("a look did not answer within {}", seconds(look)),
            };
            if last_seen.as_deref() != Some(seen.as_str()) {
                if let Some(journal) = self.journal {
                    journal.note(format!("waiting for {}: {seen}", self.what));
                }
                last_seen = Some(seen);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Ended::TimedOut(waited(last_seen)));
            }
            tokio::time::sleep(self.every.min(left)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap()
    }

    #[test]
    fn a_wait_ends_when_its_thing_is_ready() {
        let mut n = 0;
        let got: Result<u32, Ended<String>> = runtime().block_on(
            Wait::new("three looks", Duration::from_secs(5), Duration::from_millis(1)).until(|| {
                n += 1;
                let n = n;
                async move {
                    if n == 3 {
                        Poll::Ready(n)
                    } else {
                        Poll::Waiting(format!("look {n}"))
                    }
                }
            }),
        );
        assert_eq!(got, Ok(3));
    }

    #[test]
    fn a_wait_for_something_that_never_comes_ends_at_its_deadline_with_what_it_saw_last() {
        let journal = Journal::default();
        let started = Instant::now();
        let got: Result<(), Ended<String>> = runtime().block_on(
            Wait::new("the server to promote", Duration::from_millis(200), Duration::from_millis(10))
                .journal(&journal)
                .until(|| async { Poll::Waiting("in recovery".into()) }),
        );
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        let Err(Ended::TimedOut(w)) = got else { panic!("{got:?}") };
        assert_eq!(w.last_seen.as_deref(), Some("in recovery"));
        assert!(w.waited >= Duration::from_millis(200));
        assert_eq!(w.to_string(), "the server to promote did not happen within 0.2 s; last seen: in recovery");
        assert_eq!(journal.entries().len(), 1, "noted once, not once a look: {:?}", journal.entries());
    }

    #[test]
    fn a_wait_stops_at_once_when_its_thing_is_gone() {
        let started = Instant::now();
        let got: Result<(), Ended<String>> = runtime().block_on(
            Wait::new("the server to promote", Duration::from_secs(60), Duration::from_millis(10))
                .until(|| async { Poll::Gone("the server stopped".to_string()) }),
        );
        assert!(started.elapsed() < Duration::from_secs(1));
        let Err(e @ Ended::Gone(..)) = got else { panic!("{got:?}") };
        assert!(e.text().starts_with("the server stopped (after 0.0 s waiting for the server to promote)"), "{e}");
    }

    #[test]
    fn a_look_that_hangs_is_bounded_and_the_deadline_still_holds() {
        let started = Instant::now();
        let got: Result<(), Ended<String>> = runtime().block_on(
            Wait::new("an answer", Duration::from_millis(300), Duration::from_millis(10))
                .attempt(Duration::from_millis(50))
                .until(|| async {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Poll::Ready(())
                }),
        );
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        let Err(Ended::TimedOut(w)) = got else { panic!("{got:?}") };
        assert!(w.last_seen.as_deref().is_some_and(|s| s.starts_with("a look did not answer within")), "{w:?}");
    }

    #[test]
    fn durations_read_as_a_person_says_them() {
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(seconds(Duration::from_secs(90)), "90 s");
        assert_eq!(seconds(Duration::from_secs(900)), "15 min");
        assert_eq!(seconds(Duration::from_secs(4 * 3600 + 300)), "4 h 5 min");
    }
}
