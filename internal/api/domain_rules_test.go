package api

import (
	"reflect"
	"strings"
	"testing"
)

func TestCanonicalDomain(t *testing.T) {
	for name, want := range map[string]string{
		"example.com":                    "example.com",
		"WWW.Example.COM.":               "www.example.com",
		"bücher.example":                 "xn--bcher-kva.example",
		"xn--bcher-kva.de":               "xn--bcher-kva.de",
		"api.shop.test":                  "api.shop.test",
		"*.shop.test":                    "*.shop.test",
		"*.preview.localhost":            "*.preview.localhost",
		"a-b.c-d.example.org":            "a-b.c-d.example.org",
		"my-app.localhost":               "my-app.localhost",
		strings.Repeat("a", 63) + ".com": strings.Repeat("a", 63) + ".com",
	} {
		got, problem := CanonicalDomain(name)
		if problem != "" || got != want {
			t.Errorf("%q: %q, %q; want %q", name, got, problem, want)
		}
	}
	for name, want := range map[string]string{
		"":                                       "empty",
		"127.0.0.1":                              "IP address",
		"[::1]":                                  "IP address",
		"com":                                    "single label",
		"localhost":                              "single label",
		"co.uk":                                  "public suffix",
		"github.io":                              "public suffix",
		"a..example.com":                         "empty label",
		".example.com":                           "empty label",
		"-a.example.com":                         "hyphen",
		"a_b.example.com":                        "not a valid domain name",
		"a b.example.com":                        "not a valid domain name",
		strings.Repeat("a", 64) + ".com":         "at most 63",
		strings.Repeat("abcdefghi.", 26) + "com": "at most 253",
		"*.example.com":                          "DNS-01",
		"*.test":                                 "single label",
		"*.localhost":                            "single label",
		"a.*.example.test":                       "whole first label",
		"example.123":                            "numeric",
		"xn--zz.example":                         "not a valid domain name",
	} {
		got, problem := CanonicalDomain(name)
		if !strings.Contains(problem, want) {
			t.Errorf("%q: %q, problem %q does not say %q", name, got, problem, want)
		}
	}
}

func TestDomainNameProblemWantsTheCanonicalForm(t *testing.T) {
	if p := DomainNameProblem("www.example.com"); p != "" {
		t.Errorf("canonical name refused: %s", p)
	}
	for name, want := range map[string]string{
		"WWW.example.com":  `as "www.example.com"`,
		"bücher.example":   `as "xn--bcher-kva.example"`,
		"www.example.com.": `as "www.example.com"`,
	} {
		if p := DomainNameProblem(name); !strings.Contains(p, want) {
			t.Errorf("%q: %q does not say %q", name, p, want)
		}
	}
}

func TestLocalOnly(t *testing.T) {
	for name, want := range map[string]bool{
		"app.localhost": true, "shop.test": true, "*.shop.test": true, "db.internal": true, "printer.local": true,
		"nas.home.arpa": true, "127.0.0.1": true, "::1": true, "example.com": false, "test.example.com": false, "contest": false,
	} {
		if got := LocalOnly(name); got != want {
			t.Errorf("LocalOnly(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestDomainRecords(t *testing.T) {
	addresses := []string{"203.0.113.7", "2001:db8::7", "not-an-ip"}
	txt := DNSRecord{Type: "TXT", Name: "_ferry.example.com", Value: "ferry-verification=tok"}
	for _, tt := range []struct {
		domain, base string
		want         []DNSRecord
	}{
		{"example.com", "apps.example.net", []DNSRecord{txt, {"A", "example.com", "203.0.113.7"}, {"AAAA", "example.com", "2001:db8::7"}}},
		{"www.example.com", "apps.example.net", []DNSRecord{
			{"TXT", "_ferry.www.example.com", "ferry-verification=tok"}, {"CNAME", "www.example.com", "apps.example.net"}}},
		// A base domain public DNS cannot lead to is no CNAME target.
		{"www.example.com", "localhost", []DNSRecord{
			{"TXT", "_ferry.www.example.com", "ferry-verification=tok"}, {"A", "www.example.com", "203.0.113.7"}, {"AAAA", "www.example.com", "2001:db8::7"}}},
		{"*.shop.test", "apps.example.net", []DNSRecord{
			{"TXT", "_ferry.shop.test", "ferry-verification=tok"}, {"CNAME", "*.shop.test", "apps.example.net"}}},
		{"shop.localhost", "localhost", nil},
	} {
		if got := DomainRecords(tt.domain, tt.base, addresses, "tok"); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s under %s:\n got %v\nwant %v", tt.domain, tt.base, got, tt.want)
		}
	}
}
