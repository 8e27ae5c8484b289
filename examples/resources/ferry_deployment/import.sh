# A deployment is imported by its id.
terraform import ferry_deployment.prod dpl_0123456789abcdef
