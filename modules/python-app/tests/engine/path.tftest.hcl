# Apply-level tests against a real engine: the provider block is left to the
# FERRY_* environment variables (see the README), so run them against an
# engine of a throwaway data dir:
#   terraform test -test-directory=tests/engine -var=repository=<git repo>
variables {
  name        = "modtest"
  framework   = "flask"
  source_path = "./examples/flask-minimal/app"
  env         = { GREETING = "Hello" }
  domains     = ["www.modtest.example"]
}

run "deploy" {
  assert {
    condition     = ferry_deployment.production.status == "READY"
    error_message = "the production deployment is READY after apply"
  }
  assert {
    condition     = startswith(output.production_url, "http://modtest.") && output.deployment_url != output.production_url
    error_message = "production and the deployment have URLs of their own"
  }
  assert {
    condition     = output.production_deployment_id == output.deployment_id
    error_message = "without a rollback, production serves the newest deployment"
  }
  assert {
    condition     = ferry_deployment.production.reused_build_of == ""
    error_message = "the first deployment is built"
  }
  assert {
    condition     = output.dns_records["www.modtest.example"][0].type == "TXT"
    error_message = "a custom domain lists its DNS records, the TXT ownership record first"
  }
}

run "unchanged_plans_no_new_deployment" {
  command = plan

  assert {
    condition     = ferry_deployment.production.id == run.deploy.deployment_id
    error_message = "an unchanged source and env keep the deployment"
  }
}

run "env_change_redeploys" {
  variables {
    env = { GREETING = "Howdy" }
  }

  assert {
    condition     = output.deployment_id != run.deploy.deployment_id
    error_message = "an env change makes a new deployment in the same apply"
  }
  assert {
    condition     = ferry_deployment.production.reused_build_of == run.deploy.deployment_id
    error_message = "an env change is a redeploy of the existing build, without building"
  }
}

run "rollback" {
  variables {
    env                      = { GREETING = "Howdy" }
    production_deployment_id = run.deploy.deployment_id
  }

  assert {
    condition     = ferry_deployment.production.id == run.env_change_redeploys.deployment_id
    error_message = "a rollback makes no deployment"
  }
  assert {
    condition     = output.production_deployment_id == run.deploy.deployment_id && ferry_alias.production[0].deployment_id == run.deploy.deployment_id
    error_message = "a rollback pins production to the deployment named"
  }
  assert {
    condition     = anytrue([for u in ferry_alias.production[0].urls : startswith(u, "http://modtest.")])
    error_message = "the alias serves at the production URL"
  }
}

run "roll_forward" {
  variables {
    env = { GREETING = "Howdy" }
  }

  assert {
    condition     = length(ferry_alias.production) == 0 && output.production_deployment_id == run.env_change_redeploys.deployment_id
    error_message = "removing production_deployment_id hands production back to the newest deployment"
  }
}
