resource "aws_db_subnet_group" "this" {
  name        = "${var.name}-database"
  description = "Database subnets of ${var.name}"
  subnet_ids  = var.subnet_ids
  tags        = var.tags
}

resource "aws_rds_cluster_parameter_group" "this" {
  name        = "${var.name}-${var.parameter_family}"
  family      = var.parameter_family
  description = "PostgreSQL settings of ${var.name} (from its environment file)"
  tags        = var.tags

  dynamic "parameter" {
    for_each = var.cluster_parameters
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

resource "aws_rds_cluster" "this" {
  #checkov:skip=CKV2_AWS_8:module.backup_copy's AWS Backup plan selects this cluster when backup.cross_region_copy is on (prod)
  #checkov:skip=CKV2_AWS_27:Query logging is log_statement and log_min_duration_statement in cluster_parameters; glctl validate requires both in production
  cluster_identifier = var.name
  engine             = "aurora-postgresql"
  engine_version     = var.engine_version
  # Set only for the change that is a major upgrade (null otherwise, so no plan shows a change for it).
  allow_major_version_upgrade     = var.allow_major_version_upgrade ? true : null
  database_name                   = var.database_name
  master_username                 = "glctl_admin"
  manage_master_user_password     = true
  master_user_secret_kms_key_id   = var.kms_key_arn
  storage_type                    = var.storage_type == "aurora-iopt1" ? "aurora-iopt1" : null
  storage_encrypted               = var.storage_encrypted
  kms_key_id                      = var.storage_encrypted ? var.kms_key_arn : null
  db_subnet_group_name            = aws_db_subnet_group.this.name
  vpc_security_group_ids          = var.security_group_ids
  db_cluster_parameter_group_name = aws_rds_cluster_parameter_group.this.name
  availability_zones              = distinct(concat([var.writer.availability_zone], [for r in values(var.readers) : r.availability_zone]))

  iam_database_authentication_enabled = true
  backup_retention_period             = var.backup_retention_days
  preferred_backup_window             = var.backup_window
  preferred_maintenance_window        = var.maintenance_window
  copy_tags_to_snapshot               = true
  enabled_cloudwatch_logs_exports     = var.log_exports
  deletion_protection                 = var.deletion_protection
  skip_final_snapshot                 = !var.final_snapshot
  # Destroy fails without an identifier when a final snapshot is wanted.
  final_snapshot_identifier = var.final_snapshot ? "${var.name}-final" : null

  tags = var.tags

  lifecycle {
    # AWS reports the zones it actually used, which can differ in order and number from the request.
    ignore_changes = [availability_zones]
  }
}

# RDS turns on a 7-day rotation of the managed master secret by itself; state the schedule so the plan shows it.
resource "aws_secretsmanager_secret_rotation" "master" {
  secret_id = aws_rds_cluster.this.master_user_secret[0].secret_arn

  rotation_rules {
    automatically_after_days = var.master_secret_rotation_days
  }
}

locals {
  instances = merge(
    { writer = merge(var.writer, { promotion_tier = 0 }) },
    var.readers,
  )
}

resource "aws_rds_cluster_instance" "this" {
  for_each = local.instances

  identifier                   = "${var.name}-${each.key}"
  cluster_identifier           = aws_rds_cluster.this.id
  engine                       = aws_rds_cluster.this.engine
  engine_version               = aws_rds_cluster.this.engine_version
  instance_class               = each.value.instance_class
  availability_zone            = each.value.availability_zone
  promotion_tier               = each.value.promotion_tier
  db_subnet_group_name         = aws_db_subnet_group.this.name
  publicly_accessible          = var.publicly_accessible
  auto_minor_version_upgrade   = true
  preferred_maintenance_window = var.maintenance_window
  copy_tags_to_snapshot        = true

  performance_insights_enabled          = var.performance_insights
  performance_insights_kms_key_id       = var.performance_insights ? var.kms_key_arn : null
  performance_insights_retention_period = var.performance_insights ? var.performance_insights_retention_days : null
  monitoring_interval                   = var.monitoring_interval
  monitoring_role_arn                   = var.monitoring_interval > 0 ? aws_iam_role.monitoring[0].arn : null

  tags = var.tags
}
