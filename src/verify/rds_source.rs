//! The RDS or Aurora source of an environment's backups, as RDS describes it (read only): its identifier,
//! subnet group, key, restore window and size, and the Terraform outputs that name it. Read by the backup
//! listing (BR-01/BR-02) and by the restore drills (`crate::drills::rds`) before they create anything.

use aws_sdk_rds::primitives::DateTime;
use aws_sdk_rds::Client as Rds;

use super::point_in_time::Window;
use crate::config::model::{EngineKind, Environment};
use crate::config::Loaded;

/// One line for a failed RDS call: the error code and message, or what kept the call from being answered;
/// never the SDK's debug structure.
pub(crate) fn api<E, R>(call: &str) -> impl Fn(aws_smithy_runtime_api::client::result::SdkError<E, R>) -> String + '_
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    move |e| format!("RDS {call}: {}", crate::aws::sdk_error_line(&e, "the RDS endpoint"))
}

/// The source, as RDS describes it.
#[derive(Clone, Debug, Default)]
pub struct Source {
    pub id: String,
    pub subnet_group: Option<String>,
    pub kms_key: Option<String>,
    pub window: Option<Window>,
    /// `AllocatedStorage`, GiB (BR-08's size when the database's own cannot be read; Aurora reports 1).
    pub allocated_gib: Option<i32>,
    /// The instance's or cluster's ARN (what AWS Backup's recovery points name as their resource).
    pub arn: Option<String>,
}

fn secs(t: Option<&DateTime>) -> Option<f64> {
    t.map(|d| d.secs() as f64)
}

/// The later of creation and now − retention, to the latest restorable time.
fn window(created: Option<f64>, retention_days: Option<i32>, latest: Option<f64>, now: f64) -> Option<Window> {
    let retention = now - f64::from(retention_days.unwrap_or(0).max(0)) * 86_400.0;
    Some(Window { start: created.map_or(retention, |c| c.max(retention)), end: latest? })
}

pub(crate) async fn source(
    rds: &Rds,
    env: &Environment,
    name: &str,
    outputs: &serde_json::Value,
    now: f64,
) -> Result<Source, String> {
    if env.engine.kind == EngineKind::AuroraPostgresql {
        let id = format!("{}-{name}", env.project);
        let found =
            rds.describe_db_clusters().db_cluster_identifier(&id).send().await.map_err(api("DescribeDBClusters"))?;
        let c = found.db_clusters().first().ok_or_else(|| format!("RDS lists no cluster {id}"))?;
        let earliest = secs(c.earliest_restorable_time());
        let w =
            window(secs(c.cluster_create_time()), c.backup_retention_period(), secs(c.latest_restorable_time()), now);
        return Ok(Source {
            id,
            subnet_group: c.db_subnet_group().map(str::to_string),
            kms_key: c.kms_key_id().map(str::to_string),
            window: w.map(|w| Window { start: earliest.unwrap_or(w.start).max(w.start), ..w }),
            allocated_gib: c.allocated_storage(),
            arn: c.db_cluster_arn().map(str::to_string),
        });
    }
    let id = outputs["instance_identifiers"]["value"]["primary"]
        .as_str()
        .ok_or("the Terraform outputs name no primary instance (instance_identifiers.primary)")?
        .to_string();
    let found =
        rds.describe_db_instances().db_instance_identifier(&id).send().await.map_err(api("DescribeDBInstances"))?;
    let i = found.db_instances().first().ok_or_else(|| format!("RDS lists no instance {id}"))?;
    let backups = rds.describe_db_instance_automated_backups().db_instance_identifier(&id).send().await;
    let restore_window = backups.ok().and_then(|b| {
        let w = b.db_instance_automated_backups().first()?.restore_window()?.clone();
        Some(Window { start: secs(w.earliest_time())?, end: secs(w.latest_time())? })
    });
    Ok(Source {
        subnet_group: i.db_subnet_group().and_then(|g| g.db_subnet_group_name()).map(str::to_string),
        kms_key: i.kms_key_id().map(str::to_string),
        window: restore_window.or_else(|| {
            window(secs(i.instance_create_time()), i.backup_retention_period(), secs(i.latest_restorable_time()), now)
        }),
        allocated_gib: i.allocated_storage(),
        arn: i.db_instance_arn().map(str::to_string),
        id,
    })
}

/// The outputs `apply` wrote (`outputs.json` in the work directory).
pub(crate) fn outputs_json(loaded: &Loaded, work_dir: &std::path::Path) -> Result<serde_json::Value, String> {
    crate::infra::outputs::read(work_dir).map_err(|_| {
        format!("no Terraform outputs in {} (run `glctl apply -e {}` first)", work_dir.display(), loaded.name)
    })
}

/// What `apply` wrote: the outputs, the environment's security group and its KMS key.
pub(crate) fn terraform_outputs(
    loaded: &Loaded,
    work_dir: &std::path::Path,
) -> Result<(serde_json::Value, String, String), String> {
    let outputs = outputs_json(loaded, work_dir)?;
    let (Some(group), Some(key)) =
        (outputs["security_group_id"]["value"].as_str(), outputs["kms_key_arn"]["value"].as_str())
    else {
        return Err("the Terraform outputs lack security_group_id or kms_key_arn".into());
    };
    let (group, key) = (group.to_string(), key.to_string());
    Ok((outputs, group, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_runs_from_creation_or_retention_to_the_latest_restorable_time() {
        let w = window(Some(1000.0), Some(7), Some(5000.0), 10_000.0).unwrap();
        assert_eq!((w.start, w.end), (1000.0, 5000.0));
        let w = window(Some(1000.0), Some(1), Some(200_000.0), 200_000.0).unwrap();
        assert_eq!(w.start, 200_000.0 - 86_400.0, "retention bounds it");
        assert!(window(Some(1.0), Some(1), None, 2.0).is_none(), "no latest restorable time: no window");
    }
}
