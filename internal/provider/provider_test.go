package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/cli"
)

// TestMain lets the test binary act as the engine: the launcher starts
// engines by running its own executable with "serve".
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		os.Exit(cli.Run(os.Args[1:]))
	}
	os.Exit(m.Run())
}

var protoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"ferry": providerserver.NewProtocol6WithError(New("test")()),
}

func TestProviderSchemaIsValid(t *testing.T) {
	server, err := protoV6ProviderFactories["ferry"]()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := server.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.Diagnostics {
		t.Errorf("schema diagnostic: %s: %s", d.Summary, d.Detail)
	}
	for _, name := range []string{"ferry_project", "ferry_env_var", "ferry_deployment"} {
		if _, ok := resp.ResourceSchemas[name]; !ok {
			t.Errorf("no resource %s", name)
		}
	}
}

// errorText matches a phrase of an error message however Terraform wraps
// its lines.
func errorText(phrase string) *regexp.Regexp {
	words := strings.Fields(phrase)
	for i, w := range words {
		words[i] = regexp.QuoteMeta(w)
	}
	return regexp.MustCompile(strings.Join(words, `\s+`))
}

// planError is a resource's attributes and a phrase of the error plan must give for them.
type planError struct{ attrs, want string }

// expectPlanErrors plans a resource whose block opens with header (such as
// `resource "ferry_project" "p" {`), one case at a time, with no engine to
// reach: each must fail at validation with its phrase.
func expectPlanErrors(t *testing.T, header string, cases map[string]planError, versions ...tfversion.TerraformVersionCheck) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: protoV6ProviderFactories,
				TerraformVersionChecks:   versions,
				Steps: []resource.TestStep{{
					Config:      unreachableProvider + header + "\n" + tc.attrs + "\n}\n",
					PlanOnly:    true,
					ExpectError: errorText(tc.want),
				}},
			})
		})
	}
}

// requiredProviders is the terraform block naming the provider under test,
// for steps (imports) to which terraform-plugin-testing adds none.
func requiredProviders() string {
	namespace := os.Getenv("TF_ACC_PROVIDER_NAMESPACE")
	if namespace == "" {
		namespace = "hashicorp"
	}
	return `
terraform {
  required_providers {
    ferry = {
      source = "` + namespace + `/ferry"
    }
  }
}
`
}

// unreachableProvider configures the provider against an address where no
// engine listens: enough for tests that fail at validation, before the
// provider is configured.
const unreachableProvider = `
provider "ferry" {
  endpoint = "http://127.0.0.1:9"
}
`

// fakeEngine answers health checks only: enough to configure the provider
// for plan-time tests that need no real engine. It returns a provider block
// for it.
func fakeEngine(t *testing.T) string {
	return `
provider "ferry" {
  endpoint = "` + fakeEngineURL(t, api.Version, "") + `"
}
`
}

// fakeEngineURL starts a fake engine of API level apiVersion (serving clients
// of that level only) that, if token is not empty, requires it.
func fakeEngineURL(t *testing.T, apiVersion api.APILevel, token string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case token != "" && r.Header.Get("Authorization") != "Bearer "+token:
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(api.Error{Code: api.CodeUnauthorized, Message: "missing or wrong bearer token"})
		case r.URL.Path != api.PathHealth:
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(api.Error{Code: api.CodeNotFound, Message: "not in the fake engine"})
		default:
			_ = json.NewEncoder(w).Encode(api.Health{Status: "ok", Version: "test", APIVersion: apiVersion, APIOldestVersion: apiVersion, HTTPAddress: "127.0.0.1:1", BaseDomain: "localhost"})
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestProviderReadsEndpointAndTokenFromEnvironment(t *testing.T) {
	t.Setenv(EnvEndpoint, fakeEngineURL(t, api.Version, "s3cret"))
	t.Setenv(EnvToken, "s3cret")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:             `resource "ferry_project" "p" { name = "hello" }`,
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		}},
	})
}

func TestProviderReportsRefusedToken(t *testing.T) {
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: `provider "ferry" {
  endpoint = "` + fakeEngineURL(t, api.Version, "right") + `"
  token    = "wrong"
}
resource "ferry_project" "p" { name = "hello" }`,
			PlanOnly:    true,
			ExpectError: errorText(`refused the token`),
		}},
	})
}

func TestProviderSaysWhichAPIVersionItNeeds(t *testing.T) {
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      `provider "ferry" { endpoint = "` + fakeEngineURL(t, api.MinEngineVersion-1, "") + `" }` + "\n" + `resource "ferry_project" "p" { name = "hello" }`,
			PlanOnly:    true,
			ExpectError: errorText(fmt.Sprintf("speaks API version %d, but this client needs API version %d or later: upgrade the engine", api.MinEngineVersion-1, api.MinEngineVersion)),
		}},
	})
}

func TestProviderReportsUnreachableEngine(t *testing.T) {
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      unreachableProvider + `resource "ferry_project" "p" { name = "hello" }`,
			PlanOnly:    true,
			ExpectError: errorText(`Could not reach the ferry engine at http://127.0.0.1:9`),
		}},
	})
}

func TestProviderRejectsBadEndpoint(t *testing.T) {
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      `provider "ferry" { endpoint = "ftp://example.com" }` + "\n" + `resource "ferry_project" "p" { name = "hello" }`,
			PlanOnly:    true,
			ExpectError: errorText(`scheme must be unix, https or http`),
		}},
	})
}
