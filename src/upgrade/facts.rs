//! What `upgrade check` and `upgrade plan` read from the live database: each fact on its own, so one that
//! cannot be read is that fact's "could not read" (UNKNOWN in the report), never a finding and never a pass.
//! Only reads: nothing here changes the server.

use tokio_postgres::Client;

use crate::database::connect::reason;
use crate::database::policies::ident;

/// A fact, or why it could not be read.
pub type Fact<T> = Result<T, String>;

/// An extension installed in a database.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Installed {
    pub database: String,
    pub name: String,
    pub version: String,
}

/// A pg_cron job, as `cron.job` has it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Job {
    pub id: i64,
    pub name: String,
    pub schedule: String,
    pub command: String,
    pub database: String,
    pub active: bool,
}

/// How far ahead pg_partman has made one parent's partitions.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Runway {
    /// `schema.table`, as part_config names it.
    pub parent: String,
    pub interval: String,
    pub premake: i32,
    /// Seconds from now to the end of the newest partition; `None` when the set has no partition yet.
    pub seconds: Option<i64>,
    /// The newest partition's name.
    pub newest: Option<String>,
}

/// pg_partman in the application database.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Partman {
    pub schema: String,
    pub version: String,
    pub runways: Vec<Runway>,
}

/// The environment's instance (RDS) or cluster (Aurora) as DescribeDBInstances/DescribeDBClusters report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsFacts {
    /// `instance ID` or `cluster ID`.
    pub resource: String,
    pub engine_version: Option<String>,
    /// `MasterUserSecret`: its ARN and status, when Secrets Manager manages the master password.
    pub master_user_secret: Option<String>,
}

/// Everything the live database told us (or why it did not).
#[derive(Clone, Debug)]
pub struct Facts {
    /// `server_version` (`15.18 (Debian …)` is cut to `15.18`).
    pub server_version: Fact<String>,
    /// `gid` in `database` of every prepared transaction.
    pub prepared_transactions: Fact<Vec<String>>,
    /// `schema.table.column (type)` of every user column whose reg* type pg_upgrade refuses.
    pub reg_columns: Fact<Vec<String>>,
    /// Databases pg_upgrade refuses: invalid (an interrupted DROP DATABASE) or not accepting connections.
    pub invalid_databases: Fact<Vec<String>>,
    pub extensions: Fact<Vec<Installed>>,
    /// Ordinary tables (partitions included) whose UPDATE and DELETE logical replication cannot send.
    pub tables_without_identity: Fact<Vec<String>>,
    /// The number of large objects and the first few OIDs.
    pub large_objects: Fact<(i64, Vec<u32>)>,
    pub unlogged_tables: Fact<Vec<String>>,
    /// `None` when pg_cron is not created (or not loaded) on the server.
    pub cron_jobs: Fact<Option<Vec<Job>>>,
    /// `None` when pg_partman is not installed in the application database.
    pub partman: Fact<Option<Partman>>,
    /// `shared_preload_libraries`.
    pub preload: Fact<String>,
    pub wal_level: Fact<String>,
    /// What RDS says of the environment's instance or cluster; `None` for an external server.
    pub aws: Option<Fact<AwsFacts>>,
    /// The project's migrations that call pg_partman's create_parent the 4.x way (`p_type 'native'`), as
    /// `file:line`, and whether the file reads the installed version to choose (glctl's own does).
    pub native_create_parent: Vec<(String, bool)>,
}

impl Facts {
    /// Every fact unread, for `why` (the database could not be reached).
    pub fn unread(why: &str) -> Facts {
        Facts {
            server_version: Err(why.to_string()),
            prepared_transactions: Err(why.to_string()),
            reg_columns: Err(why.to_string()),
            invalid_databases: Err(why.to_string()),
            extensions: Err(why.to_string()),
            tables_without_identity: Err(why.to_string()),
            large_objects: Err(why.to_string()),
            unlogged_tables: Err(why.to_string()),
            cron_jobs: Err(why.to_string()),
            partman: Err(why.to_string()),
            preload: Err(why.to_string()),
            wal_level: Err(why.to_string()),
            native_create_parent: Vec::new(),
            aws: None,
        }
    }
}

/// Schemas that are PostgreSQL's own.
const SYSTEM: &str =
    "n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp%'";

/// The reg* types pg_upgrade refuses in user tables (their OIDs are not kept): not regclass, regrole, regtype.
const REG_TYPES: &str = "'regcollation', 'regconfig', 'regdictionary', 'regnamespace', 'regoper', 'regoperator', \
                         'regproc', 'regprocedure'";

