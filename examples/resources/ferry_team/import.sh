# A team is imported by its name (or id).
terraform import ferry_team.payments payments
