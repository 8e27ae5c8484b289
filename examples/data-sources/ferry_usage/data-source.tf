# What one project used this month (UTC), as the engine metered it.
data "ferry_usage" "api" {
  project_id = ferry_project.api.id
}

# Every project the token may see, over November.
data "ferry_usage" "november" {
  since = "2026-11-01"
  until = "2026-12-01"
}

output "api_gb_hours_this_month" {
  value = data.ferry_usage.api.function_gb_hours
}
