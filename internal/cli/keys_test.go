//go:build !windows

package cli

import (
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestKeyCommands rotates an engine's key with `ferry key`: list, rotate (from a key file or
// its base64), and retire with its refusals.
func TestKeyCommands(t *testing.T) {
	te := startTestEngine(t)
	fingerprint := regexp.MustCompile(`[0-9a-f]{20}`)
	list := te.mustFerry(t, "key", "list")
	old := fingerprint.FindString(list)
	if old == "" || !strings.Contains(list, "by the engine that answered") {
		t.Fatalf("ferry key list:\n%s", list)
	}

	dir := t.TempDir()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	raw, text, bad := filepath.Join(dir, "new.key"), filepath.Join(dir, "new.b64"), filepath.Join(dir, "bad.key")
	for path, content := range map[string]string{raw: string(key), text: base64.StdEncoding.EncodeToString(key) + "\n", bad: "not a key"} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	te.wantFailure(t, ExitFailure, "neither a key (32 bytes) nor its base64", "key", "rotate", "--new-key-file", bad)
	te.wantFailure(t, ExitUsage, "give the new key with --new-key-file", "key", "rotate")
	te.wantFailure(t, ExitUsage, "name the key to retire with --fingerprint", "key", "retire")
	out := te.mustFerry(t, "key", "rotate", "--new-key-file", raw)
	added := fingerprint.FindString(out)
	if added == "" || added == old || !strings.Contains(out, "ferry key retire --fingerprint "+old) {
		t.Fatalf("ferry key rotate:\n%s", out)
	}
	// The same key as text: the same fingerprint, nothing added.
	if again := te.mustFerry(t, "key", "rotate", "--new-key-file", text); fingerprint.FindString(again) != added {
		t.Fatalf("rotating to the same key as base64:\n%s", again)
	}
	if list := te.mustFerry(t, "key", "list"); strings.Count(list, "\n") != 3 || !strings.Contains(list, added) {
		t.Fatalf("ferry key list after the rotation:\n%s", list)
	}

	te.wantFailure(t, ExitFailure, "the one this engine runs on", "key", "retire", "--fingerprint", old)
	te.wantFailure(t, ExitNotFound, "`ferry key list` shows", "key", "retire", "--fingerprint", "0000")
	if out := te.mustFerry(t, "key", "retire", "--fingerprint", added); !strings.Contains(out, "Retired key "+added) {
		t.Fatalf("ferry key retire:\n%s", out)
	}
	if list := te.mustFerry(t, "key", "list"); strings.Contains(list, added) {
		t.Fatalf("a retired key is still listed:\n%s", list)
	}
}
