# Secrets for the roles glctl creates (application, read-only). Only the secret is declared here: its value
# is set by the rotation function, never by Terraform, so no credential is rendered or kept in state.
resource "aws_secretsmanager_secret" "role" {
  for_each = var.secrets

  name        = each.value.name
  description = coalesce(each.value.description, "${var.name} database credentials (${each.key})")
  kms_key_id  = var.kms_key_arn
  tags        = var.tags
}

resource "aws_secretsmanager_secret_rotation" "role" {
  for_each = var.rotation_lambda_arn == null ? {} : { for role, s in var.secrets : role => s if s.rotation_days != null }

  secret_id           = aws_secretsmanager_secret.role[each.key].id
  rotation_lambda_arn = var.rotation_lambda_arn

  rotation_rules {
    automatically_after_days = each.value.rotation_days
  }
}
