package provider

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// protectedGet sends one request to an app URL of the engine, as get does, without following
// redirects.
func protectedGet(method, rawURL string, header http.Header, body string) (*http.Response, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, "", err
	}
	httpClient := &http.Client{
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort("127.0.0.1", u.Port()))
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	req.Header = header
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	return resp, string(data), err
}

// checkProtected checks, over HTTP, that the preview asks for password and the production URL
// does not: 401 without it, 200 with the cookie the password form sets, 200 with the bypass header.
func checkProtected(password, bypass string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		previewURL := s.RootModule().Resources["ferry_deployment.preview"].Primary.Attributes["url"]
		productionURL := s.RootModule().Resources["ferry_project.app"].Primary.Attributes["production_url"]
		if err := expectBody(productionURL, "version=prod"); err != nil {
			return fmt.Errorf("production: %w", err)
		}
		resp, body, err := protectedGet("GET", previewURL, http.Header{}, "")
		if err != nil || resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "version=") {
			return fmt.Errorf("the preview without the password: %v %v %q, want 401 and the password page", resp, err, body)
		}
		form := url.Values{"password": {password}, "next": {"/"}}.Encode()
		resp, _, err = protectedGet("POST", previewURL+api.ProtectionPath, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, form)
		if err != nil || resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
			return fmt.Errorf("the password form: %v %v, want 303 and a cookie", resp, err)
		}
		cookie := resp.Cookies()[0]
		resp, body, err = protectedGet("GET", previewURL, http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}}, "")
		if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(body, "version=preview") {
			return fmt.Errorf("the preview with the cookie: %v %v %q, want 200", resp, err, body)
		}
		resp, body, err = protectedGet("GET", previewURL, http.Header{api.ProtectionBypassHeader: {bypass}}, "")
		if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(body, "version=preview") {
			return fmt.Errorf("the preview with the bypass header: %v %v %q, want 200", resp, err, body)
		}
		return nil
	}
}

func TestAccProjectPreviewProtection(t *testing.T) {
	e := startEngine(t)
	name := randomName()
	prod, preview := t.TempDir(), t.TempDir()
	writeApp(t, prod, flaskApp("prod"))
	writeApp(t, preview, flaskApp("preview"))
	const bypass = "ci-bypass-0123456789abcdef0123456789abcdef"
	config := func(password string, version int) string {
		return e.config(fmt.Sprintf(`
resource "ferry_project" "app" {
  name      = %q
  framework = "flask"
  preview_protection = {
    password_wo              = %q
    password_wo_version      = %d
    bypass_secret_wo         = %q
    bypass_secret_wo_version = 1
  }
}
resource "ferry_deployment" "prod" {
  project_id = ferry_project.app.id
  source     = { path = %q }
  production = true
}
resource "ferry_deployment" "preview" {
  project_id = ferry_project.app.id
  source     = { path = %q }
  production = false
}
`, name, password, version, bypass, prod, preview))
	}
	res := "ferry_project.app"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		CheckDestroy:             e.checkProjectsGone(name),
		Steps: []resource.TestStep{
			{
				Config: config("first password", 1),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("preview_protection").AtMapKey("password_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("preview_protection").AtMapKey("bypass_secret_wo"), knownvalue.Null()),
				},
				Check: checkProtected("first password", bypass),
			},
			// Write-only: a new password without a new version is not sent, and nothing shows.
			{Config: config("ignored password", 1), PlanOnly: true},
			{
				Config: config("second password", 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate),
				}},
				Check: checkProtected("second password", bypass),
			},
			{
				// Changed behind Terraform's back: the digest in private state shows it, and apply
				// sends the configured password again.
				PreConfig: func() { e.setPreviewPassword(t, name, "changed elsewhere") },
				Config:    config("second password", 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate),
				}},
				Check: checkProtected("second password", bypass),
			},
		},
	})
}

// setPreviewPassword changes a project's preview password as another client would.
func (e *testEngine) setPreviewPassword(t *testing.T, project, password string) {
	ctx := context.Background()
	p, err := e.client.GetProject(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.client.UpdateProject(ctx, p.ID, api.ProjectRequest{
		Name: p.Name, Framework: p.Framework, RootDirectory: p.RootDirectory, InstallCommand: p.InstallCommand, BuildCommand: p.BuildCommand,
		Limits: &p.Limits, GitRepository: p.GitRepository, Retention: &p.Retention,
		PreviewProtection: &api.PreviewProtectionRequest{Password: password},
	})
	if err != nil {
		t.Fatal(err)
	}
}
