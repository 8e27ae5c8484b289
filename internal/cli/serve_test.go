//go:build !windows

package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for text, want := range map[string]int64{
		"500MiB": 500 << 20, "2GiB": 2 << 30, "2GB": 2e9, "1048576": 1 << 20, "10 kb": 10e3, "7B": 7,
	} {
		if got, err := parseSize(text); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", text, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "-5MB", "1.5GB", "MB", "9999999999TiB", "5PB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}

func TestParseResolvers(t *testing.T) {
	got, err := parseResolvers(" 1.1.1.1, 127.0.0.1:5353,[2001:db8::53]:53, 2001:db8::54 ,")
	want := []string{"1.1.1.1:53", "127.0.0.1:5353", "[2001:db8::53]:53", "[2001:db8::54]:53"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseResolvers: %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"dns.example", "1.1.1.1:dns", ":53", "1.1.1.1:0"} {
		if _, err := parseResolvers(bad); err == nil {
			t.Errorf("parseResolvers(%q) accepted", bad)
		}
	}
	if _, err := parseAddresses("203.0.113.7, ::ffff:198.51.100.1"); err != nil {
		t.Error(err)
	}
	if _, err := parseAddresses("203.0.113.7, example.com"); err == nil || !strings.Contains(err.Error(), `"example.com" is not an IP address`) {
		t.Errorf("parseAddresses of a name: %v", err)
	}
}

func TestCAPrintsTheLocalCA(t *testing.T) {
	dataDir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"ca", "--data-dir", dataDir}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "no local CA in "+dataDir+" yet") {
		t.Errorf("before the engine made one: exit %d, %q", code, stderr.String())
	}
	if err := os.MkdirAll(filepath.Join(dataDir, "ca"), 0o700); err != nil {
		t.Fatal(err)
	}
	pem := "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	if err := os.WriteFile(filepath.Join(dataDir, "ca", "root.crt"), []byte(pem), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if code := run([]string{"ca", "--data-dir", dataDir}, &stdout, &stderr); code != 0 || stdout.String() != pem {
		t.Errorf("exit %d, printed %q", code, stdout.String())
	}
}
