# An env var is imported as project/KEY/target: the project's name (or id),
# the key, and one of the variable's targets.
terraform import ferry_env_var.greeting my-flask-app/GREETING/production
