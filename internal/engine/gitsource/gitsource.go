// Package gitsource fetches the git commits deployments are built from. A repository on the
// engine's machine (a path or file:// URL) is read where it is; a remote one (http, https,
// ssh, git) is fetched with go-git into a bare mirror under the engine's data dir, so that
// later fetches only bring what is new. It resolves a ref to a commit, reads the commit's
// metadata, and lists the commit's files as a deployment takes them: .vercelignore applied,
// symbolic links inside the repository followed, submodules left out.
package gitsource

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// Source names a commit: a repository, and a ref or a full commit sha or both. With neither,
// the repository's default branch.
type Source struct {
	URL    string
	Ref    string // a branch, a tag, or a full ref such as refs/heads/main
	Commit string // a full 40-character sha
}

// Error is a source the engine cannot use; Field is the request field at fault.
type Error struct {
	Field   string
	Message string
}

func (e *Error) Error() string { return e.Message }

// maxMessageBytes bounds the commit message an app gets in VERCEL_GIT_COMMIT_MESSAGE.
const maxMessageBytes = 4 << 10

// Repos fetches repositories into mirrors under one directory.
type Repos struct {
	dir   string
	mu    sync.Mutex
	locks map[string]*sync.Mutex // one per mirror: fetches into it run one at a time
}

// New returns Repos keeping its mirrors in dir.
func New(dir string) *Repos { return &Repos{dir: dir, locks: map[string]*sync.Mutex{}} }

// Checkout is a resolved commit, ready to be read.
type Checkout struct {
	Commit api.GitCommit
	repo   *git.Repository
	commit *object.Commit
}

// Resolve finds the commit src names, fetching it first from a remote repository. A URL that
// cannot be reached, a ref or commit that does not exist, are *Error with what to do.
func (r *Repos) Resolve(ctx context.Context, src Source) (*Checkout, error) {
	loc, err := parseLocation(ctx, src.URL)
	if err != nil {
		return nil, err
	}
	if src.Commit != "" {
		if problem := api.GitCommitProblem(src.Commit); problem != "" {
			return nil, &Error{Field: "commit", Message: problem}
		}
	}
	var repo *git.Repository
	var refs []*plumbing.Reference
	if loc.local != "" {
		repo, refs, err = openLocal(loc)
	} else {
		refs, err = listRemote(ctx, loc)
	}
	if err != nil {
		return nil, err
	}
	ref, err := chooseRef(loc, refs, src.Ref, src.Commit != "")
	if err != nil {
		return nil, err
	}
	want := ref.hash
	if src.Commit != "" {
		want = plumbing.NewHash(src.Commit)
	}
	if loc.local == "" {
		if repo, err = r.fetch(ctx, loc, ref.name, want); err != nil {
			return nil, err
		}
	}
	commit, err := commitOf(repo, want)
	if err != nil {
		return nil, notFound(loc, src, ref, err)
	}
	return &Checkout{Commit: describe(loc, ref, commit), repo: repo, commit: commit}, nil
}

// resolvedRef is the ref a source named, with its commit (or tag) hash.
type resolvedRef struct {
	name plumbing.ReferenceName // "" when only a commit was given
	hash plumbing.Hash
}

func openLocal(loc *location) (*git.Repository, []*plumbing.Reference, error) {
	repo, err := git.PlainOpen(loc.local)
	switch {
	case errors.Is(err, git.ErrRepositoryNotExists), errors.Is(err, os.ErrNotExist):
		return nil, nil, &Error{Field: "url", Message: fmt.Sprintf("there is no git repository at %s on the engine's machine: check the path (it must be the repository's top directory)", loc.local)}
	case err != nil:
		return nil, nil, &Error{Field: "url", Message: fmt.Sprintf("cannot open the git repository at %s: %v", loc.local, err)}
	}
	iter, err := repo.References()
	if err != nil {
		return nil, nil, fmt.Errorf("list the refs of %s: %w", loc.local, err)
	}
	var refs []*plumbing.Reference
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		refs = append(refs, ref)
		return nil
	})
	return repo, refs, err
}