/// Reads every fact from `app` (the application database) and `cron` (pg_cron's database when another one).
pub async fn read(app: &Client, cron: Option<&Client>) -> Facts {
    Facts {
        server_version: one_text(app, "SELECT current_setting('server_version')")
            .await
            .map(|v| v.split_whitespace().next().unwrap_or_default().to_string()),
        prepared_transactions: texts(app, "SELECT gid || ' in ' || database FROM pg_prepared_xacts ORDER BY 1").await,
        reg_columns: texts(
            app,
            &format!(
                "SELECT format('%s.%s.%s (%s)', n.nspname, c.relname, a.attname, a.atttypid::regtype)
                 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind IN ('r', 'm', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND {SYSTEM}
                   AND a.atttypid::regtype::text IN ({REG_TYPES}) ORDER BY 1"
            ),
        )
        .await,
        invalid_databases: texts(
            app,
            "SELECT datname || CASE WHEN datconnlimit = -2 THEN ' (invalid: an interrupted DROP DATABASE)'
                                    ELSE ' (does not allow connections)' END
             FROM pg_database WHERE datconnlimit = -2 OR (NOT datallowconn AND datname <> 'template0') ORDER BY 1",
        )
        .await,
        extensions: extensions(app, cron).await,
        tables_without_identity: texts(
            app,
            &format!(
                "SELECT format('%s.%s', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind = 'r' AND c.relpersistence = 'p' AND {SYSTEM}
                   AND (c.relreplident = 'n' OR (c.relreplident = 'd' AND NOT EXISTS
                        (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p')))
                 ORDER BY 1"
            ),
        )
        .await,
        large_objects: large_objects(app).await,
        unlogged_tables: texts(
            app,
            &format!(
                "SELECT format('%s.%s', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'u' AND {SYSTEM} ORDER BY 1"
            ),
        )
        .await,
        cron_jobs: cron_jobs(cron.unwrap_or(app), app).await,
        partman: partman(app).await,
        preload: one_text(app, "SELECT current_setting('shared_preload_libraries')").await,
        wal_level: one_text(app, "SELECT current_setting('wal_level')").await,
        native_create_parent: Vec::new(),
        aws: None,
    }
}

async fn one_text(client: &Client, sql: &str) -> Fact<String> {
    client.query_one(sql, &[]).await.map(|r| r.get::<_, String>(0)).map_err(|e| reason(&e))
}

async fn texts(client: &Client, sql: &str) -> Fact<Vec<String>> {
    client.query(sql, &[]).await.map(|rows| rows.iter().map(|r| r.get(0)).collect()).map_err(|e| reason(&e))
}

async fn extensions(app: &Client, cron: Option<&Client>) -> Fact<Vec<Installed>> {
    const SQL: &str = "SELECT current_database()::text, extname::text, extversion FROM pg_extension
                       WHERE extname <> 'plpgsql' ORDER BY 2";
    let mut all = Vec::new();
    for client in std::iter::once(app).chain(cron) {
        let rows = client.query(SQL, &[]).await.map_err(|e| reason(&e))?;
        all.extend(rows.iter().map(|r| Installed { database: r.get(0), name: r.get(1), version: r.get(2) }));
    }
    Ok(all)
}

async fn large_objects(app: &Client) -> Fact<(i64, Vec<u32>)> {
    let count: i64 =
        app.query_one("SELECT count(*) FROM pg_largeobject_metadata", &[]).await.map_err(|e| reason(&e))?.get(0);
    let first = app
        .query("SELECT oid FROM pg_largeobject_metadata ORDER BY oid LIMIT 5", &[])
        .await
        .map_err(|e| reason(&e))?
        .iter()
        .map(|r| r.get::<_, u32>(0))
        .collect();
    Ok((count, first))
}

/// pg_cron's jobs, the application database's first (a long list is cut in the report: its own jobs stay).
async fn cron_jobs(client: &Client, app: &Client) -> Fact<Option<Vec<Job>>> {
    let database = one_text(app, "SELECT current_database()::text").await?;
    let created = client
        .query_opt("SELECT 1 FROM pg_extension WHERE extname = 'pg_cron'", &[])
        .await
        .map_err(|e| reason(&e))?
        .is_some();
    if !created {
        return Ok(None);
    }
    let rows = client
        .query(
            "SELECT jobid, coalesce(jobname, '')::text, schedule, command, database, active FROM cron.job
             ORDER BY database <> $1, jobid",
            &[&database],
        )
        .await
        .map_err(|e| reason(&e))?;
    Ok(Some(
        rows.iter()
            .map(|r| Job {
                id: r.get(0),
                name: r.get(1),
                schedule: r.get(2),
                command: r.get(3),
                database: r.get(4),
                active: r.get(5),
            })
            .collect(),
    ))
}

async fn partman(app: &Client) -> Fact<Option<Partman>> {
    let Some(row) = app
        .query_opt(
            "SELECT n.nspname::text, e.extversion FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
             WHERE e.extname = 'pg_partman'",
            &[],
        )
        .await
        .map_err(|e| reason(&e))?
    else {
        return Ok(None);
    };
    let (schema, version): (String, String) = (row.get(0), row.get(1));
    let s = ident(&schema);
    // The newest partition of each set (show_partitions excludes the default) and where it ends: the same
    // functions in pg_partman 4.x and 5.x.
    let rows = app
        .query(
            &format!(
                "SELECT c.parent_table, c.partition_interval, c.premake, newest.name,
                        CASE WHEN newest.name IS NOT NULL THEN extract(epoch FROM (
                            (SELECT i.child_end_time FROM {s}.show_partition_info(newest.name, NULL, c.parent_table) i)
                            - now()))::bigint END
                 FROM {s}.part_config c
                 LEFT JOIN LATERAL (SELECT p.partition_schemaname || '.' || p.partition_tablename AS name
                                    FROM {s}.show_partitions(c.parent_table, 'DESC') p LIMIT 1) newest ON true
                 ORDER BY 1"
            ),
            &[],
        )
        .await
        .map_err(|e| reason(&e))?;
    let runways = rows
        .iter()
        .map(|r| Runway {
            parent: r.get(0),
            interval: r.get(1),
            premake: r.get(2),
            newest: r.get(3),
            seconds: r.get(4),
        })
        .collect();
    Ok(Some(Partman { schema, version, runways }))
}

/// The migrations in `dir` that pass pg_partman 4.x's `p_type 'native'` (5.x refuses it): `file:line` and
/// whether the file reads the installed version (`extversion`) to choose. A file that cannot be read is
/// left out: `migrate` itself refuses such a directory first.
pub fn native_create_parent(dir: &std::path::Path) -> Vec<(String, bool)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    let mut found = Vec::new();
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let branches = text.contains("extversion");
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        for (i, line) in text.lines().enumerate() {
            let l = line.to_ascii_lowercase().replace(' ', "");
            if l.contains("p_type=>'native'") || l.contains("p_type:='native'") {
                found.push((format!("sql/migrations/{name}:{}", i + 1), branches));
            }
        }
    }
    found
}

/// Reads the environment's instance or cluster from RDS (read only). The RDS primary is named by the
/// Terraform outputs `apply` wrote in `work_dir`; the Aurora cluster is `<project>-<environment>`.
pub async fn read_aws(
    loaded: &crate::config::Loaded,
    aws: &crate::aws::AwsContext,
    work_dir: &std::path::Path,
) -> Option<Fact<AwsFacts>> {
    use crate::engine::kinds::EngineKind;
    let kind = loaded.environment.engine.kind;
    if kind == EngineKind::External {
        return None;
    }
    let read = async {
        let config = aws.config().await.map_err(|e| e.to_string())?;
        let rds = aws_sdk_rds::Client::new(config);
        let line = |call: &str, e: String| format!("RDS {call}: {e}");
        let endpoint = crate::aws::endpoint(config, "rds");
        if kind == EngineKind::AuroraPostgresql {
            let id = format!("{}-{}", loaded.environment.project, loaded.name);
            let found = rds
                .describe_db_clusters()
                .db_cluster_identifier(&id)
                .send()
                .await
                .map_err(|e| line("DescribeDBClusters", crate::aws::sdk_error_line(&e, &endpoint)))?;
            let c = found.db_clusters().first().ok_or_else(|| format!("RDS lists no cluster {id}"))?;
            return Ok(AwsFacts {
                resource: format!("cluster {id}"),
                engine_version: c.engine_version().map(str::to_string),
                master_user_secret: c.master_user_secret().map(secret_line),
            });
        }
        let outputs = crate::infra::outputs::read(work_dir).map_err(|_| {
            format!("no Terraform outputs in {} (run `glctl apply -e {}` first)", work_dir.display(), loaded.name)
        })?;
        let id = outputs["instance_identifiers"]["value"]["primary"]
            .as_str()
            .ok_or("the Terraform outputs name no primary instance (instance_identifiers.primary)")?
            .to_string();
        let found = rds
            .describe_db_instances()
            .db_instance_identifier(&id)
            .send()
            .await
            .map_err(|e| line("DescribeDBInstances", crate::aws::sdk_error_line(&e, &endpoint)))?;
        let i = found.db_instances().first().ok_or_else(|| format!("RDS lists no instance {id}"))?;
        Ok(AwsFacts {
            resource: format!("instance {id}"),
            engine_version: i.engine_version().map(str::to_string),
            master_user_secret: i.master_user_secret().map(secret_line),
        })
    };
    Some(read.await)
}

fn secret_line(s: &aws_sdk_rds::types::MasterUserSecret) -> String {
    format!("{} ({})", s.secret_arn().unwrap_or("?"), s.secret_status().unwrap_or("status unknown"))
}
