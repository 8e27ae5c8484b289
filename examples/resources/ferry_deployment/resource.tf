# A production deployment of ./app: once ready, the project's production URL
# serves it. Editing the app plans a new deployment; the previous one keeps
# serving at its own URL.
resource "ferry_deployment" "prod" {
  project_id = ferry_project.api.id
  source     = { path = "${path.module}/app" }
  production = true

  # Env vars are frozen into a deployment when it is created.
  depends_on = [ferry_env_var.greeting, ferry_env_var.api_key]

  timeouts = {
    create = "20m"
  }
}

# A preview deployment of the same source, with the preview env vars.
resource "ferry_deployment" "preview" {
  project_id = ferry_project.api.id
  source     = { path = "${path.module}/app" }
}

output "deployment_url" {
  value = ferry_deployment.prod.url
}
