# Rendered by glctl from environments/local.yaml — do not edit; change the environment file.
locals {
  name = "greenlang-local"
  tags = {
    "Environment" = "Local"
    "ManagedBy"   = "glctl"
    "Project"     = "GreenLang"
  }
}

module "kms" {
  source = "./modules/kms"

  name                 = local.name
  enable_rotation      = true
  rotation_period_days = 365
  deletion_window_days = 30
  administrators       = []
  users                = []
  tags                 = local.tags
}

module "secrets" {
  source = "./modules/secrets"

  name        = local.name
  kms_key_arn = module.kms.key_arn
  secrets = {
    "app" = {
      "name"          = "greenlang/local/database/app"
      "username"      = "app_service"
      "description"   = null
      "rotation_days" = 7
    }
  }
  connection = {
    host   = "127.0.0.1"
    port   = 5432
    dbname = "postgres"
  }
  rotation_lambda_arn = null
  tags                = local.tags
}

