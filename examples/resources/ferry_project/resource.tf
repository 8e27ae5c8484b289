resource "ferry_project" "api" {
  name      = "my-flask-app" # served at http://my-flask-app.localhost:3080
  framework = "flask"        # auto | flask | fastapi
}

# An app in a subdirectory of its source, with its own install step.
resource "ferry_project" "worker" {
  name            = "worker"
  root_directory  = "services/worker"
  install_command = "pip install --no-index --find-links vendor -r requirements.txt"
  build_command   = "python manage.py collectstatic --noinput"

  # Each instance: 512 MB (stopped past it), half a core, 64 processes.
  limits = {
    memory_mb = 512
    cpu       = 0.5
    processes = 64
  }
}

# A project deployed from git: its deployments' source.git may leave out the
# URL (and the ref: production_branch). Previews are kept a month, failed
# builds a week; what a production or branch URL serves is never deleted.
resource "ferry_project" "shop" {
  name = "shop"
  git_repository = {
    url               = "https://github.com/acme/shop.git"
    production_branch = "main"
  }
  retention = {
    preview = "1m"
    errored = "1w"
  }
}

# Previews ask for a password; CI sends the bypass secret in the
# X-Ferry-Protection-Bypass (or X-Vercel-Protection-Bypass) header instead.
# Both are write-only: bump a version to send a new value.
variable "preview_password" {
  type      = string
  sensitive = true
}

variable "ci_bypass_secret" {
  type      = string
  sensitive = true
}

resource "ferry_project" "staged" {
  name = "staged"
  preview_protection = {
    password_wo              = var.preview_password
    password_wo_version      = 1
    bypass_secret_wo         = var.ci_bypass_secret # `openssl rand -hex 32`
    bypass_secret_wo_version = 1
  }
}

output "production_url" {
  value = ferry_project.api.production_url
}
