# Rendered by glctl from environments/local.yaml — do not edit; change the environment file.
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }

  backend "local" {
    path = "terraform.tfstate"
  }

}

provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = {
      "Environment" = "Local"
      "ManagedBy"   = "glctl"
      "Project"     = "GreenLang"
    }
  }
}

