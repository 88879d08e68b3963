output "cluster_identifier" {
  description = "Aurora cluster identifier."
  value       = aws_rds_cluster.this.id
}

output "writer_endpoint" {
  description = "Cluster (writer) endpoint."
  value       = aws_rds_cluster.this.endpoint
}

output "reader_endpoint" {
  description = "Load-balanced reader endpoint."
  value       = aws_rds_cluster.this.reader_endpoint
}

output "port" {
  description = "PostgreSQL port."
  value       = aws_rds_cluster.this.port
}

output "master_secret_arn" {
  description = "ARN of the RDS-managed master secret (its value never passes through Terraform)."
  value       = aws_rds_cluster.this.master_user_secret[0].secret_arn
}

output "instance_identifiers" {
  description = "Instance identifiers by role."
  value       = { for k, i in aws_rds_cluster_instance.this : k => i.identifier }
}

output "arn" {
  description = "ARN of the Aurora cluster."
  value       = aws_rds_cluster.this.arn
}

output "resource_id" {
  description = "The cluster's resource id (cluster-…), the scope of rds-db:connect."
  value       = aws_rds_cluster.this.cluster_resource_id
}