func listRemote(ctx context.Context, loc *location) ([]*plumbing.Reference, error) {
	auth, err := authFor(loc)
	if err != nil {
		return nil, err
	}
	remote := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{loc.raw}})
	refs, err := remote.ListContext(ctx, &git.ListOptions{Auth: auth, PeelingOption: git.IgnorePeeled})
	if err != nil {
		return nil, remoteError(loc, err)
	}
	return refs, nil
}

// chooseRef finds the ref a source names: a full ref, else a branch, else a tag; with no ref
// and no commit, the default branch (HEAD).
func chooseRef(loc *location, refs []*plumbing.Reference, ref string, haveCommit bool) (resolvedRef, error) {
	byName := map[plumbing.ReferenceName]*plumbing.Reference{}
	for _, r := range refs {
		byName[r.Name()] = r
	}
	if ref == "" && haveCommit {
		return resolvedRef{}, nil
	}
	var candidates []plumbing.ReferenceName
	switch {
	case ref == "" || ref == "HEAD":
		return defaultBranch(loc, refs, byName)
	case strings.HasPrefix(ref, "refs/"):
		candidates = []plumbing.ReferenceName{plumbing.ReferenceName(ref)}
	default:
		candidates = []plumbing.ReferenceName{plumbing.NewBranchReferenceName(ref), plumbing.NewTagReferenceName(ref)}
	}
	for _, name := range candidates {
		if found, ok := byName[name]; ok {
			return resolvedRef{name: name, hash: found.Hash()}, nil
		}
	}
	return resolvedRef{}, &Error{Field: "ref", Message: fmt.Sprintf("%s has no branch or tag %q%s", loc.display(), ref, known(refs))}
}

func defaultBranch(loc *location, refs []*plumbing.Reference, byName map[plumbing.ReferenceName]*plumbing.Reference) (resolvedRef, error) {
	head, ok := byName[plumbing.HEAD]
	if ok && head.Type() == plumbing.SymbolicReference {
		if target, ok := byName[head.Target()]; ok {
			return resolvedRef{name: target.Name(), hash: target.Hash()}, nil
		}
	}
	if ok && head.Type() == plumbing.HashReference {
		// A server that does not say where HEAD points: the branch at the same commit.
		var names []string
		for _, r := range refs {
			if r.Name().IsBranch() && r.Hash() == head.Hash() {
				names = append(names, r.Name().Short())
			}
		}
		sort.Slice(names, func(i, j int) bool {
			return preferred(names[i]) < preferred(names[j]) || preferred(names[i]) == preferred(names[j]) && names[i] < names[j]
		})
		if len(names) > 0 {
			return resolvedRef{name: plumbing.NewBranchReferenceName(names[0]), hash: head.Hash()}, nil
		}
	}
	return resolvedRef{}, &Error{Field: "ref", Message: fmt.Sprintf("%s has no default branch (HEAD)%s: name a branch with ref", loc.display(), known(refs))}
}

func preferred(branch string) int {
	switch branch {
	case "main":
		return 0
	case "master":
		return 1
	}
	return 2
}

