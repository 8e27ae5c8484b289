output "project_id" {
  description = "Id of the ferry project, for resources of your own (`ferry_env_var`, `ferry_domain`, ...)."
  value       = ferry_project.this.id
}

output "production_url" {
  description = "URL of production, such as `http://my-app.localhost:3080`: the deployment `production_deployment_id` names, else the newest production deployment."
  value       = ferry_project.this.production_url
}

output "deployment_id" {
  description = "Id of the newest production deployment (made by this apply or an earlier one). Keep it to roll back to later with `production_deployment_id`."
  value       = ferry_deployment.production.id
}

output "deployment_url" {
  description = "The newest production deployment's own URL, which serves it for as long as it exists, whatever production serves."
  value       = ferry_deployment.production.url
}

output "production_deployment_id" {
  description = "Id of the deployment production serves: `production_deployment_id` when set (a rollback), else `deployment_id`."
  value       = var.production_deployment_id != null ? ferry_alias.production[0].deployment_id : ferry_deployment.production.id
}

output "git_commit" {
  description = "The commit the production deployment was built from; null for a `source_path`."
  value       = try(ferry_deployment.production.git.commit_sha, null)
}

output "preview_urls" {
  description = "For each of `preview_branches`, the branch's URL (`<name>-git-<branch>`), which serves its newest ready deployment."
  value       = { for b, d in ferry_deployment.preview : b => d.branch_url }
}

output "preview_deployment_urls" {
  description = "For each of `preview_branches`, the URL of the deployment of its current commit."
  value       = { for b, d in ferry_deployment.preview : b => d.url }
}

output "dns_records" {
  description = "For each of `domains`, the DNS records to create at its DNS provider (`type`, `name`, `value`); empty for names that need none, such as `.localhost` ones."
  value       = { for name, d in ferry_domain.this : name => d.dns_records }
}

output "domain_urls" {
  description = "For each of `domains`, where it serves (`https://` once its certificate is issued)."
  value       = { for name, d in ferry_domain.this : name => d.url }
}

output "env_keys" {
  description = "Names of the environment variables set from `env` (the values stay sensitive)."
  value       = sort(tolist(local.env_keys))
}

output "database_url_changes" {
  description = "What ferry changed in the Supabase connection string for the driver and pool mode, one line each (never the password); empty without `supabase`."
  value       = try(ferry_supabase_integration.this[0].changes, [])
}
