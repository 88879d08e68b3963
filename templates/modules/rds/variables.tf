variable "name" {
  description = "Resource name prefix, <project>-<environment>."
  type        = string
}

variable "engine_version" {
  description = "PostgreSQL version, major.minor."
  type        = string
}

variable "allow_major_version_upgrade" {
  description = "Allow this change of engine_version to be a major version upgrade (AWS refuses one without it)."
  type        = bool
  default     = false
}

variable "parameter_family" {
  description = "Parameter group family, e.g. postgres16."
  type        = string
}

variable "primary" {
  description = "The primary instance."
  type = object({
    instance_class    = string
    availability_zone = string
  })
}

variable "multi_az" {
  description = "Keep a synchronous standby of the primary in another AZ."
  type        = bool
}

variable "replicas" {
  description = "Read replicas by name."
  type = map(object({
    instance_class    = string
    availability_zone = string
  }))
}

variable "storage" {
  description = "Storage type (gp3, io1, io2), size and ceiling in GiB, IOPS and throughput (null: the type's baseline)."
  type = object({
    type             = string
    allocated_gb     = number
    max_allocated_gb = optional(number)
    iops             = optional(number)
    throughput_mibps = optional(number)
  })
}

variable "parameters" {
  description = "Parameter group entries: name, value, apply_method."
  type        = list(object({ name = string, value = string, apply_method = string }))
}

variable "database_name" {
  description = "Initial database."
  type        = string
}

variable "subnet_ids" {
  description = "Database subnets, at least two AZs."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the cluster."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "KMS key for storage, Performance Insights and the master secret."
  type        = string
}

variable "storage_encrypted" {
  description = "Encrypt storage at rest."
  type        = bool
}

variable "master_secret_rotation_days" {
  description = "Days between rotations of the RDS-managed master secret."
  type        = number
}

variable "backup_retention_days" {
  description = "Days of automated backups (1-35)."
  type        = number
}

variable "backup_window" {
  description = "Daily backup window, hh:mm-hh:mm UTC."
  type        = string
}

variable "maintenance_window" {
  description = "Weekly maintenance window, ddd:hh:mm-ddd:hh:mm UTC."
  type        = string
}

variable "log_exports" {
  description = "Logs exported to CloudWatch Logs."
  type        = list(string)
}

variable "performance_insights" {
  description = "Performance Insights on every instance."
  type        = bool
}

variable "performance_insights_retention_days" {
  description = "Days Performance Insights keeps data."
  type        = number
}

variable "monitoring_interval" {
  description = "Enhanced monitoring interval in seconds (0 turns it off)."
  type        = number
}

variable "deletion_protection" {
  description = "Refuse to delete the cluster."
  type        = bool
}

variable "final_snapshot" {
  description = "Take a final snapshot when the cluster is destroyed."
  type        = bool
}

variable "publicly_accessible" {
  description = "Give instances a public IP."
  type        = bool
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
}
