# A git-driven app with a preview per branch, against a real engine. The
# repository (branches main and feature/login) is made by the test command.
variables {
  name = "modgit"
}

run "production_and_preview" {
  variables {
    source_path      = null
    git              = { url = var.repository, ref = "main" }
    preview_branches = ["feature/login"]
  }

  assert {
    condition     = ferry_deployment.production.status == "READY" && ferry_deployment.production.git_branch == "main"
    error_message = "production deploys the main branch"
  }
  assert {
    condition     = output.git_commit == data.ferry_git_ref.production[0].commit
    error_message = "production deploys the commit main points at"
  }
  assert {
    condition     = ferry_deployment.preview["feature/login"].status == "READY" && ferry_deployment.preview["feature/login"].git_branch == "feature/login"
    error_message = "the branch gets a ready preview deployment"
  }
  assert {
    condition     = startswith(output.preview_urls["feature/login"], "http://modgit-git-feature-login-")
    error_message = "the preview is served at the branch's URL"
  }
}
