package gitsource

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

// location is where a repository is: a directory on the engine's machine, or a remote that
// go-git dials.
type location struct {
	raw      string
	endpoint *transport.Endpoint
	local    string // absolute path of a local repository; "" for a remote one
}

// remoteCallerKey marks a request context whose caller is not the engine's own user.
type remoteCallerKey struct{}

// ForRemoteCaller marks ctx as a request that came over the network with a token: such a
// caller may not name repositories on the engine's machine, which the engine reads as its
// own user (any repository on the server would be theirs to read otherwise).
func ForRemoteCaller(ctx context.Context) context.Context {
	return context.WithValue(ctx, remoteCallerKey{}, true)
}

func isRemoteCaller(ctx context.Context) bool {
	remote, _ := ctx.Value(remoteCallerKey{}).(bool)
	return remote
}

// parseLocation reads a repository URL as git does: http(s)://, ssh://, git://, scp-like
// user@host:path, file:// or an absolute path.
func parseLocation(ctx context.Context, raw string) (*location, error) {
	const forms = "use an https://, ssh:// or git@host:owner/repo URL, or file:///abs/path (or /abs/path) for a repository on the engine's machine"
	if strings.TrimSpace(raw) == "" {
		return nil, &Error{Field: "url", Message: "no git repository URL: set source.git.url, or git_repository.url on the project; " + forms}
	}
	if strings.ContainsAny(raw, "\x00\n\r") {
		return nil, &Error{Field: "url", Message: fmt.Sprintf("git URL %q contains a control character: %s", raw, forms)}
	}
	endpoint, err := transport.NewEndpoint(raw)
	if err != nil {
		return nil, &Error{Field: "url", Message: fmt.Sprintf("git URL %q cannot be read: %v; %s", raw, err, forms)}
	}
	loc := &location{raw: raw, endpoint: endpoint}
	switch endpoint.Protocol {
	case "http", "https", "ssh", "git":
		if endpoint.Host == "" {
			return nil, &Error{Field: "url", Message: fmt.Sprintf("git URL %q has no host: %s", raw, forms)}
		}
		return loc, nil
	case "file":
		// transport.NewEndpoint makes relative paths absolute against the engine's working
		// directory, which is not the caller's.
		if !strings.HasPrefix(raw, "file://") && !filepath.IsAbs(raw) {
			return nil, &Error{Field: "url", Message: fmt.Sprintf("git URL %q is a relative path, and the engine cannot know which directory it is relative to: give an absolute path", raw)}
		}
		if isRemoteCaller(ctx) {
			return nil, &Error{Field: "url", Message: fmt.Sprintf("git URL %q names a repository on the engine's machine, which only callers on that machine (through the engine's socket) may deploy from: push the repository to a git server and use its https:// or ssh URL", raw)}
		}
		loc.local = filepath.Clean(endpoint.Path)
		return loc, nil
	}
	return nil, &Error{Field: "url", Message: fmt.Sprintf("git URL %q uses the %s protocol, which ferry does not fetch: %s", raw, endpoint.Protocol, forms)}
}

// display is the URL without credentials, for logs, messages and the deployment's record.
func (l *location) display() string {
	if l.local != "" {
		return l.local
	}
	shown := *l.endpoint
	shown.Password = ""
	if shown.Protocol == "http" || shown.Protocol == "https" {
		shown.User = "" // a token is often given as the user name
	}
	return shown.String()
}

// repository describes the repository for the VERCEL_GIT_* variables: the host's provider
// name, and the owner and name of the repository from its path.
func (l *location) repository() (provider, owner, slug string) {
	repoPath := l.local
	if repoPath == "" {
		repoPath = l.endpoint.Path
		if unescaped, err := url.PathUnescape(repoPath); err == nil {
			repoPath = unescaped
		}
	}
	repoPath = strings.Trim(filepath.ToSlash(repoPath), "/")
	slug = strings.TrimSuffix(path.Base(repoPath), ".git")
	if l.local != "" {
		return "local", "", slug
	}
	if dir := path.Dir(repoPath); dir != "." {
		owner = dir
	}
	host := strings.ToLower(l.endpoint.Host)
	switch host {
	case "github.com":
		provider = "github"
	case "gitlab.com":
		provider = "gitlab"
	case "bitbucket.org":
		provider = "bitbucket"
	default:
		provider = host
	}
	return provider, owner, slug
}
