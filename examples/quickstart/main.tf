# The quickstart: one Flask app on the embedded engine. `make demo` applies it.
terraform {
  required_providers {
    ferry = {
      source = "ferryhq/ferry"
    }
  }
}

# No endpoint: the provider starts (or finds) the embedded engine of the
# data dir; apps are served on http://*.localhost:3080.
provider "ferry" {}

variable "greeting" {
  type    = string
  default = "Hello"
}

variable "api_key" {
  type      = string
  default   = "demo-api-key"
  sensitive = true
}

resource "ferry_project" "hello" {
  name      = "hello"
  framework = "flask"
}

resource "ferry_env_var" "greeting" {
  project_id = ferry_project.hello.id
  key        = "GREETING"
  value      = var.greeting
  target     = ["production", "preview"]
}

resource "ferry_env_var" "api_key" {
  project_id = ferry_project.hello.id
  key        = "API_KEY"
  value      = var.api_key
  target     = ["production"]
  comment    = "read by /env, which shows only whether it is set"
}

resource "ferry_deployment" "hello" {
  project_id = ferry_project.hello.id
  source     = { path = "${path.module}/../apps/flask-hello" }
  production = true

  # The env is frozen into a deployment when it is created.
  depends_on = [ferry_env_var.greeting, ferry_env_var.api_key]
}

output "production_url" {
  value = ferry_project.hello.production_url
}

output "deployment_url" {
  value = ferry_deployment.hello.url
}
