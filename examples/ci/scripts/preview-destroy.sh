#!/usr/bin/env bash
# Pull request closed: delete the branch's preview deployment and its state.
# Usage: preview-destroy.sh BRANCH
source "$(dirname "$0")/common.sh"

branch=${1:?usage: preview-destroy.sh BRANCH}
workspace=$(preview_workspace "$branch")

tf_init preview
if ! tf preview workspace select -no-color "$workspace" >/dev/null 2>&1; then
	echo "no preview of $branch"
	exit 0
fi
tf preview destroy -auto-approve -no-color -var "branch=$branch"
tf preview workspace select -no-color default >/dev/null
tf preview workspace delete -no-color "$workspace"
