# PRD §7.4: a daily backup of the database copied to the DR region. RDS automated-backup replication does
# not cover Aurora, so AWS Backup does it for both engines: a vault per region, each encrypted with a key
# of its own region, and a plan whose rule copies every recovery point to the DR vault.
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

# The account root keeps control; AWS Backup uses the key through its own service in the DR region.
data "aws_iam_policy_document" "dr_key" {
  #checkov:skip=CKV_AWS_111:In a key policy, Resource "*" means this key only
  #checkov:skip=CKV_AWS_356:In a key policy, Resource "*" means this key only
  #checkov:skip=CKV_AWS_109:Permission management stays with the account root
  statement {
    sid       = "AccountRootFullAccess"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "dr" {
  provider = aws.dr

  description             = "${var.name} database backups in the DR region"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.dr_key.json
  tags                    = var.tags
}

resource "aws_backup_vault" "primary" {
  name        = "${var.name}-database"
  kms_key_arn = var.kms_key_arn
  tags        = var.tags
}

resource "aws_backup_vault" "dr" {
  provider = aws.dr

  name        = "${var.name}-database-dr"
  kms_key_arn = aws_kms_key.dr.arn
  tags        = var.tags
}

resource "aws_backup_plan" "database" {
  name = "${var.name}-database"
  tags = var.tags

  rule {
    rule_name         = "daily-with-dr-copy"
    target_vault_name = aws_backup_vault.primary.name
    schedule          = var.schedule

    lifecycle {
      delete_after = var.retention_days
    }

    copy_action {
      destination_vault_arn = aws_backup_vault.dr.arn
      lifecycle {
        delete_after = var.retention_days
      }
    }
  }
}

resource "aws_iam_role" "backup" {
  name = "${var.name}-database-backup"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "backup.amazonaws.com" }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "backup" {
  role       = aws_iam_role.backup.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
}

# `verify --drills` (BR-07) restores the newest DR copy with this role (StartRestoreJob in the DR region).
resource "aws_iam_role_policy_attachment" "restore" {
  role       = aws_iam_role.backup.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores"
}

resource "aws_backup_selection" "database" {
  name         = "${var.name}-database"
  plan_id      = aws_backup_plan.database.id
  iam_role_arn = aws_iam_role.backup.arn
  resources    = [var.database_arn]
}
