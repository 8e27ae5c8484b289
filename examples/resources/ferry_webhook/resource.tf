resource "ferry_team" "payments" {
  name = "payments"
}

# Tell the team's chat bot of every production change: each delivery is
# signed with the secret (X-Ferry-Signature: sha256=..., and
# x-vercel-signature for receivers written for Vercel) and retried with
# backoff until the receiver answers 2xx.
resource "ferry_webhook" "deploys" {
  team_id           = ferry_team.payments.id
  url               = "https://hooks.example.com/ferry"
  events            = ["deployment.ready", "deployment.error", "deployment.promoted", "deployment.rolled_back"]
  secret_wo         = var.webhook_secret # write-only: never stored in Terraform state
  secret_wo_version = 1                  # change it to send a new secret
}

variable "webhook_secret" {
  type      = string
  sensitive = true
}
