output "secret_arns" {
  description = "Secret ARNs by role."
  value       = { for role, s in aws_secretsmanager_secret.role : role => s.arn }
}
