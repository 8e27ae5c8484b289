package apiserver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// recordedDNS stands in for the DNS lookups: names under .localhost and
// names starting with "ok." have their records right.
type recordedDNS struct{ st store.Store }

func (v recordedDNS) Verify(ctx context.Context, d *store.Domain) (*store.Domain, error) {
	problem := "no TXT record"
	if api.Loopback(d.Name) || strings.HasPrefix(d.Name, "ok.") {
		problem = ""
	}
	if err := v.st.RecordVerification(ctx, d.Name, time.Now(), problem); err != nil {
		return nil, err
	}
	return v.st.GetDomain(ctx, d.Name)
}

func TestDomainRequests(t *testing.T) {
	srv, st := newTestServer(t)
	var p api.Project
	call(t, srv, "POST", "/v1/projects", api.ProjectRequest{Name: "shop"}, &p)
	call(t, srv, "POST", "/v1/projects", api.ProjectRequest{Name: "other"}, nil)
	domains := "/v1/projects/shop/domains"

	var d api.Domain
	if status, e := call(t, srv, "POST", domains, api.DomainRequest{Name: "Shop.Example.COM."}, &d); status != 201 {
		t.Fatalf("create: %d %+v", status, e)
	}
	if d.Name != "shop.example.com" || d.Verified || d.TLS.Status != api.TLSWaiting || d.URL != "http://shop.example.com:3080" || len(d.Records) != 2 {
		t.Fatalf("created: %+v", d)
	}
	token := strings.TrimPrefix(d.Records[0].Value, "ferry-verification=")
	if d.Records[0] != (api.DNSRecord{Type: "TXT", Name: "_ferry.shop.example.com", Value: d.Records[0].Value}) || len(token) != 32 ||
		d.Records[1] != (api.DNSRecord{Type: "A", Name: "shop.example.com", Value: "203.0.113.7"}) {
		t.Errorf("records: %+v", d.Records)
	}

	for name, tt := range map[string]struct {
		path   string
		req    api.DomainRequest
		status int
		field  string
		says   string
	}{
		"an invalid name":              {domains, api.DomainRequest{Name: "a..b"}, 400, "name", "empty label"},
		"a public wildcard":            {domains, api.DomainRequest{Name: "*.example.com"}, 400, "name", "DNS-01"},
		"an invalid git branch":        {domains, api.DomainRequest{Name: "dev.example.com", GitBranch: "dev..x"}, 400, "git_branch", "not a valid git branch name"},
		"a status without redirect":    {domains, api.DomainRequest{Name: "www.example.com", RedirectStatusCode: 301}, 400, "redirect_status_code", "without redirect"},
		"a status that is no redirect": {domains, api.DomainRequest{Name: "www.example.com", Redirect: "shop.example.com", RedirectStatusCode: 200}, 400, "redirect_status_code", "301, 302, 307 or 308"},
		"a redirect to itself":         {domains, api.DomainRequest{Name: "www.example.com", Redirect: "www.example.com"}, 400, "redirect", "itself"},
		"a redirect to no domain":      {domains, api.DomainRequest{Name: "www.example.com", Redirect: "nope.example.com"}, 404, "redirect", "not a domain of project shop"},
		"the same domain again":        {domains, api.DomainRequest{Name: "shop.example.com"}, 409, "name", "terraform import ferry_domain.NAME shop/shop.example.com"},
		"another project's domain":     {"/v1/projects/other/domains", api.DomainRequest{Name: "shop.example.com"}, 409, "name", "already used by project shop"},
		"a project's own host":         {"/v1/projects/other/domains", api.DomainRequest{Name: "shop.localhost"}, 409, "name", "host of a project or a deployment"},
		"no such project":              {"/v1/projects/nope/domains", api.DomainRequest{Name: "x.example.com"}, 404, "", "does not exist"},
	} {
		status, e := call(t, srv, "POST", tt.path, tt.req, nil)
		if status != tt.status || e.Field != tt.field || !strings.Contains(e.Message, tt.says) {
			t.Errorf("%s: %d %+v; want %d on %q saying %q", name, status, e, tt.status, tt.field, tt.says)
		}
	}

	if status, e := call(t, srv, "POST", domains, api.DomainRequest{Name: "www.example.com", Redirect: "shop.example.com"}, &d); status != 201 || d.RedirectStatusCode != 308 {
		t.Fatalf("a redirect domain: %d %+v %+v", status, e, d)
	}
	if status, e := call(t, srv, "DELETE", domains+"/shop.example.com", nil, nil); status != 409 || !strings.Contains(e.Message, "www.example.com redirect(s) to shop.example.com") {
		t.Errorf("delete of a redirect's target: %d %+v", status, e)
	}
	if status, e := call(t, srv, "PUT", domains+"/www.example.com", api.DomainRequest{Name: "www.example.com", Redirect: "shop.example.com", RedirectStatusCode: 301}, &d); status != 200 || d.RedirectStatusCode != 301 {
		t.Errorf("change of the status: %d %+v %+v", status, e, d)
	}
	if status, e := call(t, srv, "PUT", domains+"/www.example.com", api.DomainRequest{Name: "web.example.com"}, nil); status != 400 || e.Field != "name" {
		t.Errorf("a rename: %d %+v", status, e)
	}

	// Verification, then the certificate's state as the engine records it.
	if status, e := call(t, srv, "POST", domains+"/shop.example.com/verify", nil, &d); status != 200 || d.Verified || d.Verification != "no TXT record" {
		t.Errorf("verify without records: %d %+v %+v", status, e, d)
	}
	call(t, srv, "POST", domains, api.DomainRequest{Name: "ok.example.com"}, nil)
	if status, e := call(t, srv, "POST", domains+"/ok.example.com/verify", nil, &d); status != 200 || !d.Verified || d.TLS.Status != api.TLSObtaining {
		t.Errorf("verify with records: %d %+v %+v", status, e, d)
	}
	notAfter := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	if err := st.RecordCertificate(context.Background(), "ok.example.com", store.Certificate{Status: api.TLSIssued, Issuer: "Test CA", NotAfter: &notAfter}); err != nil {
		t.Fatal(err)
	}
	call(t, srv, "GET", domains+"/ok.example.com", nil, &d)
	if d.TLS.Status != api.TLSIssued || d.TLS.Issuer != "Test CA" || !d.TLS.NotAfter.Equal(notAfter) || d.URL != "https://ok.example.com:3443" {
		t.Errorf("with a certificate: %+v", d)
	}

	// The ownership token is the same when a domain is added again, and differs across projects.
	if status, e := call(t, srv, "DELETE", domains+"/ok.example.com", nil, nil); status != 204 {
		t.Fatalf("delete: %d %+v", status, e)
	}
	var again, elsewhere api.Domain
	call(t, srv, "POST", domains, api.DomainRequest{Name: "ok.example.com"}, &again)
	if again.Records[0] != d.Records[0] {
		t.Errorf("the token changed when the domain was added again: %v, then %v", d.Records[0], again.Records[0])
	}
	call(t, srv, "DELETE", domains+"/ok.example.com", nil, nil)
	call(t, srv, "POST", "/v1/projects/other/domains", api.DomainRequest{Name: "ok.example.com"}, &elsewhere)
	if elsewhere.Records[0].Value == again.Records[0].Value {
		t.Error("two projects share an ownership token")
	}
	call(t, srv, "DELETE", "/v1/projects/other/domains/ok.example.com", nil, nil)
	call(t, srv, "POST", domains, api.DomainRequest{Name: "ok.example.com"}, nil)
	call(t, srv, "POST", domains+"/ok.example.com/verify", nil, nil)

	// A .localhost name needs no records: it is verified at once.
	if status, e := call(t, srv, "POST", domains, api.DomainRequest{Name: "store.localhost"}, &d); status != 201 || !d.Verified || len(d.Records) != 0 {
		t.Errorf("a .localhost domain: %d %+v %+v", status, e, d)
	}
	var list api.DomainList
	call(t, srv, "GET", domains, nil, &list)
	if len(list.Domains) != 4 {
		t.Errorf("list: %+v", list)
	}
	if status, _ := call(t, srv, "GET", "/v1/projects/other/domains/ok.example.com", nil, nil); status != 404 {
		t.Errorf("another project's domain through this project: %d", status)
	}
	for _, name := range []string{"www.example.com", "shop.example.com"} {
		if status, e := call(t, srv, "DELETE", domains+"/"+name, nil, nil); status != 204 {
			t.Errorf("delete %s: %d %+v", name, status, e)
		}
	}
	if status, _ := call(t, srv, "GET", domains+"/shop.example.com", nil, nil); status != 404 {
		t.Errorf("a deleted domain: %d", status)
	}
}
