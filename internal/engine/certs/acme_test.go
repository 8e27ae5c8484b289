package certs

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/acmetest"
	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/dnstest"
)

// acmeFixture is a Manager whose public names are certified by pebble,
// which resolves them with an in-process DNS server and validates them
// against the fixture's own listeners.
func acmeFixture(t *testing.T, acme ACME) (*fixture, *acmetest.Pebble, *dnstest.Server) {
	t.Helper()
	dns := dnstest.Start(t)
	var pebble *acmetest.Pebble
	f := newFixture(t, func(c *Config) {
		pebble = acmetest.Start(t, acmetest.Options{
			DNS: dns.Addr(), HTTPPort: port(t, c.HTTPAddress), TLSPort: port(t, c.HTTPSAddress),
			Blocklist: []string{"blocked.example.com"},
		})
		acme.Directory, acme.Roots = pebble.Directory, pebble.CA
		c.ACME = acme
	})
	return f, pebble, dns
}

func port(t *testing.T, address string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(address)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A public name is certified by the ACME CA, by either challenge, and the
// chain verifies against the CA's root.
func TestACMEChallenges(t *testing.T) {
	for name, acme := range map[string]ACME{
		"http-01":     {DisableTLSALPN01: true},
		"tls-alpn-01": {DisableHTTP01: true},
	} {
		t.Run(name, func(t *testing.T) {
			f, pebble, dns := acmeFixture(t, acme)
			domain := "shop.example.com"
			dns.Set(domain, "A", "127.0.0.1")
			f.names.set(domain, domain)
			f.manager.Manage([]string{domain})
			waitFor(t, "the certificate", time.Minute, func() bool {
				st := f.statuses.last(domain).State
				return st == api.TLSIssued || st == api.TLSFailed
			})
			if st := f.statuses.last(domain); st.State != api.TLSIssued || !strings.Contains(st.Issuer, "Pebble") || st.NotAfter == nil {
				t.Fatalf("status: %+v", st)
			}
			leaf, err := f.handshake(domain, pebble.IssuedRoots(t))
			if err != nil {
				t.Fatalf("handshake verified against pebble's root: %v", err)
			}
			if leaf.DNSNames[0] != domain {
				t.Errorf("certificate for %v", leaf.DNSNames)
			}
			checkPrivate(t, f.manager.cfg.StorageDir)
		})
	}
}

// When the CA refuses, its own words reach the status.
func TestACMEFailureCarriesTheCAsMessage(t *testing.T) {
	f, _, dns := acmeFixture(t, ACME{})
	for domain, want := range map[string]string{
		"blocked.example.com":     "urn:ietf:params:acme:error:rejectedIdentifier",
		"unreachable.example.com": "urn:ietf:params:acme:error:",
	} {
		dns.Set(domain, "A", "127.0.0.1")
		f.names.set(domain, domain)
		if domain == "unreachable.example.com" {
			dns.Set(domain, "A", "127.0.0.2") // nothing listens there
		}
		f.manager.Manage([]string{domain})
		waitFor(t, "the failure of "+domain, time.Minute, func() bool { return f.statuses.last(domain).State == api.TLSFailed })
		if st := f.statuses.last(domain); !strings.Contains(st.Error, want) {
			t.Errorf("%s: error %q does not carry %q", domain, st.Error, want)
		}
		if _, err := f.handshake(domain, nil); err == nil {
			t.Errorf("%s: a handshake succeeded without a certificate", domain)
		}
		f.manager.Manage(nil)
	}
}
