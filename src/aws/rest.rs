//! Signed REST-JSON calls to an AWS service glctl has no SDK crate for (AWS Backup's four restore calls:
//! `aws-sdk-backup` would add about 100 s to a clean build on CI's 2 cores). The request is signed with
//! SigV4 (`aws-sigv4`, already a dependency of the SDK) with the credentials of the run's one AWS context
//! (`aws::AwsContext::in_region`, after its account check) and sent through the SDK's own HTTP client and
//! orchestrator (`aws-smithy-runtime`'s `Operation`), with connect, read and operation timeouts. The SDK's
//! `AWS_ENDPOINT_URL` is honoured as every SDK client honours it (moto in the tests).

use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime::client::orchestrator::operation::Operation;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, OrchestratorError};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::service_config::ServiceConfigKey;
use serde_json::Value;

/// One AWS service's REST-JSON API in one region.
pub struct RestJson {
    service: &'static str,
    region: String,
    endpoint: String,
    config: SdkConfig,
}

/// An answer: the HTTP status and the body (JSON, or `Value::Null` when the body is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub json: Value,
}

impl Answer {
    /// AWS's own error name (`__type` or the `x-amzn-ErrorType`-style `code`), if the body carries one.
    pub fn aws_error(&self) -> Option<String> {
        ["__type", "code", "Code"]
            .iter()
            .find_map(|k| self.json.get(k).and_then(Value::as_str))
            .map(|t| t.rsplit('#').next().unwrap_or(t).to_string())
    }
}

#[derive(Debug)]
struct Request {
    method: &'static str,
    uri: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
#[error("unreachable")]
struct Never;

impl RestJson {
    /// `service` is the signing name and endpoint prefix (`backup`), `service_id` the SDK's name for it
    /// (`Backup`: `AWS_ENDPOINT_URL_BACKUP` and the profile's `backup.endpoint_url` override the endpoint,
    /// as they do for an SDK client, before `AWS_ENDPOINT_URL`).
    pub fn new(config: &SdkConfig, service: &'static str, service_id: &str) -> Result<RestJson, String> {
        let region = config.region().map(|r| r.to_string()).ok_or("no AWS region is configured")?;
        let key = ServiceConfigKey::builder()
            .service_id(service_id)
            .env("AWS_ENDPOINT_URL")
            .profile("endpoint_url")
            .build()
            .map_err(|e| e.to_string())?;
        let endpoint = config
            .service_config()
            .and_then(|c| c.load_config(key))
            .or_else(|| config.endpoint_url().map(str::to_string))
            .map(|e| e.trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("https://{service}.{region}.amazonaws.com"));
        Ok(RestJson { service, region, endpoint, config: config.clone() })
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// Sends `method path?query` with an optional JSON body; `path` and `query` are already percent-encoded.
    pub async fn call(
        &self,
        method: &'static str,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> Result<Answer, String> {
        let provider = self.config.credentials_provider().ok_or("no AWS credential provider is configured")?;
        let credentials = provider.provide_credentials().await.map_err(|e| format!("AWS credentials: {e}"))?;
        let identity = Identity::from(credentials);
        let uri = format!("{}{path_and_query}", self.endpoint);
        let host = uri.split("://").nth(1).and_then(|r| r.split('/').next()).unwrap_or_default().to_string();
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let mut headers = vec![("host".to_string(), host), ("content-type".to_string(), "application/json".into())];
        let at = SystemTime::now();
        headers.extend(signature(method, &uri, &headers, &body, &identity, &self.region, self.service, at)?);
        let request = Request { method, uri, headers, body };
        let operation = Operation::builder()
            .service_name(self.service)
            .operation_name(method)
            .endpoint_url(&self.endpoint)
            .no_auth()
            .no_retry()
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .read_timeout(Duration::from_secs(60))
                    .operation_timeout(Duration::from_secs(90))
                    .build(),
            )
            .serializer(|r: Request| {
                let mut builder = http::Request::builder().method(r.method).uri(&r.uri);
                for (k, v) in &r.headers {
                    builder = builder.header(k, v);
                }
                let request: HttpRequest = builder.body(SdkBody::from(r.body))?.try_into()?;
                Ok(request)
            })
            .deserializer(|response| {
                let status = response.status().as_u16();
                let text = response.body().bytes().map(|b| String::from_utf8_lossy(b).to_string()).unwrap_or_default();
                let json = serde_json::from_str(&text).unwrap_or(Value::Null);
                Ok::<Answer, OrchestratorError<Never>>(Answer { status, json })
            })
            .build();
        operation.invoke(request).await.map_err(|e| {
            format!(
                "{} {method} in {}: {}",
                self.service,
                self.region,
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            )
        })
    }
}

/// The SigV4 headers (`authorization`, `x-amz-date`, and `x-amz-security-token` for temporary credentials)
/// of a request whose other headers are `headers`.
#[allow(clippy::too_many_arguments)]
fn signature(
    method: &str,
    uri: &str,
    headers: &[(String, String)],
    body: &[u8],
    identity: &Identity,
    region: &str,
    service: &str,
    at: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    let params = v4::SigningParams::builder()
        .identity(identity)
        .region(region)
        .name(service)
        .time(at)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("signing: {e}"))?
        .into();
    let signable = SignableRequest::new(
        method,
        uri,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| format!("signing: {e}"))?;
    let (instructions, _) = sign(signable, &params).map_err(|e| format!("signing: {e}"))?.into_parts();
    let (signed, _) = instructions.into_parts();
    Ok(signed.into_iter().map(|h| (h.name().to_string(), h.value().to_string())).collect())
}

