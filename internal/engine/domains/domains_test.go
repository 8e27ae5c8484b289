package domains

import (
	"context"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/dnstest"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store/sqlite"
)

const publicAddress = "203.0.113.7"

type fixture struct {
	store    *sqlite.Store
	dns      *dnstest.Server
	verifier *Verifier
	synced   atomic.Int32
}

func newFixture(t *testing.T, resolvers ...string) *fixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ferry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := st.CreateProject(context.Background(), &store.Project{ID: "p1", Name: "shop", Framework: "auto", RootDirectory: "."}, "shop.apps.example.net"); err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: st, dns: dnstest.Start(t)}
	f.verifier = New(Config{
		Store:           st,
		Resolvers:       append(resolvers, f.dns.Addr()),
		BaseDomain:      "apps.example.net",
		PublicAddresses: []netip.Addr{netip.MustParseAddr(publicAddress), netip.MustParseAddr("2001:db8::7")},
		Interval:        20 * time.Millisecond,
		SyncRoutes:      func(context.Context) error { f.synced.Add(1); return nil },
	})
	return f
}

// addShop adds shop.example.com, the domain the tests of Verify and Run use.
func (f *fixture) addShop(t *testing.T) {
	t.Helper()
	if err := f.store.CreateDomain(context.Background(), &store.Domain{Name: "shop.example.com", ProjectID: "p1", Token: "tok-shop.example.com"}); err != nil {
		t.Fatal(err)
	}
}

func TestCheck(t *testing.T) {
	f := newFixture(t)
	f.dns.Set("apps.example.net", "A", publicAddress)
	f.dns.Set("_ferry.example.com", "TXT", "ferry-verification=tok-example.com")
	f.dns.Set("example.com", "A", publicAddress)
	f.dns.Set("_ferry.www.example.com", "TXT", "unrelated", "ferry-verification=tok-www.example.com")
	f.dns.Set("www.example.com", "CNAME", "shop.apps.example.net")
	f.dns.Set("_ferry.v6.example.com", "TXT", "ferry-verification=tok-v6.example.com")
	f.dns.Set("v6.example.com", "AAAA", "2001:db8::7")
	f.dns.Set("_ferry.elsewhere.example.com", "TXT", "ferry-verification=wrong")
	f.dns.Set("elsewhere.example.com", "A", "198.51.100.1")
	f.dns.Set("noaddress.example.com", "TXT", "x")

	for name, want := range map[string]string{
		"example.com":           "",
		"www.example.com":       "",
		"v6.example.com":        "",
		"app.localhost":         "",
		"elsewhere.example.com": `TXT _ferry.elsewhere.example.com holds "ferry-verification=wrong", not "ferry-verification=tok-elsewhere.example.com"`,
		"noaddress.example.com": "no TXT record _ferry.noaddress.example.com was found: create it with the value \"ferry-verification=tok-noaddress.example.com\"; " +
			"noaddress.example.com has no A, AAAA or CNAME record leading to this engine: create CNAME apps.example.net",
		"missing.example.com": "missing.example.com has no A, AAAA or CNAME record",
	} {
		got := f.verifier.Check(context.Background(), &store.Domain{Name: name, Token: "tok-" + name})
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	got := f.verifier.Check(context.Background(), &store.Domain{Name: "elsewhere.example.com", Token: "wrong"})
	if want := "elsewhere.example.com resolves to 198.51.100.1, which is not this engine: create CNAME apps.example.net"; got != want {
		t.Errorf("an address elsewhere: %q, want %q", got, want)
	}
}

// A resolver that does not answer is passed over for the next one; when
// none answers, the check says so.
func TestResolversThatDoNotAnswer(t *testing.T) {
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = silent.Close() }()
	f := newFixture(t, silent.LocalAddr().String())
	f.verifier.client.Timeout = 200 * time.Millisecond
	f.dns.Set("_ferry.example.com", "TXT", "ferry-verification=tok")
	f.dns.Set("example.com", "A", publicAddress)
	if p := f.verifier.Check(context.Background(), &store.Domain{Name: "example.com", Token: "tok"}); p != "" {
		t.Fatalf("with a silent resolver first: %q", p)
	}
	f.verifier.cfg.Resolvers = f.verifier.cfg.Resolvers[:1]
	if p := f.verifier.Check(context.Background(), &store.Domain{Name: "example.com", Token: "tok"}); !strings.Contains(p, "no resolver answered") {
		t.Fatalf("with only a silent resolver: %q", p)
	}
}

// Run verifies a domain once its records appear, records the check on it,
// and tells the edge; a verified domain is not looked up again.
func TestRunVerifiesWhenTheRecordsAppear(t *testing.T) {
	f := newFixture(t)
	f.addShop(t)
	d, err := f.verifier.Verify(context.Background(), f.shop(t))
	if err != nil || d.VerifiedAt != nil || d.CheckedAt == nil || !strings.Contains(d.Verification, "no TXT record") {
		t.Fatalf("before the records exist: %+v, %v", d, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.verifier.Run(ctx) }()
	defer func() { cancel(); <-done }()

	f.dns.Set("_ferry.shop.example.com", "TXT", "ferry-verification=tok-shop.example.com")
	f.dns.Set("shop.example.com", "CNAME", "apps.example.net")
	deadline := time.Now().Add(10 * time.Second)
	for f.shop(t).VerifiedAt == nil {
		if time.Now().After(deadline) {
			t.Fatalf("not verified: %+v", f.shop(t))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if d := f.shop(t); d.Verification != "" || f.synced.Load() != 1 {
		t.Fatalf("after verification: %+v, routes synced %d times", d, f.synced.Load())
	}
	checked := f.shop(t).CheckedAt
	time.Sleep(100 * time.Millisecond)
	if again := f.shop(t).CheckedAt; !again.Equal(*checked) {
		t.Errorf("a verified domain was looked up again at %v", again)
	}
}

// shop reads the domain the tests of Verify and Run use.
func (f *fixture) shop(t *testing.T) *store.Domain {
	t.Helper()
	d, err := f.store.GetDomain(context.Background(), "shop.example.com")
	if err != nil {
		t.Fatal(err)
	}
	return d
}
