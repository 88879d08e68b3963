resource "aws_db_subnet_group" "this" {
  name        = "${var.name}-database"
  description = "Database subnets of ${var.name}"
  subnet_ids  = var.subnet_ids
  tags        = var.tags
}

resource "aws_db_parameter_group" "this" {
  name        = "${var.name}-${var.parameter_family}"
  family      = var.parameter_family
  description = "PostgreSQL settings of ${var.name} (from its environment file)"
  tags        = var.tags

  dynamic "parameter" {
    for_each = var.parameters
    content {
      name         = parameter.value.name
      value        = parameter.value.value
      apply_method = parameter.value.apply_method
    }
  }

  # A new family (major upgrade) needs a new group before the old one can go.
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_iam_role" "monitoring" {
  count = var.monitoring_interval > 0 ? 1 : 0

  name = "${var.name}-rds-monitoring"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "monitoring.rds.amazonaws.com" }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  count = var.monitoring_interval > 0 ? 1 : 0

  role       = aws_iam_role.monitoring[0].name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "primary" {
  #checkov:skip=CKV2_AWS_30:Query logging is log_statement and log_min_duration_statement in the parameter group; glctl validate requires both in production
  identifier     = "${var.name}-primary"
  engine         = "postgres"
  engine_version = var.engine_version
  # Set only for the change that is a major upgrade (null otherwise, so no plan shows a change for it).
  allow_major_version_upgrade   = var.allow_major_version_upgrade ? true : null
  instance_class                = var.primary.instance_class
  availability_zone             = var.multi_az ? null : var.primary.availability_zone
  multi_az                      = var.multi_az
  db_name                       = var.database_name
  username                      = "glctl_admin"
  manage_master_user_password   = true
  master_user_secret_kms_key_id = var.kms_key_arn
  port                          = 5432

  storage_type          = var.storage.type
  allocated_storage     = var.storage.allocated_gb
  max_allocated_storage = var.storage.max_allocated_gb
  iops                  = var.storage.iops
  storage_throughput    = var.storage.throughput_mibps
  storage_encrypted     = var.storage_encrypted
  kms_key_id            = var.storage_encrypted ? var.kms_key_arn : null

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = var.security_group_ids
  parameter_group_name   = aws_db_parameter_group.this.name
  publicly_accessible    = var.publicly_accessible

  iam_database_authentication_enabled = true
  backup_retention_period             = var.backup_retention_days
  backup_window                       = var.backup_window
  maintenance_window                  = var.maintenance_window
  copy_tags_to_snapshot               = true
  auto_minor_version_upgrade          = true
  enabled_cloudwatch_logs_exports     = var.log_exports
  deletion_protection                 = var.deletion_protection
  skip_final_snapshot                 = !var.final_snapshot
  # Destroy fails without an identifier when a final snapshot is wanted.
  final_snapshot_identifier = var.final_snapshot ? "${var.name}-final" : null

  performance_insights_enabled          = var.performance_insights
  performance_insights_kms_key_id       = var.performance_insights ? var.kms_key_arn : null
  performance_insights_retention_period = var.performance_insights ? var.performance_insights_retention_days : null
  monitoring_interval                   = var.monitoring_interval
  monitoring_role_arn                   = var.monitoring_interval > 0 ? aws_iam_role.monitoring[0].arn : null

  tags = var.tags
}

# RDS turns on a 7-day rotation of the managed master secret by itself; state the schedule so the plan shows it.
resource "aws_secretsmanager_secret_rotation" "master" {
  secret_id = aws_db_instance.primary.master_user_secret[0].secret_arn

  rotation_rules {
    automatically_after_days = var.master_secret_rotation_days
  }
}

resource "aws_db_instance" "replica" {
  for_each = var.replicas

  identifier          = "${var.name}-${each.key}"
  replicate_source_db = aws_db_instance.primary.identifier
  instance_class      = each.value.instance_class
  availability_zone   = each.value.availability_zone
  # Storage, encryption, credentials and the subnet group come from the source.
  storage_type           = var.storage.type
  iops                   = var.storage.iops
  storage_throughput     = var.storage.throughput_mibps
  vpc_security_group_ids = var.security_group_ids
  parameter_group_name   = aws_db_parameter_group.this.name
  publicly_accessible    = var.publicly_accessible

  iam_database_authentication_enabled = true
  backup_retention_period             = 0
  copy_tags_to_snapshot               = true
  auto_minor_version_upgrade          = true
  maintenance_window                  = var.maintenance_window
  enabled_cloudwatch_logs_exports     = var.log_exports
  deletion_protection                 = var.deletion_protection
  skip_final_snapshot                 = true

  performance_insights_enabled          = var.performance_insights
  performance_insights_kms_key_id       = var.performance_insights ? var.kms_key_arn : null
  performance_insights_retention_period = var.performance_insights ? var.performance_insights_retention_days : null
  monitoring_interval                   = var.monitoring_interval
  monitoring_role_arn                   = var.monitoring_interval > 0 ? aws_iam_role.monitoring[0].arn : null

  tags = var.tags
}
