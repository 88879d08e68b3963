//! How long the environment's writer endpoint (Aurora: the cluster endpoint; RDS: the instance endpoint, as
//! `DescribeDBClusters` / `DescribeDBInstances` report them) took to point at the new writer: resolved with
//! tokio's resolver once before the failover is caused and every ~250 ms after, until the drill stops
//! writing. Evidence only: nothing passes or fails on it (the RTO is what the client lived through).

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use crate::verify::failover_verdict::ENDPOINT_EVERY as EVERY;
/// One resolution's limit (a lookup that hangs is a failed one).
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);

/// One resolution: when it started, in seconds since the failover was caused (negative: before), and the
/// addresses it gave.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolution {
    pub at: f64,
    pub addrs: Result<BTreeSet<IpAddr>, String>,
}

/// When the endpoint's set of addresses first changed after the failover was caused.
#[derive(Clone, Debug, PartialEq)]
pub enum Repointed {
    Changed {
        after: f64,
        from: BTreeSet<IpAddr>,
        to: BTreeSet<IpAddr>,
    },
    /// The same addresses as before the failover in every resolution that answered, up to `until` s.
    Unchanged {
        addrs: BTreeSet<IpAddr>,
        until: f64,
    },
    /// No resolution before the failover answered: nothing to compare with.
    Unresolved(String),
}

/// The pure part: given the resolutions in the order they were made, when did the addresses change.
/// The baseline is the last answered resolution before the cause; failed resolutions after it are skipped.
pub fn repointed(series: &[Resolution]) -> Repointed {
    let Some(base) = series.iter().rev().filter(|r| r.at <= 0.0).find_map(|r| r.addrs.as_ref().ok()) else {
        let why = series.iter().rev().find_map(|r| r.addrs.as_ref().err()).cloned();
        return Repointed::Unresolved(why.unwrap_or_else(|| "no resolution was made".into()));
    };
    for r in series.iter().filter(|r| r.at > 0.0) {
        if let Ok(addrs) = &r.addrs {
            if addrs != base {
                return Repointed::Changed { after: r.at, from: base.clone(), to: addrs.clone() };
            }
        }
    }
    Repointed::Unchanged { addrs: base.clone(), until: series.last().map_or(0.0, |r| r.at.max(0.0)) }
}

/// The evidence line for `host`.
pub fn describe(host: &str, series: &[Resolution]) -> String {
    let failed = series.iter().filter(|r| r.addrs.is_err()).count();
    let counted = format!("{} resolutions every {} ms, {failed} failed", series.len(), EVERY.as_millis());
    let shown = |a: &BTreeSet<IpAddr>| a.iter().map(IpAddr::to_string).collect::<Vec<_>>().join(", ");
    match repointed(series) {
        Repointed::Changed { after, from, to } => {
            format!("endpoint {host} re-pointed after {after:.2} s ({} → {}; {counted})", shown(&from), shown(&to))
        }
        Repointed::Unchanged { addrs, until } => format!(
            "the endpoint {host}'s address never changed ({}) in the {until:.1} s after the failover was caused ({counted})",
            shown(&addrs)
        ),
        Repointed::Unresolved(why) => format!("the endpoint {host} could not be resolved: {why} ({counted})"),
    }
}

async fn resolve(host: &str, port: u16) -> Result<BTreeSet<IpAddr>, String> {
    match tokio::time::timeout(LOOKUP_TIMEOUT, tokio::net::lookup_host((host, port))).await {
        Err(_) => Err(format!("no answer within {} s", LOOKUP_TIMEOUT.as_secs())),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(addrs)) => {
            let set: BTreeSet<IpAddr> = addrs.map(|a| a.ip()).collect();
            if set.is_empty() {
                Err("no address".into())
            } else {
                Ok(set)
            }
        }
    }
}

type Samples = Arc<Mutex<Vec<(Instant, Result<BTreeSet<IpAddr>, String>)>>>;

/// A running watch of one endpoint; stops when finished or dropped.
pub struct Watch {
    host: String,
    samples: Samples,
    task: tokio::task::JoinHandle<()>,
}

impl Watch {
    /// Resolves `host` once (the baseline, before anything is caused), then every `EVERY` in a task.
    pub async fn start(host: String, port: u16) -> Watch {
        let samples: Samples = Arc::default();
        let started = Instant::now();
        let first = resolve(&host, port).await;
        samples.lock().unwrap().push((started, first));
        let task = {
            let (host, samples) = (host.clone(), Arc::clone(&samples));
            tokio::spawn(async move {
                let mut next = started + EVERY;
                loop {
                    tokio::time::sleep_until(next.into()).await;
                    let at = Instant::now();
                    let got = resolve(&host, port).await;
                    samples.lock().unwrap().push((at, got));
                    next = (at + EVERY).max(Instant::now());
                }
            })
        };
        Watch { host, samples, task }
    }

