//! Alertmanager routing to PagerDuty (Events API v2): one receiver per severity, so a critical alert opens
//! a high-urgency incident and a warning a low-urgency one (PagerDuty derives urgency from the event's
//! severity when the service uses severity-based urgency). The routing key is read from a file mounted
//! from a secret (`routing_key_file`); it never appears in anything glctl writes.

use serde_json::{json, Value};

use super::rules::Severity;
use crate::config::model::Environment;

pub fn receiver(severity: Severity) -> String {
    format!("pagerduty-{}", severity.as_str())
}

pub fn render(env: &Environment, name: &str) -> Value {
    let key_file = &env.monitoring.pagerduty_routing_key_file;
    let pagerduty = |severity: Severity| {
        json!({
            "name": receiver(severity),
            "pagerduty_configs": [{
                "routing_key_file": key_file,
                "send_resolved": true,
                "severity": severity.as_str(),
                "client": "glctl",
                "description": "{{ .CommonAnnotations.summary }}",
                "details": {
                    "environment": name,
                    "alert": "{{ .CommonLabels.alertname }}",
                    "instance": "{{ .CommonLabels.instance }}",
                    "firing": "{{ .Alerts.Firing | len }}",
                    "description": "{{ .CommonAnnotations.description }}",
                    "runbook": "{{ .CommonAnnotations.runbook }}",
                },
            }],
        })
    };
    json!({
        "route": {
            "receiver": receiver(Severity::Warning),
            "group_by": ["alertname", "instance"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": [
                {
                    "receiver": receiver(Severity::Critical),
                    "matchers": [format!("environment=\"{name}\""), "severity=\"critical\""],
                    "repeat_interval": "1h",
                },
                {
                    "receiver": receiver(Severity::Warning),
                    "matchers": [format!("environment=\"{name}\""), "severity=\"warning\""],
                },
            ],
        },
        // A critical alert silences the warning of the same condition on the same instance.
        "inhibit_rules": [{
            "source_matchers": ["severity=\"critical\""],
            "target_matchers": ["severity=\"warning\""],
            "equal": ["alertname", "instance"],
        }],
        "receivers": [pagerduty(Severity::Critical), pagerduty(Severity::Warning)],
    })
}
