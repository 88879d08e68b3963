variable "name" {
  description = "Resource name prefix, <project>-<environment>."
  type        = string
}

variable "vpc_id" {
  description = "VPC that holds the database subnets."
  type        = string
}

variable "allowed_security_group_ids" {
  description = "Security groups whose members may connect to PostgreSQL."
  type        = list(string)
}

variable "allowed_cidrs" {
  description = "CIDR blocks (IPv4 or IPv6) that may connect to PostgreSQL."
  type        = list(string)
}

variable "s3_prefix_list_id" {
  description = "Prefix list of the S3 gateway endpoint (HTTPS egress for backups); null for none."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
}
