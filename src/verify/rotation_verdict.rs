//! ST-06 from a rotation glctl performed itself (`drills::rotation`, `verify --drills` on an external server):
//! what the drill observed, and the pure decision over it. The drill carries out Secrets Manager's four
//! rotation steps (create a pending version, set the password on the server, test it, make it current) the way
//! a rotation Lambda would; the verdict wants the schedule configured as declared, the server accepting the
//! new password and refusing the old one, and the secret's current version the new one.
//!
//! Against an emulator the schedule is configuration read back (what Terraform sent); the server's answers are
//! real either way, and the secret's versions are what glctl stored and read back. `emulator::apply` leaves a
//! result whose evidence comes from this drill (`SOURCE`) labelled, not turned into a SKIP.

use super::facts::Attempt;
use super::{Evidence, Outcome};

/// Where the drill's evidence comes from; `emulator::apply` recognises a drill-decided ST-06 by it.
pub const SOURCE: &str = "glctl's rotation drill";

/// One secret the drill rotated (or tried to).
#[derive(Clone, Debug, PartialEq)]
pub struct Rotation {
    pub secret: String,
    pub username: String,
    pub declared_days: u32,
    /// DescribeSecret: RotationEnabled and RotationRules.AutomaticallyAfterDays.
    pub rotation_enabled: bool,
    pub schedule_days: Option<i64>,
    /// A login as `username` with the new password.
    pub new_password: Attempt,
    /// A login with the password the secret held before; `None` when it held none (a first rotation).
    pub old_password: Option<Attempt>,
    /// DescribeSecret's VersionIdsToStages after the last step puts AWSCURRENT on the version the drill created.
    pub current_is_new: bool,
    /// The four steps, in seconds.
    pub seconds: f64,
}

/// ST-06 over what the drill observed: each secret rotated, or why the drill could not rotate it (an error
/// leaves the check undecided).
pub fn decide(rotations: &[Result<Rotation, String>]) -> Outcome {
    if rotations.is_empty() {
        return Outcome::Error("the rotation drill found no secret with rotation_days to rotate".into());
    }
    let mut evidence = Vec::new();
    let mut problems = Vec::new();
    for r in rotations {
        let r = match r {
            Ok(r) => r,
            Err(why) => return Outcome::Error(why.clone()),
        };
        let mut wrong = Vec::new();
        if !r.rotation_enabled || r.schedule_days != Some(i64::from(r.declared_days)) {
            wrong.push(format!(
                "rotation {} {}, declared every {} days",
                if r.rotation_enabled { "on" } else { "off" },
                r.schedule_days.map_or_else(|| "with no schedule".into(), |d| format!("every {d} days")),
                r.declared_days
            ));
        }
        let new = match &r.new_password {
            Attempt::Succeeded(_) => "the new password logs in".to_string(),
            Attempt::Refused(why) => {
                wrong.push(format!("the server refused the new password: {why}"));
                format!("the new password was refused ({why})")
            }
        };
        let old = match &r.old_password {
            None => "no password before (a first rotation)".to_string(),
            Some(Attempt::Refused(why)) if is_auth_refusal(why) => format!("the old one is refused ({why})"),
            Some(Attempt::Refused(why)) => {
                // Only the server's answer about the password says anything about it.
                return Outcome::Error(format!("the old password's login failed, but not for the password: {why}"));
            }
            Some(Attempt::Succeeded(_)) => {
                wrong.push("the old password still logs in".into());
                "the old one still logs in".to_string()
            }
        };
        if !r.current_is_new {
            wrong.push("the secret's AWSCURRENT is not the new version".into());
        }
        evidence.push(Evidence {
            observed: format!(
                "{} ({}): rotation {} every {}; rotated in {:.1} s: {new}, {old}; AWSCURRENT {}",
                r.secret,
                r.username,
                if r.rotation_enabled { "on" } else { "off" },
                r.schedule_days.map_or_else(|| "(no schedule)".into(), |d| format!("{d} days")),
                r.seconds,
                if r.current_is_new { "is the new version" } else { "is not the new version" }
            ),
            expected: format!(
                "rotation on every {} days; after a rotation the new password logs in, the old one is refused, \
                 AWSCURRENT is the new version",
                r.declared_days
            ),
            source: format!(
                "{SOURCE}: Secrets Manager DescribeSecret, PutSecretValue (AWSPENDING), ALTER ROLE, a login with \
                 each password, UpdateSecretVersionStage (AWSCURRENT), DescribeSecret VersionIdsToStages"
            ),
            at: String::new(),
        });
        problems.extend(wrong.into_iter().map(|w| format!("{}: {w}", r.secret)));
    }
    if problems.is_empty() {
        Outcome::Pass(evidence)
    } else {
        Outcome::Fail(problems.join("; "), evidence)
    }
}

/// The server's refusal of a password (SQLSTATE 28P01, or 28000 from pg_hba), not a network error.
fn is_auth_refusal(why: &str) -> bool {
    why.contains("28P01") || why.contains("28000") || why.contains("password authentication failed")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rotation() -> Rotation {
        Rotation {
            secret: "s/app".into(),
            username: "app_service".into(),
            declared_days: 7,
            rotation_enabled: true,
            schedule_days: Some(7),
            new_password: Attempt::Succeeded("connected as app_service".into()),
            old_password: Some(Attempt::Refused(
                "password authentication failed for user \"app_service\" (28P01)".into(),
            )),
            current_is_new: true,
            seconds: 0.4,
        }
    }

    #[test]
    fn a_rotation_whose_new_password_logs_in_and_old_is_refused_passes() {
        assert!(matches!(decide(&[Ok(rotation())]), Outcome::Pass(e) if e[0].source.starts_with(SOURCE)));
        let first = Rotation { old_password: None, ..rotation() };
        assert!(matches!(decide(&[Ok(first)]), Outcome::Pass(_)));
    }

    #[test]
    fn an_old_password_that_still_logs_in_or_a_schedule_not_as_declared_fails() {
        let old = Rotation { old_password: Some(Attempt::Succeeded("connected".into())), ..rotation() };
        assert!(matches!(decide(&[Ok(old)]), Outcome::Fail(why, _) if why.contains("old password still logs in")));
        let schedule = Rotation { schedule_days: Some(30), ..rotation() };
        assert!(matches!(decide(&[Ok(schedule)]), Outcome::Fail(why, _) if why.contains("declared every 7 days")));
        let off = Rotation { rotation_enabled: false, ..rotation() };
        assert!(matches!(decide(&[Ok(off)]), Outcome::Fail(..)));
        let stale = Rotation { current_is_new: false, ..rotation() };
        assert!(matches!(decide(&[Ok(stale)]), Outcome::Fail(why, _) if why.contains("AWSCURRENT")));
    }

    #[test]
    fn a_refusal_that_is_not_about_the_password_and_a_drill_error_decide_nothing() {
        let network = Rotation { old_password: Some(Attempt::Refused("connection refused".into())), ..rotation() };
        assert!(matches!(decide(&[Ok(network)]), Outcome::Error(_)));
        assert!(
            matches!(decide(&[Ok(rotation()), Err("moto is down".into())]), Outcome::Error(why) if why == "moto is down")
        );
        assert!(matches!(decide(&[]), Outcome::Error(_)));
    }
}