// known lists some of a repository's branches and tags for an error message.
func known(refs []*plumbing.Reference) string {
	var branches, tags []string
	for _, r := range refs {
		switch {
		case r.Name().IsBranch():
			branches = append(branches, r.Name().Short())
		case r.Name().IsTag():
			tags = append(tags, r.Name().Short())
		}
	}
	if len(branches)+len(tags) == 0 {
		return " (it has no branches: is it empty?)"
	}
	sort.Strings(branches)
	sort.Strings(tags)
	const shown = 10
	list := func(what string, names []string) string {
		if len(names) > shown {
			return fmt.Sprintf("%s %s and %d more", what, strings.Join(names[:shown], ", "), len(names)-shown)
		}
		return what + " " + strings.Join(names, ", ")
	}
	parts := []string{}
	if len(branches) > 0 {
		parts = append(parts, list("branches:", branches))
	}
	if len(tags) > 0 {
		parts = append(parts, list("tags:", tags))
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// fetch brings want into the mirror of a remote repository: the ref alone when one is named,
// and every branch and tag when the commit is not found there.
func (r *Repos) fetch(ctx context.Context, loc *location, name plumbing.ReferenceName, want plumbing.Hash) (*git.Repository, error) {
	sum := sha256.Sum256([]byte(loc.raw))
	dir := filepath.Join(r.dir, hex.EncodeToString(sum[:12])+".git")
	lock := r.lockFor(dir)
	lock.Lock()
	defer lock.Unlock()

	repo, err := git.PlainOpen(dir)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		repo, err = git.PlainInit(dir, true)
	}
	if err != nil {
		return nil, fmt.Errorf("open the mirror of %s: %w", loc.display(), err)
	}
	if has(repo, want) {
		return repo, nil
	}
	auth, err := authFor(loc)
	if err != nil {
		return nil, err
	}
	// The remote is not saved in the mirror's config: its URL may hold a token.
	remote := git.NewRemote(repo.Storer, &config.RemoteConfig{Name: "origin", URLs: []string{loc.raw}})
	fetch := func(specs ...config.RefSpec) error {
		err := remote.FetchContext(ctx, &git.FetchOptions{RefSpecs: specs, Auth: auth, Tags: git.NoTags, Force: true})
		if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
			return remoteError(loc, err)
		}
		return nil
	}
	if name != "" {
		if err := fetch(config.RefSpec("+" + name + ":" + name)); err != nil || has(repo, want) {
			return repo, err
		}
	}
	return repo, fetch("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
}

func (r *Repos) lockFor(dir string) *sync.Mutex {
	r.mu.Lock()
	defer r.mu.Unlock()
	lock, ok := r.locks[dir]
	if !ok {
		lock = &sync.Mutex{}
		r.locks[dir] = lock
	}
	return lock
}

func has(repo *git.Repository, hash plumbing.Hash) bool {
	return !hash.IsZero() && repo.Storer.HasEncodedObject(hash) == nil
}

// commitOf reads the commit at hash, peeling annotated tags.
func commitOf(repo *git.Repository, hash plumbing.Hash) (*object.Commit, error) {
	for range 8 {
		obj, err := repo.Object(plumbing.AnyObject, hash)
		if err != nil {
			return nil, err
		}
		switch o := obj.(type) {
		case *object.Commit:
			return o, nil
		case *object.Tag:
			hash = o.Target
		default:
			return nil, fmt.Errorf("%s is a %s, not a commit", hash, obj.Type())
		}
	}
	return nil, fmt.Errorf("tag %s points through too many tags", hash)
}

func notFound(loc *location, src Source, ref resolvedRef, err error) error {
	if src.Commit == "" {
		return fmt.Errorf("read commit %s of %s: %w", ref.hash, loc.display(), err)
	}
	where := "any branch or tag"
	if loc.local != "" {
		where = "the repository"
	}
	return &Error{Field: "commit", Message: fmt.Sprintf("commit %s is not in %s of %s (%v): check the sha, and that it was pushed", src.Commit, where, loc.display(), err)}
}

// describe is a commit's record: what the app sees in its VERCEL_GIT_* variables.
func describe(loc *location, ref resolvedRef, c *object.Commit) api.GitCommit {
	provider, owner, slug := loc.repository()
	out := api.GitCommit{
		URL: loc.display(), Provider: provider, RepoOwner: owner, RepoSlug: slug,
		SHA: c.Hash.String(), Message: message(c.Message),
		AuthorName: c.Author.Name, AuthorEmail: c.Author.Email, AuthorLogin: authorLogin(c.Author.Email),
		CommittedAt: c.Committer.When.UTC(),
	}
	if ref.name != "" {
		out.Ref = ref.name.Short()
		if ref.name.IsBranch() {
			out.Branch = out.Ref
		}
	}
	return out
}

// message is a commit message fit for an environment variable: no NUL, at most
// maxMessageBytes, without trailing blank lines.
func message(m string) string {
	m = strings.TrimRight(strings.ReplaceAll(m, "\x00", ""), "\n\r\t ")
	if len(m) > maxMessageBytes {
		m = m[:maxMessageBytes]
		for !utf8.ValidString(m) {
			m = m[:len(m)-1]
		}
	}
	return m
}

// authorLogin is the author's account name: GitHub's noreply address says it
// (12345+login@users.noreply.github.com); otherwise the local part of the email.
func authorLogin(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	if !ok {
		return ""
	}
	if strings.EqualFold(domain, "users.noreply.github.com") {
		if _, login, hasID := strings.Cut(local, "+"); hasID {
			return login
		}
	}
	return local
}

// authFor is the credentials of an ssh remote: the engine user's ssh agent, else its default
// key files. Other remotes take credentials from their URL, if any.
func authFor(loc *location) (transport.AuthMethod, error) {
	if loc.endpoint.Protocol != "ssh" || os.Getenv("SSH_AUTH_SOCK") != "" {
		return nil, nil
	}
	user := loc.endpoint.User
	if user == "" {
		user = "git"
	}
	// Without a home there are no keys to look for: the transport reports the missing agent.
	home, _ := os.UserHomeDir()
	for _, name := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		keyFile := filepath.Join(home, ".ssh", name)
		if _, err := os.Stat(keyFile); home == "" || err != nil {
			continue
		}
		auth, err := gitssh.NewPublicKeysFromFile(user, keyFile, "")
		if err != nil {
			return nil, &Error{Field: "url", Message: fmt.Sprintf("cannot use the ssh key %s of the engine's user for %s: %v (a key with a passphrase needs an ssh agent: start the engine with SSH_AUTH_SOCK set)", keyFile, loc.display(), err)}
		}
		return auth, nil
	}
	return nil, nil
}

