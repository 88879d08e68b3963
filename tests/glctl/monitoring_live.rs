//! Monitoring, live: Debian's postgres_exporter 0.11 runs glctl's rendered queries and settings against the
//! stack's PostgreSQL 15 (TLS 1.3 only, SCRAM; pg_partman 4.7 and pg_cron 1.4 set up by `glctl apply`),
//! Debian's Prometheus 2.42 loads the rendered rules and scrapes both exporters, and conditions induced on
//! the stack — a pg_cron job that fails, a row in a pg_partman default partition, sessions past a lowered
//! threshold — fire in Prometheus' HTTP API and then resolve. Every process is started on a free loopback
//! port by this test and stopped by a guard, also when the test fails.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use glctl::{connect, Password, Target, TlsMode};
use serde_json::Value;

use crate::migrate::Project;
use crate::monitoring::tool;
use crate::support::stack::stack;
use crate::support::{glctl, runtime};

/// A child process that is killed when the guard goes (test passed, failed or panicked).
struct Process {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Process {
    fn log(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        format!("--- {} (last lines) ---\n{}", self.name, lines[lines.len().saturating_sub(15)..].join("\n"))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Unschedules the test's pg_cron job however the test ends: a job failing every minute must not outlive it.
struct CronJob {
    name: String,
}

impl Drop for CronJob {
    fn drop(&mut self) {
        let _ = in_cron_database(&format!("SELECT cron.unschedule('{}')", self.name));
    }
}

fn in_cron_database(sql: &str) -> Result<String, String> {
    let s = stack();
    let conninfo = format!(
        "host=localhost port={} user={} dbname=glctl sslmode=require",
        s.var("GLCTL_PG_PORT"),
        s.var("GLCTL_PG_USER")
    );
    let out = Command::new("psql")
        .args([conninfo.as_str(), "-At", "-c", sql])
        .env("PGPASSWORD", s.var("GLCTL_PG_PASSWORD"))
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A GET against loopback HTTP (Prometheus' API, an exporter's /metrics); None while nothing listens.
fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.0 200")
        .then(|| body.to_string())
        .or_else(|| head.contains(" 200 ").then(|| body.to_string()))
}

/// Starts postgres_exporter with the settings glctl rendered (`exporter.env`), pointed at the stack: the
/// file's host, CA path, login and password file are the platform's to fill in, so only those are replaced.
fn exporter(name: &'static str, monitoring: &Path, env_file: &str, work: &Path) -> (Process, u16) {
    let s = stack();
    let password = work.join(format!("{name}.password"));
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&password).unwrap();
        file.write_all(s.var("GLCTL_PG_PASSWORD").as_bytes()).unwrap();
    }
    let text = std::fs::read_to_string(monitoring.join("exporter").join(env_file)).unwrap();
    let port = free_port();
    let log = work.join(format!("{name}.log"));
    let mut command = Command::new(tool("prometheus-postgres-exporter"));
    command.arg(format!("--web.listen-address=127.0.0.1:{port}")).env_clear().env("PATH", "/usr/bin:/bin");
    let args = monitoring.join("exporter").join(env_file.replace(".env", ".args"));
    if let Ok(flags) = std::fs::read_to_string(&args) {
        command.args(flags.lines().filter(|l| !l.starts_with('#') && !l.is_empty()));
    }
    for line in text.lines().filter(|l| !l.starts_with('#') && l.contains('=')) {
        let (key, value) = line.split_once('=').unwrap();
        let value = match key {
            "DATA_SOURCE_URI" => value.replace("/etc/postgres-exporter/ca/ca-bundle.pem", s.var("GLCTL_PG_CA")),
            "DATA_SOURCE_USER" => s.var("GLCTL_PG_USER").to_string(),
            "DATA_SOURCE_PASS_FILE" => password.to_str().unwrap().to_string(),
            "PG_EXPORTER_EXTEND_QUERY_PATH" => {
                value.replace("/etc/postgres-exporter/", monitoring.join("exporter/").to_str().unwrap())
            }
            _ => value.to_string(),
        };
        command.env(key, value);
    }
    let file = std::fs::File::create(&log).unwrap();
    let child = command.stdout(Stdio::null()).stderr(file).spawn().expect("postgres_exporter starts");
    (Process { name, child, log }, port)
}

fn prometheus(rules: &Path, targets: &[(&str, u16)], work: &Path) -> (Process, u16) {
    let port = free_port();
    let scrapes: Vec<String> = targets
        .iter()
        .map(|(job, p)| format!("  - job_name: {job}\n    static_configs:\n      - targets: ['127.0.0.1:{p}']\n"))
        .collect();
    // Short intervals of the test's own: the rules (and their `for:`) are exactly as rendered.
    let config = format!(
        "global:\n  scrape_interval: 2s\n  evaluation_interval: 2s\nrule_files:\n  - {}\nscrape_configs:\n{}",
        rules.display(),
        scrapes.concat()
    );
    let config_path = work.join("prometheus.yml");
    std::fs::write(&config_path, config).unwrap();
    let log = work.join("prometheus.log");
    let child = Command::new(tool("prometheus"))
        .arg(format!("--config.file={}", config_path.display()))
        .arg(format!("--storage.tsdb.path={}", work.join("tsdb").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("prometheus starts");
    (Process { name: "prometheus", child, log }, port)
}

/// Polls `check` every two seconds until it gives a value; after `limit`, fails with `what` and the logs.
fn wait_for<T>(limit: Duration, what: &str, logs: &[&Process], mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        if start.elapsed() > limit {
            let logs: Vec<String> = logs.iter().map(|p| p.log()).collect();
            panic!("{what}: not within {limit:?}\n{}", logs.join("\n"));
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// The API's alerts as (alertname, severity, state, labels).
fn alerts(port: u16) -> Vec<(String, String, String, Value)> {
    let Some(body) = http_get(port, "/api/v1/alerts") else { return vec![] };
    let v: Value = serde_json::from_str(&body).unwrap_or_default();
    v["data"]["alerts"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|a| {
                    let l = &a["labels"];
                    let s = |k: &str| l[k].as_str().unwrap_or_default().to_string();
                    (s("alertname"), s("severity"), a["state"].as_str().unwrap_or_default().to_string(), l.clone())
                })
                .collect()
        })
        .unwrap_or_default()
}

/// An instant query's single value, if the result has exactly one sample.
fn query_value(port: u16, promql: &str) -> Option<f64> {
    let encoded: String = promql
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    let body = http_get(port, &format!("/api/v1/query?query={encoded}"))?;
    let v: Value = serde_json::from_str(&body).ok()?;
    let result = v["data"]["result"].as_array()?;
    (result.len() == 1).then(|| result[0]["value"][1].as_str()?.parse().ok()).flatten()
}

#[test]
fn induced_conditions_fire_in_prometheus_and_resolve() {
    let _sessions_steady = crate::support::poolers::poolers_lock();
    let s = stack();
    let p = Project::new("mon");
    p.use_repository_migrations();
    let apply = p.glctl_env("dev", &["apply", "--only", "database"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);

    // A threshold just above what the shared stack holds now, so that our sessions cross it and their
    // closing brings the count back under it.
    let max: u64 = p.query("SHOW max_connections").parse().unwrap();
    let now: u64 = p.query("SELECT count(*) FROM pg_stat_activity WHERE datname IS NOT NULL").parse().unwrap();
    let critical = ((now + 20) * 100).div_ceil(max);
    assert!(critical < 100, "the stack holds {now} of {max} sessions already");
    let sessions = (critical * max / 100 + 15).saturating_sub(now) as usize;

    let work = tempfile::tempdir().unwrap();
    let env_file = work.path().join("monitored.yaml");
    std::fs::write(
        &env_file,
        format!(
            "project: greenlang\ntier: non-production\naws: {{ account_id: \"123456789012\", region: us-east-1 }}\n\
             engine: {{ kind: external, version: \"15.0\" }}\ntimeseries: {{ backend: native }}\n\
             connection: {{ host: localhost, port: {}, database: {}, tls_mode: verify-full, ca_bundle: {}, credentials_secret: app }}\n\
             secrets: {{ app: {{ name: greenlang/monitored/database/app, username: app_service }} }}\n\
             parameters: {{ cron.database_name: glctl }}\n\
             monitoring: {{ thresholds: {{ connections_percent: {{ warning: {critical}, critical: {critical} }} }} }}\n",
            s.var("GLCTL_PG_PORT"),
            p.database,
            s.var("GLCTL_PG_CA"),
        ),
    )
    .unwrap();
    let out_dir = work.path().join("rendered");
    let render = glctl(&["render", "-e", env_file.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]);
    assert_eq!(render.code, 0, "{}", render.stderr);
    let monitoring = out_dir.join("monitoring");

    let (app_exporter, app_port) = exporter("app-exporter", &monitoring, "exporter.env", work.path());
    let (cron_exporter, cron_port) = exporter("cron-exporter", &monitoring, "cron-exporter.env", work.path());
    let (prom, prom_port) = prometheus(
        &monitoring.join("prometheus/rules.yaml"),
        &[("postgres", app_port), ("postgres-cron", cron_port)],
        work.path(),
    );
    let logs = [&app_exporter, &cron_exporter, &prom];

    // Both exporters connect over TLS and every one of glctl's queries runs (no scrape error).
    wait_for(Duration::from_secs(60), "both exporters scraped with pg_up 1", &logs, || {
        (query_value(prom_port, "sum(pg_up)")? == 2.0).then_some(())
    });
    wait_for(Duration::from_secs(30), "glctl's queries ran without error", &logs, || {
        let errors = query_value(prom_port, "sum(pg_exporter_last_scrape_error)")?;
        let sessions = query_value(prom_port, "count(glctl_activity_lock_waiting)")?;
        let runway = query_value(prom_port, "count(glctl_partman_runway_hours)")?;
        let cron = query_value(prom_port, "count(glctl_cron_seconds_since_success)")?;
        // pg_cron's exporter reports glctl's queries only: no second copy of the database's own metrics.
        let doubled = query_value(prom_port, "count(pg_database_size_bytes{job=\"postgres-cron\"}) or vector(0)")?;
        let doubled =
            doubled + query_value(prom_port, "count(pg_stat_activity_count{job=\"postgres-cron\"}) or vector(0)")?;
        (errors == 0.0 && sessions == 1.0 && runway >= 4.0 && cron >= 1.0 && doubled == 0.0).then_some(())
    });

    // Induce: a job that fails every minute, a row ten days out (past dev's 7 premade days), sessions.
    let job = CronJob { name: format!("glctl-monitoring-test-{}", std::process::id()) };
    let job_name = job.name.clone();
    in_cron_database(&format!(
        "SELECT cron.schedule_in_database('{}', '* * * * *', 'SELECT 1/0', '{}')",
        job.name, p.database
    ))
    .unwrap();
    p.query(
        "INSERT INTO sensor_readings (reading_time, organization_id, facility_id, device_id, metric_type, value, unit)
         VALUES (now() + interval '10 days', gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'kwh', 1, 'kWh')",
    );
    let rt = runtime();
    let target = Target {
        host: "localhost".into(),
        hostaddr: None,
        port: s.var("GLCTL_PG_PORT").parse().unwrap(),
        database: p.database.clone(),
        user: s.var("GLCTL_PG_USER").into(),
        password: Some(Password::new(s.var("GLCTL_PG_PASSWORD"))),
        tls_mode: TlsMode::VerifyFull,
        ca_bundle: Some(PathBuf::from(s.var("GLCTL_PG_CA"))),
    };
    let clients: Vec<_> =
        rt.block_on(async { futures_join(sessions, &target).await }).into_iter().collect::<Result<_, _>>().unwrap();

    let is = |a: &(String, String, String, Value), name: &str, label: (&str, &str)| {
        a.0 == name && a.3[label.0].as_str() == Some(label.1)
    };
    let wanted = |alerts: &[(String, String, String, Value)], state: &str| {
        let cron = alerts.iter().any(|a| is(a, "PgCronJobFailed", ("jobname", &job_name)) && a.2 == state);
        let partition = alerts.iter().any(|a| {
            is(a, "PartmanDefaultPartitionRows", ("default_table", "public.sensor_readings_default")) && a.2 == state
        });
        let connections =
            alerts.iter().any(|a| is(a, "PostgreSQLConnections", ("severity", "critical")) && a.2 == state);
        (cron, partition, connections)
    };
    // pg_cron runs the job at the next minute; then `for: 1m`; the connections' critical has `for: 2m`.
    let started = Instant::now();
    wait_for(Duration::from_secs(300), "the three induced alerts firing", &logs, || {
        (wanted(&alerts(prom_port), "firing") == (true, true, true)).then_some(())
    });
    let fired_after = started.elapsed();
    assert!(alerts(prom_port).iter().all(|a| a.0 != "PostgreSQLDown"), "{:?}", alerts(prom_port));

    // Resolve: the job goes, the row goes, the sessions close.
    drop(job);
    p.query("DELETE FROM ONLY sensor_readings_default");
    drop(clients);
    drop(rt);
    wait_for(
        Duration::from_secs(90),
        "the three alerts resolved (each poll printed what was still firing or pending)",
        &logs,
        || {
            let any = wanted(&alerts(prom_port), "firing");
            let pending = wanted(&alerts(prom_port), "pending");
            if any == (false, false, false) && pending == (false, false, false) {
                return Some(());
            }
            eprintln!("monitoring live: not resolved yet: firing {any:?}, pending {pending:?}");
            None
        },
    );
    eprintln!(
        "monitoring live: fired after {fired_after:?}, {sessions} sessions over a {critical}% threshold of {max}"
    );
}

/// Opens `n` sessions one after another (the server's TLS handshake is the slow part; order does not matter).
async fn futures_join(n: usize, target: &Target) -> Vec<Result<tokio_postgres::Client, glctl::ConnectError>> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(connect(target).await);
    }
    out
}
