//! One AWS context per run, pinned to the environment: the region comes from `aws.region`, the credentials
//! from the standard chain, and before anything is asked of AWS the caller's account is checked against
//! `aws.account_id` (STS GetCallerIdentity). Credentials for another account stop glctl before it creates,
//! reads or changes anything there. A service with no SDK crate here (AWS Backup) is called through `rest`,
//! signed with the same context's credentials; `profile` names a profile no file defines.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::{error::CredentialsError, ProvideCredentials};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tokio::sync::OnceCell;

use crate::config::Loaded;

mod profile;
pub mod rest;

#[derive(Clone, Debug, thiserror::Error)]
pub enum AwsError {
    #[error(
        "the AWS credentials in use belong to account {actual}, but environment {environment} lives in account \
         {expected} (aws.account_id); nothing was done. Use credentials for account {expected}"
    )]
    AccountMismatch { environment: String, expected: String, actual: String },
    /// The standard chain found nothing usable. The chain's own account of every source it tried is long
    /// (about a kilobyte): it is kept in `detail`, shown with `--verbose`.
    #[error(
        "no AWS credentials for environment {environment} (account {account}): {reason}; nothing was done\n\
         provide them as the AWS CLI reads them: AWS_PROFILE (after `aws sso login` for SSO), \
         AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a web-identity role (AWS_ROLE_ARN and \
         AWS_WEB_IDENTITY_TOKEN_FILE, as CI's OIDC sets them), or the instance's or container's role \
         (--verbose shows what each source said)"
    )]
    NoCredentials { environment: String, account: String, reason: String, detail: String },
    /// STS could not be asked (no connection, a timeout, an answer that is not AWS's): nothing was checked.
    #[error("cannot check which AWS account the credentials belong to: {reason}; nothing was done")]
    Unreachable { reason: String, detail: String },
}

impl AwsError {
    /// What only `--verbose` shows: the full account of a failure whose message is kept short.
    pub fn detail(&self) -> Option<&str> {
        match self {
            AwsError::NoCredentials { detail, .. } | AwsError::Unreachable { detail, .. } => Some(detail),
            AwsError::AccountMismatch { .. } => None,
        }
    }
}

/// The proof that the caller's account is the environment's. Stages that call AWS (through the SDK or
/// terraform) take it, so none can run before the check.
#[derive(Clone, Debug)]
pub struct VerifiedAccount {
    pub account_id: String,
    pub region: String,
}

pub struct AwsContext {
    environment: String,
    expected_account: String,
    region: String,
    config: SdkConfig,
    checked: OnceCell<Result<VerifiedAccount, AwsError>>,
}

impl AwsContext {
    /// Builds the SDK configuration for the environment's account and region. Nothing is called yet.
    pub async fn for_environment(loaded: &Loaded) -> AwsContext {
        let region = loaded.environment.aws.region.clone();
        let config = aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.clone())).load().await;
        AwsContext {
            environment: loaded.name.clone(),
            expected_account: loaded.environment.aws.account_id.clone(),
            region,
            config,
            checked: OnceCell::new(),
        }
    }

    /// Checks the caller's account once per run and returns the proof; a mismatch names both accounts.
    pub async fn verify(&self) -> Result<&VerifiedAccount, AwsError> {
        self.checked.get_or_init(|| self.check()).await.as_ref().map_err(Clone::clone)
    }

    /// The SDK configuration, only after the account check passed.
    pub async fn config(&self) -> Result<&SdkConfig, AwsError> {
        self.verify().await?;
        Ok(&self.config)
    }

    /// The same credentials and account in another region (the DR region's clients), only after the account
    /// check passed: one context per run, a second client of it.
    pub async fn in_region(&self, region: &str) -> Result<SdkConfig, AwsError> {
        self.verify().await?;
        Ok(self.config.to_builder().region(Region::new(region.to_string())).build())
    }

    async fn check(&self) -> Result<VerifiedAccount, AwsError> {
        self.credentials_found().await?;
        let sts = aws_sdk_sts::Client::new(&self.config);
        let identity = sts.get_caller_identity().send().await.map_err(|e| AwsError::Unreachable {
            reason: sdk_error_line(&e, &endpoint(&self.config, "sts")),
            detail: aws_sdk_sts::error::DisplayErrorContext(&e).to_string(),
        })?;
        let actual = identity.account().unwrap_or_default().to_string();
        account_matches(&self.environment, &self.expected_account, &actual)?;
        Ok(VerifiedAccount { account_id: actual, region: self.region.clone() })
    }
}

