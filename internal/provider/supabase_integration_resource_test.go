package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/pgtest"
)

func TestSupabaseIntegrationValidation(t *testing.T) {
	const url = `connection_string = "` + functionTestURL + `"`
	expectPlanErrors(t, "resource \"ferry_supabase_integration\" \"db\" {\nproject_id = \"p\"", map[string]planError{
		"unknown driver":          {url + "\ndriver = \"pg8000\"\ntarget = [\"production\"]", `value must be one of`},
		"unknown pool mode":       {url + "\ndriver = \"asyncpg\"\npool_mode = \"pooled\"\ntarget = [\"production\"]", `value must be one of`},
		"placeholder password":    {`connection_string = "` + strings.Replace(functionTestURL, functionTestPassword, "[YOUR-PASSWORD]", 1) + "\"\ndriver = \"asyncpg\"\ntarget = [\"production\"]", `placeholder [YOUR-PASSWORD]`},
		"placeholder, write-only": {`connection_string_wo = "` + strings.Replace(functionTestURL, functionTestPassword, "[YOUR-PASSWORD]", 1) + "\"\nconnection_string_wo_version = 1\ndriver = \"asyncpg\"\ntarget = [\"production\"]", `placeholder [YOUR-PASSWORD]`},
		"direct host, pooled":     {`connection_string = "postgresql://postgres:` + functionTestPassword + `@db.abcdefghijklmnopqrst.supabase.co:5432/postgres"` + "\ndriver = \"asyncpg\"\npool_mode = \"transaction\"\ntarget = [\"production\"]", `copy the pooler's connection string`},
		"no connection string":    {"driver = \"asyncpg\"\ntarget = [\"production\"]", `Exactly one of these attributes must be configured: [connection_string,connection_string_wo]`},
		"both":                    {url + "\nconnection_string_wo = \"x\"\nconnection_string_wo_version = 1\ndriver = \"asyncpg\"\ntarget = [\"production\"]", `Exactly one of these attributes must be configured`},
		"write-only, no version":  {`connection_string_wo = "` + functionTestURL + "\"\ndriver = \"asyncpg\"\ntarget = [\"production\"]", `"connection_string_wo_version" must be specified`},
		"no target":               {url + "\ndriver = \"asyncpg\"\ntarget = []", `set must contain at least 1 elements`},
		"branch for production":   {url + "\ndriver = \"asyncpg\"\ntarget = [\"production\", \"preview\"]\ngit_branch = \"feature\"", `git_branch needs target = ["preview"]`},
		"bad branch":              {url + "\ndriver = \"asyncpg\"\ntarget = [\"preview\"]\ngit_branch = \"a..b\"", `not a valid git branch name`},
		"bad supabase_url":        {url + "\ndriver = \"asyncpg\"\ntarget = [\"preview\"]\nsupabase_url = \"abcdefghijklmnopqrst.supabase.co\"", `not an http(s) URL`},
		"NUL in a key":            {url + "\ndriver = \"asyncpg\"\ntarget = [\"preview\"]\nservice_role_key = \"a\u0000b\"", `contains a NUL byte`},
	}, tfversion.SkipBelow(tfversion.Version1_11_0))
}

func TestSupabaseIntegrationImportIDs(t *testing.T) {
	e := fakeEngine(t)
	for _, id := range []string{"hello", "hello/staging", "/production", "hello/preview/"} {
		t.Run(id, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: protoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: requiredProviders() + e + `resource "ferry_supabase_integration" "db" {` + "\n" + `project_id = "p"` + "\n" +
						`connection_string = "` + functionTestURL + `"` + "\n" + `driver = "asyncpg"` + "\n" + `target = ["production"]` + "\n}",
					ResourceName:  "ferry_supabase_integration.db",
					ImportState:   true,
					ImportStateId: id,
					ExpectError:   errorText(`Import a Supabase integration as project/target`),
				}},
			})
		})
	}
}

