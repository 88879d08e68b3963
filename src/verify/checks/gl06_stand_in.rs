//! GL-06's AWS side against a stand-in for RDS (issue 28): moto reports every parameter group `in-sync` and
//! never fills PendingModifiedValues, so what real AWS answers while a reboot or an engine upgrade waits is
//! served here over HTTP, in the shapes the RDS API Reference documents for DescribeDBInstances and
//! DescribeDBClusters (Query protocol, XML). The real AWS SDK parses it, verify's readers turn it into facts,
//! and GL-06's rule decides — the same path `glctl verify` takes. Against moto the same rule is never a
//! PASS (`gl06_against_an_emulator_the_aws_side_is_never_a_pass_and_says_why`, next to these).

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::tests::{gl06_facts, gl06_of, instance, server};
use super::Outcome;
use crate::verify::facts::{cluster_fact, instance_fact, AwsFacts};

/// DescribeDBInstances while a major upgrade waits for the maintenance window and the instance's parameter
/// group waits for a reboot (RDS API Reference: DBInstance, PendingModifiedValues, DBParameterGroupStatus).
const INSTANCES: &str = r#"<DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
  <DescribeDBInstancesResult>
    <DBInstances>
      <DBInstance>
        <DBInstanceIdentifier>greenlang-dev-primary</DBInstanceIdentifier>
        <DBInstanceClass>db.t4g.medium</DBInstanceClass>
        <Engine>postgres</Engine>
        <EngineVersion>16.6</EngineVersion>
        <DBInstanceStatus>available</DBInstanceStatus>
        <MultiAZ>false</MultiAZ>
        <AvailabilityZone>us-east-1a</AvailabilityZone>
        <PendingModifiedValues>
          <EngineVersion>17.4</EngineVersion>
        </PendingModifiedValues>
        <DBParameterGroups>
          <DBParameterGroup>
            <DBParameterGroupName>greenlang-dev-postgres16</DBParameterGroupName>
            <ParameterApplyStatus>pending-reboot</ParameterApplyStatus>
          </DBParameterGroup>
        </DBParameterGroups>
      </DBInstance>
    </DBInstances>
  </DescribeDBInstancesResult>
  <ResponseMetadata><RequestId>7f9c2c1e-0000-4000-8000-000000000001</RequestId></ResponseMetadata>
</DescribeDBInstancesResponse>"#;

/// DescribeDBClusters with a static cluster parameter applied to the readers (rebooted) but not the writer.
const CLUSTERS: &str = r#"<DescribeDBClustersResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
  <DescribeDBClustersResult>
    <DBClusters>
      <DBCluster>
        <DBClusterIdentifier>greenlang-prod</DBClusterIdentifier>
        <Engine>aurora-postgresql</Engine>
        <EngineVersion>16.6</EngineVersion>
        <Status>available</Status>
        <DBClusterParameterGroup>greenlang-prod-aurora-postgresql16</DBClusterParameterGroup>
        <DBClusterMembers>
          <DBClusterMember>
            <DBInstanceIdentifier>greenlang-prod-writer</DBInstanceIdentifier>
            <IsClusterWriter>true</IsClusterWriter>
            <DBClusterParameterGroupStatus>pending-reboot</DBClusterParameterGroupStatus>
            <PromotionTier>0</PromotionTier>
          </DBClusterMember>
          <DBClusterMember>
            <DBInstanceIdentifier>greenlang-prod-replica1</DBInstanceIdentifier>
            <IsClusterWriter>false</IsClusterWriter>
            <DBClusterParameterGroupStatus>in-sync</DBClusterParameterGroupStatus>
            <PromotionTier>1</PromotionTier>
          </DBClusterMember>
        </DBClusterMembers>
      </DBCluster>
    </DBClusters>
  </DescribeDBClustersResult>
  <ResponseMetadata><RequestId>7f9c2c1e-0000-4000-8000-000000000002</RequestId></ResponseMetadata>
</DescribeDBClustersResponse>"#;

