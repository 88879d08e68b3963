# RDS Proxy in front of the writer (pooling.kind: rds-proxy): the proxy, its default target group's pool and
# the target, authenticating to the database with the Secrets Manager secrets, IAM authentication for clients,
# TLS required. The proxy reads the secrets through a role of its own, limited to them and their key.

data "aws_region" "current" {}

resource "aws_iam_role" "proxy" {
  name = "${var.name}-rds-proxy"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "rds.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "proxy_secrets" {
  name = "read-database-secrets"
  role = aws_iam_role.proxy.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = values(var.secret_arns)
      },
      {
        Effect    = "Allow"
        Action    = ["kms:Decrypt"]
        Resource  = [var.kms_key_arn]
        Condition = { StringEquals = { "kms:ViaService" = "secretsmanager.${data.aws_region.current.name}.amazonaws.com" } }
      },
    ]
  })
}

resource "aws_db_proxy" "this" {
  name                   = var.name
  engine_family          = "POSTGRESQL"
  role_arn               = aws_iam_role.proxy.arn
  vpc_subnet_ids         = var.subnet_ids
  vpc_security_group_ids = var.security_group_ids
  require_tls            = true
  idle_client_timeout    = var.idle_client_timeout
  debug_logging          = false

  dynamic "auth" {
    for_each = var.secret_arns
    content {
      auth_scheme = "SECRETS"
      description = auth.key
      iam_auth    = var.iam_auth
      secret_arn  = auth.value
    }
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.proxy_secrets]
}

resource "aws_db_proxy_default_target_group" "this" {
  db_proxy_name = aws_db_proxy.this.name

  connection_pool_config {
    max_connections_percent      = var.max_connections_percent
    max_idle_connections_percent = var.max_idle_connections_percent
    connection_borrow_timeout    = var.connection_borrow_timeout
  }
}

resource "aws_db_proxy_target" "this" {
  db_proxy_name          = aws_db_proxy.this.name
  target_group_name      = aws_db_proxy_default_target_group.this.name
  db_cluster_identifier  = var.db_cluster_identifier
  db_instance_identifier = var.db_instance_identifier
}
