variable "name" {
  description = "Resource name prefix, <project>-<environment>."
  type        = string
}

variable "enable_rotation" {
  description = "Rotate the key material automatically."
  type        = bool
}

variable "rotation_period_days" {
  description = "Days between automatic rotations (90-2560)."
  type        = number
}

variable "deletion_window_days" {
  description = "Days between scheduling deletion and deleting the key (7-30)."
  type        = number
}

variable "administrators" {
  description = "IAM principal ARNs that administer the key."
  type        = list(string)
}

variable "users" {
  description = "IAM principal ARNs that may encrypt and decrypt with the key."
  type        = list(string)
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
}
