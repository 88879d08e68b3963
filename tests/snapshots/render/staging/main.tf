# Rendered by glctl from environments/staging.yaml — do not edit; change the environment file.
locals {
  name = "greenlang-staging"
  tags = {
    "Component"   = "Database"
    "Environment" = "Staging"
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
  administrators       = ["arn:aws:iam::123456789012:role/DatabaseAdminRole"]
  users                = ["arn:aws:iam::123456789012:role/EKS-Pod-DatabaseAccess"]
  tags                 = local.tags
}

module "secrets" {
  source = "./modules/secrets"

  name        = local.name
  kms_key_arn = module.kms.key_arn
  secrets = {
    "app" = {
      "name"          = "greenlang/staging/database/app"
      "username"      = "app_service"
      "description"   = "Application database credentials (app_service)"
      "rotation_days" = 7
    }
    "readonly" = {
      "name"          = "greenlang/staging/database/readonly"
      "username"      = "readonly_analytics"
      "description"   = "Read-only analytics credentials (readonly_analytics)"
      "rotation_days" = 7
    }
  }
  connection = {
    host   = module.database.writer_endpoint
    port   = 5432
    dbname = "greenlang"
  }
  rotation_lambda_arn = "arn:aws:lambda:us-east-1:123456789012:function:SecretsRotation-PostgreSQL"
  tags                = local.tags
}

module "network_access" {
  source = "./modules/network_access"

  name                       = local.name
  vpc_id                     = "vpc-0a1b2c3d4e5f60001"
  allowed_security_group_ids = ["sg-0a1b2c3d4e5f6e4e5"]
  allowed_cidrs              = []
  s3_prefix_list_id          = "pl-63a5400a"
  tags                       = local.tags
}

module "database" {
  source = "./modules/rds"

  name             = local.name
  engine_version   = "16.6"
  parameter_family = "postgres16"
  database_name    = "greenlang"

  primary = {
    "instance_class"    = "db.r6g.large"
    "availability_zone" = "us-east-1a"
  }
  multi_az = true
  replicas = {
    "replica1" = {
      "instance_class"    = "db.r6g.large"
      "availability_zone" = "us-east-1b"
    }
  }
  storage = {
    "type"             = "gp3"
    "allocated_gb"     = 200
    "max_allocated_gb" = 1000
    "iops"             = null
    "throughput_mibps" = null
  }
  parameters = [{
    "name"         = "autovacuum"
    "value"        = "1"
    "apply_method" = "immediate"
    }, {
    "name"         = "autovacuum_max_workers"
    "value"        = "4"
    "apply_method" = "pending-reboot"
    }, {
    "name"         = "autovacuum_naptime"
    "value"        = "30"
    "apply_method" = "immediate"
    }, {
    "name"         = "autovacuum_vacuum_cost_delay"
    "value"        = "2"
    "apply_method" = "immediate"
    }, {
    "name"         = "cron.database_name"
    "value"        = "greenlang"
    "apply_method" = "pending-reboot"
    }, {
    "name"         = "default_statistics_target"
    "value"        = "500"
    "apply_method" = "immediate"
    }, {
    "name"         = "effective_cache_size"
    "value"        = "{DBInstanceClassMemory*3/32768}"
    "apply_method" = "immediate"
    }, {
    "name"         = "log_connections"
    "value"        = "1"
    "apply_method" = "immediate"
    }, {
    "name"         = "log_disconnections"
    "value"        = "1"
    "apply_method" = "immediate"
    }, {
    "name"         = "log_lock_waits"
    "value"        = "1"
    "apply_method" = "immediate"
    }, {
    "name"         = "log_min_duration_statement"
    "value"        = "1000"
    "apply_method" = "immediate"
    }, {
    "name"         = "log_statement"
    "value"        = "ddl"
    "apply_method" = "immediate"
    }, {
    "name"         = "log_temp_files"
    "value"        = "0"
    "apply_method" = "immediate"
    }, {
    "name"         = "maintenance_work_mem"
    "value"        = "1048576"
    "apply_method" = "immediate"
    }, {
    "name"         = "max_connections"
    "value"        = "500"
    "apply_method" = "pending-reboot"
    }, {
    "name"         = "pgaudit.log"
    "value"        = "ddl,write"
    "apply_method" = "immediate"
    }, {
    "name"         = "pgaudit.log_parameter"
    "value"        = "0"
    "apply_method" = "immediate"
    }, {
    "name"         = "pgaudit.role"
    "value"        = "rds_pgaudit"
    "apply_method" = "immediate"
    }, {
    "name"         = "random_page_cost"
    "value"        = "1.1"
    "apply_method" = "immediate"
    }, {
    "name"         = "rds.force_ssl"
    "value"        = "1"
    "apply_method" = "immediate"
    }, {
    "name"         = "shared_buffers"
    "value"        = "{DBInstanceClassMemory/32768}"
    "apply_method" = "pending-reboot"
    }, {
    "name"         = "shared_preload_libraries"
    "value"        = "pg_stat_statements,pg_cron,pgaudit"
    "apply_method" = "pending-reboot"
    }, {
    "name"         = "work_mem"
    "value"        = "65536"
    "apply_method" = "immediate"
  }]

  subnet_ids                          = ["subnet-0a1b2c3d4e5f60021", "subnet-0a1b2c3d4e5f60022", "subnet-0a1b2c3d4e5f60023"]
  security_group_ids                  = [module.network_access.security_group_id]
  publicly_accessible                 = false
  kms_key_arn                         = module.kms.key_arn
  storage_encrypted                   = true
  master_secret_rotation_days         = 30
  backup_retention_days               = 14
  backup_window                       = "02:00-04:00"
  maintenance_window                  = "sun:04:30-sun:05:30"
  log_exports                         = ["postgresql"]
  performance_insights                = true
  performance_insights_retention_days = 7
  monitoring_interval                 = 60
  deletion_protection                 = true
  final_snapshot                      = true
  tags                                = local.tags
}

module "alarms" {
  source = "./modules/alarms"

  name                     = local.name
  kms_key_arn              = module.kms.key_arn
  aurora                   = false
  allocated_storage_gb     = 200
  max_allocated_storage_gb = 1000
  instances = {
    "primary" = {
      "identifier"   = "greenlang-staging-primary"
      "replica"      = false
      "memory_bytes" = 17179869184
    }
    "replica1" = {
      "identifier"   = "greenlang-staging-replica1"
      "replica"      = true
      "memory_bytes" = 17179869184
    }
  }
  subscriptions = []
  tags          = local.tags
}

