//! How a command ends: the exit codes of the interface contract, and the one place where every kind of
//! error is mapped to one of them.

use crate::aws::AwsError;
use crate::bench::BenchError;
use crate::config::ConfigError;
use crate::database::DatabaseError;
use crate::infra::InfraError;
use crate::monitoring::MonitoringError;
use crate::upgrade::UpgradeError;

/// Exit codes (README, "Exit codes"): 0 ok, 1 the command ran and found problems (or failed while changing
/// something), 2 bad usage or configuration, 3 the command could not check everything it was asked to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Problems = 1,
    Usage = 2,
    Incomplete = 3,
}

impl Exit {
    /// The code for a run with both outcomes. A definite problem outranks an unchecked part (re-running
    /// will not make it go away); a configuration error outranks everything.
    pub fn worst(self, other: Exit) -> Exit {
        let rank = |e: Exit| match e {
            Exit::Ok => 0,
            Exit::Incomplete => 1,
            Exit::Problems => 2,
            Exit::Usage => 3,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

/// Everything that can end a command, by layer. Printed once, with every cause, by `main`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line asks for something impossible (no `-e`, no terminal to confirm on).
    #[error("{0}")]
    Usage(String),
    /// The user or a safety rule stopped the command before it changed anything.
    #[error("{0}")]
    Refused(String),
    /// A promotion gate refused (the target is unchanged).
    #[error("{0}")]
    Gate(String),
    /// A promotion gate could not be checked (the target is unchanged).
    #[error("{0}")]
    GateNotChecked(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Infra(#[from] InfraError),
    #[error(transparent)]
    Database(#[from] DatabaseError),
    #[error(transparent)]
    Monitoring(#[from] MonitoringError),
    #[error(transparent)]
    Bench(#[from] BenchError),
    /// `upgrade check|plan` was asked for a version it cannot move to (nothing was read or changed).
    #[error(transparent)]
    Upgrade(#[from] UpgradeError),
}

impl Error {
    /// The long form of a failure whose message is kept short, for `--verbose`.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Error::Aws(e) | Error::Database(DatabaseError::Aws(e)) => e.detail(),
            _ => None,
        }
    }

    /// The one map from kinds of failure to exit codes.
    pub fn exit(&self) -> Exit {
        match self {
            Error::Usage(_) | Error::Config(_) | Error::Gate(_) | Error::Upgrade(_) => Exit::Usage,
            Error::GateNotChecked(_) => Exit::Incomplete,
            Error::Refused(_) => Exit::Problems,
            Error::Aws(e) => match e {
                // Credentials for another account, or an account id glctl cannot use: configuration.
                AwsError::AccountMismatch { .. } | AwsError::NoCredentials { .. } => Exit::Usage,
                // AWS (or the emulator) did not answer: nothing was checked, so nothing was found either.
                AwsError::Unreachable { .. } => Exit::Incomplete,
            },
            Error::Infra(e) => match e {
                InfraError::Template(_) => Exit::Usage,
                InfraError::Io { .. }
                | InfraError::Terraform { .. }
                | InfraError::Destructive { .. }
                | InfraError::EngineUpgradeNotAllowed { .. } => Exit::Problems,
                // A downgrade, a major change without its field, a family that does not match: the file.
                InfraError::EngineRefused { .. } => Exit::Usage,
            },
            Error::Database(e) => database_exit(e),
            Error::Bench(e) => match e {
                BenchError::Usage(_) => Exit::Usage,
                BenchError::Database(d) if database_exit(d) == Exit::Usage => Exit::Usage,
                e if e.is_incomplete() => Exit::Incomplete,
                _ => Exit::Problems,
            },
            Error::Monitoring(e) => match e {
                // A rule naming a metric nothing exports: the project's definition is broken, like a template.
                MonitoringError::UnknownMetrics(_) => Exit::Usage,
                MonitoringError::Io { .. } => Exit::Problems,
            },
        }
    }
}

fn database_exit(e: &DatabaseError) -> Exit {
    match e {
        DatabaseError::Migrations(_)
        | DatabaseError::Lint(_)
        | DatabaseError::NoTarget(_)
        | DatabaseError::BadUrl(_) => Exit::Usage,
        DatabaseError::Aws(AwsError::AccountMismatch { .. } | AwsError::NoCredentials { .. }) => Exit::Usage,
        DatabaseError::Aws(AwsError::Unreachable { .. }) => Exit::Incomplete,
        _ => Exit::Problems,
    }
}

#[cfg(test)]
mod tests {
    use super::{Error, Exit};
    use crate::aws::AwsError;
    use crate::infra::InfraError;

    #[test]
    fn a_definite_problem_outranks_an_unchecked_part_and_configuration_outranks_both() {
        assert_eq!(Exit::Ok.worst(Exit::Incomplete), Exit::Incomplete);
        assert_eq!(Exit::Incomplete.worst(Exit::Problems), Exit::Problems);
        assert_eq!(Exit::Problems.worst(Exit::Incomplete), Exit::Problems);
        assert_eq!(Exit::Usage.worst(Exit::Problems), Exit::Usage);
        assert_eq!(Exit::Ok.worst(Exit::Ok), Exit::Ok);
    }

    #[test]
    fn a_failed_terraform_plan_is_a_problem_not_a_usage_error() {
        let e = Error::from(InfraError::Terraform { step: "plan".into(), output: "boom".into(), applied: vec![] });
        assert_eq!(e.exit(), Exit::Problems);
    }

    #[test]
    fn an_aws_endpoint_that_does_not_answer_is_unchecked_not_a_problem() {
        let e = Error::from(AwsError::Unreachable {
            reason: "could not reach http://127.0.0.1:9: Connection refused (os error 111)".into(),
            detail: "DispatchFailure(DispatchFailure { source: ConnectorError { .. } })".into(),
        });
        assert_eq!(e.exit(), Exit::Incomplete);
        assert!(!e.to_string().contains("DispatchFailure") && !e.to_string().contains('\n'), "{e}");
        assert!(e.detail().is_some_and(|d| d.contains("DispatchFailure")));
    }

    #[test]
    fn credentials_of_another_account_are_a_configuration_error() {
        let e = Error::from(AwsError::AccountMismatch {
            environment: "prod".into(),
            expected: "111111111111".into(),
            actual: "222222222222".into(),
        });
        assert_eq!(e.exit(), Exit::Usage);
        assert!(e.to_string().contains("111111111111") && e.to_string().contains("222222222222"));
    }
}
