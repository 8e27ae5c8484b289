terraform {
  required_providers {
    ferry = {
      source = "ferryhq/ferry"
    }
  }
}

# The embedded engine: the provider finds the engine of its data dir, or
# starts one from its own binary. Apps are served on http://<name>.localhost:3080.
provider "ferry" {}

# The embedded engine with explicit settings (each also read from
# FERRY_DATA_DIR, FERRY_HTTP_ADDRESS and FERRY_PYTHON).
provider "ferry" {
  alias        = "custom"
  data_dir     = "/var/lib/ferry"
  http_address = "127.0.0.1:8080"
  python       = "/usr/bin/python3"
}

# A remote engine run with `ferry serve` (or FERRY_ENDPOINT and FERRY_TOKEN).
variable "ferry_token" {
  type      = string
  sensitive = true
}

provider "ferry" {
  alias    = "remote"
  endpoint = "https://ferry.example.com:7443"
  token    = var.ferry_token
}
