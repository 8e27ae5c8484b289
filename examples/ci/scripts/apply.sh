#!/usr/bin/env bash
# Production branch: apply. A new commit is deployed and takes production
# once it is ready; a revert commit deploys the reverted tree. With
# PRODUCTION_DEPLOYMENT_ID set (the rollback workflow), production is pinned
# to that deployment at once, with no build, until the next apply without it.
source "$(dirname "$0")/common.sh"

if [ -n "${PRODUCTION_DEPLOYMENT_ID:-}" ]; then
	export TF_VAR_production_deployment_id=$PRODUCTION_DEPLOYMENT_ID
fi

tf_init infra
tf infra apply -auto-approve -no-color
step_output production_url "$(tf infra output -raw production_url)"
step_output deployment_id "$(tf infra output -raw deployment_id)"
step_output production_deployment_id "$(tf infra output -raw production_deployment_id)"
