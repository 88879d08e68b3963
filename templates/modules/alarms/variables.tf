variable "name" {
  description = "Resource name prefix, <project>-<environment>."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the alarm topic."
  type        = string
}

variable "instances" {
  description = "DB instance identifiers by role, whether each is a replica, and its memory in bytes (null: unknown)."
  type        = map(object({ identifier = string, replica = bool, memory_bytes = optional(number) }))
}

variable "aurora" {
  description = "Aurora reports replica lag as AuroraReplicaLag (ms); RDS as ReplicaLag (s)."
  type        = bool
}

variable "allocated_storage_gb" {
  description = "RDS allocated storage, for the disk-usage alarm; null for Aurora (storage grows by itself)."
  type        = number
  default     = null
}

variable "max_allocated_storage_gb" {
  description = "RDS storage autoscaling ceiling; null or equal to allocated_storage_gb when autoscaling is off."
  type        = number
  default     = null
}

variable "subscriptions" {
  description = "Email addresses or HTTPS URLs subscribed to the alarm topic."
  type        = list(string)
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
}
