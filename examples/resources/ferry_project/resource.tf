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

output "production_url" {
  value = ferry_project.api.production_url
}
