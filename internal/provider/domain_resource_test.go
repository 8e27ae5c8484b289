package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ferryhq/terraform-provider-ferry/internal/acmetest"
	"github.com/ferryhq/terraform-provider-ferry/internal/dnstest"
)

func TestDomainValidation(t *testing.T) {
	expectPlanErrors(t, "resource \"ferry_domain\" \"d\" {\nproject_id = \"p\"", map[string]planError{
		"upper case":              {`name = "WWW.example.com"`, `Write "WWW.example.com" as "www.example.com"`},
		"unicode":                 {`name = "bücher.example"`, `as "xn--bcher-kva.example"`},
		"empty label":             {`name = "a..example.com"`, `has an empty label`},
		"an IP address":           {`name = "203.0.113.7"`, `is an IP address`},
		"a public suffix":         {`name = "co.uk"`, `is a public suffix`},
		"a public wildcard":       {`name = "*.example.com"`, `DNS-01`},
		"an invalid git branch":   {`name = "dev.example.com"` + "\n" + `git_branch = "dev branch"`, `not a valid git branch name`},
		"a redirect to itself":    {`name = "www.example.com"` + "\n" + `redirect = "www.example.com"`, `cannot redirect to itself`},
		"a redirect status alone": {`name = "www.example.com"` + "\n" + `redirect_status_code = 301`, `"redirect" must be specified`},
		"a status no redirect is": {`name = "www.example.com"` + "\n" + `redirect = "example.com"` + "\n" + `redirect_status_code = 200`, `value must be one of`},
		"an invalid redirect":     {`name = "www.example.com"` + "\n" + `redirect = "Example.com"`, `as "example.com"`},
	})
}

func TestDomainImportIDs(t *testing.T) {
	e := fakeEngine(t)
	for _, id := range []string{"hello", "/www.example.com", "hello/"} {
		t.Run(id, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: protoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:        requiredProviders() + e + `resource "ferry_domain" "d" {` + "\n" + `project_id = "p"` + "\n" + `name = "www.example.com"` + "\n}",
					ResourceName:  "ferry_domain.d",
					ImportState:   true,
					ImportStateId: id,
					ExpectError:   errorText(`import a domain as <project>/<name>`),
				}},
			})
		})
	}
}

