# CI: a push to main becomes "terraform plan" then "terraform apply". The data
# source reads main's commit at every plan; a new commit replaces the
# production deployment, an unchanged one plans nothing.
resource "ferry_project" "api" {
  name = "api"
  git_repository = {
    url               = "git@github.com:acme/api.git" # the engine's user needs an ssh key or agent for it
    production_branch = "main"
  }
}

data "ferry_git_ref" "main" {
  project_id = ferry_project.api.id # url and ref from the project's git_repository
}

resource "ferry_deployment" "prod" {
  project_id = ferry_project.api.id
  source     = { git = { ref = "main", commit = data.ferry_git_ref.main.commit } }
  production = true
}

output "deployed" {
  value = "${data.ferry_git_ref.main.commit}: ${data.ferry_git_ref.main.message}"
}
