# An env var is imported as project/KEY/target: the project's name (or id),
# the key, and one of the variable's targets.
terraform import ferry_env_var.greeting my-flask-app/GREETING/production

# A variable of a git branch adds the branch: project/KEY/preview/BRANCH.
terraform import ferry_env_var.debug_login_branch my-flask-app/DEBUG/preview/feature/login