// TestAccDomain runs a custom domain's whole life on a real engine with a
// real app: its records, read from the plan and the state, are put in an
// in-process DNS server; the engine verifies them with it and gets a
// certificate from pebble, which validates against the engine's own
// listeners; the app answers over HTTPS with a chain that verifies against
// pebble's root; a redirect domain answers with its status; a domain
// deleted behind Terraform's back is planned again; a removed one is no
// longer served; a name the CA refuses fails the apply with the CA's words.
func TestAccDomain(t *testing.T) {
	skipUnlessAcceptance(t)
	name := randomName()
	apex := name + ".example.com"
	www := "www." + apex
	// The CA will not certify it. (No more labels than the other names: pebble's block list fails on names shorter than its entries.)
	refused := name + ".example.net"
	dns := dnstest.Start(t)
	ports := freePorts(t, 2)
	httpPort, httpsPort := ports[0], ports[1]
	pebble := acmetest.Start(t, acmetest.Options{DNS: dns.Addr(), HTTPPort: atoi(t, httpPort), TLSPort: atoi(t, httpsPort), Blocklist: []string{refused}})
	t.Setenv("FERRY_DNS_RESOLVERS", dns.Addr())
	t.Setenv("FERRY_ACME_DIRECTORY", pebble.Directory)
	t.Setenv("FERRY_ACME_CA_ROOTS", pebble.CAFile)
	t.Setenv("FERRY_DOMAIN_CHECK_INTERVAL", "1s")
	e := startEngineOn(t, httpPort, httpsPort)

	source := t.TempDir()
	writeApp(t, source, flaskApp("v1"))
	config := func(waitForReady, withWWW bool, refusedWaits ...bool) string {
		hcl := fmt.Sprintf(`
resource "ferry_project" "app" {
  name      = %q
  framework = "flask"
}
resource "ferry_deployment" "app" {
  project_id = ferry_project.app.id
  source     = { path = %q }
  production = true
}
resource "ferry_domain" "apex" {
  project_id     = ferry_project.app.id
  name           = %q
  wait_for_ready = %v
  depends_on     = [ferry_deployment.app]
}
`, name, source, apex, waitForReady)
		if withWWW {
			hcl += fmt.Sprintf(`
resource "ferry_domain" "www" {
  project_id           = ferry_project.app.id
  name                 = %q
  redirect             = ferry_domain.apex.name
  redirect_status_code = 301
  wait_for_ready       = %v
}
`, www, waitForReady)
		}
		if len(refusedWaits) > 0 {
			hcl += fmt.Sprintf(`
resource "ferry_domain" "refused" {
  project_id     = ferry_project.app.id
  name           = %q
  wait_for_ready = %v
}
`, refused, refusedWaits[0])
		}
		return e.config(hcl)
	}
	// publishRecords puts the records Terraform read into the DNS server, as a DNS provider's resources would.
	publishRecords := func(s *terraform.State) error {
		for _, res := range []string{"ferry_domain.apex", "ferry_domain.www", "ferry_domain.refused"} {
			if s.RootModule().Resources[res] == nil {
				continue
			}
			attrs := s.RootModule().Resources[res].Primary.Attributes
			for i := 0; attrs[fmt.Sprintf("dns_records.%d.type", i)] != ""; i++ {
				at := func(field string) string { return attrs[fmt.Sprintf("dns_records.%d.%s", i, field)] }
				dns.Set(at("name"), at("type"), at("value"))
			}
		}
		return nil
	}
	roots := pebble.IssuedRoots(t)
	servesOverHTTPS := func(*terraform.State) error {
		status, body, _, err := fetchApp("https://"+apex+":"+httpsPort+"/", roots)
		if err != nil || status != http.StatusOK || !strings.Contains(body, "version=v1") {
			return fmt.Errorf("https://%s: %d %q %v", apex, status, body, err)
		}
		status, _, location, err := fetchApp("http://"+apex+":"+httpPort+"/path?q=1", nil)
		if err != nil || status != http.StatusPermanentRedirect || location != "https://"+apex+":"+httpsPort+"/path?q=1" {
			return fmt.Errorf("http://%s: %d to %q, %v; want 308 to HTTPS", apex, status, location, err)
		}
		status, _, location, err = fetchApp("https://"+www+":"+httpsPort+"/path", roots)
		if err != nil || status != http.StatusMovedPermanently || location != "https://"+apex+":"+httpsPort+"/path" {
			return fmt.Errorf("https://%s: %d to %q, %v; want 301 to the apex", www, status, location, err)
		}
		// The project's own host is served with the engine's local CA.
		local, err := os.ReadFile(filepath.Join(e.dataDir, "ca", "root.crt"))
		if err != nil {
			return err
		}
		localRoots := x509.NewCertPool()
		localRoots.AppendCertsFromPEM(local)
		if status, body, _, err := fetchApp("https://"+name+".localhost:"+httpsPort+"/", localRoots); err != nil || status != http.StatusOK || !strings.Contains(body, "version=v1") {
			return fmt.Errorf("https://%s.localhost: %d %q %v", name, status, body, err)
		}
		return nil
	}
	wwwGone := func(*terraform.State) error {
		if _, _, _, err := fetchApp("https://"+www+":"+httpsPort+"/", roots); err == nil {
			return fmt.Errorf("https://%s is still served after the domain was removed", www)
		}
		if status, _, _, err := fetchApp("http://"+www+":"+httpPort+"/", nil); err != nil || status != http.StatusNotFound {
			return fmt.Errorf("http://%s after the domain was removed: %d, %v", www, status, err)
		}
		return nil
	}
	record := func(i int) tfjsonpath.Path { return tfjsonpath.New("dns_records").AtSliceIndex(i) }

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		CheckDestroy:             e.checkProjectsGone(name),
		Steps: []resource.TestStep{
			{
				// The records' types and names are known at plan time, for a DNS provider's for_each.
				Config: config(false, true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue("ferry_domain.apex", record(0).AtMapKey("name"), knownvalue.StringExact("_ferry."+apex)),
					plancheck.ExpectKnownValue("ferry_domain.apex", record(0).AtMapKey("type"), knownvalue.StringExact("TXT")),
					plancheck.ExpectUnknownValue("ferry_domain.apex", record(0).AtMapKey("value")),
					plancheck.ExpectKnownValue("ferry_domain.apex", record(1), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"type": knownvalue.StringExact("A"), "name": knownvalue.StringExact(apex), "value": knownvalue.StringExact("127.0.0.1"),
					})),
				}},
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("ferry_domain.apex", "verified", "false"),
					resource.TestCheckResourceAttr("ferry_domain.apex", "tls.status", "waiting"),
					resource.TestCheckResourceAttr("ferry_domain.apex", "dns_records.#", "2"),
					resource.TestMatchResourceAttr("ferry_domain.apex", "dns_records.0.value", errorText("ferry-verification=")),
					resource.TestCheckResourceAttr("ferry_domain.www", "redirect", apex),
					publishRecords,
				),
			},
			{
				// With the records in place, waiting ends with a certificate from the ACME CA.
				Config: config(true, true),
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("ferry_domain.apex", "verified", "true"),
					resource.TestCheckResourceAttr("ferry_domain.apex", "verification", ""),
					resource.TestCheckResourceAttr("ferry_domain.apex", "tls.status", "issued"),
					resource.TestMatchResourceAttr("ferry_domain.apex", "tls.issuer", errorText("Pebble")),
					resource.TestCheckResourceAttrSet("ferry_domain.apex", "tls.not_after"),
					resource.TestCheckResourceAttr("ferry_domain.apex", "url", "https://"+apex+":"+httpsPort),
					resource.TestCheckResourceAttr("ferry_domain.www", "tls.status", "issued"),
					servesOverHTTPS,
				),
			},
			{
				ResourceName:            "ferry_domain.apex",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateIdFunc:       func(*terraform.State) (string, error) { return name + "/" + apex, nil },
				ImportStateVerifyIgnore: []string{"wait_for_ready", "timeouts"},
			},
			{
				// Removed behind Terraform's back: the plan adds it again, with the same records.
				PreConfig: func() {
					if err := e.client.DeleteDomain(context.Background(), name, www); err != nil {
						t.Fatal(err)
					}
				},
				Config: config(true, true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("ferry_domain.www", plancheck.ResourceActionCreate),
				}},
				Check: servesOverHTTPS,
			},
			{Config: config(true, false), Check: wwwGone},
			{Config: config(true, false, false), Check: publishRecords},
			{
				// The CA's refusal reaches Terraform in the CA's words.
				Config:      config(true, false, true),
				ExpectError: errorText("urn:ietf:params:acme:error:rejectedIdentifier"),
			},
		},
	})
}

