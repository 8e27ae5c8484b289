# A deployment is imported by its id. Its source is not imported: after the
# import, plan compares the configured source with the deployment's files (or
# commit) and plans nothing when they are the same.
terraform import ferry_deployment.prod dpl_4k2m9x7q1w3e5r8t0y6u
