# Production of one app, driven by CI: `terraform apply` on every push to
# the production branch deploys its newest commit; a revert commit deploys
# the reverted tree (a redeploy of the earlier build, no build).
terraform {
  required_version = ">= 1.5"

  required_providers {
    ferry = {
      source = "ferryhq/ferry"
    }
  }

  # State shared by every CI run; its connection string comes from PG_CONN_STR.
  # Any backend with locking does.
  backend "pg" {}
}

# The remote engine: FERRY_ENDPOINT and FERRY_TOKEN (from CI secrets).
provider "ferry" {}

variable "project" {
  description = "Name of the app on the engine."
  type        = string
}

variable "repository" {
  description = "The app's repository, as the engine fetches it."
  type        = string
}

variable "production_branch" {
  type    = string
  default = "main"
}

variable "production_deployment_id" {
  description = "Set by the rollback workflow: the deployment production should serve."
  type        = string
  default     = null
}

variable "env" {
  description = "The app's environment (from CI secrets, as TF_VAR_env)."
  type        = map(string)
  default     = {}
  sensitive   = true
}

module "app" {
  source = "../../../modules/python-app"
  # In the app's own repository:
  # source = "git::https://github.com/ferryhq/terraform-provider-ferry.git//modules/python-app?ref=v0.1.0"

  name = var.project
  git = {
    url = var.repository
    ref = var.production_branch
  }
  env                      = var.env
  env_targets              = ["production", "preview"]
  production_deployment_id = var.production_deployment_id
}

output "production_url" {
  value = module.app.production_url
}

output "deployment_id" {
  value = module.app.deployment_id
}

output "production_deployment_id" {
  value = module.app.production_deployment_id
}

output "git_commit" {
  value = module.app.git_commit
}
