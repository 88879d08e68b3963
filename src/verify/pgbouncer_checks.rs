//! FA-09 (connection reuse through PgBouncer), and where PB-07, PB-08 and HA-05 apply. The registry's
//! decisions here need no connection: they say whether the check applies to the environment's pooling and
//! what it needs. `decide_fa09` then tries it against the PgBouncers of `--pooler-url`, and `apply` puts the
//! outcome into the run's results, as the pgBackRest checks do.
//!
//! FA-09 on each PgBouncer: more clients than `default_pool_size` connect at once and run a few rounds of
//! `SELECT pg_backend_pid()` together; it passes when the server backends they saw, the server connections
//! `SHOW SERVERS` lists and those `SHOW POOLS` counts are all fewer than the clients, and `SHOW STATS` counted
//! every transaction: server connections were reused by several clients.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::facts::Facts;
use super::{bench_checks, CheckResult, Evidence, Outcome, Skip};
use crate::config::model::Environment;
use crate::config::pooling::PoolKind;
use crate::pgbouncer::{self, Poolers};

/// Transactions each FA-09 client runs.
const ROUNDS: usize = 4;

fn pooling_of(env: &Environment) -> Result<(), Outcome> {
    match env.pooling.kind {
        PoolKind::None => Err(Outcome::Skip(Skip::NotApplicable, "pooling.kind is none: no pooler to check".into())),
        PoolKind::RdsProxy => Err(Outcome::Skip(
            Skip::NotApplicable,
            "RDS Proxy: glctl renders it but does not check it yet (moto does not run a proxy)".into(),
        )),
        PoolKind::Pgbouncer => Ok(()),
    }
}

/// FA-09 without the PgBouncers' addresses (`apply` replaces it when `--pooler-url` is given).
pub fn fa09(env: &Environment, _: &Facts) -> Outcome {
    if let Err(skip) = pooling_of(env) {
        return skip;
    }
    Outcome::Error(
        "the PgBouncers' addresses are not known: pass --pooler-url and --pooler-admin-url (or GLCTL_POOLER_URL and \
         GLCTL_POOLER_ADMIN_URL)"
            .into(),
    )
}

/// PB-08 applies only where there is a pooler; the bench run decides it.
pub fn pb08(env: &Environment, f: &Facts) -> Outcome {
    match env.pooling.kind {
        PoolKind::Pgbouncer => bench_checks::decide(f, "PB-08"),
        _ => pooling_of(env).err().unwrap_or_else(|| bench_checks::decide(f, "PB-08")),
    }
}

/// HA-05 needs two PgBouncers and `--drills` (`crate::drills::pgbouncer` runs it).
pub fn ha05(env: &Environment, _: &Facts) -> Outcome {
    if let Err(skip) = pooling_of(env) {
        return skip;
    }
    if env.pooling.instances < 2 {
        return Outcome::Skip(Skip::NotApplicable, "one PgBouncer: there is no other to retry through".into());
    }
    Outcome::Skip(Skip::NeedsDrills, "a drill stops a PgBouncer; run with `--drills`".into())
}

/// FA-09 against the PgBouncers.
pub async fn decide_fa09(env: &Environment, poolers: &Poolers) -> Outcome {
    let Some(admin) = &poolers.admin else {
        return Outcome::Error("FA-09 reads SHOW POOLS/SERVERS/STATS: pass --pooler-admin-url".into());
    };
    let clients = (env.pooling.default_pool_size.saturating_mul(2)).clamp(2, 100) as usize;
    let mut evidence = Vec::new();
    let mut failures = Vec::new();
    for i in 0..poolers.clients.hosts.len() {
        match reuse_on(&poolers.clients, admin, i, clients).await {
            Ok((ok, e)) => {
                if !ok {
                    failures.push(e.observed.clone());
                }
                evidence.push(e);
            }
            Err(why) => return Outcome::Error(why),
        }
    }
    if failures.is_empty() {
        Outcome::Pass(evidence)
    } else {
        Outcome::Fail(format!("no reuse seen: {}", failures.join("; ")), evidence)
    }
}

