output "primary_identifier" {
  description = "Identifier of the primary instance."
  value       = aws_db_instance.primary.identifier
}

output "writer_endpoint" {
  description = "Host name of the primary."
  value       = aws_db_instance.primary.address
}

output "reader_endpoints" {
  description = "Host names of the read replicas by name."
  value       = { for k, r in aws_db_instance.replica : k => r.address }
}

output "port" {
  description = "PostgreSQL port."
  value       = aws_db_instance.primary.port
}

output "master_secret_arn" {
  description = "ARN of the RDS-managed master secret (its value never passes through Terraform)."
  value       = aws_db_instance.primary.master_user_secret[0].secret_arn
}

output "instance_identifiers" {
  description = "Instance identifiers by role."
  value       = merge({ primary = aws_db_instance.primary.identifier }, { for k, r in aws_db_instance.replica : k => r.identifier })
}

output "arn" {
  description = "ARN of the primary instance."
  value       = aws_db_instance.primary.arn
}

output "resource_id" {
  description = "The primary's resource id (db-…), the scope of rds-db:connect."
  value       = aws_db_instance.primary.resource_id
}
