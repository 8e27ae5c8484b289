package gitsource

import (
	"context"
	"errors"
	"io"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/gittest"
)

func paths(files []File) map[string]uint32 {
	out := map[string]uint32{}
	for _, f := range files {
		out[f.Path] = f.Mode
	}
	return out
}

func content(t *testing.T, files []File, path string) string {
	t.Helper()
	for _, f := range files {
		if f.Path == path {
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = r.Close() }()
			b, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
	t.Fatalf("%s is not among the files", path)
	return ""
}

func TestResolveLocalRepository(t *testing.T) {
	repo := gittest.New(t)
	first := repo.Commit("Initial app\n\nWith a body.\n", map[string]string{
		"app.py":           "app = None\n",
		"run.sh":           "exec:#!/bin/sh\n",
		"shared/config.py": "X = 1\n",
		"config.py":        "link:shared/config.py",
		"lib":              "link:shared",
		"secrets/key.txt":  "no",
		"notes.md":         "no",
		".vercelignore":    "secrets/\n*.md\n",
		"venv/bin/python":  "committed by mistake",
		"mod.pyc":          "compiled",
	})
	repos := New(t.TempDir())
	ctx := context.Background()

	for _, url := range []string{repo.Dir, "file://" + repo.Dir} {
		c, err := repos.Resolve(ctx, Source{URL: url, Ref: "main"})
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		g := c.Commit
		if g.SHA != first || g.Ref != "main" || g.Branch != "main" || g.Message != "Initial app\n\nWith a body." ||
			g.AuthorName != "Ada Lovelace" || g.AuthorLogin != "ada" || g.Provider != "local" || g.RepoSlug != filepath.Base(repo.Dir) || g.URL != repo.Dir {
			t.Errorf("%s: commit record %+v", url, g)
		}
	}
	c, err := repos.Resolve(ctx, Source{URL: repo.Dir}) // no ref: the default branch
	if err != nil || c.Commit.SHA != first || c.Commit.Branch != "main" {
		t.Fatalf("default branch: %+v, %v", c, err)
	}
	files, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint32{
		"app.py": 0o644, "run.sh": 0o755, "shared/config.py": 0o644, "config.py": 0o644,
		"lib/config.py": 0o644, ".vercelignore": 0o644,
	}
	got := paths(files)
	if len(got) != len(want) {
		t.Errorf("files %v, want %v", got, want)
	}
	for p, mode := range want {
		if got[p] != mode {
			t.Errorf("%s: mode %o, want %o (files %v)", p, got[p], mode, got)
		}
	}
	if content(t, files, "config.py") != "X = 1\n" || content(t, files, "lib/config.py") != "X = 1\n" {
		t.Error("symbolic links were not replaced by what they point to")
	}
}

func TestResolveRefsAndCommits(t *testing.T) {
	repo := gittest.New(t)
	first := repo.Commit("one", map[string]string{"app.py": "1"})
	repo.Tag("v1", first)
	repo.Branch("feature/x")
	second := repo.Commit("two", map[string]string{"app.py": "2"})
	repos := New(t.TempDir())
	ctx := context.Background()

	for _, tc := range []struct {
		src              Source
		sha, ref, branch string
	}{
		{Source{URL: repo.Dir, Ref: "feature/x"}, second, "feature/x", "feature/x"},
		{Source{URL: repo.Dir, Ref: "refs/heads/main"}, first, "main", "main"},
		{Source{URL: repo.Dir, Ref: "v1"}, first, "v1", ""},
		{Source{URL: repo.Dir, Commit: first}, first, "", ""},
		{Source{URL: repo.Dir, Ref: "feature/x", Commit: first}, first, "feature/x", "feature/x"},
	} {
		c, err := repos.Resolve(ctx, tc.src)
		if err != nil {
			t.Errorf("%+v: %v", tc.src, err)
			continue
		}
		if c.Commit.SHA != tc.sha || c.Commit.Ref != tc.ref || c.Commit.Branch != tc.branch {
			t.Errorf("%+v: got %s ref %q branch %q, want %s %q %q", tc.src, c.Commit.SHA, c.Commit.Ref, c.Commit.Branch, tc.sha, tc.ref, tc.branch)
		}
	}

	for _, tc := range []struct {
		src   Source
		field string
		says  string
	}{
		{Source{URL: repo.Dir, Ref: "nope"}, "ref", "branches: feature/x, main; tags: v1"},
		{Source{URL: repo.Dir, Commit: strings.Repeat("0", 40)}, "commit", "is not in the repository"},
		{Source{URL: repo.Dir, Commit: "abc123"}, "commit", "not a full commit sha"},
		{Source{URL: filepath.Join(repo.Dir, "missing")}, "url", "there is no git repository"},
		{Source{URL: "relative/repo"}, "url", "relative path"},
		{Source{URL: ""}, "url", "no git repository URL"},
		{Source{URL: "ftp://example.com/x.git"}, "url", "ftp protocol"},
	} {
		_, err := repos.Resolve(ctx, tc.src)
		var bad *Error
		if !errors.As(err, &bad) || bad.Field != tc.field || !strings.Contains(bad.Message, tc.says) {
			t.Errorf("%+v: %v, want an error on %s saying %q", tc.src, err, tc.field, tc.says)
		}
	}
	_, err := repos.Resolve(ForRemoteCaller(ctx), Source{URL: repo.Dir})
	var bad *Error
	if !errors.As(err, &bad) || !strings.Contains(bad.Message, "only callers on that machine") {
		t.Errorf("a remote caller read a local repository: %v", err)
	}
}

func TestSymbolicLinksThatLeaveOrLoop(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"outside":  {"app.py": "x", "passwd": "link:../../etc/passwd"},
		"absolute": {"app.py": "x", "passwd": "link:/etc/passwd"},
		"dangling": {"app.py": "x", "gone": "link:missing.py"},
		"loop":     {"app.py": "x", "a/self": "link:."},
	} {
		t.Run(name, func(t *testing.T) {
			repo := gittest.New(t)
			repo.Commit("links", files)
			c, err := New(t.TempDir()).Resolve(context.Background(), Source{URL: repo.Dir})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Files()
			var bad *Error
			if !errors.As(err, &bad) || !strings.Contains(bad.Message, "symbolic link") {
				t.Errorf("files: %v, want an error about the link", err)
			}
		})
	}
}