/// Percent-encodes one path segment or query value (everything but RFC 3986's unreserved characters).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same requests signed by botocore 1.x (`SigV4Auth(...).add_auth` at 2026-12-01T12:00:00Z with these
    /// credentials): the path's encoded ARN is encoded again in the canonical request, as for every service
    /// but S3, and the body's hash is signed.
    #[test]
    fn requests_are_signed_as_botocore_signs_them() {
        let credentials = aws_credential_types::Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            Some("tok".into()),
            None,
            "test",
        );
        let identity = Identity::from(credentials);
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_126_400);
        let headers = |host: &str| {
            vec![("host".to_string(), host.to_string()), ("content-type".to_string(), "application/json".to_string())]
        };
        let authorization = |method: &str, uri: &str, body: &[u8]| {
            let h = headers("backup.us-west-2.amazonaws.com");
            let signed = signature(method, uri, &h, body, &identity, "us-west-2", "backup", at).unwrap();
            signed.into_iter().find(|(k, _)| k == "authorization").unwrap().1
        };
        let scope = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/us-west-2/backup/aws4_request, \
                     SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=";
        let get = authorization(
            "GET",
            "https://backup.us-west-2.amazonaws.com/backup-vaults/greenlang-prod-database-dr/recovery-points/\
             arn%3Aaws%3Abackup%3Aus-west-2%3A123456789012%3Arecovery-point%3Aabc/restore-metadata",
            b"",
        );
        assert_eq!(get, format!("{scope}f09e10fc62e919491da0dbbdd88c58cc570b45cbaeb2ef933bcc243b9227efc0"));
        let put =
            authorization("PUT", "https://backup.us-west-2.amazonaws.com/restore-jobs", br#"{"RecoveryPointArn":"x"}"#);
        assert_eq!(put, format!("{scope}5d833a89b5441f8ca8a2fab2bf996e5832dd69c18c84d69a15d7567bef5cc723"));
    }

    #[test]
    fn an_arn_in_a_path_is_one_encoded_segment() {
        assert_eq!(
            encode("arn:aws:backup:us-west-2:1:recovery-point:a/b"),
            "arn%3Aaws%3Abackup%3Aus-west-2%3A1%3Arecovery-point%3Aa%2Fb"
        );
    }
}
