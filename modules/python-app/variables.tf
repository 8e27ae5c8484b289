variable "name" {
  description = "Name of the project: a DNS label (1 to 52 lowercase letters, digits and hyphens) that is part of every URL of the app, such as `http://<name>.localhost:3080`."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,50}[a-z0-9])?$", var.name))
    error_message = "name must be 1 to 52 lowercase letters, digits and hyphens, not starting or ending with a hyphen (it becomes a host name), such as \"my-flask-app\"."
  }
}

variable "framework" {
  description = "How the app is served: `flask` (any WSGI app), `fastapi` (any ASGI app) or `auto` (detected from the source at each build)."
  type        = string
  default     = "auto"
  nullable    = false

  validation {
    condition     = contains(["auto", "flask", "fastapi"], var.framework)
    error_message = "framework must be one of \"auto\", \"flask\" or \"fastapi\"."
  }
}

variable "source_path" {
  description = "Local directory of the app, such as `\"$${path.root}/app\"`, uploaded at apply. Set this or `git`, not both. A change of its files plans a new production deployment."
  type        = string
  default     = null

  validation {
    condition     = var.source_path == null || try(length(trimspace(var.source_path)) > 0, false)
    error_message = "source_path must not be empty: give the directory of the app, or leave it unset and set git."
  }
}

variable "git" {
  description = <<-EOT
    Git repository of the app, fetched by the engine: `url` (https, ssh, or, with the embedded engine, a local path),
    `ref` (the production branch; unset: the repository's default branch) and optionally `commit`
    (a full 40-character sha to deploy exactly that commit). Set this or `source_path`, not both. Plan
    resolves the branch, so a push shows as a new production deployment.
  EOT
  type = object({
    url    = string
    ref    = optional(string)
    commit = optional(string)
  })
  default = null

  validation {
    condition     = var.git == null || try(length(trimspace(var.git.url)) > 0, false)
    error_message = "git.url must be set: an https:// or ssh:// URL, git@host:owner/repo.git, or the path of a repository on the engine's machine."
  }

  validation {
    condition     = try(var.git.commit == null || can(regex("^[0-9a-f]{40}$", var.git.commit)), true)
    error_message = "git.commit must be a full 40-character lowercase hex commit sha (a branch or tag goes in git.ref)."
  }
}

variable "root_directory" {
  description = "Directory of the app inside its source, such as `services/api`. Unset: the top of the source."
  type        = string
  default     = null

  validation {
    condition     = var.root_directory == null || try(!startswith(var.root_directory, "/") && !contains(split("/", var.root_directory), ".."), false)
    error_message = "root_directory must be a relative path inside the source, such as \"services/api\", without \"..\"."
  }
}

variable "install_command" {
  description = "Command that installs the app's dependencies at build time, instead of the default (`pip install -r requirements.txt` when there is one). `\"\"` skips the install."
  type        = string
  default     = null
}

variable "build_command" {
  description = "Command run after the install at build time. Unset: no build step."
  type        = string
  default     = null
}

variable "env" {
  description = "Environment variables of the app, `{ KEY = \"value\" }`, set for the targets in `env_targets`. Sensitive: values never show in plan output, and outputs derived from them are sensitive. They are stored in Terraform's state (marked sensitive). A change goes live in the same apply, as a redeploy without a build."
  type        = map(string)
  default     = {}
  nullable    = false
  sensitive   = true

  validation {
    condition     = alltrue([for k in keys(var.env) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k))])
    error_message = "Every env key must be a letter or underscore followed by letters, digits and underscores, such as API_KEY."
  }

  validation {
    condition = alltrue([for k in keys(var.env) :
      !can(regex("^(?i)(FERRY_|VERCEL_)", k)) && !contains(["PATH", "VIRTUAL_ENV", "PYTHONHOME", "VERCEL", "FERRY"], upper(k))
    ])
    error_message = "env keys starting with FERRY_ or VERCEL_, and PATH, VIRTUAL_ENV, PYTHONHOME, VERCEL and FERRY, are reserved: ferry sets them in every deployment. Rename the variable."
  }
}

