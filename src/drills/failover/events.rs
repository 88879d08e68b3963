//! RDS failover events by ID. `DescribeEvents` returns no event ID (the `Event` type has Date,
//! EventCategories, Message, SourceArn, SourceIdentifier, SourceType only), so the failover events the drill
//! cross-checks are recognised by their documented messages (RDS user guide, "Amazon RDS event categories and
//! event messages"). Both wordings AWS has documented are known: the older descriptions ("A failover for the
//! DB cluster has finished.") and the current messages ("Completed failover to DB instance: name").

/// What a failover event says about the failover the drill asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meaning {
    Started,
    Completed,
    /// RDS-EVENT-0070: the cluster promotes the previous primary again.
    Restarted,
    /// RDS-EVENT-0034: RDS did not attempt the requested failover (one ran recently).
    Refused,
    /// RDS-EVENT-0069: the cluster failover failed.
    Failed,
}

impl Meaning {
    fn word(self) -> &'static str {
        match self {
            Meaning::Started => "failover started",
            Meaning::Completed => "failover completed",
            Meaning::Restarted => "failover restarted (previous primary promoted again)",
            Meaning::Refused => "failover refused",
            Meaning::Failed => "failover failed",
        }
    }
}

/// Event ID, meaning and the (lowercase) phrases of its documented messages. Order matters where one
/// message could contain another's phrase: the more specific first.
const KNOWN: &[(&str, Meaning, &[&str])] = &[
    // DB instance (Multi-AZ instance).
    ("RDS-EVENT-0034", Meaning::Refused, &["attempting a requested failover"]),
    (
        "RDS-EVENT-0013",
        Meaning::Started,
        &["promotion of a standby instance has started", "multi-az instance failover started"],
    ),
    (
        "RDS-EVENT-0015",
        Meaning::Completed,
        &["promotion of a standby instance is complete", "multi-az failover to standby complete"],
    ),
    (
        "RDS-EVENT-0049",
        Meaning::Completed,
        &["multi-az failover has completed", "multi-az instance failover completed"],
    ),
    // DB cluster (Aurora, Multi-AZ DB cluster).
    ("RDS-EVENT-0069", Meaning::Failed, &["failover for the db cluster has failed", "cluster failover failed"]),
    (
        "RDS-EVENT-0070",
        Meaning::Restarted,
        &["failover for the db cluster has restarted", "promoting previous primary again"],
    ),
    (
        "RDS-EVENT-0071",
        Meaning::Completed,
        &["failover for the db cluster has finished", "completed failover to db instance"],
    ),
    ("RDS-EVENT-0072", Meaning::Started, &["has begun within the same availability zone", "started same az failover"]),
    ("RDS-EVENT-0073", Meaning::Started, &["has begun across availability zones", "started cross az failover"]),
];

/// The event ID and meaning of a failover event's message, if it is one the drill knows.
pub fn identify(message: &str) -> Option<(&'static str, Meaning)> {
    let text = message.to_lowercase().replace('\u{2019}', "'");
    KNOWN
        .iter()
        .find(|(_, _, phrases)| phrases.iter().any(|p| text.contains(p)))
        .map(|(id, meaning, _)| (*id, *meaning))
}

/// The events as evidence lines (ID and meaning where known), and why the failover was refused or failed
/// where an event says so (then the drill is an ERROR, whatever the client saw).
pub fn read(messages: &[String]) -> (Vec<String>, Option<String>) {
    let mut shown = Vec::new();
    let mut refusal = None;
    for message in messages {
        match identify(message) {
            Some((id, meaning)) => {
                shown.push(format!("{id} ({}): \"{message}\"", meaning.word()));
                if refusal.is_none() {
                    refusal = match meaning {
                        Meaning::Refused => Some(format!("RDS refused the failover: {id} \"{message}\"")),
                        Meaning::Failed => Some(format!("RDS failed the failover: {id} \"{message}\"")),
                        _ => None,
                    };
                }
            }
            None => shown.push(format!("(no known failover event ID): \"{message}\"")),
        }
    }
    (shown, refusal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_failover_messages_map_to_their_event_ids() {
        for (message, id, meaning) in [
            ("A Multi-AZ failover that resulted in the promotion of a standby instance has started.", "RDS-EVENT-0013", Meaning::Started),
            ("Multi-AZ instance failover started.", "RDS-EVENT-0013", Meaning::Started),
            (
                "A Multi-AZ failover that resulted in the promotion of a standby instance is complete. It may take several minutes for the DNS to transfer to the new primary DB instance.",
                "RDS-EVENT-0015",
                Meaning::Completed,
            ),
            ("Multi-AZ failover to standby complete - DNS propagation may take a few minutes.", "RDS-EVENT-0015", Meaning::Completed),
            ("A Multi-AZ failover has completed.", "RDS-EVENT-0049", Meaning::Completed),
            ("Multi-AZ instance failover completed.", "RDS-EVENT-0049", Meaning::Completed),
            (
                "Amazon RDS is not attempting a requested failover because a failover recently occurred on the DB instance.",
                "RDS-EVENT-0034",
                Meaning::Refused,
            ),
            ("A failover for the DB cluster has failed.", "RDS-EVENT-0069", Meaning::Failed),
            ("Cluster failover failed, check the health of your cluster instances and try again.", "RDS-EVENT-0069", Meaning::Failed),
            ("A failover for the DB cluster has restarted.", "RDS-EVENT-0070", Meaning::Restarted),
            ("A failover for the DB cluster has finished.", "RDS-EVENT-0071", Meaning::Completed),
            ("Completed failover to DB instance: db-2", "RDS-EVENT-0071", Meaning::Completed),
            ("A failover for the DB cluster has begun within the same Availability Zone.", "RDS-EVENT-0072", Meaning::Started),
            ("Started same AZ failover to DB instance: db-2", "RDS-EVENT-0072", Meaning::Started),
            ("A failover for the DB cluster has begun across Availability Zones.", "RDS-EVENT-0073", Meaning::Started),
            ("Started cross AZ failover to DB instance: db-2", "RDS-EVENT-0073", Meaning::Started),
        ] {
            assert_eq!(identify(message), Some((id, meaning)), "{message}");
        }
        assert_eq!(identify("The DB instance restarted."), None);
    }

    #[test]
    fn a_refused_or_failed_failover_is_named_by_its_event() {
        let (shown, refusal) = read(&[
            "Started cross AZ failover to DB instance: db-2".into(),
            "Cluster failover failed, check the health of your cluster instances and try again.".into(),
        ]);
        assert_eq!(shown[0], "RDS-EVENT-0073 (failover started): \"Started cross AZ failover to DB instance: db-2\"");
        assert!(refusal.unwrap().starts_with("RDS failed the failover: RDS-EVENT-0069 \"Cluster failover failed"));
        let (_, refusal) = read(&[
            "Amazon RDS is not attempting a requested failover because a failover recently occurred on the DB instance.".into(),
        ]);
        assert!(refusal.unwrap().starts_with("RDS refused the failover: RDS-EVENT-0034"));
        let (shown, refusal) = read(&["Multi-AZ instance failover completed.".into(), "Something else.".into()]);
        assert_eq!(refusal, None);
        assert_eq!(shown[1], "(no known failover event ID): \"Something else.\"");
    }
}
