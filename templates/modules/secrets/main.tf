# Secrets for the roles glctl creates (application, read-only). Terraform declares the secret, its first
# version and its rotation schedule. The first version holds only where to connect and as whom (no
# password): glctl's SQL stage sets the password in PostgreSQL and in the secret through the Secrets
# Manager API, so no credential is ever rendered or kept in Terraform state.
resource "aws_secretsmanager_secret" "role" {
  #checkov:skip=CKV2_AWS_57:Rotation is aws_secretsmanager_secret_rotation.role below, on for every secret with rotation_days
  for_each = var.secrets

  name        = each.value.name
  description = coalesce(each.value.description, "${var.name} database credentials (${each.key})")
  kms_key_id  = var.kms_key_arn
  tags        = var.tags
}

resource "aws_secretsmanager_secret_version" "initial" {
  for_each = var.secrets

  secret_id = aws_secretsmanager_secret.role[each.key].id
  secret_string = jsonencode({
    engine   = "postgres"
    host     = var.connection.host
    port     = var.connection.port
    dbname   = var.connection.dbname
    username = each.value.username
  })

  # The SQL stage and the rotation function own the value from here on.
  lifecycle {
    ignore_changes = [secret_string]
  }
}

resource "aws_secretsmanager_secret_rotation" "role" {
  #checkov:skip=CKV_AWS_304:The schedule comes from the environment; glctl validate refuses more than 90 days in production
  for_each = var.rotation_lambda_arn == null ? {} : { for role, s in var.secrets : role => s if s.rotation_days != null }

  secret_id           = aws_secretsmanager_secret.role[each.key].id
  rotation_lambda_arn = var.rotation_lambda_arn
  # The first rotation waits for the schedule: the SQL stage sets the first password before then.
  rotate_immediately = false

  rotation_rules {
    automatically_after_days = each.value.rotation_days
  }

  depends_on = [aws_secretsmanager_secret_version.initial]
}
