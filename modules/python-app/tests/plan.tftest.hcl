# Plan-level tests of the module's wiring and input validation, on a mocked
# provider: no engine needed (Terraform 1.7 or later).
mock_provider "ferry" {
  override_data {
    target = data.ferry_git_ref.production
    values = {
      commit = "1111111111111111111111111111111111111111"
      branch = "main"
    }
  }
  override_data {
    target = data.ferry_git_ref.preview
    values = {
      commit = "2222222222222222222222222222222222222222"
    }
  }
}

variables {
  name        = "shop"
  source_path = "./examples/flask-minimal/app"
}

run "path_source" {
  command = plan

  variables {
    framework = "flask"
    env = {
      GREETING = "Hello"
      API_KEY  = "s3cret"
    }
  }

  assert {
    condition     = ferry_project.this.name == "shop" && ferry_project.this.framework == "flask"
    error_message = "the project takes name and framework"
  }
  assert {
    condition     = ferry_project.this.git_repository == null
    error_message = "a path source sets no git repository"
  }
  assert {
    condition     = ferry_deployment.production.production && ferry_deployment.production.source.path == "./examples/flask-minimal/app" && ferry_deployment.production.source.git == null
    error_message = "one production deployment of the path"
  }
  assert {
    condition     = toset(keys(ferry_env_var.this)) == toset(["API_KEY", "GREETING"])
    error_message = "one ferry_env_var per env key"
  }
  assert {
    condition     = ferry_env_var.this["API_KEY"].target == toset(["production", "preview"])
    error_message = "env vars default to production and preview"
  }
  assert {
    condition     = length(ferry_alias.production) == 0 && length(ferry_domain.this) == 0 && length(ferry_deployment.preview) == 0
    error_message = "nothing optional is created unless asked for"
  }
  assert {
    condition     = output.env_keys == tolist(["API_KEY", "GREETING"])
    error_message = "env_keys lists the keys, sorted"
  }
}

run "rollback_pins_production" {
  command = apply

  variables {
    production_deployment_id = "dpl_aaaaaaaaaaaaaaaaaaaa"
  }

  assert {
    condition     = ferry_alias.production[0].deployment_id == "dpl_aaaaaaaaaaaaaaaaaaaa"
    error_message = "production_deployment_id pins production with a ferry_alias"
  }
  assert {
    condition     = output.production_deployment_id == "dpl_aaaaaaaaaaaaaaaaaaaa" && output.deployment_id != "dpl_aaaaaaaaaaaaaaaaaaaa"
    error_message = "production_deployment_id output names the pinned deployment, deployment_id the newest"
  }
}

run "git_with_previews" {
  command = plan

  variables {
    source_path      = null
    git              = { url = "https://github.com/acme/shop.git", ref = "main" }
    preview_branches = ["feature/login", "staging"]
  }

  assert {
    condition     = ferry_project.this.git_repository.url == "https://github.com/acme/shop.git" && ferry_project.this.git_repository.production_branch == "main"
    error_message = "the project records the repository and production branch"
  }
  assert {
    condition     = ferry_deployment.production.source.git.commit == "1111111111111111111111111111111111111111" && ferry_deployment.production.source.git.ref == "main"
    error_message = "production deploys the commit the ref resolves to, as a deployment of the branch"
  }
  assert {
    condition     = toset(keys(ferry_deployment.preview)) == toset(["feature/login", "staging"])
    error_message = "one preview deployment per branch"
  }
  assert {
    condition     = ferry_deployment.preview["staging"].source.git.ref == "staging" && ferry_deployment.preview["staging"].source.git.commit == "2222222222222222222222222222222222222222"
    error_message = "a preview deploys its branch's commit"
  }
}

run "git_pinned_commit" {
  command = plan

  variables {
    source_path = null
    git         = { url = "https://github.com/acme/shop.git", commit = "3333333333333333333333333333333333333333" }
  }

  assert {
    condition     = length(data.ferry_git_ref.production) == 0 && ferry_deployment.production.source.git.commit == "3333333333333333333333333333333333333333"
    error_message = "a pinned commit is deployed as given, without resolving a ref"
  }
}

run "supabase_and_domains" {
  command = plan

  variables {
    supabase                   = { driver = "sqlalchemy+asyncpg" }
    supabase_connection_string = "postgresql://postgres.abc:pw@aws-0-eu-west-1.pooler.supabase.com:6543/postgres?supa=base-pooler.x"
    domains                    = ["api.example.com", "www.example.com"]
  }

  assert {
    condition     = ferry_supabase_integration.this[0].driver == "sqlalchemy+asyncpg" && ferry_supabase_integration.this[0].target == toset(["production", "preview"])
    error_message = "the integration takes the driver and defaults to production and preview"
  }
  assert {
    condition     = toset(keys(ferry_domain.this)) == toset(["api.example.com", "www.example.com"])
    error_message = "one ferry_domain per domain"
  }
}

run "rejects_bad_name" {
  command = plan
  variables {
    name = "My_App"
  }
  expect_failures = [var.name]
}

