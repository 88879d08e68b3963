//! How long work looks on a terminal (indicatif draws on stderr and stays hidden when it is not a terminal).

use std::collections::HashMap;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::database::stage::Progress;
use crate::infra::terraform::runner::ApplyEvent;

/// A spinner on stderr for work of unknown length.
pub fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("template"));
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Runs `work` under a spinner that is cleared when it ends.
pub fn with_spinner<T>(message: &str, work: impl FnOnce() -> T) -> T {
    let bar = spinner(message);
    let result = work();
    bar.finish_and_clear();
    result
}

/// One spinner per Terraform resource operation in flight.
#[derive(Default)]
pub struct ResourceSpinners {
    progress: MultiProgress,
    in_flight: HashMap<String, ProgressBar>,
}

impl ResourceSpinners {
    pub fn on_event(&mut self, event: ApplyEvent) {
        match event {
            ApplyEvent::Started { address, action } => {
                let style = ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("template");
                let bar = self.progress.add(ProgressBar::new_spinner().with_style(style));
                bar.set_message(format!("{address}: {action}"));
                bar.enable_steady_tick(Duration::from_millis(120));
                self.in_flight.insert(address.to_string(), bar);
            }
            ApplyEvent::Finished { address, action, ok } => {
                if let Some(bar) = self.in_flight.remove(address) {
                    bar.finish_with_message(format!("{address}: {action} {}", if ok { "done" } else { "FAILED" }));
                }
            }
        }
    }
}

impl Drop for ResourceSpinners {
    fn drop(&mut self) {
        for (_, bar) in self.in_flight.drain() {
            bar.abandon();
        }
    }
}

/// The migration progress bar, and the notice that another applier holds the lock.
#[derive(Default)]
pub struct MigrationBar {
    bar: std::cell::RefCell<Option<ProgressBar>>,
}

impl Progress for MigrationBar {
    fn waiting_for_lock(&self) {
        eprintln!("waiting for another glctl to finish applying migrations…");
    }

    fn migrations_started(&self, pending: usize) {
        let bar = ProgressBar::new(pending as u64);
        bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} migrations {msg}").expect("template"));
        *self.bar.borrow_mut() = Some(bar);
    }

    fn migration_applied(&self, file: &str, took: Duration) {
        if let Some(bar) = self.bar.borrow().as_ref() {
            bar.inc(1);
            bar.println(format!("applied {file} ({} ms)", took.as_millis()));
        }
    }

    fn migrations_finished(&self) {
        if let Some(bar) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
        }
    }
}