impl AwsContext {
    /// Asks the credential chain itself before any call: a missing credential is the user's to provide,
    /// not a failure of AWS, and the SDK's error for it buries that under its request structure.
    async fn credentials_found(&self) -> Result<(), AwsError> {
        let missing = |reason: String, detail: String| AwsError::NoCredentials {
            environment: self.environment.clone(),
            account: self.expected_account.clone(),
            reason,
            detail,
        };
        if let Some(why) = profile::missing_profile(&profile::Sources::from_env()) {
            return Err(missing(why, String::new()));
        }
        let Some(provider) = self.config.credentials_provider() else {
            return Err(missing("no credential provider is configured".into(), String::new()));
        };
        match provider.provide_credentials().await {
            Ok(_) => Ok(()),
            Err(e) => Err(missing(short_reason(&e), aws_sdk_sts::error::DisplayErrorContext(&e).to_string())),
        }
    }
}

/// One line for the user: what kind of failure, without the chain's per-source report.
fn short_reason(e: &CredentialsError) -> String {
    match e {
        CredentialsError::CredentialsNotLoaded(_) => "none were found in the standard chain".into(),
        CredentialsError::ProviderTimedOut(_) => "the credential chain timed out".into(),
        CredentialsError::InvalidConfiguration(_) => "the AWS configuration (profile) is invalid".into(),
        _ => "the credential chain failed to load them".into(),
    }
}

/// Where a client of `service` sends its requests: the configured endpoint (`AWS_ENDPOINT_URL`, an emulator)
/// or AWS's own for the region.
pub fn endpoint(config: &SdkConfig, service: &str) -> String {
    match config.endpoint_url() {
        Some(url) => url.to_string(),
        None => {
            let region = config.region().map(|r| r.as_ref().to_string()).unwrap_or_else(|| "us-east-1".into());
            format!("https://{service}.{region}.amazonaws.com")
        }
    }
}

/// One readable line for an SDK call's failure: what kind of failure, where, and the innermost cause, never
/// the SDK's debug structure (that is `DisplayErrorContext`, for `--verbose`).
pub fn sdk_error_line<E, R>(e: &SdkError<E, R>, endpoint: &str) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match e {
        SdkError::ServiceError(service) => {
            let err = service.err();
            match (err.code(), err.message()) {
                (Some(code), Some(message)) => format!("{endpoint} answered {code}: {message}"),
                (Some(code), None) => format!("{endpoint} answered {code}"),
                _ => format!("{endpoint} answered an error: {}", innermost(err)),
            }
        }
        SdkError::DispatchFailure(_) => format!("could not reach {endpoint}: {}", innermost(e)),
        SdkError::TimeoutError(_) => format!("no answer from {endpoint} in time"),
        SdkError::ResponseError(_) => {
            format!("{endpoint} answered something that is not an AWS response: {}", innermost(e))
        }
        _ => format!("the request to {endpoint} could not be made: {}", innermost(e)),
    }
}

/// The message of the deepest cause in an error's `source()` chain (the operating system's, usually).
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut deepest: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = deepest.source() {
        deepest = next;
    }
    deepest.to_string()
}

fn account_matches(environment: &str, expected: &str, actual: &str) -> Result<(), AwsError> {
    if actual == expected {
        Ok(())
    } else {
        Err(AwsError::AccountMismatch {
            environment: environment.to_string(),
            expected: expected.to_string(),
            actual: if actual.is_empty() { "(none reported)".into() } else { actual.to_string() },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{account_matches, AwsError};

    #[test]
    fn missing_credentials_are_said_in_a_few_lines_with_the_chain_kept_for_verbose() {
        let e = AwsError::NoCredentials {
            environment: "prod".into(),
            account: "123456789012".into(),
            reason: super::short_reason(&super::CredentialsError::not_loaded_no_source()),
            detail: "ProviderChainError { attempts: [...] }".into(),
        };
        let message = e.to_string();
        assert!(
            message.contains("none were found in the standard chain") && message.contains("AWS_PROFILE"),
            "{message}"
        );
        assert!(!message.contains("ProviderChainError"), "{message}");
        assert_eq!(e.detail(), Some("ProviderChainError { attempts: [...] }"));
    }

    #[test]
    fn the_same_account_passes() {
        assert!(account_matches("prod", "123456789012", "123456789012").is_ok());
    }

    #[test]
    fn another_account_is_refused_naming_both() {
        let Err(AwsError::AccountMismatch { expected, actual, .. }) =
            account_matches("prod", "123456789012", "210987654321")
        else {
            panic!("a mismatch");
        };
        assert_eq!((expected.as_str(), actual.as_str()), ("123456789012", "210987654321"));
    }

    #[test]
    fn an_empty_answer_is_not_taken_for_a_match() {
        let e = account_matches("dev", "123456789012", "").unwrap_err();
        assert!(e.to_string().contains("(none reported)"), "{e}");
    }
}
