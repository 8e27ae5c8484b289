// Package gittest makes git repositories for tests: a working tree on disk, committed to with
// go-git, that a test deploys from by path, file:// URL or through a git server.
package gittest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Author is the author of every commit a Repo makes.
var Author = object.Signature{Name: "Ada Lovelace", Email: "12345+ada@users.noreply.github.com", When: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}

// Repo is a repository whose default branch is main.
type Repo struct {
	Dir  string
	Git  *git.Repository
	t    testing.TB
	tree *git.Worktree
}

// New creates a repository in a new directory of the test.
func New(t testing.TB) *Repo {
	t.Helper()
	return NewIn(t, t.TempDir())
}

// NewIn creates a repository in dir.
func NewIn(t testing.TB, dir string) *Repo {
	t.Helper()
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		t.Fatal(err)
	}
	tree, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	return &Repo{Dir: dir, Git: repo, t: t, tree: tree}
}

// Commit writes files (path -> content; content "link:TARGET" makes a symbolic link,
// "exec:CONTENT" an executable file), commits everything, and returns the commit's sha.
func (r *Repo) Commit(message string, files map[string]string) string {
	r.t.Helper()
	for rel, content := range files {
		p := filepath.Join(r.Dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		var err error
		switch {
		case strings.HasPrefix(content, "link:"):
			err = os.Symlink(strings.TrimPrefix(content, "link:"), p)
		case strings.HasPrefix(content, "exec:"):
			err = os.WriteFile(p, []byte(strings.TrimPrefix(content, "exec:")), 0o755)
		default:
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			r.t.Fatal(err)
		}
	}
	if err := r.tree.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		r.t.Fatal(err)
	}
	author := Author
	hash, err := r.tree.Commit(message, &git.CommitOptions{Author: &author})
	if err != nil {
		r.t.Fatal(err)
	}
	return hash.String()
}

// Branch creates a branch at the current commit and checks it out.
func (r *Repo) Branch(name string) {
	r.t.Helper()
	head, err := r.Git.Head()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.tree.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(name), Hash: head.Hash(), Create: true}); err != nil {
		r.t.Fatal(err)
	}
}

// Tag makes an annotated tag at a commit.
func (r *Repo) Tag(name, sha string) {
	r.t.Helper()
	tagger := Author
	if _, err := r.Git.CreateTag(name, plumbing.NewHash(sha), &git.CreateTagOptions{Message: name, Tagger: &tagger}); err != nil {
		r.t.Fatal(err)
	}
}

// Checkout checks out an existing branch.
func (r *Repo) Checkout(name string) {
	r.t.Helper()
	if err := r.tree.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(name)}); err != nil {
		r.t.Fatal(err)
	}
}