// supabaseConfig is a FastAPI + SQLAlchemy + asyncpg app (modules/python-app/examples/fastapi-supabase/app) on a
// database given by a Supabase integration; each change of the integration deploys the app again.
func supabaseConfig(e *testEngine, name, connectionString, poolMode, extra string) string {
	appDir, _ := filepath.Abs("../../modules/python-app/examples/fastapi-supabase/app")
	mode := ""
	if poolMode != "" {
		mode = fmt.Sprintf("pool_mode = %q", poolMode)
	}
	return e.config(fmt.Sprintf(`
resource "ferry_project" "app" {
  name      = %q
  framework = "fastapi"
}
resource "ferry_supabase_integration" "db" {
  project_id        = ferry_project.app.id
  connection_string = %q
  driver            = "sqlalchemy+asyncpg"
  %s
  target            = ["production"]
  verify            = true
}
resource "ferry_deployment" "prod" {
  project_id = ferry_project.app.id
  source     = { path = %q }
  production = true
  # The env is frozen at creation: a changed integration needs a new deployment.
  lifecycle {
    replace_triggered_by = [ferry_supabase_integration.db]
  }
}
%s`, name, connectionString, mode, appDir, extra))
}

// TestAccSupabaseIntegration deploys the example app on a real PostgreSQL
// behind real PgBouncers shaped like Supabase's pooler, with the URL exactly
// as the dashboard gives it, and drives its CRUD API with dozens of
// concurrent requests through the transaction pooler, then the session
// pooler, then directly: no errors, and every row there.
func TestAccSupabaseIntegration(t *testing.T) {
	e := startEngine(t)
	pgtest.InstallMissing(t, "python3-fastapi", "python3-uvicorn", "python3-sqlalchemy", "python3-asyncpg")
	db := pgtest.Start(t)
	name := randomName()
	productionURL := fmt.Sprintf("http://%s.localhost:%s", name, e.httpPort)
	const res = "ferry_supabase_integration.db"
	expected := map[string]itemCounts{}
	crud := func(label string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			counts, err := driveCRUD(productionURL, label, 48)
			if err != nil {
				return err
			}
			expected[label] = counts
			return checkItems(productionURL, expected)
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		CheckDestroy:             e.checkProjectsGone(name),
		Steps: []resource.TestStep{
			{
				Config: supabaseConfig(e, name, db.TransactionURL(), "", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectKnownValue(res, tfjsonpath.New("pool_mode"), knownvalue.StringExact("transaction")),
						plancheck.ExpectKnownValue(res, tfjsonpath.New("changes"), knownvalue.ListPartial(map[int]knownvalue.Check{
							0: knownvalue.StringExact("changed the scheme postgres:// to postgresql+asyncpg://: SQLAlchemy picks its dialect and driver from the scheme"),
						})),
					},
				},
				Check: resource.ComposeTestCheckFunc(
					checkChanges(res, "removed supa", "changed sslmode=require to ssl=require", "added prepared_statement_cache_size=0", "at run time"),
					crud("transaction"),
				),
			},
			{
				Config: supabaseConfig(e, name, db.TransactionURL(), "session", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("ferry_deployment.prod", plancheck.ResourceActionReplace),
					},
				},
				Check: resource.ComposeTestCheckFunc(checkChanges(res, "changed the port from 6543 to 5432"), crud("session")),
			},
			{
				Config: supabaseConfig(e, name, db.DirectURL(), "direct", ""),
				Check:  crud("direct"),
			},
			{
				ResourceName:            res,
				ImportState:             true,
				ImportStateId:           name + "/production",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"verify"},
			},
			{
				// Changed behind Terraform's back: plan puts the configured one back.
				PreConfig: func() { e.setSupabaseConnectionString(t, name, db.SessionURL()) },
				Config:    supabaseConfig(e, name, db.DirectURL(), "direct", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				Check: e.checkSupabaseConnectionString(name, db.DirectURL()),
			},
			{
				Config: supabaseConfig(e, name, db.DirectURL(), "direct", `
resource "ferry_env_var" "clash" {
  project_id = ferry_project.app.id
  key        = "DATABASE_URL"
  value      = "postgresql://elsewhere"
  target     = ["production"]
  depends_on = [ferry_supabase_integration.db]
}`),
				ExpectError: regexp.MustCompile(`(?s)Duplicate environment variable.*DATABASE_URL\s+is\s+already\s+set\s+for\s+production\s+by\s+integration.*` +
					`ferry_supabase_integration\s+sets\s+DATABASE_URL`),
			},
		},
	})
}