// remoteError says why a remote repository could not be listed or fetched.
func remoteError(loc *location, err error) error {
	shown := loc.display()
	var message string
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, transport.ErrRepositoryNotFound):
		message = fmt.Sprintf("there is no git repository at %s: check the URL (a private repository also answers so without credentials)", shown)
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		message = fmt.Sprintf("the git repository at %s is empty: push a commit first", shown)
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed):
		message = fmt.Sprintf("the git server of %s refused access (%v): give credentials in the URL (https://user:token@host/...) or use an ssh URL with a key the engine's user has", shown, err)
	case strings.Contains(err.Error(), "knownhosts") || strings.Contains(err.Error(), "host key"):
		message = fmt.Sprintf("cannot trust the ssh server of %s (%v): add its host key to ~/.ssh/known_hosts of the engine's user", shown, err)
	case strings.Contains(err.Error(), "SSH_AUTH_SOCK") || strings.Contains(err.Error(), "ssh: handshake failed"):
		message = fmt.Sprintf("cannot log in to the ssh server of %s (%v): the engine's user needs an ssh agent (SSH_AUTH_SOCK) or a key in ~/.ssh", shown, err)
	default:
		message = fmt.Sprintf("cannot fetch from %s: %s", shown, redact(err.Error(), loc))
	}
	return &Error{Field: "url", Message: message}
}

// redact removes the URL's password, and an http user name (often a token), from a message
// of the transport.
func redact(message string, loc *location) string {
	secrets := []string{loc.endpoint.Password}
	if loc.endpoint.Protocol == "http" || loc.endpoint.Protocol == "https" {
		secrets = append(secrets, loc.endpoint.User)
	}
	for _, secret := range secrets {
		if secret != "" {
			message = strings.ReplaceAll(message, secret, "***")
		}
	}
	return message
}
