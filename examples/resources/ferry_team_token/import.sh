# A token is imported as <team id>/<token id> (`ferry tokens ls` shows the ids).
# Its value cannot be read back: `token` stays null after an import.
terraform import ferry_team_token.ci team_abc123/tok_def456