// gitHTTPServer serves the repositories under root over git's smart HTTP protocol, with git's
// own http-backend: a real remote, offline.
func gitHTTPServer(t *testing.T, root string) string {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Skipf("git is not installed: %v", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		t.Skipf("git-http-backend is missing: %v", err)
	}
	srv := httptest.NewServer(&cgi.Handler{Path: backend, Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}, Stderr: io.Discard})
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestResolveRemoteRepositoryOverHTTP(t *testing.T) {
	repo := gittest.New(t)
	first := repo.Commit("one", map[string]string{"app.py": "1"})
	base := gitHTTPServer(t, filepath.Dir(repo.Dir))
	url := base + "/" + filepath.Base(repo.Dir)
	mirrors := t.TempDir()
	repos := New(mirrors)
	ctx := context.Background()

	c, err := repos.Resolve(ctx, Source{URL: url, Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Commit.SHA != first || c.Commit.Branch != "main" || c.Commit.Provider != "127.0.0.1" || c.Commit.URL != url {
		t.Errorf("commit record: %+v", c.Commit)
	}
	if files, err := c.Files(); err != nil || len(files) != 1 || content(t, files, "app.py") != "1" {
		t.Errorf("files: %v, %v", files, err)
	}

	// A push is seen by the next resolve, which fetches only what is new.
	second := repo.Commit("two", map[string]string{"app.py": "2"})
	if c, err = repos.Resolve(ctx, Source{URL: url, Ref: "main"}); err != nil || c.Commit.SHA != second {
		t.Fatalf("after a push: %+v, %v", c, err)
	}
	// A commit no longer at any branch's tip is still found, in the mirror.
	if c, err = repos.Resolve(ctx, Source{URL: url, Commit: first}); err != nil || c.Commit.SHA != first {
		t.Fatalf("an older commit: %+v, %v", c, err)
	}
	// A fresh mirror finds a bare commit by fetching every branch.
	if c, err = New(t.TempDir()).Resolve(ctx, Source{URL: url, Commit: first}); err != nil || c.Commit.SHA != first {
		t.Fatalf("a bare commit in a fresh mirror: %+v, %v", c, err)
	}

	for _, tc := range []struct {
		src   Source
		field string
		says  string
	}{
		{Source{URL: base + "/no-such-repo", Ref: "main"}, "url", "no git repository at"},
		{Source{URL: url, Ref: "nope"}, "ref", "has no branch or tag \"nope\""},
		{Source{URL: url, Commit: strings.Repeat("1", 40)}, "commit", "is not in any branch or tag"},
	} {
		_, err := repos.Resolve(ctx, tc.src)
		var bad *Error
		if !errors.As(err, &bad) || bad.Field != tc.field || !strings.Contains(bad.Message, tc.says) {
			t.Errorf("%+v: %v, want an error on %s saying %q", tc.src, err, tc.field, tc.says)
		}
	}
	entries, _ := os.ReadDir(mirrors)
	if len(entries) != 1 {
		t.Errorf("mirrors: %d, want one (a failed list must not leave one behind)", len(entries))
	}
}

func TestRepositoryDescription(t *testing.T) {
	ctx := context.Background()
	for raw, want := range map[string][3]string{
		"https://github.com/acme/shop.git":           {"github", "acme", "shop"},
		"https://x-token:secret@gitlab.com/g/s/app":  {"gitlab", "g/s", "app"},
		"git@bitbucket.org:team/site.git":            {"bitbucket", "team", "site"},
		"ssh://git@git.example.com:2222/ops/api.git": {"git.example.com", "ops", "api"},
	} {
		loc, err := parseLocation(ctx, raw)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		provider, owner, slug := loc.repository()
		if [3]string{provider, owner, slug} != want {
			t.Errorf("%s: %s %s %s, want %v", raw, provider, owner, slug, want)
		}
		if strings.Contains(loc.display(), "secret") || strings.Contains(loc.display(), "x-token") {
			t.Errorf("%s is shown with its credentials: %s", raw, loc.display())
		}
	}
	if got := authorLogin("ada@example.com"); got != "ada" {
		t.Errorf("authorLogin of a plain email: %q", got)
	}
	if got := message(strings.Repeat("é", maxMessageBytes)); len(got) > maxMessageBytes || !strings.HasPrefix(strings.Repeat("é", 10), got[:20]) {
		t.Errorf("a long message is cut badly: %d bytes", len(got))
	}
}
