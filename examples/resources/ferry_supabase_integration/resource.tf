# The connection string exactly as Supabase's dashboard gives it (Connect,
# Transaction pooler), `supa=` and all: ferry makes it right for the driver.
variable "supabase_connection_string" {
  type      = string
  sensitive = true
}

variable "supabase_service_role_key" {
  type      = string
  sensitive = true
}

resource "ferry_supabase_integration" "db" {
  project_id           = ferry_project.api.id
  connection_string_wo = var.supabase_connection_string # never in plan or state (Terraform >= 1.11)
  # Bump to send a new connection string.
  connection_string_wo_version = 1
  driver                       = "sqlalchemy+asyncpg" # DATABASE_URL becomes postgresql+asyncpg://...
  target                       = ["production", "preview"]
  supabase_url                 = "https://abcdefghijklmnopqrst.supabase.co"
  service_role_key             = var.supabase_service_role_key
  verify                       = true # connect at apply time, and say what is wrong
}

# Deployments freeze their environment when they are created: deploy again
# when the integration changes.
resource "ferry_deployment" "prod" {
  project_id = ferry_project.api.id
  source     = { path = "${path.module}/app" }
  production = true

  lifecycle {
    replace_triggered_by = [ferry_supabase_integration.db]
  }
}

# What was done to the connection string, and why.
output "database_url_changes" {
  value = ferry_supabase_integration.db.changes
}