variable "env_targets" {
  description = "Deployment targets that get `env`: one or more of `production`, `preview` and `development`."
  type        = set(string)
  default     = ["production", "preview"]
  nullable    = false

  validation {
    condition     = length(var.env_targets) > 0 && alltrue([for t in var.env_targets : contains(["production", "preview", "development"], t)])
    error_message = "env_targets must name one or more of \"production\", \"preview\" and \"development\"."
  }
}

variable "env_vars" {
  description = <<-EOT
    Environment variables whose value differs by target, or that only one git branch's previews get:
    a list of `{ key, value, target, git_branch }`. `target` (default production and preview) is a set of
    `production`, `preview` and `development`; `git_branch` (optional) limits a preview value to the
    deployments of that branch, and wins over the key's other preview value there. A key may be in `env` or
    here, not both. Sensitive, like `env`; a change goes live in the same apply.
    For a secret that must never reach Terraform's state, manage a `ferry_env_var` with `value_wo` beside
    the module (`project_id` is an output): write-only arguments need Terraform 1.11, which this module
    does not require.
  EOT
  type = list(object({
    key        = string
    value      = string
    target     = optional(set(string), ["production", "preview"])
    git_branch = optional(string)
  }))
  default   = []
  nullable  = false
  sensitive = true

  validation {
    condition     = alltrue([for v in var.env_vars : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", v.key))])
    error_message = "Every env_vars key must be a letter or underscore followed by letters, digits and underscores, such as API_KEY."
  }

  validation {
    condition = alltrue([for v in var.env_vars :
      !can(regex("^(?i)(FERRY_|VERCEL_)", v.key)) && !contains(["PATH", "VIRTUAL_ENV", "PYTHONHOME", "VERCEL", "FERRY"], upper(v.key))
    ])
    error_message = "env_vars keys starting with FERRY_ or VERCEL_, and PATH, VIRTUAL_ENV, PYTHONHOME, VERCEL and FERRY, are reserved: ferry sets them in every deployment. Rename the variable."
  }

  validation {
    condition     = alltrue([for v in var.env_vars : length(v.target) > 0 && alltrue([for t in v.target : contains(["production", "preview", "development"], t)])])
    error_message = "Every env_vars target must name one or more of \"production\", \"preview\" and \"development\"."
  }

  validation {
    condition     = alltrue([for v in var.env_vars : v.git_branch == null || v.target == toset(["preview"])])
    error_message = "An env_vars entry with git_branch is for that branch's previews: set its target to [\"preview\"]."
  }

  validation {
    # One value per key, target and branch: the engine refuses a second, so the plan does too.
    condition = length(flatten([for v in var.env_vars : [for t in v.target : "${v.key}/${t}/${v.git_branch == null ? "" : v.git_branch}"]])) == length(distinct(flatten([
      for v in var.env_vars : [for t in v.target : "${v.key}/${t}/${v.git_branch == null ? "" : v.git_branch}"]
    ])))
    error_message = "Two env_vars entries set one key for the same target (and git branch): keep one, or give them different targets."
  }
}

variable "supabase" {
  description = <<-EOT
    A Supabase (PostgreSQL) database for the app, injected as `DATABASE_URL` (and `POSTGRES_URL`, ...): `driver`
    is the Python library the app connects with (`asyncpg`, `psycopg`, `psycopg2`, `sqlalchemy+asyncpg`,
    `sqlalchemy+psycopg2`, `sqlalchemy+psycopg`, `prisma`); optional `pool_mode` (`transaction`, `session`,
    `direct`), `target` (default production and preview), `supabase_url` (injected as `SUPABASE_URL`) and
    `verify` (connect at apply time). The connection string itself goes in `supabase_connection_string`.
  EOT
  type = object({
    driver       = string
    pool_mode    = optional(string)
    target       = optional(set(string), ["production", "preview"])
    supabase_url = optional(string)
    verify       = optional(bool, false)
  })
  default = null

  validation {
    condition     = try(contains(["asyncpg", "psycopg", "psycopg2", "sqlalchemy+asyncpg", "sqlalchemy+psycopg2", "sqlalchemy+psycopg", "prisma"], var.supabase.driver), var.supabase == null)
    error_message = "supabase.driver must be one of asyncpg, psycopg, psycopg2, sqlalchemy+asyncpg, sqlalchemy+psycopg2, sqlalchemy+psycopg, prisma: the library the app opens the database with."
  }

  validation {
    condition     = try(var.supabase.pool_mode == null || contains(["transaction", "session", "direct"], var.supabase.pool_mode), true)
    error_message = "supabase.pool_mode must be \"transaction\" (Supabase's pooler on port 6543), \"session\" (port 5432) or \"direct\"; leave it unset for the default."
  }

  validation {
    condition     = try(length(var.supabase.target) > 0 && alltrue([for t in var.supabase.target : contains(["production", "preview", "development"], t)]), true)
    error_message = "supabase.target must name one or more of \"production\", \"preview\" and \"development\"."
  }
}

variable "supabase_connection_string" {
  description = "The database's connection string as Supabase's dashboard gives it (Connect), `supa=` and all: ferry makes it right for `supabase.driver`. Required with `supabase`. Sensitive."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.supabase_connection_string == null || can(regex("^postgres(ql)?://", var.supabase_connection_string))
    error_message = "supabase_connection_string must be a postgresql:// (or postgres://) URL, as Supabase's dashboard gives it under Connect."
  }
}

variable "supabase_keys" {
  description = "Optional Supabase API keys, injected as `SUPABASE_ANON_KEY`, `SUPABASE_SERVICE_ROLE_KEY` and `SUPABASE_JWT_SECRET`. Sensitive."
  type = object({
    anon_key         = optional(string)
    service_role_key = optional(string)
    jwt_secret       = optional(string)
  })
  default   = {}
  nullable  = false
  sensitive = true
}

variable "domains" {
  description = "Custom domains that serve production, such as `[\"api.example.com\"]`. The `dns_records` output lists the records to create for each."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for d in var.domains : can(regex("^(\\*\\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", d))])
    error_message = "Each domain must be a lowercase host name such as \"api.example.com\", without a scheme, port or path (internationalized names in their xn-- form)."
  }

  validation {
    condition     = length(distinct(var.domains)) == length(var.domains)
    error_message = "domains lists a name twice: each domain may appear once."
  }
}

