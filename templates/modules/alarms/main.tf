# PRD §6.1 thresholds for the metrics CloudWatch has (connections, replica lag, CPU, disk); the others
# (cache hit ratio, vacuum lag, lock waits, p99 latency) come from inside PostgreSQL and are checked by
# `glctl verify`.
resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-database-alarms"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "alarms" {
  for_each = toset(var.subscriptions)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = startswith(each.value, "https://") ? "https" : "email"
  endpoint  = each.value
}

locals {
  levels = { warning = 0, critical = 1 }
  # metric => [warning, critical], comparison, description, applies to replicas only, and what missing data
  # means: an instance that stops reporting CPU is in trouble (breaching), but a reader promoted to writer
  # stops reporting replica lag and is fine (notBreaching), or its lag alarm would fire for ever.
  metrics = merge(
    {
      cpu         = { metric = "CPUUtilization", thresholds = [70, 85], comparison = "GreaterThanThreshold", replicas_only = false, what = "CPU utilisation (%)", missing = "breaching" }
      connections = { metric = "DatabaseConnections", thresholds = [350, 450], comparison = "GreaterThanThreshold", replicas_only = false, what = "connection count", missing = "breaching" }
      replica_lag = var.aurora ? { metric = "AuroraReplicaLag", thresholds = [1000, 5000], comparison = "GreaterThanThreshold", replicas_only = true, what = "replica lag (ms)", missing = "notBreaching" } : { metric = "ReplicaLag", thresholds = [1, 5], comparison = "GreaterThanThreshold", replicas_only = true, what = "replica lag (s)", missing = "notBreaching" }
    },
    var.allocated_storage_gb == null ? {} : {
      # Disk usage > 70% / 85% is free space < 30% / 15% of the allocation.
      free_storage = { metric = "FreeStorageSpace", thresholds = [var.allocated_storage_gb * 0.30 * 1073741824, var.allocated_storage_gb * 0.15 * 1073741824], comparison = "LessThanThreshold", replicas_only = false, what = "free storage (bytes)", missing = "breaching" }
    },
  )
  # Per instance, from its memory: FreeableMemory under 10% / 5%; on Aurora also FreeLocalStorage (temporary
  # files and sorts) under 25% / 10% of memory, which stays below every class's local storage.
  memory_metrics = {
    for role, instance in var.instances : role => instance.memory_bytes == null ? {} : merge(
      { freeable_memory = { metric = "FreeableMemory", thresholds = [instance.memory_bytes * 0.10, instance.memory_bytes * 0.05], comparison = "LessThanThreshold", replicas_only = false, what = "freeable memory (bytes)", missing = "breaching" } },
      var.aurora ? { free_local_storage = { metric = "FreeLocalStorage", thresholds = [instance.memory_bytes * 0.25, instance.memory_bytes * 0.10], comparison = "LessThanThreshold", replicas_only = false, what = "free local storage (bytes)", missing = "breaching" } } : {},
    )
  }
  alarms = merge([
    for role, instance in var.instances : merge([
      for key, m in merge(local.metrics, local.memory_metrics[role]) : {
        for level, index in local.levels : "${role}-${key}-${level}" => {
          identifier = instance.identifier
          metric     = m.metric
          threshold  = m.thresholds[index]
          comparison = m.comparison
          level      = level
          what       = m.what
          missing    = m.missing
        }
      } if !m.replicas_only || instance.replica
    ]...)
  ]...)
}

resource "aws_cloudwatch_metric_alarm" "database" {
  for_each = local.alarms

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = "${each.value.level}: ${each.value.what} of ${each.value.identifier} (PRD §6.1)"
  namespace           = "AWS/RDS"
  metric_name         = each.value.metric
  dimensions          = { DBInstanceIdentifier = each.value.identifier }
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 5
  threshold           = each.value.threshold
  comparison_operator = each.value.comparison
  treat_missing_data  = each.value.missing
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}
