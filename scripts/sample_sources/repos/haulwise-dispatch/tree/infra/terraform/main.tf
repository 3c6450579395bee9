terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.40"
    }
    heroku = {
      source  = "heroku/heroku"
      version = "~> 5.2"
    }
  }
}

provider "aws" {
  region = "eu-west-2"
}

provider "heroku" {}
