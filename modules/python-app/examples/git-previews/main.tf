# An app deployed from git: production from the production branch, and a
# preview of each branch in preview_branches at its own URL. A push to any of
# them shows in `terraform plan` as a new deployment.
terraform {
  required_providers {
    ferry = {
      source = "ferryhq/ferry"
    }
  }
}

provider "ferry" {}

variable "repository" {
  description = "The app's repository: https://, ssh://, git@host:owner/repo.git, or a path on the engine's machine."
  type        = string
}

variable "production_branch" {
  type    = string
  default = "main"
}

variable "preview_branches" {
  description = "Branches that get a preview deployment each, such as [\"feature/login\"]."
  type        = list(string)
  default     = []
}

variable "name" {
  type    = string
  default = "shop"
}

module "app" {
  source = "../.."

  name = var.name
  git = {
    url = var.repository
    ref = var.production_branch
  }
  preview_branches = var.preview_branches

  env = {
    GREETING = "Hello"
  }
}

output "production_url" {
  value = module.app.production_url
}

output "git_commit" {
  value = module.app.git_commit
}

output "preview_urls" {
  value = module.app.preview_urls
}
