# An app on a cluster of ferry nodes behind a load balancer (haproxy.cfg):
# the provider talks to any node through the load balancer, every node
# serves the app, and a rollback is seen by every node at once.
terraform {
  required_providers {
    ferry = {
      source = "ferryhq/ferry"
    }
  }
}

# FERRY_ENDPOINT (the load balancer's API frontend) and FERRY_TOKEN.
provider "ferry" {}

variable "production_deployment_id" {
  description = "Pin production to this deployment (a rollback); null: the newest production deployment."
  type        = string
  default     = null
}

resource "ferry_project" "app" {
  name      = "cluster-app"
  framework = "flask"
}

resource "ferry_deployment" "app" {
  project_id = ferry_project.app.id
  source     = { path = "${path.module}/app" }
  production = true
}

resource "ferry_alias" "production" {
  count         = var.production_deployment_id == null ? 0 : 1
  project_id    = ferry_project.app.id
  deployment_id = var.production_deployment_id
}

output "production_url" {
  value = ferry_project.app.production_url
}

output "deployment_id" {
  value = ferry_deployment.app.id
}
