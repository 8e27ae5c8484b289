#!/usr/bin/env bash
# Pull request: deploy the branch as a preview (its own state, one workspace
# per branch), print its URL, and plan production as the pull request's
# Terraform would change it. Usage: preview.sh BRANCH [COMMENT_FILE]
source "$(dirname "$0")/common.sh"

branch=${1:?usage: preview.sh BRANCH [COMMENT_FILE]}
comment=${2:-}

tf_init preview
tf preview workspace select -or-create -no-color "$(preview_workspace "$branch")" >/dev/null
tf preview apply -auto-approve -no-color -var "branch=$branch"
url=$(tf preview output -raw branch_url)
commit=$(tf preview output -raw commit)
step_output preview_url "$url"

tf_init infra
set +e
tf infra plan -lock=false -detailed-exitcode -no-color >"${RUNNER_TEMP:-/tmp}/production-plan.txt"
plan_status=$?
set -e
cat "${RUNNER_TEMP:-/tmp}/production-plan.txt"
if [ "$plan_status" = 1 ]; then
	echo "terraform plan of production failed" >&2
	exit 1
fi
changes=$([ "$plan_status" = 2 ] && echo "changes" || echo "no changes")

if [ -n "$comment" ]; then
	{
		echo "**Preview** of \`$branch\` at \`${commit:0:7}\`: $url"
		echo
		echo "Production plan: $changes."
		echo
		echo '<details><summary>terraform plan</summary>'
		echo
		echo '```'
		tail -n 60 "${RUNNER_TEMP:-/tmp}/production-plan.txt"
		echo '```'
		echo '</details>'
	} >"$comment"
fi
