# A deployment is imported by its id.
terraform import ferry_deployment.prod dpl_4k2m9x7q1w3e5r8t0y6u
