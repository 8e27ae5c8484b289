# A Flask app on the embedded engine, in one block.
terraform {
  required_providers {
    ferry = {
      source = "ferryhq/ferry"
    }
  }
}

provider "ferry" {}

variable "name" {
  description = "Name of the app, part of its URL."
  type        = string
  default     = "hello-module"
}

variable "greeting" {
  type    = string
  default = "Hello"
}

variable "production_deployment_id" {
  description = "Set to an earlier deployment_id to roll production back to it."
  type        = string
  default     = null
}

module "app" {
  source = "../.."
  # From another configuration:
  # source = "git::https://github.com/ferryhq/terraform-provider-ferry.git//modules/python-app?ref=v0.1.0"

  name        = var.name
  framework   = "flask"
  source_path = "${path.module}/app"
  env = {
    GREETING = var.greeting
  }
  production_deployment_id = var.production_deployment_id
}

output "production_url" {
  value = module.app.production_url
}

output "deployment_id" {
  value = module.app.deployment_id
}

output "deployment_url" {
  value = module.app.deployment_url
}
