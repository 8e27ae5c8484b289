package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// The usage page shows this month's charts and each project's totals, from the engine's meter:
// a failed build's minutes count.
func TestUsagePage(t *testing.T) {
	c, base := tokenEngine(t)
	ctx := context.Background()
	shop, err := c.CreateProject(ctx, api.ProjectRequest{Name: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("no app here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := c.Deploy(ctx, shop.ID, dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if d, err = c.WaitDeployment(ctx, d.ID, 100*time.Millisecond); err != nil || d.State != api.StateError {
		t.Fatalf("deployment without an app: %+v, %v", d, err)
	}

	b := newBrowserless(t, base)
	if status, _ := b.post("/login", url.Values{"token": {testToken}}); status != http.StatusOK {
		t.Fatalf("login answered %d", status)
	}
	status, html := b.get("/usage")
	for _, want := range []string{`<a href="/usage">Usage</a>`, "Build minutes per day", "Function GB-hours per day", `<svg class="chart"`,
		`<a href="/usage?project=shop">shop</a>`} {
		if status != http.StatusOK || !strings.Contains(html, want) {
			t.Errorf("usage page (%d) lacks %q", status, want)
		}
	}
	if strings.Contains(html, "Nothing used this month yet") {
		t.Error("the failed build's minutes are not on the usage page")
	}
	if status, html := b.get("/usage?project=shop"); status != http.StatusOK || !strings.Contains(html, "Usage of shop") {
		t.Errorf("a project's usage page: %d\n%s", status, html)
	}
	if status, html := b.get("/usage?project=nope"); status != http.StatusNotFound || !strings.Contains(html, `project &#34;nope&#34; does not exist`) {
		t.Errorf("usage of a missing project: %d\n%s", status, html)
	}
}
