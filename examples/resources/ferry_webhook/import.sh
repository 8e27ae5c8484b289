# A webhook is imported as <team id>/<webhook id> (`ferry webhooks ls --team TEAM`
# shows the ids). Its secret cannot be read back: the first apply after an
# import sends secret_wo.
terraform import ferry_webhook.deploys team_abc123/hook_def456