run "rejects_bad_framework" {
  command = plan
  variables {
    framework = "django"
  }
  expect_failures = [var.framework]
}

run "rejects_reserved_env_key" {
  command = plan
  variables {
    env = { VERCEL_URL = "x" }
  }
  expect_failures = [var.env]
}

run "rejects_bad_env_key" {
  command = plan
  variables {
    env = { "API-KEY" = "x" }
  }
  expect_failures = [var.env]
}

run "rejects_bad_env_target" {
  command = plan
  variables {
    env_targets = ["staging"]
  }
  expect_failures = [var.env_targets]
}

run "rejects_short_commit" {
  command = plan
  variables {
    source_path = null
    git         = { url = "https://github.com/acme/shop.git", commit = "abc123" }
  }
  expect_failures = [var.git]
}

run "rejects_unknown_driver" {
  command = plan
  variables {
    supabase                   = { driver = "pg8000" }
    supabase_connection_string = "postgresql://u:p@db.example.com:5432/postgres"
  }
  expect_failures = [var.supabase]
}

run "rejects_non_postgres_url" {
  command = plan
  variables {
    supabase                   = { driver = "psycopg2" }
    supabase_connection_string = "mysql://u:p@db.example.com/app"
  }
  expect_failures = [var.supabase_connection_string]
}

run "rejects_url_as_domain" {
  command = plan
  variables {
    domains = ["https://api.example.com/"]
  }
  expect_failures = [var.domains]
}

run "rejects_bad_deployment_id" {
  command = plan
  variables {
    production_deployment_id = "https://shop-abc.localhost:3080"
  }
  expect_failures = [var.production_deployment_id]
}

run "rejects_bad_branch" {
  command = plan
  variables {
    source_path      = null
    git              = { url = "https://github.com/acme/shop.git" }
    preview_branches = ["feature login"]
  }
  expect_failures = [var.preview_branches]
}

run "rejects_two_sources" {
  command = plan
  variables {
    git = { url = "https://github.com/acme/shop.git" }
  }
  expect_failures = [ferry_project.this]
}

run "rejects_no_source" {
  command = plan
  variables {
    source_path = null
  }
  expect_failures = [ferry_project.this]
}

run "rejects_previews_of_a_path" {
  command = plan
  variables {
    preview_branches = ["staging"]
  }
  expect_failures = [ferry_project.this]
}

run "rejects_supabase_without_url" {
  command = plan
  variables {
    supabase = { driver = "psycopg2" }
  }
  expect_failures = [ferry_project.this]
}

run "env_vars_per_target_and_branch" {
  command = plan

  variables {
    source_path      = null
    git              = { url = "https://github.com/acme/shop.git", ref = "main" }
    preview_branches = ["feature/login"]
    env_vars = [
      { key = "API_URL", value = "https://api.example.com", target = ["production"] },
      { key = "API_URL", value = "https://staging.example.com", target = ["preview"] },
      { key = "API_URL", value = "https://login.staging.example.com", target = ["preview"], git_branch = "feature/login" },
      { key = "LOG_LEVEL", value = "info" },
    ]
  }

  assert {
    condition = toset(keys(ferry_env_var.targeted)) == toset([
      "API_URL production *", "API_URL preview *", "API_URL preview feature/login", "LOG_LEVEL preview,production *",
    ])
    error_message = "one ferry_env_var per key, targets and branch"
  }
  assert {
    condition     = ferry_env_var.targeted["API_URL preview feature/login"].git_branch == "feature/login" && ferry_env_var.targeted["API_URL preview feature/login"].target == toset(["preview"])
    error_message = "a branch's value is for that branch's previews"
  }
  assert {
    condition     = nonsensitive(ferry_env_var.targeted["API_URL production *"].value) == "https://api.example.com"
    error_message = "each entry keeps its own value"
  }
  assert {
    condition     = ferry_env_var.targeted["LOG_LEVEL preview,production *"].target == toset(["production", "preview"])
    error_message = "env_vars entries default to production and preview"
  }
}

run "rejects_env_vars_branch_outside_preview" {
  command = plan

  variables {
    env_vars = [{ key = "DEBUG", value = "1", target = ["production"], git_branch = "feature/login" }]
  }
  expect_failures = [var.env_vars]
}

run "rejects_env_vars_set_twice" {
  command = plan

  variables {
    env_vars = [
      { key = "DEBUG", value = "1", target = ["preview"] },
      { key = "DEBUG", value = "2", target = ["preview", "production"] },
    ]
  }
  expect_failures = [var.env_vars]
}

run "rejects_env_vars_reserved_key" {
  command = plan

  variables {
    env_vars = [{ key = "VERCEL_URL", value = "x" }]
  }
  expect_failures = [var.env_vars]
}

run "rejects_key_in_env_and_env_vars" {
  command = plan

  variables {
    env      = { DEBUG = "1" }
    env_vars = [{ key = "DEBUG", value = "2", target = ["preview"] }]
  }
  expect_failures = [ferry_env_var.targeted]
}
