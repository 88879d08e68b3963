//! The one journal of the drills: what a drill did — created, wrote, caused, removed — in order, with the
//! seconds since it began. Every drill's result names it, so a reader learns what state things were left in.

use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What a drill created and removed, in order, with the seconds since it began.
#[derive(Clone, Debug, Default)]
pub struct Journal(Arc<Mutex<(Option<Instant>, Vec<String>)>>);

impl Journal {
    pub fn note(&self, what: impl Into<String>) {
        let mut inner = self.0.lock().expect("journal");
        let began = *inner.0.get_or_insert_with(Instant::now);
        inner.1.push(format!("{:.1} s {}", began.elapsed().as_secs_f64(), what.into()));
    }

    pub fn entries(&self) -> Vec<String> {
        self.0.lock().expect("journal").1.clone()
    }

    pub fn text(&self) -> String {
        self.entries().join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_keeps_order() {
        let j = Journal::default();
        j.note("created a");
        j.note("removed a");
        let e = j.entries();
        assert!(e[0].ends_with("created a") && e[1].ends_with("removed a"), "{e:?}");
    }
}
