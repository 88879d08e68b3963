output "plan_id" {
  description = "AWS Backup plan that copies the database to the DR region."
  value       = aws_backup_plan.database.id
}

output "dr_vault_arn" {
  description = "Vault in the DR region that holds the copies."
  value       = aws_backup_vault.dr.arn
}
