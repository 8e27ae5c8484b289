package edge

import (
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/workers"
)

// headerRuntime answers with the request headers the app would see.
type headerRuntime struct{}

func (headerRuntime) ServeHTTP(w http.ResponseWriter, r *http.Request, _ workers.App) {
	_ = json.NewEncoder(w).Encode(r.Header) // a client gone is the test's to see
}

func TestForwardedHeaders(t *testing.T) {
	for name, tt := range map[string]struct {
		trusted []netip.Prefix
		sent    map[string]string
		want    map[string]string
	}{
		"a client's own claims are replaced": {
			sent: map[string]string{"X-Forwarded-For": "6.6.6.6", "X-Real-Ip": "6.6.6.6", "X-Forwarded-Proto": "https",
				"X-Forwarded-Host": "bank.example", "Forwarded": "for=6.6.6.6", "X-Vercel-Forwarded-For": "6.6.6.6", "X-Ferry-Id": "forged"},
			want: map[string]string{"X-Forwarded-For": "127.0.0.1", "X-Real-Ip": "127.0.0.1", "X-Forwarded-Proto": "http",
				"X-Forwarded-Host": "shop.localhost", "Forwarded": "", "X-Vercel-Forwarded-For": "127.0.0.1",
				"X-Vercel-Deployment-Url": "shop-d1.localhost"},
		},
		"a trusted proxy's are kept": {
			trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
			sent:    map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "shop.example.com"},
			want: map[string]string{"X-Forwarded-For": "203.0.113.9, 127.0.0.1", "X-Real-Ip": "203.0.113.9", "X-Forwarded-Proto": "https",
				"X-Forwarded-Host": "shop.example.com", "X-Vercel-Forwarded-For": "203.0.113.9"},
		},
		"the client is the nearest untrusted hop": {
			trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")},
			sent:    map[string]string{"X-Forwarded-For": "6.6.6.6, 203.0.113.9, 10.1.2.3"},
			want:    map[string]string{"X-Forwarded-For": "6.6.6.6, 203.0.113.9, 10.1.2.3, 127.0.0.1", "X-Real-Ip": "203.0.113.9"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := newTestEdge(t, Config{Runtime: headerRuntime{}, TrustedProxies: tt.trusted})
			e.project(t, "p1", "shop")
			e.deployment(t, "p1", "shop", "d1", "production", "READY")
			e.sync(t)
			req, _ := http.NewRequest("GET", e.url+"/", nil)
			req.Host = "shop.localhost"
			for k, v := range tt.sent {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }()
			data, _ := io.ReadAll(resp.Body)
			var seen http.Header
			if err := json.Unmarshal(data, &seen); err != nil {
				t.Fatalf("%s: %v", data, err)
			}
			for k, want := range tt.want {
				if got := seen.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if id := resp.Header.Get(workers.RequestIDHeader); seen.Get("X-Vercel-Id") != id || seen.Get(workers.RequestIDHeader) != id {
				t.Errorf("the app saw request ids %q and %q, the response carries %q", seen.Get("X-Vercel-Id"), seen.Get(workers.RequestIDHeader), id)
			}
		})
	}
}

func TestNoindexOutsideProduction(t *testing.T) {
	e := newTestEdge(t, Config{Runtime: headerRuntime{}})
	e.project(t, "p1", "shop")
	e.deployment(t, "p1", "shop", "d1", "production", "READY")
	e.sync(t)
	for host, want := range map[string]string{"shop.localhost": "", "shop-d1.localhost": "noindex"} {
		req, _ := http.NewRequest("GET", e.url+"/", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if got := resp.Header.Get("X-Robots-Tag"); got != want {
			t.Errorf("%s: X-Robots-Tag %q, want %q", host, got, want)
		}
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies(" 10.0.0.0/8, 192.168.1.7,,fd00::/8 ")
	if err != nil || len(got) != 3 || got[1] != netip.MustParsePrefix("192.168.1.7/32") {
		t.Fatalf("ParseTrustedProxies = %v, %v", got, err)
	}
	if _, err := ParseTrustedProxies("10.0.0.0/8, proxy.internal"); err == nil {
		t.Error("accepted a host name")
	}
}
