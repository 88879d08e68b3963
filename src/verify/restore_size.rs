//! BR-08's decision, one for every engine: a measured restore (pgBackRest's BR-06 set restore, or the RDS /
//! Aurora BR-06 snapshot restore) judged against `acceptance.restore_hours_per_500gb` at
//! `acceptance.restore_size_gb`. A restore of at least that size decides (PASS or FAIL on the measured time).
//! A smaller one yields an **extrapolation** — its throughput × the declared size, plus the fixed start time
//! observed — labelled as such and never a PASS: a small restore's fixed costs dominate it, so the check is
//! ERROR with the figures. A restore whose data was never read back (an emulator that restores metadata
//! only) measured no restore at all: ERROR, and the figures are labelled as what they are.

use super::{Evidence, Outcome};
use crate::config::model::Acceptance;

/// One measured restore, as BR-08 judges it.
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    /// What was restored, from what (shown first in the evidence).
    pub what: String,
    /// The database's size in bytes.
    pub bytes: u64,
    /// Where `bytes` comes from: "restored" (pgBackRest's own count), "pg_database_size of the source", or
    /// "AllocatedStorage of the source (its database size could not be read)".
    pub bytes_from: String,
    /// The restore: from the call (or command) to the copy being there.
    pub restore_seconds: f64,
    /// What comes after it before the copy answers (start and recovery; the read-back).
    pub start_seconds: f64,
    /// The name of `start_seconds` in the wording, e.g. "start and recovery".
    pub start_label: &'static str,
    /// Why the figures are not a restore time, when they are not (the data was never read back).
    pub not_a_restore: Option<String>,
}

/// The declared size in bytes (GB as 10^9 bytes), and the time allowed for it, seconds.
pub fn declared(acceptance: &Acceptance) -> (u64, f64) {
    let size = u64::from(acceptance.restore_size_gb).saturating_mul(1_000_000_000);
    let limit = f64::from(acceptance.restore_hours_per_500gb) * 3600.0 * (size as f64 / 500e9);
    (size, limit)
}

/// The measured figures and, below the declared size, the extrapolation, each labelled.
pub fn figures(acceptance: &Acceptance, m: &Measured) -> (String, f64) {
    let (size, _) = declared(acceptance);
    let throughput = m.bytes as f64 / m.restore_seconds.max(0.001);
    let extrapolated = size as f64 / throughput.max(1.0) + m.start_seconds;
    let mut text = format!(
        "measured: {} bytes ({}) in {:.1} s ({:.1} MB/s) plus {:.1} s {}",
        m.bytes,
        m.bytes_from,
        m.restore_seconds,
        throughput / 1e6,
        m.start_seconds,
        m.start_label
    );
    if m.bytes < size {
        text.push_str(&format!(
            "; EXTRAPOLATED (not measured) to {} GB: {extrapolated:.0} s",
            acceptance.restore_size_gb
        ));
    }
    (text, extrapolated)
}

/// BR-08 from one measured restore.
pub fn judge(acceptance: &Acceptance, m: &Measured, source: &str) -> Outcome {
    let (size, limit) = declared(acceptance);
    let (observed, extrapolated) = figures(acceptance, m);
    if let Some(why) = &m.not_a_restore {
        return Outcome::Error(format!(
            "not decided: {why}, so {:.1} s is not a restore time ({}: {observed})",
            m.restore_seconds, m.what
        ));
    }
    let e = vec![Evidence {
        observed: format!("{}: {observed}", m.what),
        expected: format!("at most {limit:.0} s for {} GB", acceptance.restore_size_gb),
        source: source.into(),
        at: String::new(),
    }];
    let seconds = m.restore_seconds + m.start_seconds;
    if m.bytes >= size {
        if seconds <= limit {
            Outcome::Pass(e)
        } else {
            Outcome::Fail("the measured restore took longer than allowed".into(), e)
        }
    } else {
        // A small restore proves the path, not the 500 GB figure: an extrapolation decides nothing (its
        // fixed costs dominate a small restore), so it is reported, labelled, and the check stays undecided.
        Outcome::Error(format!(
            "the restore measured only {} bytes ({}) in {:.1} s (+{:.1} s {}): {} GB is an extrapolation, not a \
             measurement: {extrapolated:.0} s at that throughput (allowed {limit:.0} s)",
            m.bytes, m.bytes_from, m.restore_seconds, m.start_seconds, m.start_label, acceptance.restore_size_gb
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acceptance(size_gb: u32) -> Acceptance {
        let mut a: Acceptance = serde_yaml_ng::from_str("{}").unwrap();
        a.restore_size_gb = size_gb;
        a
    }

    fn measured(bytes: u64, seconds: f64) -> Measured {
        Measured {
            what: "BR-06's restore".into(),
            bytes,
            bytes_from: "restored".into(),
            restore_seconds: seconds,
            start_seconds: 2.0,
            start_label: "start and recovery",
            not_a_restore: None,
        }
    }

    #[test]
    fn a_small_restore_is_extrapolated_labelled_and_never_passes() {
        // 1 GB in 10 s: 100 MB/s, so 500 GB take 5000 s + 2 s, well inside 2 hours; still not a PASS.
        let outcome = judge(&acceptance(500), &measured(1_000_000_000, 10.0), "s");
        let Outcome::Error(why) = outcome else { panic!("{outcome:?}") };
        assert!(why.contains("500 GB is an extrapolation, not a measurement: 5002 s"), "{why}");
        let (text, _) = figures(&acceptance(500), &measured(1_000_000_000, 10.0));
        assert!(text.starts_with("measured: 1000000000 bytes (restored) in 10.0 s (100.0 MB/s)"), "{text}");
        assert!(text.ends_with("EXTRAPOLATED (not measured) to 500 GB: 5002 s"), "{text}");
    }

    #[test]
    fn a_restore_of_the_declared_size_decides_on_its_measured_time() {
        let a = acceptance(1);
        assert!(matches!(judge(&a, &measured(1_000_000_000, 10.0), "s"), Outcome::Pass(_)));
        // 1 GB allows 2 h × 1/500 = 14.4 s.
        assert!(matches!(judge(&a, &measured(1_000_000_000, 20.0), "s"), Outcome::Fail(..)));
        let (text, _) = figures(&a, &measured(1_000_000_000, 10.0));
        assert!(!text.contains("EXTRAPOLATED"), "a measurement is not labelled an extrapolation: {text}");
    }

    #[test]
    fn a_restore_whose_data_was_never_read_is_not_a_restore_time_even_at_full_size() {
        let m = Measured { not_a_restore: Some("its data could not be read".into()), ..measured(u64::MAX, 1.0) };
        let Outcome::Error(why) = judge(&acceptance(500), &m, "s") else { panic!() };
        assert!(why.starts_with("not decided: its data could not be read, so 1.0 s is not a restore time"), "{why}");
    }
}
