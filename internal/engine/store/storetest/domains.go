package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// createDomain adds a domain to project p1.
func createDomain(t *testing.T, s store.Store, name, redirect string) {
	t.Helper()
	d := &store.Domain{Name: name, ProjectID: "p1", Token: "token-" + name, Redirect: redirect}
	if redirect != "" {
		d.RedirectStatus = 308
	}
	if err := s.CreateDomain(context.Background(), d); err != nil {
		t.Fatalf("create domain %s: %v", name, err)
	}
}

// routeTable reads the routes as hostname -> "deployment id" (or "-" for none).
func routeTable(t *testing.T, s store.Store) (map[string]string, map[string]*store.RouteDomain, int64) {
	t.Helper()
	routes, err := s.ReadRoutes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	serving := map[string]string{}
	domains := map[string]*store.RouteDomain{}
	for _, r := range routes.Routes {
		serving[r.Hostname] = "-"
		if r.Deployment != nil {
			serving[r.Hostname] = r.Deployment.ID
		}
		if r.Domain != nil {
			domains[r.Hostname] = r.Domain
		}
	}
	return serving, domains, routes.Version
}

// A custom domain is a name in the one namespace of hostnames: no other
// project, deployment or project host can take it, nor can it take theirs.
func testDomainsShareTheNamespace(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	createProject(t, s, "p1", "shop")
	createProject(t, s, "p2", "other")
	readyDeployment(t, s, "d1", "shop-d1.localhost")
	createDomain(t, s, "shop.example.com", "")

	for name, tt := range map[string]struct {
		domain store.Domain
		want   error
	}{
		"another project's domain":   {store.Domain{Name: "shop.example.com", ProjectID: "p2", Token: "t"}, store.ErrHostnameTaken},
		"the same domain twice":      {store.Domain{Name: "shop.example.com", ProjectID: "p1", Token: "t"}, store.ErrHostnameTaken},
		"a deployment's own host":    {store.Domain{Name: "shop-d1.localhost", ProjectID: "p2", Token: "t"}, store.ErrHostnameTaken},
		"another project's host":     {store.Domain{Name: "shop.localhost", ProjectID: "p2", Token: "t"}, store.ErrHostnameTaken},
		"a project that is gone":     {store.Domain{Name: "new.example.com", ProjectID: "nope", Token: "t"}, store.ErrNotFound},
		"a redirect to no domain":    {store.Domain{Name: "www.example.com", ProjectID: "p1", Token: "t", Redirect: "nope.example.com"}, store.ErrNotFound},
		"a redirect across projects": {store.Domain{Name: "www.example.com", ProjectID: "p2", Token: "t", Redirect: "shop.example.com"}, store.ErrNotFound},
	} {
		d := tt.domain
		if err := s.CreateDomain(ctx, &d); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", name, err, tt.want)
		}
	}
	if err := s.CreateProject(ctx, &store.Project{ID: "p3", Name: "taken", Framework: "auto", RootDirectory: "."}, "shop.example.com"); !errors.Is(err, store.ErrHostnameTaken) {
		t.Errorf("a project whose host is a domain: %v, want ErrHostnameTaken", err)
	}
	domains, err := s.ListDomains(ctx, "")
	if err != nil || len(domains) != 1 || domains[0].Name != "shop.example.com" || domains[0].ProjectID != "p1" || domains[0].Token != "token-shop.example.com" {
		t.Fatalf("domains after the refusals: %+v, %v", domains, err)
	}
	if d, err := s.GetDomain(ctx, "www.example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused domain was stored: %+v, %v", d, err)
	}
}

