package edge

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

func TestFailureCounterWindow(t *testing.T) {
	var f failureCounter
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := range maxProtectionFailures {
		if wait := f.fail("10.0.0.1", start.Add(time.Duration(i)*time.Second)); wait != 0 {
			t.Fatalf("failure %d throttled (%v): %d are allowed a window", i+1, wait, maxProtectionFailures)
		}
	}
	now := start.Add(20 * time.Second)
	if wait := f.blocked("10.0.0.1", now); wait != 40*time.Second {
		t.Fatalf("blocked for %v after the allowance, want the rest of the window (40s)", wait)
	}
	if wait := f.blocked("10.0.0.2", now); wait != 0 {
		t.Fatalf("another address blocked for %v", wait)
	}
	if wait := f.blocked("10.0.0.1", start.Add(protectionFailureWindow)); wait != 0 {
		t.Fatalf("blocked for %v once the window ended", wait)
	}
	if wait := f.fail("10.0.0.1", start.Add(protectionFailureWindow)); wait != 0 {
		t.Fatalf("the first failure of a new window throttled: %v", wait)
	}
}

func TestSafeNext(t *testing.T) {
	for next, want := range map[string]string{
		"/page?q=1": "/page?q=1", "": "/", "https://evil.example/": "/", "//evil.example/": "/", "/\\evil.example": "/",
		"/.well-known/ferry-protection": "/", "page": "/",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

// BenchmarkSignedIn is what preview protection adds to a signed-in request: reading and
// checking the cookie.
func BenchmarkSignedIn(b *testing.B) {
	g := &guard{password: []byte("correct horse battery"), cookieKey: []byte("hmac-sha256:0123456789abcdef")}
	host := "app-dpl1234.localhost"
	req := httptest.NewRequest("GET", "http://"+host+"/", nil)
	req.AddCookie(&http.Cookie{Name: api.ProtectionCookie, Value: g.sign(host, time.Now().Add(time.Hour).Unix())})
	req.AddCookie(&http.Cookie{Name: "session", Value: "abc"})
	for b.Loop() {
		if !g.signedIn(req, host, time.Now()) {
			b.Fatal("not signed in")
		}
	}
}