// TestAccSupabaseIntegrationVerify: a wrong password is refused at apply,
// saying so, and nothing is stored.
func TestAccSupabaseIntegrationVerify(t *testing.T) {
	e := startEngine(t)
	db := pgtest.Start(t)
	name := randomName()
	wrong := strings.Replace(db.TransactionURL(), db.Password, "not-the-password", 1)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		CheckDestroy:             e.checkProjectsGone(name),
		Steps: []resource.TestStep{
			{
				Config: e.config(fmt.Sprintf(`
resource "ferry_project" "app" {
  name = %q
}
resource "ferry_supabase_integration" "db" {
  project_id        = ferry_project.app.id
  connection_string = %q
  driver            = "asyncpg"
  target            = ["production"]
  verify            = true
}`, name, wrong)),
				ExpectError: regexp.MustCompile(`(?s)Cannot connect to the database.*authentication failed for user\s+"postgres.abcdefghijklmnopqrst"`),
			},
			{
				Config: e.config(fmt.Sprintf(`
resource "ferry_project" "app" {
  name = %q
}`, name)),
				Check: func(*terraform.State) error {
					list, err := e.client.ListSupabaseIntegrations(context.Background(), name, false)
					if err != nil || len(list) != 0 {
						return fmt.Errorf("integrations after a failed verify: %v, %v", list, err)
					}
					return nil
				},
			},
		},
	})
}

// TestAccSupabaseIntegrationWriteOnly keeps the connection string out of
// state, sends a new one with a new version, and shows a change made behind
// Terraform's back.
func TestAccSupabaseIntegrationWriteOnly(t *testing.T) {
	e := startEngine(t)
	name := randomName()
	const res = "ferry_supabase_integration.db"
	first := functionTestURL
	second := strings.Replace(functionTestURL, functionTestPassword, "rotated-pw", 1)
	config := func(url string, version int) string {
		return e.config(fmt.Sprintf(`
resource "ferry_project" "app" {
  name = %q
}
resource "ferry_supabase_integration" "db" {
  project_id                   = ferry_project.app.id
  connection_string_wo         = %q
  connection_string_wo_version = %d
  driver                       = "psycopg"
  target                       = ["production", "preview"]
  supabase_url                 = "https://abcdefghijklmnopqrst.supabase.co"
  anon_key                     = "anon"
}`, name, url, version))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		CheckDestroy:             e.checkProjectsGone(name),
		Steps: []resource.TestStep{
			{
				Config: config(first, 1),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("connection_string"), knownvalue.Null()),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("connection_string_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("pool_mode"), knownvalue.StringExact("transaction")),
				},
				Check: e.checkSupabaseConnectionString(name, first),
			},
			{
				Config:   config(second, 1), // no new version: not sent
				PlanOnly: true,
			},
			{
				Config: config(second, 2),
				Check:  e.checkSupabaseConnectionString(name, second),
			},
			{
				PreConfig: func() { e.setSupabaseConnectionString(t, name, first) },
				Config:    config(second, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				Check: e.checkSupabaseConnectionString(name, second),
			},
		},
	})
}

func checkChanges(res string, want ...string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		attributes := s.RootModule().Resources[res].Primary.Attributes
		var lines []string
		for key, value := range attributes {
			if strings.HasPrefix(key, "changes.") && key != "changes.#" {
				lines = append(lines, value)
			}
		}
		all := strings.Join(lines, "\n")
		for _, w := range want {
			if !strings.Contains(all, w) {
				return fmt.Errorf("changes do not say %q:\n%s", w, all)
			}
		}
		return nil
	}
}

func (e *testEngine) supabaseIntegration(project string) (*api.SupabaseIntegration, error) {
	list, err := e.client.ListSupabaseIntegrations(context.Background(), project, true)
	if err != nil {
		return nil, err
	}
	if len(list) != 1 {
		return nil, fmt.Errorf("project %s has %d Supabase integrations, want 1", project, len(list))
	}
	return &list[0], nil
}

