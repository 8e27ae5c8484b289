# A project is imported by its name (or its id).
terraform import ferry_project.api my-flask-app