    /// Stops the watch; the evidence line, times relative to `caused` (when the failover call was made).
    pub fn finish(self, caused: Instant) -> String {
        self.task.abort();
        let series: Vec<Resolution> = self
            .samples
            .lock()
            .unwrap()
            .iter()
            .map(|(t, addrs)| Resolution {
                at: if *t >= caused { (*t - caused).as_secs_f64() } else { -(caused - *t).as_secs_f64() },
                addrs: addrs.clone(),
            })
            .collect();
        describe(&self.host, &series)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The writer endpoint of `cause` as RDS reports it: the cluster endpoint (Aurora) or the instance's.
pub async fn writer_endpoint(
    config: &aws_config::SdkConfig,
    cause: &super::cause::Cause,
) -> Result<(String, u16), String> {
    use super::cause::Cause;
    let rds = aws_sdk_rds::Client::new(config);
    let endpoint = crate::aws::endpoint(config, "rds");
    match cause {
        Cause::AuroraCluster { cluster, .. } => {
            let out = rds
                .describe_db_clusters()
                .db_cluster_identifier(cluster)
                .send()
                .await
                .map_err(|e| format!("DescribeDBClusters: {}", crate::aws::sdk_error_line(&e, &endpoint)))?;
            let c = out.db_clusters().first().ok_or("DescribeDBClusters: no such cluster")?;
            let host = c.endpoint().ok_or("DescribeDBClusters reports no cluster endpoint")?;
            Ok((host.to_string(), c.port().and_then(|p| u16::try_from(p).ok()).unwrap_or(5432)))
        }
        Cause::RdsInstance { instance } => {
            let out = rds
                .describe_db_instances()
                .db_instance_identifier(instance)
                .send()
                .await
                .map_err(|e| format!("DescribeDBInstances: {}", crate::aws::sdk_error_line(&e, &endpoint)))?;
            let i = out.db_instances().first().ok_or("DescribeDBInstances: no such instance")?;
            let e = i.endpoint().ok_or("DescribeDBInstances reports no endpoint")?;
            let host = e.address().ok_or("DescribeDBInstances reports no endpoint address")?;
            Ok((host.to_string(), e.port().and_then(|p| u16::try_from(p).ok()).unwrap_or(5432)))
        }
        Cause::Command { .. } => Err("an external server has no RDS endpoint".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(at: f64, addrs: &[&str]) -> Resolution {
        Resolution { at, addrs: Ok(addrs.iter().map(|a| a.parse().unwrap()).collect()) }
    }

    fn failed(at: f64) -> Resolution {
        Resolution { at, addrs: Err("failed to lookup address information: Name or service not known".into()) }
    }

    #[test]
    fn the_first_change_after_the_cause_is_when_the_endpoint_re_pointed() {
        let series = [
            at(-0.3, &["10.0.1.5"]),
            at(0.2, &["10.0.1.5"]),
            failed(0.45),
            at(0.7, &["10.0.1.5"]),
            at(12.25, &["10.0.2.7"]),
            at(12.5, &["10.0.1.5"]),
        ];
        match repointed(&series) {
            Repointed::Changed { after, from, to } => {
                assert!((after - 12.25).abs() < 1e-9, "{after}");
                assert_eq!(from.iter().next().unwrap().to_string(), "10.0.1.5");
                assert_eq!(to.iter().next().unwrap().to_string(), "10.0.2.7");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            describe("db.cluster-x.rds.amazonaws.com", &series),
            "endpoint db.cluster-x.rds.amazonaws.com re-pointed after 12.25 s (10.0.1.5 → 10.0.2.7; 6 resolutions every 250 ms, 1 failed)"
        );
    }

    #[test]
    fn a_change_before_the_cause_does_not_count_and_a_set_that_only_grows_is_a_change() {
        // The baseline is the last answer before the cause.
        let series = [at(-1.0, &["10.0.1.5"]), at(-0.2, &["10.0.1.6"]), at(0.3, &["10.0.1.6"])];
        assert!(matches!(repointed(&series), Repointed::Unchanged { until, .. } if (until - 0.3).abs() < 1e-9));
        let series = [at(-0.1, &["10.0.1.5"]), at(2.0, &["10.0.1.5", "10.0.2.7"])];
        assert!(matches!(repointed(&series), Repointed::Changed { after, .. } if after == 2.0));
    }

    #[test]
    fn an_endpoint_that_never_resolved_says_so() {
        let series = [failed(-0.1), failed(0.2)];
        assert!(matches!(repointed(&series), Repointed::Unresolved(why) if why.contains("Name or service not known")));
        assert!(describe("x.rds.amazonaws.com", &series)
            .starts_with("the endpoint x.rds.amazonaws.com could not be resolved: failed to lookup"));
        // Answers only after the cause: nothing to compare with.
        assert!(matches!(repointed(&[failed(-0.1), at(1.0, &["10.0.1.5"])]), Repointed::Unresolved(_)));
        assert!(matches!(repointed(&[]), Repointed::Unresolved(why) if why == "no resolution was made"));
    }
}