func (e *testEngine) checkSupabaseConnectionString(project, want string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		i, err := e.supabaseIntegration(project)
		if err != nil {
			return err
		}
		if i.ConnectionString != want {
			return fmt.Errorf("the engine's connection string is not the configured one")
		}
		return nil
	}
}

func (e *testEngine) setSupabaseConnectionString(t *testing.T, project, connectionString string) {
	i, err := e.supabaseIntegration(project)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.client.UpdateSupabaseIntegration(context.Background(), project, i.ID, api.SupabaseIntegrationRequest{
		ConnectionString: connectionString, Driver: i.Driver, PoolMode: i.PoolMode, Targets: i.Targets, GitBranch: i.GitBranch,
		SupabaseURL: i.SupabaseURL, AnonKey: i.AnonKey, ServiceRoleKey: i.ServiceRoleKey, JWTSecret: i.JWTSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// itemCounts is what one label's items of the example app should be.
type itemCounts struct{ total, done int }

// driveCRUD creates n items named <label>-<i> with n requests at once, then,
// again all at once, marks half of them done, deletes a quarter and reads
// the rest back one by one.
func driveCRUD(baseURL, label string, n int) (itemCounts, error) {
	// The first request starts the app: wait for it, as a client would.
	if err := expectBody(baseURL+"/", "fastapi-supabase"); err != nil {
		return itemCounts{}, err
	}
	ids := make([]int, n)
	err := concurrently(n, func(i int) error {
		var item struct {
			ID int `json:"id"`
		}
		err := appJSON("POST", baseURL+"/items", fmt.Sprintf(`{"name": "%s-%d"}`, label, i), http.StatusCreated, &item)
		ids[i] = item.ID
		return err
	})
	if err != nil {
		return itemCounts{}, err
	}
	deleted := n / 4
	err = concurrently(n/2+deleted, func(i int) error {
		if i < n/2 {
			var item struct {
				Done bool `json:"done"`
			}
			if err := appJSON("PATCH", fmt.Sprintf("%s/items/%d", baseURL, ids[i]), `{"done": true}`, http.StatusOK, &item); err != nil {
				return err
			}
			if !item.Done {
				return fmt.Errorf("item %d is not done after PATCH", ids[i])
			}
			return nil
		}
		return appJSON("DELETE", fmt.Sprintf("%s/items/%d", baseURL, ids[n-1-(i-n/2)]), "", http.StatusNoContent, nil)
	})
	if err != nil {
		return itemCounts{}, err
	}
	err = concurrently(n-deleted, func(i int) error {
		return appJSON("GET", fmt.Sprintf("%s/items/%d", baseURL, ids[i]), "", http.StatusOK, nil)
	})
	return itemCounts{total: n - deleted, done: n / 2}, err
}

// checkItems compares the app's items with what every label should have.
func checkItems(baseURL string, expected map[string]itemCounts) error {
	var list []struct {
		Name string `json:"name"`
		Done bool   `json:"done"`
	}
	if err := appJSON("GET", baseURL+"/items", "", http.StatusOK, &list); err != nil {
		return err
	}
	got := map[string]itemCounts{}
	for _, item := range list {
		label := item.Name[:strings.LastIndex(item.Name, "-")]
		counts := got[label]
		counts.total++
		if item.Done {
			counts.done++
		}
		got[label] = counts
	}
	for label, want := range expected {
		if got[label] != want {
			return fmt.Errorf("items of %s: %+v, want %+v (all: %+v)", label, got[label], want, got)
		}
	}
	return nil
}

// concurrently runs f(0) ... f(n-1) at once and returns their errors, joined.
func concurrently(n int, f func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// appJSON sends one request to an app URL (see get) and decodes the answer
// into out, unless the status is not want. It is not retried: a request must
// reach the app once.
func appJSON(method, rawURL, body string, want int, out any) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		return err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	c := &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", u.Port()))
		},
	}}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u.Path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, u.Path, resp.StatusCode, want, data)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}
