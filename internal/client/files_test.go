package client

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

func writeFile(t *testing.T, dir, rel, content string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func paths(files []api.File) string {
	var p []string
	for _, f := range files {
		p = append(p, f.Path)
	}
	return strings.Join(p, " ")
}

func TestCollectFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "app.py", "app", 0o600)
	writeFile(t, dir, "bin/run.sh", "#!/bin/sh", 0o700)
	writeFile(t, dir, "api/index.py", "x", 0o644)
	for _, skipped := range []string{
		".git/HEAD", ".venv/bin/python", "venv/lib/x.py", "api/__pycache__/index.cpython-311.pyc",
		"node_modules/a/index.js", ".terraform/providers/x", "mod.pyc", "terraform.tfstate",
		"terraform.tfstate.backup", ".terraform.lock.hcl",
	} {
		writeFile(t, dir, skipped, "skip me", 0o644)
	}
	if err := os.Symlink("app.py", filepath.Join(dir, "link.py")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("api", filepath.Join(dir, "api2")); err != nil {
		t.Fatal(err)
	}

	files, err := CollectFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := paths(files), "api/index.py api2/index.py app.py bin/run.sh link.py"; got != want {
		t.Errorf("paths %q, want %q", got, want)
	}
	byPath := map[string]api.File{}
	for _, f := range files {
		byPath[f.Path] = f
	}
	if f := byPath["app.py"]; f.Mode != 0o644 || f.Size != 3 || f.Digest != sha([]byte("app")) {
		t.Errorf("app.py = %+v", f)
	}
	if f := byPath["bin/run.sh"]; f.Mode != 0o755 {
		t.Errorf("bin/run.sh mode %o, want 755", f.Mode)
	}
	if byPath["link.py"].Digest != byPath["app.py"].Digest {
		t.Errorf("link.py should carry app.py's content")
	}
}

func TestCollectFilesErrors(t *testing.T) {
	_, err := CollectFiles(filepath.Join(t.TempDir(), "nope"))
	if !errors.Is(err, ErrSourceNotFound) {
		t.Errorf("missing dir: %v", err)
	}

	outside := t.TempDir()
	writeFile(t, outside, "secret.txt", "s", 0o644)
	dir := t.TempDir()
	writeFile(t, dir, "app.py", "app", 0o644)
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(dir, "secret.txt")); err != nil {
		t.Fatal(err)
	}
	if _, err := CollectFiles(dir); err == nil || !strings.Contains(err.Error(), "outside the source") {
		t.Errorf("escaping link: %v", err)
	}

	dir = t.TempDir()
	if err := os.Symlink("missing.py", filepath.Join(dir, "dangling.py")); err != nil {
		t.Fatal(err)
	}
	if _, err := CollectFiles(dir); err == nil || !strings.Contains(err.Error(), "points to nothing") {
		t.Errorf("dangling link: %v", err)
	}

	dir = t.TempDir()
	writeFile(t, dir, "sub/a.py", "a", 0o644)
	if err := os.Symlink("..", filepath.Join(dir, "sub", "up")); err != nil {
		t.Fatal(err)
	}
	if _, err := CollectFiles(dir); err == nil || !strings.Contains(err.Error(), "loop") {
		t.Errorf("looping link: %v", err)
	}

	file := filepath.Join(t.TempDir(), "app.py")
	writeFile(t, filepath.Dir(file), "app.py", "x", 0o644)
	if _, err := CollectFiles(file); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("file as source: %v", err)
	}
}

func TestSourceDigest(t *testing.T) {
	files := []api.File{
		{Path: "b.py", Digest: "bb", Mode: 0o644},
		{Path: "a.py", Digest: "aa", Mode: 0o755},
	}
	want := sha([]byte("a.py\x00755\x00aa\nb.py\x00644\x00bb\n"))
	if got := api.SourceDigest(files); got != want {
		t.Errorf("SourceDigest = %s, want %s", got, want)
	}
	if files[0].Path != "b.py" {
		t.Error("SourceDigest reordered its argument")
	}
	changed := append([]api.File(nil), files...)
	changed[0].Mode = 0o755
	if api.SourceDigest(changed) == want {
		t.Error("a mode change must change the digest")
	}

	dir := t.TempDir()
	writeFile(t, dir, "app.py", "v1", 0o644)
	f1, _ := CollectFiles(dir)
	writeFile(t, dir, "__pycache__/app.pyc", "cache", 0o644)
	f2, _ := CollectFiles(dir)
	if api.SourceDigest(f1) != api.SourceDigest(f2) {
		t.Error("a skipped file changed the digest")
	}
	writeFile(t, dir, "app.py", "v2", 0o644)
	f3, _ := CollectFiles(dir)
	if api.SourceDigest(f1) == api.SourceDigest(f3) {
		t.Error("an edit did not change the digest")
	}
}

func TestCollectFilesFollowsGitignoreFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "app.py", "app", 0o644)
	writeFile(t, dir, ".gitignore", ".env\n*.sqlite3\n/build/\n", 0o644)
	writeFile(t, dir, ".env", "SECRET=1", 0o644)
	writeFile(t, dir, "db.sqlite3", "data", 0o644)
	writeFile(t, dir, "build/out.txt", "x", 0o644)
	writeFile(t, dir, "api/build/keep.py", "x", 0o644) // /build is anchored to the top
	writeFile(t, dir, "api/.gitignore", "fixtures/\n!seed.sqlite3\n", 0o644)
	writeFile(t, dir, "api/fixtures/big.json", "x", 0o644)
	writeFile(t, dir, "api/seed.sqlite3", "seed", 0o644)
	writeFile(t, dir, "venv/lib/x.py", "always left out", 0o644)

	files, err := CollectFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := paths(files), ".gitignore api/.gitignore api/build/keep.py api/seed.sqlite3 app.py"; got != want {
		t.Errorf("paths %q, want %q", got, want)
	}
}

func TestCollectFilesVercelignoreReplacesGitignore(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "api/index.py", "x", 0o644)
	writeFile(t, dir, "vercel.json", "{}", 0o644)
	writeFile(t, dir, "README.md", "docs", 0o644)
	writeFile(t, dir, "scripts/seed.py", "x", 0o644)
	writeFile(t, dir, ".gitignore", "api/\n", 0o644) // not read: .vercelignore decides
	// Vercel's allowlist: ignore everything at the top, then bring back what is deployed.
	writeFile(t, dir, ".vercelignore", "/*\n!api\n!vercel.json\n", 0o644)

	files, err := CollectFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := paths(files), "api/index.py vercel.json"; got != want {
		t.Errorf("paths %q, want %q", got, want)
	}

	// An empty .vercelignore leaves out nothing but the always-excluded names.
	writeFile(t, dir, ".vercelignore", "", 0o644)
	if files, err = CollectFiles(dir); err != nil {
		t.Fatal(err)
	}
	if got, want := paths(files), ".gitignore .vercelignore README.md api/index.py scripts/seed.py vercel.json"; got != want {
		t.Errorf("with an empty .vercelignore: paths %q, want %q", got, want)
	}
}

// TestCollectFilesTrustsTheDigestCacheOnlyForUnchangedFiles: a plan of an unchanged tree takes
// the digests it recorded; a file written since, even to the same size and modification time,
// is read again.
func TestCollectFilesTrustsTheDigestCacheOnlyForUnchangedFiles(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	writeFile(t, dir, "app.py", "version = 1", 0o644)
	writeFile(t, dir, "lib.py", "x = 1", 0o644)
	time.Sleep(racyWindow + 100*time.Millisecond) // older than the window: their digests are kept
	if _, err := CollectFiles(dir); err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.EvalSymlinks(dir)
	cache := openDigestCache(root)
	libPath := filepath.Join(root, "lib.py")
	entry, ok := cache.entries[libPath]
	if !ok || entry.Digest != sha([]byte("x = 1")) {
		t.Fatalf("the cache does not hold lib.py: %+v", cache.entries)
	}
	// A digest in the cache is what the next walk reports, file unread: mark one to see it.
	entry.Digest = strings.Repeat("0", 64)
	cache.used = map[string]cacheEntry{libPath: entry, filepath.Join(root, "app.py"): cache.entries[filepath.Join(root, "app.py")]}
	cache.save()

	// app.py changes, keeping its size and modification time.
	appPath := filepath.Join(root, "app.py")
	info, err := os.Stat(appPath)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "app.py", "version = 2", 0o644)
	if err := os.Chtimes(appPath, info.ModTime(), info.ModTime()); err != nil {
		t.Fatal(err)
	}
	files, err := CollectFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		switch f.Path {
		case "lib.py":
			if f.Digest != entry.Digest {
				t.Errorf("lib.py was read again though unchanged: %s", f.Digest)
			}
		case "app.py":
			if f.Digest != sha([]byte("version = 2")) {
				t.Errorf("app.py changed but its old digest was used: %s", f.Digest)
			}
		}
	}
}
