resource "ferry_env_var" "greeting" {
  project_id = ferry_project.api.id
  key        = "GREETING"
  value      = "Hello" # stored in Terraform's state, marked sensitive
  target     = ["production", "preview"]
  comment    = "shown on the home page"
}

# A secret that never reaches Terraform's plan or state (Terraform >= 1.11).
# Bump value_wo_version to send a new value.
variable "api_key" {
  type      = string
  sensitive = true
}

resource "ferry_env_var" "api_key" {
  project_id       = ferry_project.api.id
  key              = "API_KEY"
  value_wo         = var.api_key
  value_wo_version = 1
  target           = ["production"]
}

# Only for preview deployments.
resource "ferry_env_var" "debug" {
  project_id = ferry_project.api.id
  key        = "DEBUG"
  value      = "1"
  target     = ["preview"]
}

# Only for preview deployments of one git branch; it wins over DEBUG above there.
resource "ferry_env_var" "debug_login_branch" {
  project_id = ferry_project.api.id
  key        = "DEBUG"
  value      = "2"
  target     = ["preview"]
  git_branch = "feature/login"
}
