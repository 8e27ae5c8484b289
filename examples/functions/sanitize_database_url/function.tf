# A connection string made right for a driver, for use anywhere: here an env
# var of another name. It works on its own: for asyncpg, the session pooler.
resource "ferry_env_var" "analytics_db" {
  project_id = ferry_project.api.id
  key        = "ANALYTICS_DATABASE_URL"
  value      = provider::ferry::sanitize_database_url(var.analytics_connection_string, "asyncpg")
  target     = ["production"]
}
