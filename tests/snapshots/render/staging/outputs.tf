# Rendered by glctl from environments/staging.yaml — do not edit; change the environment file.
output "kms_key_arn" {
  description = "ARN of the database KMS key."
  value       = module.kms.key_arn
}

output "secret_arns" {
  description = "Secrets Manager ARNs by role."
  value       = module.secrets.secret_arns
}

output "security_group_id" {
  description = "Id of the database security group."
  value       = module.network_access.security_group_id
}

output "writer_endpoint" {
  description = "Where the SQL stage connects (cluster writer endpoint or RDS primary)."
  value       = module.database.writer_endpoint
}

output "port" {
  description = "PostgreSQL port."
  value       = module.database.port
}

output "master_secret_arn" {
  description = "ARN of the RDS-managed master secret."
  value       = module.database.master_secret_arn
}

output "instance_identifiers" {
  description = "DB instance identifiers by role."
  value       = module.database.instance_identifiers
}

output "alarm_topic_arn" {
  description = "SNS topic of the database alarms."
  value       = module.alarms.topic_arn
}

