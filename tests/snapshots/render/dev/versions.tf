# Rendered by glctl from environments/dev.yaml — do not edit; change the environment file.
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }

  backend "s3" {
    bucket         = "greenlang-terraform-state"
    key            = "greenlang/dev/terraform.tfstate"
    region         = "us-east-1"
    dynamodb_table = "greenlang-terraform-locks"
    encrypt        = true
  }

}

# Terraform itself refuses credentials of any other account (glctl checks before it runs terraform, too).
provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = ["123456789012"]
  default_tags {
    tags = {
      "Component"   = "Database"
      "Environment" = "Development"
      "ManagedBy"   = "glctl"
      "Project"     = "GreenLang"
    }
  }
}

