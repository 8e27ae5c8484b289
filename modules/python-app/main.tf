locals {
  from_git = var.git != null

  # Keys are not secret and must be known to for_each; the values stay sensitive.
  env_keys = nonsensitive(toset(keys(var.env)))

  # env_vars by key, targets and branch: what names an entry is not secret, so it may key
  # for_each; its value stays in the sensitive variable, read by index.
  env_var_names = nonsensitive([for v in var.env_vars : { key = v.key, target = v.target, git_branch = v.git_branch }])
  targeted_env = {
    for i, v in local.env_var_names : "${v.key} ${join(",", sort(v.target))} ${v.git_branch == null ? "*" : v.git_branch}" => merge(v, { index = i })
  }

  # A pinned commit is deployed as given; otherwise plan resolves the ref
  # (ferry_git_ref), so a push shows in plan as a new deployment.
  resolve_production_ref = local.from_git && try(var.git.commit, null) == null

  # Without git, the project's precondition explains what is wrong.
  preview_branches = local.from_git ? toset(var.preview_branches) : toset([])
}

resource "ferry_project" "this" {
  name            = var.name
  framework       = var.framework
  root_directory  = var.root_directory
  install_command = var.install_command
  build_command   = var.build_command

  git_repository = local.from_git ? {
    url               = var.git.url
    production_branch = var.git.ref
  } : null

  lifecycle {
    precondition {
      condition     = (var.source_path == null) != (var.git == null)
      error_message = "Set exactly one of source_path (a local directory) and git (a repository URL and ref)."
    }
    precondition {
      condition     = length(var.preview_branches) == 0 || var.git != null
      error_message = "preview_branches needs a git source: previews are deployments of branches. Set git, or remove preview_branches."
    }
    precondition {
      condition     = var.supabase == null || var.supabase_connection_string != null
      error_message = "supabase is set but supabase_connection_string is not: give the database's connection string, or remove supabase."
    }
  }
}

resource "ferry_env_var" "this" {
  for_each = local.env_keys

  project_id = ferry_project.this.id
  key        = each.key
  value      = var.env[each.key]
  target     = var.env_targets
}

resource "ferry_env_var" "targeted" {
  for_each = local.targeted_env

  project_id = ferry_project.this.id
  key        = each.value.key
  value      = var.env_vars[each.value.index].value
  target     = each.value.target
  git_branch = each.value.git_branch

  lifecycle {
    precondition {
      condition     = !contains(local.env_keys, each.value.key)
      error_message = "env_vars sets ${each.value.key}, which env sets too: keep the key in one of them."
    }
  }
}

resource "ferry_supabase_integration" "this" {
  count = var.supabase == null ? 0 : 1

  project_id        = ferry_project.this.id
  connection_string = var.supabase_connection_string
  driver            = var.supabase.driver
  pool_mode         = var.supabase.pool_mode
  target            = var.supabase.target
  supabase_url      = var.supabase.supabase_url
  verify            = var.supabase.verify
  anon_key          = var.supabase_keys.anon_key
  service_role_key  = var.supabase_keys.service_role_key
  jwt_secret        = var.supabase_keys.jwt_secret
}

# Changes when any input that is frozen into a deployment changes (env values
# and targets, the database): such a change replaces the deployments by
# redeploys in the same apply. Its values are as sensitive as the inputs.
resource "terraform_data" "deployment_env" {
  triggers_replace = {
    env                        = var.env
    env_targets                = var.env_targets
    env_vars                   = var.env_vars
    supabase                   = var.supabase
    supabase_connection_string = var.supabase_connection_string
    supabase_keys              = var.supabase_keys
  }
}

data "ferry_git_ref" "production" {
  count = local.resolve_production_ref ? 1 : 0

  url = var.git.url
  ref = var.git.ref
}

resource "ferry_deployment" "production" {
  project_id = ferry_project.this.id
  production = true
  source = {
    path = var.source_path
    git = local.from_git ? {
      url = var.git.url
      # A ref with the commit makes the deployment one of that branch.
      ref    = local.resolve_production_ref ? try(coalesce(var.git.ref, data.ferry_git_ref.production[0].branch), null) : var.git.ref
      commit = local.resolve_production_ref ? data.ferry_git_ref.production[0].commit : var.git.commit
    } : null
  }

  timeouts = {
    create = var.build_timeout
  }

  # The env is frozen into a deployment when it is created: one changed in
  # the same apply replaces the deployment by a redeploy (no build).
  depends_on = [ferry_env_var.this, ferry_env_var.targeted, ferry_supabase_integration.this]
  lifecycle {
    replace_triggered_by = [terraform_data.deployment_env]
  }
}

data "ferry_git_ref" "preview" {
  for_each = local.preview_branches

  url = var.git.url
  ref = each.key
}

resource "ferry_deployment" "preview" {
  for_each = local.preview_branches

  project_id = ferry_project.this.id
  source = {
    git = {
      url    = var.git.url
      ref    = each.key
      commit = data.ferry_git_ref.preview[each.key].commit
    }
  }

  timeouts = {
    create = var.build_timeout
  }

  depends_on = [ferry_env_var.this, ferry_env_var.targeted, ferry_supabase_integration.this]
  lifecycle {
    replace_triggered_by = [terraform_data.deployment_env]
  }
}

# Rollback: pin production to an earlier deployment, with no build. Without
# it, production follows the newest production deployment.
resource "ferry_alias" "production" {
  count = var.production_deployment_id == null ? 0 : 1

  project_id    = ferry_project.this.id
  deployment_id = var.production_deployment_id

  # Pinned after the new deployment, which would otherwise take production
  # when it becomes ready.
  depends_on = [ferry_deployment.production]
}

resource "ferry_domain" "this" {
  for_each = toset(var.domains)

  project_id = ferry_project.this.id
  name       = each.key
}
