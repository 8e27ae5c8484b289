# A team owns projects; its tokens reach only them. Teams are made with the
# engine's operator token (the provider's token of `ferry serve`).
resource "ferry_team" "payments" {
  name = "payments"
  plan = "pro" # Vercel's Pro limits; without it, no limits
}

resource "ferry_project" "checkout" {
  name    = "checkout"
  team_id = ferry_team.payments.id
}
