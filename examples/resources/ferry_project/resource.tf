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

output "production_url" {
  value = ferry_project.api.production_url
}
