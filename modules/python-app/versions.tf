terraform {
  # optional() attributes with defaults need 1.3; `terraform test` for this
  # module's tests needs 1.6, and its mocked plan tests 1.7.
  required_version = ">= 1.5"

  required_providers {
    ferry = {
      source  = "ferryhq/ferry"
      version = ">= 0.1.0"
    }
  }
}
