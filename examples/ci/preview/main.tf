# A preview deployment of one branch of the app, in a state of its own (one
# workspace per branch), so that pull requests never touch production's state.
# The project and its env come from ../infra.
terraform {
  required_version = ">= 1.5"

  required_providers {
    ferry = {
      source = "ferryhq/ferry"
    }
  }

  backend "pg" {}
}

provider "ferry" {}

variable "project" {
  description = "Name of the app on the engine (the project ../infra manages)."
  type        = string
}

variable "repository" {
  type = string
}

variable "branch" {
  description = "The pull request's branch."
  type        = string
}

# Pins the branch's commit at plan time: a push to the branch plans a new
# preview deployment.
data "ferry_git_ref" "branch" {
  url = var.repository
  ref = var.branch
}

resource "ferry_deployment" "preview" {
  project_id = var.project # the engine takes a project's name as well as its id
  source = {
    git = {
      url    = var.repository
      ref    = var.branch
      commit = data.ferry_git_ref.branch.commit
    }
  }
  # Closing the pull request destroys this workspace and the deployment.
  delete_on_destroy = true
}

output "branch_url" {
  description = "Serves the branch's newest ready deployment: the URL to post on the pull request."
  value       = ferry_deployment.preview.branch_url
}

output "deployment_url" {
  value = ferry_deployment.preview.url
}

output "commit" {
  value = ferry_deployment.preview.git.commit_sha
}
