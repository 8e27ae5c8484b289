//go:build !windows

package cli

import "testing"

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
