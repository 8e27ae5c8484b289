resource "ferry_project" "api" {
  name = "my-flask-app"
}

resource "ferry_deployment" "release_41" {
  project_id = ferry_project.api.id
  source     = { path = "${path.module}/releases/41" }
  production = true
}

resource "ferry_deployment" "release_42" {
  project_id = ferry_project.api.id
  source     = { path = "${path.module}/releases/42" }
  production = true
}

# Release 42 misbehaves: production goes back to release 41 at once, with no
# build. Point deployment_id at release_42 again to roll forward; remove the
# alias to let production follow the newest production deployment.
resource "ferry_alias" "production" {
  project_id    = ferry_project.api.id
  deployment_id = ferry_deployment.release_41.id
}
