# A production deployment of ./app: once ready, the project's production URL
# serves it. Editing the app plans a new deployment; the previous one keeps
# serving at its own URL.
resource "ferry_deployment" "prod" {
  project_id = ferry_project.api.id
  source     = { path = "${path.module}/app" } # .vercelignore, else .gitignore, leaves files out
  production = true

  # An env var changed in the same apply goes live at once: the deployment is
  # replaced by a redeploy, which serves the existing build with the new env.
  lifecycle {
    replace_triggered_by = [ferry_env_var.greeting, ferry_env_var.api_key]
  }

  timeouts = {
    create = "20m"
  }
}

# A preview deployment of the same source, with the preview env vars. Without
# replace_triggered_by, a changed env var shows in the next plan: env_digest
# changes and the deployment is replaced by a redeploy.
resource "ferry_deployment" "preview" {
  project_id = ferry_project.api.id
  source     = { path = "${path.module}/app" }
  depends_on = [ferry_env_var.greeting]
}

# A deployment of a git branch, fetched by the engine. Plan resolves the ref:
# a push to the branch plans a replacement. The deployment gets the branch's
# preview env vars, and http://<project>-git-feature-login-<digest>.localhost
# serves the branch's newest deployment.
resource "ferry_deployment" "feature" {
  project_id = ferry_project.api.id
  source = {
    git = {
      url = "https://github.com/acme/api.git"
      ref = "feature/login"
    }
  }
}

output "deployment_url" {
  value = ferry_deployment.prod.url
}

output "deployed_commit" {
  value = ferry_deployment.feature.git.commit_sha
}