// TestAccDomainTakenByAnotherProject: a name serves one project only.
func TestAccDomainTakenByAnotherProject(t *testing.T) {
	e := startEngine(t)
	first := randomName()
	second := first + "-two"
	domain := first + ".example.com"
	hcl := fmt.Sprintf(`
resource "ferry_project" "first" {
  name = %q
}
resource "ferry_project" "second" {
  name = %q
}
resource "ferry_domain" "first" {
  project_id = ferry_project.first.id
  name       = %q
}
`, first, second, domain)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		CheckDestroy:             e.checkProjectsGone(first),
		Steps: []resource.TestStep{
			{Config: e.config(hcl)},
			{
				Config: e.config(hcl + fmt.Sprintf(`
resource "ferry_domain" "second" {
  project_id = ferry_project.second.id
  name       = %q
}
`, domain)),
				ExpectError: errorText("is already used by project " + first),
			},
		},
	})
}

// fetchApp gets rawURL by dialing 127.0.0.1 on its port (the names are the
// test's own), over TLS verified against roots when the scheme is https,
// without following redirects.
func fetchApp(rawURL string, roots *x509.CertPool) (status int, body, location string, err error) {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr)
			return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		},
		TLSClientConfig: &tls.Config{RootCAs: roots},
	}
	defer transport.CloseIdleConnections()
	c := &http.Client{Transport: transport, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(rawURL)
	if err != nil {
		return 0, "", "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("Location"), err
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}
