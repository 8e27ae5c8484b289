resource "ferry_team" "payments" {
  name = "payments"
}

# A token for the team's CI: it may deploy, promote and roll back the team's
# projects, but not change their settings or env vars. Changing its scopes,
# projects or expiry replaces it: the old value stops working, and the new one
# must reach whatever used the old.
resource "ferry_team_token" "ci" {
  team_id    = ferry_team.payments.id
  name       = "ci-deploy"
  scopes     = ["deploy"]
  expires_at = "2027-06-30T00:00:00Z"
}

# The value, set once at creation, configures a provider that acts as the
# team: usually handed to CI as a secret; in the same configuration, as here,
# once the token exists (apply it first: -target=ferry_team_token.ci).
provider "ferry" {
  alias    = "payments_ci"
  endpoint = "https://ferry.example.com:3444"
  token    = ferry_team_token.ci.token
}
