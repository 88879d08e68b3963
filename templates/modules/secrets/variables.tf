variable "name" {
  description = "Resource name prefix, <project>-<environment>."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the secrets."
  type        = string
}

variable "secrets" {
  description = "Secrets by role: Secrets Manager name, PostgreSQL user, description, rotation schedule in days (null: no rotation)."
  type = map(object({
    name          = string
    username      = string
    description   = optional(string)
    rotation_days = optional(number)
  }))
}

variable "connection" {
  description = "Where the credentials connect: host, port, database (what a rotation function needs)."
  type = object({
    host   = string
    port   = number
    dbname = string
  })
}

variable "rotation_lambda_arn" {
  description = "Lambda that rotates the secrets (AWS's PostgreSQL single-user rotation function); null turns rotation off."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
}
