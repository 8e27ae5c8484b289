// Package sourceignore decides which files of a source tree a deployment leaves out: names
// that never belong in one (version control, virtual environments, caches, Terraform's own
// files), then the tree's .vercelignore as Vercel reads it or, when the tree has none, its
// .gitignore files as git reads them. The client applies it to a directory it uploads, the
// engine to a git commit it checks out.
package sourceignore

import (
	"bufio"
	"bytes"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// Names of the ignore files.
const (
	VercelIgnore = ".vercelignore"
	GitIgnore    = ".gitignore"
)

// alwaysExcludedDirs are left out wherever they are, whatever an ignore file says: version
// control, virtual environments, caches and Terraform's own files (the engine builds its own
// Python environment).
var alwaysExcludedDirs = map[string]bool{
	".git":         true,
	".hg":          true,
	".svn":         true,
	".venv":        true,
	"venv":         true,
	"__pycache__":  true,
	"node_modules": true,
	".terraform":   true,
	".vercel":      true,
}

// alwaysExcludedFile reports whether a file name is always left out: compiled Python, OS
// litter, and Terraform state (it changes on every apply and holds secrets, so a source tree
// that contains a configuration must not redeploy because of it).
func alwaysExcludedFile(name string) bool {
	switch {
	case name == ".DS_Store",
		name == ".terraform.lock.hcl",
		name == ".terraform.tfstate.lock.info",
		strings.HasSuffix(name, ".pyc"),
		strings.HasSuffix(name, ".tfstate"),
		strings.HasSuffix(name, ".tfstate.backup"):
		return true
	}
	return false
}

// Rules are the exclusions of one source tree. Patterns are kept in the order git gives
// them priority: a later pattern overrides an earlier one.
type Rules struct {
	patterns     []gitignore.Pattern
	useGitignore bool
}

// New starts the rules of a tree. With a .vercelignore at its top (vercelignore non-nil), that
// file alone decides; without one, the .gitignore files met while walking the tree do (see
// AddGitignore).
func New(vercelignore []byte) *Rules {
	if vercelignore == nil {
		return &Rules{useGitignore: true}
	}
	return &Rules{patterns: parse(vercelignore, nil)}
}

// UsesGitignore reports whether the walker should hand over the .gitignore files it meets.
func (r *Rules) UsesGitignore() bool { return r.useGitignore }

// AddGitignore adds the patterns of the .gitignore in dir (slash-separated, relative to the
// top, "" for the top). Add a directory's file before walking its entries, as git reads a
// deeper file with a higher priority.
func (r *Rules) AddGitignore(dir string, content []byte) {
	if !r.useGitignore {
		return
	}
	var domain []string
	if dir != "" {
		domain = strings.Split(dir, "/")
	}
	r.patterns = append(r.patterns, parse(content, domain)...)
}

// Excluded reports whether the file or directory at rel (slash-separated, relative to the
// top) is left out. A walker does not enter an excluded directory, so, as in git, nothing
// below it can be brought back.
func (r *Rules) Excluded(rel string, isDir bool) bool {
	name := rel[strings.LastIndexByte(rel, '/')+1:]
	if isDir && alwaysExcludedDirs[name] || !isDir && alwaysExcludedFile(name) {
		return true
	}
	path := strings.Split(rel, "/")
	for i := len(r.patterns) - 1; i >= 0; i-- {
		if match := r.patterns[i].Match(path, isDir); match != gitignore.NoMatch {
			return match == gitignore.Exclude
		}
	}
	return false
}

// parse reads the patterns of an ignore file: one a line, blank lines and # comments skipped.
func parse(content []byte, domain []string) []gitignore.Pattern {
	var patterns []gitignore.Pattern
	scanner := bufio.NewScanner(bytes.NewReader(content))
	scanner.Buffer(make([]byte, 0, 4096), len(content)+1)
	for scanner.Scan() {
		line := strings.TrimSuffix(scanner.Text(), "\r")
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		patterns = append(patterns, gitignore.ParsePattern(line, domain))
	}
	return patterns
}