async fn reuse_on(
    clients_at: &pgbouncer::Endpoints,
    admin_at: &pgbouncer::Endpoints,
    i: usize,
    n: usize,
) -> Result<(bool, Evidence), String> {
    let (host, port) = &clients_at.hosts[i];
    let (db, user) = (clients_at.database.as_str(), clients_at.user.as_str());
    let admin = admin_at.connect_one(i, "glctl-verify").await?;
    let xacts = |rows: &[pgbouncer::Row]| -> u64 {
        rows.iter()
            .filter(|r| r.get("database").map(String::as_str) == Some(db))
            .map(|r| pgbouncer::num(r, "total_xact_count"))
            .sum()
    };
    let before = xacts(&pgbouncer::show(&admin, "SHOW STATS").await?);
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        clients.push(Arc::new(clients_at.connect_one(i, "glctl-verify-fa09").await?));
    }
    let mut pids = BTreeSet::new();
    for _ in 0..ROUNDS {
        let mut set = tokio::task::JoinSet::new();
        for c in &clients {
            let c = c.clone();
            set.spawn(async move {
                let rows = c.simple_query("SELECT pg_backend_pid()").await.map_err(|e| e.to_string())?;
                Ok::<_, String>(rows.iter().find_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                    _ => None,
                }))
            });
        }
        while let Some(joined) = set.join_next().await {
            let pid = joined.map_err(|e| e.to_string())??;
            pids.extend(pid);
        }
    }
    // While every client is still connected.
    let pools = pgbouncer::show(&admin, "SHOW POOLS").await?;
    let (cl_active, servers) = pgbouncer::of(&pools, db, user).fold((0, 0), |(c, s), r| {
        let sv = ["sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login"]
            .iter()
            .map(|k| pgbouncer::num(r, k))
            .sum::<u64>();
        (c + pgbouncer::num(r, "cl_active") + pgbouncer::num(r, "cl_waiting"), s + sv)
    });
    let listed = pgbouncer::of(&pgbouncer::show(&admin, "SHOW SERVERS").await?, db, user).count() as u64;
    drop(clients);
    let after = xacts(&pgbouncer::show(&admin, "SHOW STATS").await?);
    let transactions = (n * ROUNDS) as u64;
    let counted = after.saturating_sub(before);
    let n64 = n as u64;
    let ok = (pids.len() as u64) < n64 && servers < n64 && listed < n64 && cl_active >= n64 && counted >= transactions;
    let evidence = Evidence {
        observed: format!(
            "{host}:{port}: {n} clients ran {transactions} transactions on {} server backend(s); SHOW POOLS {db}/{user}: \
             {cl_active} client(s), {servers} server connection(s); SHOW SERVERS: {listed}; SHOW STATS total_xact_count \
             +{counted}",
            pids.len()
        ),
        expected: format!("fewer server connections than the {n} clients, each used by several"),
        source: format!("PgBouncer admin console at {host}:{port}: SHOW STATS, SHOW POOLS, SHOW SERVERS; SELECT pg_backend_pid()"),
        at: String::new(),
    };
    Ok((ok, evidence))
}

/// Decides FA-09 (and with `drills`, HA-05) against the PgBouncers, in `results`.
pub fn apply(
    results: &mut [CheckResult],
    env: &Environment,
    poolers: &Poolers,
    runtime: &tokio::runtime::Runtime,
    at: &str,
) {
    if env.pooling.kind != PoolKind::Pgbouncer {
        return;
    }
    if results.iter().any(|r| r.id == "FA-09" && !r.waived()) {
        let outcome = runtime.block_on(decide_fa09(env, poolers));
        super::set_result(results, "FA-09", outcome, at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::facts::Facts;

    fn env(pooling: &str) -> Environment {
        let yaml = format!(
            "project: p\ntier: non-production\naws: {{ account_id: '123456789012', region: us-east-1 }}\n\
             engine: {{ kind: external, version: '16.6' }}\ntimeseries: {{ backend: native }}\npooling: {pooling}\n"
        );
        serde_yaml_ng::from_str(&yaml).unwrap()
    }

    fn facts() -> Facts {
        Facts::unread("-")
    }

    #[test]
    fn without_a_pooler_the_pooling_checks_do_not_apply_and_without_its_address_nothing_passes() {
        let none = env("{ kind: none }");
        assert!(matches!(fa09(&none, &facts()), Outcome::Skip(Skip::NotApplicable, _)));
        assert!(matches!(pb08(&none, &facts()), Outcome::Skip(Skip::NotApplicable, _)));
        assert!(matches!(ha05(&none, &facts()), Outcome::Skip(Skip::NotApplicable, _)));
        let pgb = env("{ kind: pgbouncer }");
        assert!(matches!(fa09(&pgb, &facts()), Outcome::Error(why) if why.contains("--pooler-url")));
        assert!(matches!(pb08(&pgb, &facts()), Outcome::Skip(Skip::NeedsBench, _)));
        assert!(matches!(ha05(&pgb, &facts()), Outcome::Skip(Skip::NeedsDrills, _)));
        let one = env("{ kind: pgbouncer, instances: 1 }");
        assert!(matches!(ha05(&one, &facts()), Outcome::Skip(Skip::NotApplicable, _)));
    }
}