variable "preview_branches" {
  description = "Git branches that each get a preview deployment, with their own URL `<name>-git-<branch>` (the `preview_urls` output). Needs `git`. A push to one plans a new preview deployment of it."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for b in var.preview_branches : can(regex("^[^\\s~^:?*\\[\\\\]+$", b)) && !startswith(b, "-") && !startswith(b, "refs/")])
    error_message = "Each preview branch must be a plain git branch name such as \"feature/login\" (no spaces, ~ ^ : ? * [ or \\, not starting with - or refs/)."
  }

  validation {
    condition     = length(distinct(var.preview_branches)) == length(var.preview_branches)
    error_message = "preview_branches lists a branch twice: each branch may appear once."
  }
}

variable "production_deployment_id" {
  description = "Roll back (or forward): the id of a READY production deployment of this app (such as an earlier `deployment_id` output) that production should serve. Traffic moves at once, with no build, and stays there while new deployments are made at their own URLs. Unset: production serves the newest production deployment."
  type        = string
  default     = null

  validation {
    condition     = var.production_deployment_id == null || can(regex("^dpl_[a-z2-7]{20}$", var.production_deployment_id))
    error_message = "production_deployment_id must be a deployment id such as \"dpl_4k2m9x7q1w3e5r8t0y6u\" (the deployment_id output of an earlier apply, or `ferry` CLI's listing), or null to follow the newest production deployment."
  }
}

variable "build_timeout" {
  description = "How long apply waits for a build, such as `\"20m\"`."
  type        = string
  default     = "15m"
  nullable    = false

  validation {
    condition     = can(regex("^([0-9]+h)?([0-9]+m)?([0-9]+s)?$", var.build_timeout)) && var.build_timeout != ""
    error_message = "build_timeout must be a duration such as \"20m\", \"1h\" or \"90s\"."
  }
}
