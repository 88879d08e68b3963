data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_root = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
}

# PRD §5.1, narrowed: the account root keeps control (so the key can never become unmanageable), RDS,
# Performance Insights and Secrets Manager may use the key only on behalf of this account, CloudWatch and
# EventBridge may publish to the alarm topic it encrypts, administrators manage it, users encrypt and decrypt.
data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_111:In a key policy, Resource "*" means this key only; writes are limited to the named principals
  #checkov:skip=CKV_AWS_356:In a key policy, Resource "*" means this key only
  #checkov:skip=CKV_AWS_109:Permission management stays with the account root and the named key administrators
  statement {
    sid       = "AccountRootFullAccess"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [local.account_root]
    }
  }

  statement {
    sid       = "DatabaseServicesUseTheKey"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:CallerAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values = [
        "rds.${data.aws_region.current.name}.amazonaws.com",
        "secretsmanager.${data.aws_region.current.name}.amazonaws.com",
      ]
    }
  }

  # The alarm topic is encrypted with this key: CloudWatch can publish to it only when the key policy lets the
  # CloudWatch service use the key (SNS developer guide, "compatibility between event sources from AWS
  # services and encrypted topics"). Without this every alarm fires and nothing is delivered.
  statement {
    sid       = "CloudWatchAlarmsPublishToTheEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
  }

  # Likewise for the EventBridge rule that forwards RDS storage events to that topic.
  statement {
    sid       = "EventBridgePublishesToTheEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
  }

  dynamic "statement" {
    for_each = length(var.administrators) > 0 ? [1] : []
    content {
      sid = "KeyAdministrators"
      actions = [
        "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
        "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
        "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand",
      ]
      resources = ["*"]
      principals {
        type        = "AWS"
        identifiers = var.administrators
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.users) > 0 ? [1] : []
    content {
      sid       = "KeyUsers"
      actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
      resources = ["*"]
      principals {
        type        = "AWS"
        identifiers = var.users
      }
    }
  }
}

resource "aws_kms_key" "database" {
  description         = "${var.name} database: storage, Performance Insights and secrets"
  enable_key_rotation = var.enable_rotation
  # 365 is AWS's default period: leave it unsent so the provider reads it back instead of comparing, which
  # keeps plans clean on services that do not report the period (moto 5.2.5 reports 0).
  rotation_period_in_days = var.enable_rotation && var.rotation_period_days != 365 ? var.rotation_period_days : null
  deletion_window_in_days = var.deletion_window_days
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

resource "aws_kms_alias" "database" {
  name          = "alias/${var.name}-database"
  target_key_id = aws_kms_key.database.key_id
}
