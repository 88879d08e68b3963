# Rendered by glctl from environments/local.yaml — do not edit; change the environment file.
output "kms_key_arn" {
  description = "ARN of the database KMS key."
  value       = module.kms.key_arn
}

output "secret_arns" {
  description = "Secrets Manager ARNs by role."
  value       = module.secrets.secret_arns
}

