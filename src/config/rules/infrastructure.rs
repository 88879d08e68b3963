//! Rules for what glctl provisions: the engine and its instances, the network, storage, parameters, the key,
//! secrets and how glctl connects.

use std::collections::BTreeSet;

use super::{is_region, p};
use crate::config::diagnostics::{did_you_mean, FieldPath};
use crate::config::model::{EngineKind, LoginAuth, Risk, StorageType, TlsMode};
use crate::engine::capabilities::{self, managed_parameter, PRELOADABLE_ON_RDS};
use crate::engine::versions;

impl super::Rules<'_> {
    pub(super) fn engine(&mut self) {
        let engine = &self.env.engine;
        let caps = capabilities::of(engine.kind);
        let version = &engine.version;
        let parsed: Option<(u32, u32)> =
            version.split_once('.').and_then(|(major, minor)| Some((major.parse().ok()?, minor.parse().ok()?)));
        match parsed {
            Some((major, _)) if (13..=17).contains(&major) => {
                // RDS and Aurora create only the versions AWS offers; an external server runs what it runs.
                if caps.provisioned && versions::find(engine.kind, version).is_none() {
                    self.error(
                        p("engine.version"),
                        format!(
                            "{} does not offer PostgreSQL {version} (glctl's version table, src/engine/versions.tsv); \
                             expected a version it offers, nearest: {}",
                            capabilities::engine_label(engine.kind),
                            versions::nearest(engine.kind, version, 3).join(", ")
                        ),
                    );
                }
            }
            Some((major, _)) => self.error(
                p("engine.version"),
                format!("PostgreSQL {major} is not offered; expected major version 13 to 17"),
            ),
            None => self.error(
                p("engine.version"),
                format!("'{version}' is not a PostgreSQL version; expected 'major.minor' such as '16.6'"),
            ),
        }
        if !caps.provisioned {
            if engine.writer.is_some() || !engine.replicas.is_empty() || engine.multi_az {
                self.warning(
                    p("engine.writer"),
                    "instances are ignored for an external server (glctl does not provision it)",
                );
            }
            return;
        }
        let Some(writer) = &engine.writer else {
            self.error(
                p("engine.writer"),
                format!(
                    "missing; {} needs a writer instance (instance_class, availability_zone)",
                    capabilities::engine_label(engine.kind)
                ),
            );
            return;
        };
        self.instance_class(&p("engine.writer.instance_class"), &writer.instance_class);
        self.zone(&p("engine.writer.availability_zone"), &writer.availability_zone);
        if engine.multi_az && !caps.multi_az_flag {
            self.warning(p("engine.multi_az"), "Aurora keeps six copies of storage across three AZs itself; high availability comes from readers in other AZs, so `multi_az` is ignored");
        }
        if engine.replicas.len() > caps.max_replicas {
            self.error(
                p("engine.replicas"),
                format!(
                    "{} replicas; {} allows at most {}",
                    engine.replicas.len(),
                    capabilities::engine_label(engine.kind),
                    caps.max_replicas
                ),
            );
        }
        let mut names = BTreeSet::new();
        for (i, replica) in engine.replicas.iter().enumerate() {
            let at = p("engine.replicas").index(i);
            if !names.insert(replica.name.as_str()) {
                self.error(
                    at.key("name"),
                    format!("replica name '{}' is used twice; expected unique names", replica.name),
                );
            }
            if replica.name.is_empty()
                || !replica.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                self.error(
                    at.key("name"),
                    format!("'{}' is not usable in an instance identifier; expected a-z, 0-9 and '-'", replica.name),
                );
            }
            self.instance_class(&at.key("instance_class"), &replica.instance_class);
            self.zone(&at.key("availability_zone"), &replica.availability_zone);
            if replica.availability_zone == writer.availability_zone {
                self.warning(
                    at.key("availability_zone"),
                    format!(
                        "replica '{}' is in the writer's AZ {}; it does not survive an AZ failure",
                        replica.name, writer.availability_zone
                    ),
                );
            }
            if replica.promotion_tier > 15 {
                self.error(
                    at.key("promotion_tier"),
                    format!("{} is out of range; expected 0 to 15", replica.promotion_tier),
                );
            }
        }
        let zones: BTreeSet<&str> = std::iter::once(writer.availability_zone.as_str())
            .chain(engine.replicas.iter().map(|r| r.availability_zone.as_str()))
            .collect();
        let survives_az_loss = zones.len() >= 2 || (caps.multi_az_flag && engine.multi_az);
        if self.production() && !survives_az_loss {
            self.risk(
                Risk::SingleAz,
                p("engine.replicas"),
                "a production database without a replica or standby in a second AZ does not survive an AZ failure",
            );
        }
    }

    fn instance_class(&mut self, at: &FieldPath, class: &str) {
        let caps = capabilities::of(self.env.engine.kind);
        let parts: Vec<&str> = class.split('.').collect();
        let offered = |family: &str| caps.instance_families.contains(&family);
        match parts.as_slice() {
            ["db", "serverless"] if offered("serverless") => {}
            ["db", family, size] if offered(family) => {
                if capabilities::instance_size_exists(family, size) == Some(false) {
                    self.error(
                        at.clone(),
                        format!(
                            "'{class}': db.{family} has no size '{size}'; expected one of: {}",
                            capabilities::instance_sizes(family).join(", ")
                        ),
                    );
                }
            }
            ["db", family, _] => {
                self.error(
                    at.clone(),
                    format!(
                        "instance family '{family}' is not offered for {}; expected one of: {}",
                        capabilities::engine_label(self.env.engine.kind),
                        caps.instance_families.join(", ")
                    ),
                );
            }
            [family, size] if offered(family) && capabilities::instance_size_exists(family, size) == Some(true) => {
                self.error(at.clone(), format!("'{class}' is not an RDS instance class; did you mean 'db.{class}'?"));
            }
            _ => self.error(
                at.clone(),
                format!(
                    "'{class}' is not an RDS instance class; expected 'db.<family>.<size>' such as 'db.r6g.xlarge'"
                ),
            ),
        }
    }

    fn zone(&mut self, at: &FieldPath, zone: &str) {
        let region = &self.env.aws.region;
        if !is_region(region) {
            return; // reported once, at aws.region
        }
        let suffix_ok = zone
            .strip_prefix(region.as_str())
            .is_some_and(|s| s.len() == 1 && s.chars().all(|c| c.is_ascii_lowercase()));
        if !suffix_ok {
            self.error(
                at.clone(),
                format!("'{zone}' is not an availability zone of {region}; expected e.g. '{region}a'"),
            );
        }
    }

    pub(super) fn network(&mut self) {
        let net = &self.env.network;
        if self.provisioned() {
            match &net.vpc_id {
                Some(id) if id.starts_with("vpc-") => {}
                Some(id) => self.error(p("network.vpc_id"), format!("'{id}' is not a VPC id; expected 'vpc-…'")),
                None => self
                    .error(p("network.vpc_id"), "missing; a provisioned database needs the VPC that holds its subnets"),
            }
            if net.database_subnet_ids.len() < 2 {
                self.error(
                    p("network.database_subnet_ids"),
                    format!(
                        "{} subnet(s); a DB subnet group needs subnets in at least two AZs",
                        net.database_subnet_ids.len()
                    ),
                );
            }
            for (i, id) in net.database_subnet_ids.iter().enumerate() {
                if !id.starts_with("subnet-") {
                    self.error(
                        p("network.database_subnet_ids").index(i),
                        format!("'{id}' is not a subnet id; expected 'subnet-…'"),
                    );
                }
            }
            for (i, id) in net.allowed_security_group_ids.iter().enumerate() {
                if !id.starts_with("sg-") {
                    self.error(
                        p("network.allowed_security_group_ids").index(i),
                        format!("'{id}' is not a security group id; expected 'sg-…'"),
                    );
                }
            }
            if net.allowed_security_group_ids.is_empty() && net.allowed_cidrs.is_empty() {
                self.warning(
                    p("network.allowed_security_group_ids"),
                    "no security group or CIDR may reach port 5432; nothing will be able to connect",
                );
            }
            if let Some(id) = &net.s3_prefix_list_id {
                if !id.starts_with("pl-") {
                    self.error(
                        p("network.s3_prefix_list_id"),
                        format!("'{id}' is not a prefix list id; expected 'pl-…'"),
                    );
                }
            }
        }
        for (i, cidr) in net.allowed_cidrs.iter().enumerate() {
            let at = p("network.allowed_cidrs").index(i);
            match cidr.parse::<ipnet::IpNet>() {
                Ok(net) if net.prefix_len() == 0 => {
                    self.risk(Risk::PublicAccess, at, &format!("{cidr} lets the whole internet reach port 5432"))
                }
                Ok(net) if net.network() != net.addr() => self
                    .error(at, format!("'{cidr}' has host bits set; expected the network address '{}'", net.trunc())),
                Ok(_) => {}
                Err(_) => self.error(at, format!("'{cidr}' is not a CIDR block; expected e.g. '10.0.11.0/24'")),
            }
        }
        if net.publicly_accessible {
            self.risk(Risk::PublicAccess, p("network.publicly_accessible"), "the database gets a public IP address");
        }
    }

    pub(super) fn storage(&mut self) {
        let kind = self.env.engine.kind;
        let caps = capabilities::of(kind);
        let s = &self.env.storage;
        if !s.encrypted {
            self.risk(Risk::UnencryptedStorage, p("storage.encrypted"), "storage is not encrypted at rest");
        }
        if !caps.provisioned {
            return;
        }
        if !caps.storage_types.contains(&s.r#type) {
            let allowed: Vec<String> = caps
                .storage_types
                .iter()
                .map(|t| serde_json::to_value(t).unwrap().as_str().unwrap().to_string())
                .collect();
            self.error(
                p("storage.type"),
                format!(
                    "not offered for {}; expected one of: {}",
                    capabilities::engine_label(kind),
                    allowed.join(", ")
                ),
            );
        }
        if !caps.sized_storage {
            for (field, set) in [
                ("allocated_gb", s.allocated_gb.is_some()),
                ("max_allocated_gb", s.max_allocated_gb.is_some()),
                ("iops", s.iops.is_some()),
                ("throughput_mibps", s.throughput_mibps.is_some()),
            ] {
                if set {
                    self.warning(p("storage").key(field), "ignored: Aurora sizes and scales its storage itself");
                }
            }
            return;
        }
        let Some(allocated) = s.allocated_gb else {
            self.error(p("storage.allocated_gb"), "missing; RDS needs the initial storage size in GiB (20 to 65536)");
            return;
        };
        if !(20..=65536).contains(&allocated) {
            self.error(p("storage.allocated_gb"), format!("{allocated} GiB is out of range; expected 20 to 65536"));
        }
        if let Some(max) = s.max_allocated_gb {
            self.autoscaling_ceiling(allocated, max);
        }
        match s.r#type {
            StorageType::Gp3 => {
                // AWS: below 400 GiB gp3 has a fixed baseline (3000 IOPS, 125 MiB/s) that cannot be changed.
                if allocated < 400 && (s.iops.is_some() || s.throughput_mibps.is_some()) {
                    self.error(p("storage.iops"), format!("gp3 below 400 GiB has fixed 3000 IOPS and 125 MiB/s; remove iops/throughput_mibps or allocate at least 400 GiB (have {allocated})"));
                } else {
                    if let Some(iops) = s.iops {
                        if !(12_000..=64_000).contains(&iops) {
                            self.error(
                                p("storage.iops"),
                                format!(
                                    "{iops} IOPS is out of range for gp3 at 400 GiB or more; expected 12000 to 64000"
                                ),
                            );
                        }
                    }
                    if let Some(mibps) = s.throughput_mibps {
                        if !(500..=4000).contains(&mibps) {
                            self.error(
                                p("storage.throughput_mibps"),
                                format!(
                                    "{mibps} MiB/s is out of range for gp3 at 400 GiB or more; expected 500 to 4000"
                                ),
                            );
                        }
                    }
                }
            }
            StorageType::Io1 | StorageType::Io2 => {
                if s.iops.is_none() {
                    self.error(p("storage.iops"), "missing; io1/io2 storage needs provisioned IOPS");
                }
                // AWS: with autoscaling on Provisioned IOPS, IOPS per GiB of the ceiling must be 0.5 to 50.
                if let (Some(iops), Some(max)) = (s.iops, s.max_allocated_gb.filter(|&max| max > allocated)) {
                    let (iops, max) = (u64::from(iops), u64::from(max));
                    if iops * 2 < max || iops > max * 50 {
                        self.error(p("storage.max_allocated_gb"), format!("{max} GiB with {iops} IOPS is outside AWS's 0.5 to 50 IOPS per GiB of the autoscaling ceiling; expected a ceiling from {} to {} GiB", iops.div_ceil(50), iops * 2));
                    }
                }
                if s.throughput_mibps.is_some() {
                    self.error(
                        p("storage.throughput_mibps"),
                        "throughput is set only for gp3; expected no value for io1/io2",
                    );
                }
            }
            _ => {}
        }
    }

    /// RDS storage autoscaling (user guide, "Managing capacity automatically"): a ceiling equal to the allocation
    /// turns autoscaling off; one above it must be at least 10% above (RDS refuses less as "Invalid max storage
    /// size"), and under 26% above, RDS reports RDS-EVENT-0225 (allocation at 80% of the ceiling) from day one —
    /// an event glctl routes to the alarm topic.
    fn autoscaling_ceiling(&mut self, allocated: u32, max: u32) {
        let at = p("storage.max_allocated_gb");
        let (allocated_wide, max_wide) = (u64::from(allocated), u64::from(max));
        if max < allocated {
            self.error(
                at,
                format!(
                    "{max} GiB is below allocated_gb ({allocated}); expected a ceiling at or above the initial size"
                ),
            );
        } else if max > allocated && max_wide * 10 < allocated_wide * 11 {
            let least = (allocated_wide * 11).div_ceil(10);
            self.error(at, format!("{max} GiB is less than 10% above allocated_gb ({allocated}), which RDS refuses; expected at least {least} GiB, or {allocated} to turn storage autoscaling off"));
        } else if max > allocated && max_wide * 100 < allocated_wide * 126 {
            let advised = (allocated_wide * 126).div_ceil(100);
            self.warning(at, format!("{max} GiB is less than 26% above allocated_gb ({allocated}): the allocation is already at 80% of the ceiling or more, so RDS raises RDS-EVENT-0225 (\"approaching the maximum storage threshold\") on the alarm topic from the start; AWS advises at least {advised} GiB"));
        }
    }

    pub(super) fn parameters(&mut self) {
        let kind = self.env.engine.kind;
        // PRD ST-07 (audit logs capture DDL) and slow-query logging: production logs both.
        if self.production() && self.provisioned() {
            for required in ["log_statement", "log_min_duration_statement"] {
                if !self.env.parameters.contains_key(required) {
                    self.error(
                        p("parameters"),
                        format!("production must log statements: expected `{required}` (e.g. log_statement: ddl, log_min_duration_statement: \"1000\")"),
                    );
                }
            }
        }
        for (name, value) in &self.env.parameters {
            let at = p("parameters").key(name);
            if name.is_empty()
                || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
            {
                self.error(
                    at.clone(),
                    format!(
                        "'{name}' is not a PostgreSQL parameter name; expected lowercase letters, digits, '_' and '.'"
                    ),
                );
                continue;
            }
            if let Some(reason) = managed_parameter(kind, name, &value.0) {
                self.error(at.clone(), format!("cannot be set on {}: {reason}", capabilities::engine_label(kind)));
                continue;
            }
            if capabilities::of(kind).provisioned {
                match crate::engine::parameters::for_parameter_group(name, &value.0) {
                    Err(e) => {
                        self.error(at.clone(), e);
                        continue;
                    }
                    Ok(converted) => self.memory_fits(&at, name, &value.0, &converted.value),
                }
            }
            let major: u32 = self.env.engine.version.split('.').next().and_then(|m| m.parse().ok()).unwrap_or(0);
            if name == "ssl_min_protocol_version"
                && value.0.trim_matches('\'') == "TLSv1.3"
                && kind == EngineKind::RdsPostgresql
                && major < 16
            {
                self.error(at.clone(), format!("TLSv1.3 needs RDS for PostgreSQL 16 or later (engine.version is {}); expected TLSv1.2, or a newer engine", self.env.engine.version));
            }
            if name == "synchronous_commit"
                && value.0.trim_matches('\'') == "remote_apply"
                && capabilities::of(kind).provisioned
            {
                self.warning(at.clone(), format!("remote_apply waits for a synchronous standby, which {} does not let you configure; it behaves like `on` there", capabilities::engine_label(kind)));
            }
            if name == "shared_preload_libraries" && capabilities::of(kind).provisioned {
                for lib in value.0.split(',').map(|l| l.trim().trim_matches('\'')).filter(|l| !l.is_empty()) {
                    if lib == "timescaledb" {
                        self.error(at.clone(), format!("{} does not offer TimescaleDB, so it cannot be preloaded; remove it (the `native` backend needs pg_cron)", capabilities::engine_label(kind)));
                    } else if !PRELOADABLE_ON_RDS.contains(&lib) {
                        self.error(
                            at.clone(),
                            format!(
                                "'{lib}' cannot be preloaded on {}; expected some of: {}",
                                capabilities::engine_label(kind),
                                PRELOADABLE_ON_RDS.join(", ")
                            ),
                        );
                    }
                }
            }
        }
    }

    /// A memory parameter given in absolute units goes to every instance of the parameter group: warn where it
    /// exceeds an instance's memory (a formula over DBInstanceClassMemory scales instead).
    fn memory_fits(&mut self, at: &FieldPath, name: &str, written: &str, converted: &str) {
        let Some(unit) = crate::engine::parameters::memory_unit_bytes(name) else { return };
        let Ok(units) = converted.parse::<u64>() else { return };
        let bytes = units.saturating_mul(unit);
        let engine = &self.env.engine;
        let classes =
            engine.writer.iter().map(|w| &w.instance_class).chain(engine.replicas.iter().map(|r| &r.instance_class));
        let mut too_small: Vec<String> = classes
            .filter_map(|class| capabilities::instance_memory_gib(class).map(|gib| (class, gib)))
            .filter(|(_, gib)| bytes > gib.saturating_mul(1 << 30))
            .map(|(class, gib)| format!("{class} ({gib} GiB)"))
            .collect();
        too_small.dedup();
        if !too_small.is_empty() {
            self.warning(
                at.clone(),
                format!(
                    "{written} is more than the memory of {}, which gets the same parameter group; use a formula such as {{DBInstanceClassMemory*3/32768}} (75% in 8 kB pages) that scales with each instance",
                    too_small.join(", ")
                ),
            );
        }
    }

    pub(super) fn kms(&mut self) {
        let kms = &self.env.kms;
        if !(90..=2560).contains(&kms.rotation_period_days) {
            self.error(
                p("kms.rotation_period_days"),
                format!("{} days is out of range; expected 90 to 2560", kms.rotation_period_days),
            );
        }
        if !(7..=30).contains(&kms.deletion_window_days) {
            self.error(
                p("kms.deletion_window_days"),
                format!("{} days is out of range; expected 7 to 30", kms.deletion_window_days),
            );
        }
        if !kms.enable_rotation && self.production() {
            self.error(p("kms.enable_rotation"), "production keys must rotate; expected true");
        }
        for (field, arns) in [("administrators", &kms.administrators), ("users", &kms.users)] {
            for (i, arn) in arns.iter().enumerate() {
                if !arn.starts_with("arn:aws:iam::") {
                    self.error(
                        p("kms").key(field).index(i),
                        format!("'{arn}' is not an IAM principal ARN; expected 'arn:aws:iam::<account>:role/<name>'"),
                    );
                }
            }
        }
    }

    pub(super) fn secrets(&mut self) {
        for (role, secret) in &self.env.secrets {
            let at = p("secrets").key(role);
            if secret.auth == LoginAuth::Iam {
                if !self.provisioned() {
                    self.error(
                        at.key("auth"),
                        "an external server has no IAM database authentication; expected `password`",
                    );
                } else if role == "master" || role == &self.env.connection.credentials_secret {
                    self.error(at.key("auth"), "glctl connects with this secret's password; expected `password`");
                }
                if secret.rotation_days.is_some() {
                    self.error(
                        at.key("rotation_days"),
                        "an IAM login has no password to rotate; remove rotation_days or use `auth: password`",
                    );
                }
            }
            let name_ok = !secret.name.is_empty()
                && secret.name.len() <= 512
                && secret.name.chars().all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c));
            if !name_ok {
                self.error(
                    at.key("name"),
                    format!(
                        "'{}' is not a Secrets Manager name; expected up to 512 of A-Z a-z 0-9 / _ + = . @ -",
                        secret.name
                    ),
                );
            }
            match secret.rotation_days {
                Some(days) if !(1..=1000).contains(&days) => {
                    self.error(at.key("rotation_days"), format!("{days} days is out of range; expected 1 to 1000"))
                }
                None if self.production() => {
                    self.warning(at.key("rotation_days"), "this production secret never rotates")
                }
                Some(days) if self.production() && days > 90 => self.error(
                    at.key("rotation_days"),
                    format!("{days} days is too long for production; expected at most 90 (SOC 2; checkov CKV_AWS_304)"),
                ),
                _ => {}
            }
        }
        match &self.env.rotation_lambda_arn {
            Some(arn) if !arn.starts_with("arn:aws:lambda:") => self.error(
                p("rotation_lambda_arn"),
                format!("'{arn}' is not a Lambda ARN; expected 'arn:aws:lambda:<region>:<account>:function:<name>'"),
            ),
            None if self.production() && self.env.secrets.keys().any(|k| k != "master") => self.warning(
                p("rotation_lambda_arn"),
                "no rotation function: the application and read-only secrets will not rotate",
            ),
            _ => {}
        }
        // Also for an external server: without --database-url the SQL stage reads its credentials from
        // this secret, and an external server has no RDS-managed master secret.
        let wanted = &self.env.connection.credentials_secret;
        if !self.env.secrets.contains_key(wanted) {
            let hint = did_you_mean(wanted, self.env.secrets.keys().map(String::as_str))
                .map(|c| format!("; did you mean '{c}'?"))
                .unwrap_or_default();
            self.error(p("connection.credentials_secret"), format!("'{wanted}' is not a key of `secrets`{hint}"));
        }
    }

    pub(super) fn connection(&mut self) {
        let c = &self.env.connection;
        match c.tls_mode {
            TlsMode::Disable => {
                self.risk(Risk::TlsDisabled, p("connection.tls_mode"), "the SQL stage connects without TLS")
            }
            TlsMode::Require | TlsMode::VerifyCa => self.risk(
                Risk::TlsUnverified,
                p("connection.tls_mode"),
                "the server's certificate is not checked against its host name",
            ),
            TlsMode::VerifyFull => {}
        }
        let verifies = matches!(c.tls_mode, TlsMode::VerifyFull | TlsMode::VerifyCa);
        if verifies && c.ca_bundle.is_none() && self.provisioned() {
            self.error(
                p("connection.ca_bundle"),
                "missing; verifying an RDS certificate needs the RDS CA bundle (e.g. global-bundle.pem)",
            );
        }
        if !self.provisioned() && c.host.is_none() {
            self.error(
                p("connection.host"),
                "missing; glctl does not provision an external server, so it needs its host",
            );
        }
    }
}