/// Serves `INSTANCES` or `CLUSTERS` by the request's `Action`, on a loopback port; records each action.
async fn rds_stand_in(asked: Arc<Mutex<Vec<String>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let asked = asked.clone();
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 4096];
                // One request per connection is enough: the answer closes it.
                loop {
                    let Ok(n) = socket.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buffer.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buffer).to_string();
                    let Some(head_end) = text.find("\r\n\r\n") else { continue };
                    let length = text[..head_end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string())
                        })
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    if buffer.len() < head_end + 4 + length {
                        continue;
                    }
                    let body = &text[head_end + 4..];
                    let action = body.split('&').find_map(|kv| kv.strip_prefix("Action=")).unwrap_or("").to_string();
                    asked.lock().unwrap().push(action.clone());
                    let (status, xml) = match action.as_str() {
                        "DescribeDBInstances" => ("200 OK", INSTANCES),
                        "DescribeDBClusters" => ("200 OK", CLUSTERS),
                        _ => (
                            "400 Bad Request",
                            "<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>",
                        ),
                    };
                    let answer = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{xml}",
                        xml.len()
                    );
                    let _ = socket.write_all(answer.as_bytes()).await;
                    let _ = socket.shutdown().await;
                    return;
                }
            });
        }
    });
    endpoint
}

fn client(endpoint: &str) -> aws_sdk_rds::Client {
    let config = aws_sdk_rds::Config::builder()
        .behavior_version(aws_sdk_rds::config::BehaviorVersion::latest())
        .region(aws_sdk_rds::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_rds::config::Credentials::new("test", "test", None, None, "stand-in"))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_rds::Client::from_conf(config)
}

#[test]
fn gl06_stand_in_rds_reports_a_pending_reboot_and_a_waiting_engine_upgrade_and_gl06_fails_naming_both() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let aws = runtime.block_on(async {
        let rds = client(&rds_stand_in(asked.clone()).await);
        let found = rds.describe_db_instances().db_instance_identifier("greenlang-dev-primary").send().await.unwrap();
        let i = found.db_instances().first().expect("the stand-in's instance");
        AwsFacts { instances: vec![instance_fact("greenlang-dev-primary".into(), i, 0)], ..AwsFacts::default() }
    });
    assert_eq!(*asked.lock().unwrap(), ["DescribeDBInstances"]);
    let Outcome::Fail(why, evidence) = gl06_of("rds-postgresql", &gl06_facts(server(&[]), Ok(aws), false)) else {
        panic!("a pending reboot and a waiting upgrade passed")
    };
    assert!(why.contains("greenlang-dev-primary: greenlang-dev-postgres16: pending-reboot"), "{why}");
    assert!(why.contains("greenlang-dev-primary PendingModifiedValues EngineVersion 17.4"), "{why}");
    assert!(evidence.iter().any(|e| e.source.contains("ParameterApplyStatus")), "{evidence:?}");
}

#[test]
fn gl06_stand_in_aurora_reports_the_writer_still_pending_after_the_readers_rebooted_and_gl06_fails_naming_it() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let aws = runtime.block_on(async {
        let rds = client(&rds_stand_in(asked.clone()).await);
        let found = rds.describe_db_clusters().db_cluster_identifier("greenlang-prod").send().await.unwrap();
        let c = found.db_clusters().first().expect("the stand-in's cluster");
        AwsFacts {
            instances: vec![instance("greenlang-prod-writer", "in-sync", &[])],
            cluster: Some(cluster_fact("greenlang-prod".into(), c, 0)),
            ..AwsFacts::default()
        }
    });
    let Outcome::Fail(why, _) = gl06_of("aurora-postgresql", &gl06_facts(server(&[]), Ok(aws), false)) else {
        panic!("a writer pending a reboot passed")
    };
    assert!(why.contains("greenlang-prod cluster parameter group on greenlang-prod-writer: pending-reboot"), "{why}");
    assert!(!why.contains("replica1"), "the rebooted reader is in sync: {why}");
}
