# Shared by the pipeline's steps. Settings come from the environment:
#   FERRY_ENDPOINT, FERRY_TOKEN   the remote engine (read by the provider)
#   PG_CONN_STR                   Terraform state (the pg backend), or any backend of your own
#   TF_VAR_project                the app's name on the engine
#   TF_VAR_repository             the app's repository, as the engine fetches it
#   TF_VAR_env                    optional, the app's env as an HCL map (a CI secret)
set -euo pipefail

CI_DIR=${CI_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
export TF_IN_AUTOMATION=1 TF_INPUT=0

: "${FERRY_ENDPOINT:?set FERRY_ENDPOINT to the engine's API URL}"
: "${FERRY_TOKEN:?set FERRY_TOKEN to the engine's API token}"
: "${TF_VAR_project:?set TF_VAR_project to the app's name}"
: "${TF_VAR_repository:?set TF_VAR_repository to the app's repository URL}"

# An unset CI secret arrives as an empty string, which is no map.
if [ -z "${TF_VAR_env:-}" ]; then
	unset TF_VAR_env
fi

tf() {
	local dir=$1
	shift
	terraform -chdir="$CI_DIR/$dir" "$@"
}

tf_init() {
	tf "$1" init -input=false -no-color >/dev/null
}

# A workspace name for a branch: readable, and unique (feature/a and
# feature-a differ) through a digest of the name.
preview_workspace() {
	local slug digest
	slug=$(printf '%s' "$1" | tr -c 'A-Za-z0-9_-' '-' | cut -c1-40)
	digest=$(printf '%s' "$1" | sha256sum | cut -c1-8)
	printf 'preview-%s-%s' "$slug" "$digest"
}

# Sets a step output in GitHub Actions, and prints it anywhere.
step_output() {
	echo "$1=$2"
	if [ -n "${GITHUB_OUTPUT:-}" ]; then
		echo "$1=$2" >>"$GITHUB_OUTPUT"
	fi
}
