variable "name" {
  description = "Resource name prefix, <project>-<environment>; the proxy's name."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the secrets the proxy reads."
  type        = string
}

variable "secret_arns" {
  description = "Secrets Manager ARNs of the logins the proxy authenticates to the database with, by role."
  type        = map(string)
}

variable "iam_auth" {
  description = "REQUIRED: clients authenticate to the proxy with IAM tokens; DISABLED: with the secrets' passwords."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets the proxy runs in (the database's)."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the proxy (the database's managed group)."
  type        = list(string)
}

variable "db_cluster_identifier" {
  description = "Aurora: the cluster the proxy fronts."
  type        = string
  default     = null
}

variable "db_instance_identifier" {
  description = "RDS: the primary instance the proxy fronts."
  type        = string
  default     = null
}

variable "max_connections_percent" {
  description = "Most of the database's max_connections the proxy may use."
  type        = number
}

variable "max_idle_connections_percent" {
  description = "Most of max_connections the proxy keeps open while idle."
  type        = number
}

variable "connection_borrow_timeout" {
  description = "Seconds a client waits for a database connection before an error."
  type        = number
}

variable "idle_client_timeout" {
  description = "Seconds before the proxy closes an idle client connection."
  type        = number
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
}
