resource "ferry_project" "shop" {
  name = "shop"
}

resource "ferry_domain" "apex" {
  project_id = ferry_project.shop.id
  name       = "example.com"
}

# www.example.com/anything answers 308 with https://example.com/anything.
resource "ferry_domain" "www" {
  project_id = ferry_project.shop.id
  name       = "www.example.com"
  redirect   = ferry_domain.apex.name
}

# The records to create, fed to a DNS provider's resources in the same
# configuration: their types and names are known at plan time, so they can
# key for_each even before the domains exist.
resource "cloudflare_dns_record" "shop" {
  for_each = {
    for i, r in concat(ferry_domain.apex.dns_records, ferry_domain.www.dns_records) : "${i} ${r.type} ${r.name}" => r
  }
  zone_id = var.cloudflare_zone_id
  type    = each.value.type
  name    = each.value.name
  content = each.value.value
  ttl     = 300
}

# Once the records exist, the engine verifies the domains (it looks every
# minute) and obtains their certificates. To have `terraform apply` wait for
# that instead, set wait_for_ready on a domain whose records already exist.
output "shop_url" {
  value = ferry_domain.apex.url # https://example.com once the certificate is issued
}
