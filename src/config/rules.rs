//! Semantic rules: what a well-typed environment must also satisfy before anything touches AWS or a
//! database. Each rule says what is wrong and what was expected; limits are AWS's and TimescaleDB's own.

use std::collections::BTreeSet;

use super::diagnostics::{did_you_mean, FieldPath, Finding};
use super::interval::Interval;
use super::model::*;
use crate::capabilities::{self, managed_parameter, PRELOADABLE_ON_RDS};

pub fn check(env: &Environment) -> Vec<Finding> {
    let mut r = Rules { env, out: Vec::new(), risks_taken: BTreeSet::new() };
    r.identity();
    r.engine();
    r.network();
    r.storage();
    r.parameters();
    r.kms();
    r.secrets();
    r.backup();
    r.pgbackrest();
    r.monitoring();
    r.connection();
    r.timeseries();
    r.terraform();
    r.tags();
    r.recovery_targets();
    r.unused_risks();
    r.out.extend(super::pooling::check(env));
    r.out
}

struct Rules<'e> {
    env: &'e Environment,
    out: Vec<Finding>,
    risks_taken: BTreeSet<Risk>,
}

fn p(dotted: &str) -> FieldPath {
    FieldPath::parse(dotted)
}

impl Rules<'_> {
    fn error(&mut self, path: FieldPath, message: impl Into<String>) {
        self.out.push(Finding::error(path, message));
    }

    fn warning(&mut self, path: FieldPath, message: impl Into<String>) {
        self.out.push(Finding::warning(path, message));
    }

    /// A weakened safe default: an error unless `accepted_risks` lists it, then a warning.
    fn risk(&mut self, risk: Risk, path: FieldPath, what: &str) {
        self.risks_taken.insert(risk);
        if self.env.accepted_risks.contains(&risk) {
            self.out.push(Finding::accepted_risk(path, format!("{what} (accepted risk `{}`)", risk.name())));
        } else {
            self.error(
                path,
                format!("{what}; list `{}` under `accepted_risks` to accept this on purpose", risk.name()),
            );
        }
    }

    fn provisioned(&self) -> bool {
        capabilities::of(self.env.engine.kind).provisioned
    }

    fn production(&self) -> bool {
        self.env.tier == Tier::Production
    }

    fn identity(&mut self) {
        let project = &self.env.project;
        if !is_resource_name_part(project, 20) {
            self.error(p("project"), format!("'{project}' is not usable in resource names; expected 1-20 characters of a-z, 0-9 and single '-', starting with a letter and not ending with '-'"));
        }
        let aws = &self.env.aws;
        if aws.account_id.len() != 12 || !aws.account_id.chars().all(|c| c.is_ascii_digit()) {
            self.error(
                p("aws.account_id"),
                format!("'{}' is not an AWS account id; expected 12 digits (quoted)", aws.account_id),
            );
        }
        if !is_region(&aws.region) {
            self.error(
                p("aws.region"),
                format!("'{}' is not an AWS region; expected a name such as 'us-east-1'", aws.region),
            );
        }
        if let Some(dr) = &aws.dr_region {
            if !is_region(dr) {
                self.error(
                    p("aws.dr_region"),
                    format!("'{dr}' is not an AWS region; expected a name such as 'us-west-2'"),
                );
            } else if *dr == aws.region {
                self.error(p("aws.dr_region"), "the DR region is the primary region; expected a different region");
            }
        }
    }

    fn engine(&mut self) {
        let engine = &self.env.engine;
        let caps = capabilities::of(engine.kind);
        let version = &engine.version;
        let parsed: Option<(u32, u32)> =
            version.split_once('.').and_then(|(major, minor)| Some((major.parse().ok()?, minor.parse().ok()?)));
        match parsed {
            Some((major, _)) if (13..=17).contains(&major) => {}
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

    fn network(&mut self) {
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

    fn storage(&mut self) {
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

    fn parameters(&mut self) {
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

    fn kms(&mut self) {
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

    fn secrets(&mut self) {
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

    fn backup(&mut self) {
        let b = &self.env.backup;
        let kind = self.env.engine.kind;
        let caps = capabilities::of(kind);
        if caps.provisioned {
            let max = caps.max_backup_retention_days;
            if !(1..=max).contains(&b.retention_days) {
                self.error(
                    p("backup.retention_days"),
                    format!(
                        "{} days is out of range; {} keeps automated backups 1 to {max} days",
                        b.retention_days,
                        capabilities::engine_label(kind)
                    ),
                );
            } else if self.production() && b.retention_days < 7 {
                self.error(
                    p("backup.retention_days"),
                    format!("{} days is too short for production; expected at least 7", b.retention_days),
                );
            }
        }
        let window = parse_daily_window(&b.window);
        match window {
            None => self.error(
                p("backup.window"),
                format!("'{}' is not a window; expected 'hh:mm-hh:mm' in UTC such as '02:00-04:00'", b.window),
            ),
            Some((start, end)) => {
                let length = (end + 1440 - start) % 1440;
                if length < 30 {
                    self.error(
                        p("backup.window"),
                        format!("'{}' is {length} minutes; AWS needs a backup window of at least 30 minutes", b.window),
                    );
                }
            }
        }
        match parse_weekly_window(&self.env.maintenance_window) {
            None => self.error(
                p("maintenance_window"),
                format!(
                    "'{}' is not a window; expected 'ddd:hh:mm-ddd:hh:mm' in UTC such as 'sun:04:30-sun:05:30'",
                    self.env.maintenance_window
                ),
            ),
            Some((mstart, mend)) => {
                if let Some((bstart, bend)) = window {
                    // The backup window recurs daily; check it against every day of the week.
                    let overlaps = (0..14).any(|day| {
                        let (s, e) = (day * 1440 + bstart, day * 1440 + bstart + (bend + 1440 - bstart) % 1440);
                        s < mend && mstart < e
                    });
                    if overlaps {
                        self.error(
                            p("maintenance_window"),
                            format!(
                                "'{}' overlaps the daily backup window '{}'; AWS rejects overlapping windows",
                                self.env.maintenance_window, b.window
                            ),
                        );
                    }
                }
            }
        }
        let copy = &b.cross_region_copy;
        if copy.enabled {
            if self.env.aws.dr_region.is_none() {
                self.error(
                    p("backup.cross_region_copy.enabled"),
                    "copies need a destination; expected `aws.dr_region`",
                );
            }
            if let Some(days) = copy.retention_days {
                if !(1..=3650).contains(&days) {
                    self.error(
                        p("backup.cross_region_copy.retention_days"),
                        format!("{days} days is out of range; expected 1 to 3650"),
                    );
                }
            }
        }
        if !b.final_snapshot && caps.provisioned {
            self.risk(
                Risk::NoFinalSnapshot,
                p("backup.final_snapshot"),
                "destroying the database keeps no final snapshot",
            );
        }
        if !self.env.deletion_protection && caps.provisioned {
            self.risk(
                Risk::NoDeletionProtection,
                p("deletion_protection"),
                "the database can be deleted without first turning protection off",
            );
        }
    }

    fn pgbackrest(&mut self) {
        if let Some(pgbackrest) = &self.env.backup.pgbackrest {
            self.out.extend(super::pgbackrest::check(pgbackrest, self.env.engine.kind));
        }
        self.out.extend(super::pitr::check(&self.env.acceptance.pitr_targets));
    }

    fn monitoring(&mut self) {
        let m = &self.env.monitoring;
        self.out.extend(super::monitoring::check(&m.thresholds, &m.pagerduty_routing_key_file));
        let external = !capabilities::of(self.env.engine.kind).provisioned;
        self.out.extend(super::replication::check(&self.env.replication, external));
        let kind = self.env.engine.kind;
        if !capabilities::of(kind).provisioned {
            return;
        }
        let m = &self.env.monitoring;
        let allowed: &[&str] = match kind {
            EngineKind::AuroraPostgresql => &["postgresql", "iam-db-auth-error", "instance"],
            _ => &["postgresql", "upgrade", "iam-db-auth-error"],
        };
        for (i, log) in m.log_exports.iter().enumerate() {
            if !allowed.contains(&log.as_str()) {
                self.error(
                    p("monitoring.log_exports").index(i),
                    format!(
                        "'{log}' is not a log {} exports; expected some of: {}",
                        capabilities::engine_label(kind),
                        allowed.join(", ")
                    ),
                );
            }
        }
        let days = m.performance_insights_retention_days;
        if m.performance_insights && !(days == 7 || days == 731 || (days % 31 == 0 && (31..=713).contains(&days))) {
            self.error(
                p("monitoring.performance_insights_retention_days"),
                format!("{days} days is not offered; expected 7, a multiple of 31 up to 713, or 731"),
            );
        }
        let interval = m.enhanced_monitoring_interval_seconds;
        if ![0, 1, 5, 10, 15, 30, 60].contains(&interval) {
            self.error(
                p("monitoring.enhanced_monitoring_interval_seconds"),
                format!("{interval} is not offered; expected 0, 1, 5, 10, 15, 30 or 60"),
            );
        }
    }

    fn connection(&mut self) {
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

    fn timeseries(&mut self) {
        let kind = self.env.engine.kind;
        let backend = self.env.timeseries.backend;
        if let Err(why) = capabilities::supports(kind, backend) {
            self.error(p("timeseries.backend"), why);
        }
        let features = capabilities::backend(backend);
        // On an `external` server TimescaleDB is "if installed": nothing to check offline.
        for (name, table) in &self.env.hypertables {
            let at = p("hypertables").key(name);
            identifier(&mut self.out, at.clone(), name);
            identifier(&mut self.out, at.key("time_column"), &table.time_column);
            positive(&mut self.out, at.key("chunk_interval"), &table.chunk_interval);
            if table.chunk_interval.has_months() && backend == Backend::Timescaledb {
                self.error(
                    at.key("chunk_interval"),
                    format!(
                        "'{}' has a month component; TimescaleDB needs a fixed chunk interval such as '30 days'",
                        table.chunk_interval
                    ),
                );
            }
            if let Some(retention) = &table.retention {
                positive(&mut self.out, at.key("retention"), retention);
                if retention.approx_seconds() < table.chunk_interval.approx_seconds() {
                    self.warning(at.key("retention"), format!("retention '{retention}' is shorter than one chunk ('{}'); whole chunks are dropped, so data lives up to a chunk longer", table.chunk_interval));
                }
            }
            let Some(compression) = &table.compression else {
                continue;
            };
            let c_at = at.key("compression");
            positive(&mut self.out, c_at.key("after"), &compression.after);
            if let Some(retention) = &table.retention {
                if compression.after.approx_seconds() >= retention.approx_seconds() {
                    self.warning(
                        c_at.key("after"),
                        format!(
                            "chunks are dropped (after '{retention}') before they are compressed (after '{}')",
                            compression.after
                        ),
                    );
                }
            }
            let mut segment_columns = BTreeSet::new();
            for (i, column) in compression.segment_by.iter().enumerate() {
                identifier(&mut self.out, c_at.key("segment_by").index(i), column);
                segment_columns.insert(column.as_str());
            }
            for (i, entry) in compression.order_by.iter().enumerate() {
                let o_at = c_at.key("order_by").index(i);
                match parse_order_by(entry) {
                    Err(e) => self.error(o_at, e),
                    Ok(column) if segment_columns.contains(column.as_str()) => self.error(o_at, format!("'{column}' is also in segment_by; TimescaleDB refuses a column in both segment_by and order_by")),
                    Ok(_) => {}
                }
            }
        }
        self.unprovided_features(features.compression);
        for (name, cagg) in &self.env.continuous_aggregates {
            let at = p("continuous_aggregates").key(name);
            identifier(&mut self.out, at.clone(), name);
            if backend == Backend::Native {
                if let Err(why) = cagg.refresh.schedule_interval.as_cron_schedule() {
                    self.error(
                        at.key("refresh").key("schedule_interval"),
                        format!("{why}; on the native backend pg_cron runs the refresh"),
                    );
                }
            }
            if !self.env.hypertables.contains_key(&cagg.source) {
                let hint = did_you_mean(&cagg.source, self.env.hypertables.keys().map(String::as_str))
                    .map(|c| format!("; did you mean '{c}'?"))
                    .unwrap_or_default();
                self.error(
                    at.key("source"),
                    format!("'{}' is not a hypertable of this environment{hint}", cagg.source),
                );
            }
            positive(&mut self.out, at.key("bucket"), &cagg.bucket);
            let r = &cagg.refresh;
            let r_at = at.key("refresh");
            positive(&mut self.out, r_at.key("schedule_interval"), &r.schedule_interval);
            let window = r.start_offset.approx_seconds() - r.end_offset.approx_seconds();
            if window <= 0 {
                self.error(
                    r_at.key("start_offset"),
                    format!("start_offset '{}' must be older than end_offset '{}'", r.start_offset, r.end_offset),
                );
            } else if window < 2 * cagg.bucket.approx_seconds() {
                // TimescaleDB: "policy refresh window too small" — the window must cover two buckets.
                self.error(r_at.key("start_offset"), format!("the refresh window ('{}' to '{}') covers less than two '{}' buckets; TimescaleDB refuses it, expected start_offset of at least end_offset + 2 × bucket", r.start_offset, r.end_offset, cagg.bucket));
            }
            if let Some(retention) = self.env.hypertables.get(&cagg.source).and_then(|t| t.retention.as_ref()) {
                if r.start_offset.approx_seconds() > retention.approx_seconds() {
                    self.warning(r_at.key("start_offset"), format!("the refresh window reaches past the source's retention ('{retention}'); refreshing would erase aggregates of dropped data"));
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

    /// Acceptance targets the topology cannot meet, with what would (warnings: the target may be a goal).
    fn recovery_targets(&mut self) {
        let env = self.env;
        let caps = capabilities::of(env.engine.kind);
        if !caps.provisioned {
            return;
        }
        let rto = env.acceptance.failover_rto_seconds;
        let standby = env.engine.kind == EngineKind::AuroraPostgresql && !env.engine.replicas.is_empty()
            || env.engine.kind == EngineKind::RdsPostgresql && env.engine.multi_az;
        match caps.documented_failover_seconds {
            _ if !standby => self.warning(
                p("acceptance.failover_rto_seconds"),
                format!(
                    "{rto} s cannot be met: with no standby ({}) there is no automatic failover, only instance \
                     recovery; add a Multi-AZ standby or an Aurora reader",
                    if env.engine.kind == EngineKind::AuroraPostgresql {
                        "no reader"
                    } else {
                        "engine.multi_az: false"
                    }
                ),
            ),
            Some(documented) if documented > rto => self.warning(
                p("acceptance.failover_rto_seconds"),
                format!(
                    "{rto} s is below what AWS documents for {} failover (up to {documented} s); expect HA drills \
                     to miss it, or move to {}",
                    capabilities::engine_label(env.engine.kind),
                    if env.engine.kind == EngineKind::RdsPostgresql {
                        "an RDS Multi-AZ DB cluster (under 35 s) or Aurora"
                    } else {
                        "a target of at least 60 s"
                    }
                ),
            ),
            _ => {}
        }
        let copy = &env.backup.cross_region_copy;
        if copy.enabled && env.acceptance.dr_rpo_minutes < 24 * 60 {
            self.warning(
                p("acceptance.dr_rpo_minutes"),
                format!(
                    "{} minutes cannot be met by a daily AWS Backup copy (up to 24 h of data lost); use Aurora Global \
                     Database or RDS cross-region automated-backup replication for minutes",
                    env.acceptance.dr_rpo_minutes
                ),
            );
        }
    }

    /// Everything declared that the backend cannot provide, in one warning at `timeseries.backend`, with
    /// what to do instead (once, not once per table).
    fn unprovided_features(&mut self, compresses: bool) {
        let backend = self.env.timeseries.backend;
        let mut lost = Vec::new();
        let compressed: Vec<&str> =
            self.env.hypertables.iter().filter(|(_, t)| t.compression.is_some()).map(|(n, _)| n.as_str()).collect();
        if !compresses && !compressed.is_empty() {
            lost.push(format!(
                "compression (declared for {}; ignored: plan storage for uncompressed data, or shorten retention)",
                compressed.join(", ")
            ));
        }
        let real_time: Vec<&str> =
            self.env.continuous_aggregates.iter().filter(|(_, a)| a.real_time).map(|(n, _)| n.as_str()).collect();
        if backend == Backend::Native && !real_time.is_empty() {
            lost.push(format!(
                "real-time rows (declared for {}; a materialized view is as fresh as its last refresh, so refresh it \
                 more often)",
                real_time.join(", ")
            ));
        }
        if !lost.is_empty() {
            self.warning(
                p("timeseries.backend"),
                format!(
                    "the `{}` backend cannot provide: {}; for these, run TimescaleDB on an `external` engine",
                    capabilities::backend_label(backend),
                    lost.join("; ")
                ),
            );
        }
    }

    fn terraform(&mut self) {
        let t = &self.env.terraform;
        if !self.provisioned() {
            return;
        }
        if t.state_backend == StateBackend::S3 {
            if t.state_bucket.is_none() {
                self.error(p("terraform.state_bucket"), "missing; the s3 state backend needs a bucket");
            }
            if t.lock_table.is_none() {
                self.error(p("terraform.lock_table"), "missing; the s3 state backend needs a DynamoDB lock table");
            }
        } else if self.production() {
            self.warning(
                p("terraform.state_backend"),
                "production state kept on one machine; expected `s3` with a lock table",
            );
        }
    }

    fn tags(&mut self) {
        // glctl adds `Environment` when the file does not set it; AWS allows 50 tags per resource.
        let total = self.env.tags.len() + usize::from(!self.env.tags.contains_key("Environment"));
        if total > 50 {
            self.error(p("tags"), format!("{total} tags (with Environment); AWS allows at most 50 per resource"));
        }
        for (key, value) in &self.env.tags {
            let at = p("tags").key(key);
            if key.starts_with("aws:") {
                self.error(at.clone(), "tag keys starting with 'aws:' are reserved by AWS");
            }
            // AWS counts characters (Unicode), not bytes.
            let (key_chars, value_chars) = (key.chars().count(), value.chars().count());
            if key_chars > 128 || value_chars > 256 {
                self.error(
                    at,
                    format!(
                        "too long ({key_chars}-character key, {value_chars}-character value); AWS allows 128-character keys and 256-character values"
                    ),
                );
            }
        }
    }

    fn unused_risks(&mut self) {
        for (i, risk) in self.env.accepted_risks.iter().enumerate() {
            if !self.risks_taken.contains(risk) {
                self.warning(
                    p("accepted_risks").index(i),
                    format!("`{}` is accepted but not taken; remove it so the list stays true", risk.name()),
                );
            }
        }
    }
}

/// A piece of an RDS identifier (`<project>-<environment>-…`): up to `max_len` of a-z, 0-9 and single
/// hyphens, starting with a letter and not ending with a hyphen (RDS refuses `--` and a trailing `-`; most
/// other AWS names are laxer).
pub fn is_resource_name_part(name: &str, max_len: usize) -> bool {
    !name.is_empty()
        && name.len() <= max_len
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && !name.contains("--")
}

/// RDS identifiers (clusters, instances, snapshots) are at most 63 characters.
pub const MAX_RDS_IDENTIFIER: usize = 63;

/// The RDS identifiers glctl derives for environment `name` (`<project>-<name>-<instance>`) that are too
/// long, each reported at the field that makes it so: a replica at its name, the rest at `project`.
pub fn identifier_lengths(env: &Environment, name: &str) -> Vec<Finding> {
    if !capabilities::of(env.engine.kind).provisioned {
        return Vec::new();
    }
    let prefix = format!("{}-{name}", env.project);
    let too_long = |id: &str| {
        format!(
            "'{id}' ({} characters) would be an RDS identifier; RDS allows {MAX_RDS_IDENTIFIER}: shorten the project, \
             the environment (file) name or this name",
            id.len()
        )
    };
    let mut out = Vec::new();
    let own = ["writer", "primary", "final"].iter().map(|s| format!("{prefix}-{s}")).max_by_key(String::len);
    if let Some(id) = own.filter(|id| id.len() > MAX_RDS_IDENTIFIER) {
        out.push(Finding::error(p("project"), too_long(&id)));
    }
    for (i, replica) in env.engine.replicas.iter().enumerate() {
        let id = format!("{prefix}-{}", replica.name);
        if id.len() > MAX_RDS_IDENTIFIER {
            out.push(Finding::error(p("engine.replicas").index(i).key("name"), too_long(&id)));
        }
    }
    out
}

fn positive(out: &mut Vec<Finding>, at: FieldPath, interval: &Interval) {
    if !interval.is_positive() {
        out.push(Finding::error(at, format!("'{interval}' is not a positive interval; expected e.g. '7 days'")));
    }
}

fn identifier(out: &mut Vec<Finding>, at: FieldPath, name: &str) {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        out.push(Finding::error(
            at,
            format!("'{name}' is not a plain SQL identifier; expected up to 63 of a-z, 0-9 and '_'"),
        ));
    }
}

/// `column [ASC|DESC] [NULLS FIRST|LAST]` → the column.
fn parse_order_by(entry: &str) -> Result<String, String> {
    let words: Vec<String> = entry.split_whitespace().map(str::to_ascii_uppercase).collect();
    let column = entry.split_whitespace().next().unwrap_or_default().to_string();
    let rest: Vec<&str> = words.iter().skip(1).map(String::as_str).collect();
    let valid = matches!(
        rest.as_slice(),
        [] | ["ASC"] | ["DESC"] | ["NULLS", "FIRST" | "LAST"] | ["ASC" | "DESC", "NULLS", "FIRST" | "LAST"]
    );
    if column.is_empty() || !valid {
        return Err(format!("'{entry}' is not an ordering; expected 'column [ASC|DESC] [NULLS FIRST|LAST]'"));
    }
    Ok(column)
}

fn is_region(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
        && parts.last().unwrap().chars().all(|c| c.is_ascii_digit())
}

/// `hh:mm-hh:mm` → minutes since midnight.
fn parse_daily_window(text: &str) -> Option<(u32, u32)> {
    let (a, b) = text.split_once('-')?;
    Some((hhmm(a)?, hhmm(b)?))
}

/// `ddd:hh:mm-ddd:hh:mm` → minutes since Monday 00:00.
fn parse_weekly_window(text: &str) -> Option<(u32, u32)> {
    let (a, b) = text.split_once('-')?;
    let point = |s: &str| -> Option<u32> {
        let (day, time) = s.split_once(':')?;
        let index = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].iter().position(|d| *d == day)? as u32;
        Some(index * 1440 + hhmm(time)?)
    };
    let (start, mut end) = (point(a)?, point(b)?);
    if end <= start {
        end += 7 * 1440;
    }
    Some((start, end))
}

fn hhmm(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}
