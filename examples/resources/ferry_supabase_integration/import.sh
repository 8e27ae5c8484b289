# A Supabase integration is imported as project/target, or
# project/target/git_branch for one limited to a branch: the project's name
# (or id) and one of the integration's targets.
terraform import ferry_supabase_integration.db my-flask-app/production
