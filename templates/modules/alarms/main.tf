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

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  rds_arn_prefix = "arn:${data.aws_partition.current.partition}:rds:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  # RDS events that no metric alarm can give (RDS user guide, "Amazon RDS event categories and event messages"):
  # on RDS, storage exhausted (0007) and storage autoscaling unable to help — it failed or is retrying (0219,
  # 0223, 0237), is in its cooling-off period while space is low (0220), would reach the ceiling (0224), the
  # allocation is at 80% of the ceiling (0225), the account's storage quota is reached (0254); on Aurora, the
  # cluster volume nearly full (0227). Picked by ID: a category subscription would bring "low storage"
  # RDS-EVENT-0089 before every normal autoscaling step and miss 0225 ("notification") and the failures.
  storage_events = var.aurora ? ["RDS-EVENT-0227"] : [
    "RDS-EVENT-0007", "RDS-EVENT-0219", "RDS-EVENT-0220", "RDS-EVENT-0223", "RDS-EVENT-0224", "RDS-EVENT-0225",
    "RDS-EVENT-0237", "RDS-EVENT-0254",
  ]
}

resource "aws_cloudwatch_event_rule" "storage" {
  name        = "${var.name}-database-storage"
  description = "Storage events of ${var.name}'s DB instances that mean the disk is running out"
  event_pattern = jsonencode({
    source        = ["aws.rds"]
    "detail-type" = ["RDS DB Instance Event"]
    detail = {
      EventID   = local.storage_events
      SourceArn = sort([for instance in var.instances : "${local.rds_arn_prefix}:db:${instance.identifier}"])
    }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "storage" {
  rule      = aws_cloudwatch_event_rule.storage.name
  target_id = "alarm-topic"
  arn       = aws_sns_topic.alarms.arn
}

# Who may publish: this account's CloudWatch alarms of this environment and its storage-event rule (both
# service principals, scoped by source), and the account itself, which manages the topic.
data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "AccountManagesTheTopic"
    actions   = ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"]
    resources = [aws_sns_topic.alarms.arn]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["SNS:Publish"]
    resources = [aws_sns_topic.alarms.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${data.aws_partition.current.partition}:cloudwatch:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:alarm:${var.name}-*"]
    }
  }

  statement {
    sid       = "StorageEventsPublish"
    actions   = ["SNS:Publish"]
    resources = [aws_sns_topic.alarms.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.storage.arn]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.topic.json
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
      free_storage = { metric = "FreeStorageSpace", thresholds = local.free_storage_thresholds, comparison = "LessThanThreshold", replicas_only = false, what = "free storage (bytes)", missing = "breaching" }
    },
  )
  gib         = 1073741824
  allocated   = coalesce(var.allocated_storage_gb, 0)
  autoscaling = coalesce(var.max_allocated_storage_gb, 0) > local.allocated
  # A fixed allocation: disk usage > 70% / 85% is free space < 30% / 15% of it. Under storage autoscaling RDS
  # grows the disk when free space falls to 10% of the *current* allocation, which no CloudWatch metric
  # reports: thresholds from the initial size fire at every normal autoscaling step, and a percentage of the
  # ceiling exceeds the whole disk until the ceiling is reached. The storage-event rule above says when
  # autoscaling cannot help; this alarm is the last resort: free space under 5% of the initial allocation is
  # under 5% of every later one, past the point where autoscaling acts. No warning level (null: no alarm).
  free_storage_thresholds = (local.autoscaling
    ? [null, local.allocated * 0.05 * local.gib]
    : [local.allocated * 0.30 * local.gib, local.allocated * 0.15 * local.gib]
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
        } if m.thresholds[index] != null
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