// A domain serves production as the project's own host does: it moves with
// new production deployments and with aliases, but not with a rename.
func testDomainsFollowProduction(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	createProject(t, s, "p1", "shop")
	readyDeployment(t, s, "d1", "shop-d1.localhost")
	createDomain(t, s, "shop.example.com", "")
	serving, domains, _ := routeTable(t, s)
	if serving["shop.example.com"] != "d1" || domains["shop.example.com"] == nil || domains["shop.example.com"].Verified {
		t.Fatalf("a new domain: serves %q, %+v; want d1, unverified", serving["shop.example.com"], domains["shop.example.com"])
	}
	if domains["shop.localhost"] != nil {
		t.Error("the project's own host reads as a custom domain")
	}
	readyDeployment(t, s, "d2", "shop-d2.localhost")
	if serving, _, _ := routeTable(t, s); serving["shop.example.com"] != "d2" {
		t.Fatalf("after a new production deployment the domain serves %q, want d2", serving["shop.example.com"])
	}
	p, _ := s.GetProject(ctx, "p1")
	p.Name = "store"
	if err := s.UpdateProject(ctx, p, "store.localhost", func(b string) string { return "store-git-" + b + ".localhost" }); err != nil {
		t.Fatalf("rename of a project with a domain: %v", err)
	}
	serving, _, _ = routeTable(t, s)
	if serving["store.localhost"] != "d2" || serving["shop.example.com"] != "d2" || serving["shop.localhost"] != "" {
		t.Fatalf("after the rename: %v", serving)
	}
	if id, err := s.ProductionDeploymentID(ctx, "p1"); err != nil || id != "d2" {
		t.Fatalf("production deployment: %q, %v", id, err)
	}
	// A rollback of every production hostname takes the domain along, and a
	// domain added while production is pinned is pinned with it.
	if err := s.PinAlias(ctx, "p1", "", "d1"); err != nil {
		t.Fatal(err)
	}
	createDomain(t, s, "www.example.com", "")
	readyDeployment(t, s, "d3", "shop-d3.localhost")
	serving, _, _ = routeTable(t, s)
	for _, host := range []string{"store.localhost", "shop.example.com", "www.example.com"} {
		if serving[host] != "d1" {
			t.Errorf("pinned to d1: %s serves %q", host, serving[host])
		}
	}
	if _, err := s.DeleteProject(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	if domains, err := s.ListDomains(ctx, ""); err != nil || len(domains) != 0 {
		t.Fatalf("domains after the project was deleted: %+v, %v", domains, err)
	}
}

// Verification and certificates are recorded on the domain; only what
// changes what is served (verified, a redirect) moves the routes version.
func testDomainVerificationAndCertificate(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	createProject(t, s, "p1", "shop")
	createDomain(t, s, "shop.example.com", "")
	_, _, before := routeTable(t, s)
	checked := time.Now().UTC().Truncate(time.Second)
	if err := s.RecordVerification(ctx, "shop.example.com", checked, "no TXT record"); err != nil {
		t.Fatal(err)
	}
	d, err := s.GetDomain(ctx, "shop.example.com")
	if err != nil || d.VerifiedAt != nil || d.Verification != "no TXT record" || d.CheckedAt == nil || !d.CheckedAt.Equal(checked) {
		t.Fatalf("after a failed check: %+v, %v", d, err)
	}
	if _, _, v := routeTable(t, s); v != before {
		t.Errorf("a failed check moved the routes version from %d to %d", before, v)
	}
	if err := s.RecordVerification(ctx, "shop.example.com", checked.Add(time.Minute), ""); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.GetDomain(ctx, "shop.example.com"); d.VerifiedAt == nil || !d.VerifiedAt.Equal(checked.Add(time.Minute)) || d.Verification != "" {
		t.Fatalf("after a good check: %+v", d)
	}
	_, domains, after := routeTable(t, s)
	if !domains["shop.example.com"].Verified || after <= before {
		t.Fatalf("verified domain in the routes: %+v, version %d (before %d)", domains["shop.example.com"], after, before)
	}
	if err := s.RecordVerification(ctx, "nope.example.com", checked, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a check of a domain that is gone: %v, want ErrNotFound", err)
	}

	notAfter := checked.Add(90 * 24 * time.Hour)
	c := store.Certificate{Status: "issued", Issuer: "Test CA", NotAfter: &notAfter}
	if err := s.RecordCertificate(ctx, "shop.example.com", c); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordCertificate(ctx, "shop.localhost", c); err != nil {
		t.Errorf("a certificate of a hostname that is not a domain: %v", err)
	}
	d, _ = s.GetDomain(ctx, "shop.example.com")
	if d.Certificate.Status != "issued" || d.Certificate.Issuer != "Test CA" || d.Certificate.NotAfter == nil || !d.Certificate.NotAfter.Equal(notAfter) {
		t.Fatalf("certificate: %+v", d.Certificate)
	}
	if _, _, v := routeTable(t, s); v != after {
		t.Errorf("a certificate moved the routes version from %d to %d", after, v)
	}
}

// A redirect points at another domain of the project, which cannot be
// deleted from under it.
func testRedirectTargetIsKept(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	createProject(t, s, "p1", "shop")
	createDomain(t, s, "example.com", "")
	createDomain(t, s, "www.example.com", "example.com")
	_, domains, before := routeTable(t, s)
	if r := domains["www.example.com"]; r == nil || r.Redirect != "example.com" || r.RedirectStatus != 308 {
		t.Fatalf("redirect domain in the routes: %+v", r)
	}
	var redirected *store.RedirectedError
	if err := s.DeleteDomain(ctx, "p1", "example.com"); !errors.As(err, &redirected) || !errors.Is(err, store.ErrConflict) || len(redirected.From) != 1 || redirected.From[0] != "www.example.com" {
		t.Fatalf("delete of a redirect's target: %v, want a RedirectedError", err)
	}
	www, _ := s.GetDomain(ctx, "www.example.com")
	www.Redirect, www.RedirectStatus = "", 0
	if err := s.UpdateDomain(ctx, www); err != nil {
		t.Fatal(err)
	}
	_, domains, after := routeTable(t, s)
	if domains["www.example.com"].Redirect != "" || after <= before {
		t.Fatalf("after dropping the redirect: %+v, version %d (before %d)", domains["www.example.com"], after, before)
	}
	www.Redirect = "nope.example.com"
	if err := s.UpdateDomain(ctx, www); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a redirect to no domain: %v, want ErrNotFound", err)
	}
	if err := s.DeleteDomain(ctx, "p1", "shop.localhost"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete of the project's own host as a domain: %v, want ErrNotFound", err)
	}
	for _, name := range []string{"example.com", "www.example.com"} {
		if err := s.DeleteDomain(ctx, "p1", name); err != nil {
			t.Fatalf("delete %s: %v", name, err)
		}
	}
	serving, _, _ := routeTable(t, s)
	if _, ok := serving["example.com"]; ok || serving["shop.localhost"] != "-" {
		t.Fatalf("routes after the domains were deleted: %v", serving)
	}
	if err := s.DeleteDomain(ctx, "p1", "example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a second delete: %v, want ErrNotFound", err)
	}
}
