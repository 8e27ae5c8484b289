# The deployment production serves now, whoever made it (another workspace, CI).
data "ferry_deployment" "production" {
  project_id = "api"
}

# The newest ready preview of a branch.
data "ferry_deployment" "feature" {
  project_id = "api"
  target     = "preview"
  git_branch = "feature/login"
}

output "feature_url" {
  value = data.ferry_deployment.feature.url
}
