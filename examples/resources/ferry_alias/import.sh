# An alias of every production hostname is imported by its project's name (or id);
# an alias of one hostname as <project>/<hostname>.
terraform import ferry_alias.production my-flask-app
terraform import ferry_alias.www my-flask-app/my-flask-app.localhost
