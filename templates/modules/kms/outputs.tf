output "key_arn" {
  description = "ARN of the database KMS key."
  value       = aws_kms_key.database.arn
}

output "key_id" {
  description = "Id of the database KMS key."
  value       = aws_kms_key.database.key_id
}

output "alias" {
  description = "Alias of the database KMS key."
  value       = aws_kms_alias.database.name
}
