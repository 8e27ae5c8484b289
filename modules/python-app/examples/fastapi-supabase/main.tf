# A FastAPI app on a Supabase database, served on a custom domain.
terraform {
  required_providers {
    ferry = {
      source = "ferryhq/ferry"
    }
  }
}

provider "ferry" {}

variable "supabase_connection_string" {
  description = "As Supabase's dashboard gives it (Connect), such as postgresql://postgres.<ref>:<password>@aws-0-<region>.pooler.supabase.com:6543/postgres."
  type        = string
  sensitive   = true
}

variable "domain" {
  description = "The custom domain that serves production."
  type        = string
  default     = "api.example.com"
}

variable "secret_key" {
  type      = string
  sensitive = true
  default   = "change-me"
}

module "api" {
  source = "../.."

  name        = "items-api"
  framework   = "fastapi"
  source_path = "${path.module}/app"

  env = {
    SECRET_KEY = var.secret_key
  }

  # The app uses SQLAlchemy's asyncio engine over asyncpg: the URL is made
  # right for it and for Supabase's transaction pooler.
  supabase = {
    driver = "sqlalchemy+asyncpg"
  }
  supabase_connection_string = var.supabase_connection_string

  domains = [var.domain]
}

output "production_url" {
  value = module.api.production_url
}

# Create these at your DNS provider; the domain is served once they resolve.
output "dns_records" {
  value = module.api.dns_records
}

output "database_url_changes" {
  value = module.api.database_url_changes
}
