variable "name" {
  description = "Resource name prefix, <project>-<environment>."
  type        = string
}

variable "database_arn" {
  description = "ARN of the Aurora cluster or RDS primary to copy."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the primary-region vault."
  type        = string
}

variable "retention_days" {
  description = "Days the daily backups are kept in each region."
  type        = number
}

variable "schedule" {
  description = "When the daily backup runs (AWS Backup cron expression, UTC)."
  type        = string
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
}
