package gitsource

import (
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ferryhq/terraform-provider-ferry/internal/sourceignore"
)

// File is one file of a checkout, as a deployment takes it.
type File struct {
	Path string // slash-separated, relative to the top of the repository
	Mode uint32 // 0755 for an executable, else 0644
	Size int64
	blob *object.Blob
}

// Open returns a reader of the file's content.
func (f File) Open() (io.ReadCloser, error) { return f.blob.Reader() }

// maxLinkHops bounds a chain of symbolic links, and links to directories within linked
// directories, so that a loop ends in an error.
const maxLinkHops = 16

// Files lists the commit's files, sorted by path: what its .vercelignore and the always
// excluded names leave, with symbolic links that stay inside the repository replaced by
// what they point to. Submodules are left out. Only the tree is read, not the contents.
func (c *Checkout) Files() ([]File, error) {
	tree, err := c.commit.Tree()
	if err != nil {
		return nil, fmt.Errorf("read the tree of commit %s: %w", c.Commit.SHA, err)
	}
	t := &treeFiles{byPath: map[string]*object.File{}, dirs: map[string]bool{}}
	err = tree.Files().ForEach(func(f *object.File) error {
		t.byPath[f.Name] = f
		for dir := path.Dir(f.Name); dir != "."; dir = path.Dir(dir) {
			t.dirs[dir] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the files of commit %s: %w", c.Commit.SHA, err)
	}
	var vercelignore []byte
	if f, ok := t.byPath[sourceignore.VercelIgnore]; ok && f.Mode != filemode.Symlink {
		content, err := f.Contents()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", sourceignore.VercelIgnore, err)
		}
		vercelignore = []byte(content)
	}
	t.rules = sourceignore.New(vercelignore)
	t.excludedDirs = map[string]bool{}

	paths := make([]string, 0, len(t.byPath))
	for p := range t.byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if t.excluded(p, false) {
			continue
		}
		if err := t.add(p, t.byPath[p], 0); err != nil {
			return nil, err
		}
	}
	sort.Slice(t.out, func(i, j int) bool { return t.out[i].Path < t.out[j].Path })
	return t.out, nil
}

type treeFiles struct {
	byPath       map[string]*object.File
	dirs         map[string]bool // every directory that holds a file
	rules        *sourceignore.Rules
	excludedDirs map[string]bool
	out          []File
}

// excluded reports whether p, or a directory above it, is left out.
func (t *treeFiles) excluded(p string, isDir bool) bool {
	for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
		excluded, seen := t.excludedDirs[dir]
		if !seen {
			excluded = t.rules.Excluded(dir, true)
			t.excludedDirs[dir] = excluded
		}
		if excluded {
			return true
		}
	}
	return t.rules.Excluded(p, isDir)
}

// add adds the file f under the name at, following it if it is a symbolic link.
func (t *treeFiles) add(at string, f *object.File, hops int) error {
	if f.Mode != filemode.Symlink {
		mode := uint32(0o644)
		if f.Mode == filemode.Executable {
			mode = 0o755
		}
		t.out = append(t.out, File{Path: at, Mode: mode, Size: f.Size, blob: &f.Blob})
		return nil
	}
	if hops >= maxLinkHops {
		return &Error{Field: "url", Message: fmt.Sprintf("symbolic link %s in the repository leads through more than %d links: links must not loop", at, maxLinkHops)}
	}
	target, err := f.Contents()
	if err != nil {
		return fmt.Errorf("read symbolic link %s: %w", f.Name, err)
	}
	resolved := path.Join(path.Dir(f.Name), target)
	if path.IsAbs(target) || resolved == ".." || strings.HasPrefix(resolved, "../") {
		return &Error{Field: "url", Message: fmt.Sprintf("symbolic link %s in the repository points outside it (to %s): commit the file itself instead", at, target)}
	}
	if next, ok := t.byPath[resolved]; ok {
		return t.add(at, next, hops+1)
	}
	if !t.dirs[resolved] {
		return &Error{Field: "url", Message: fmt.Sprintf("symbolic link %s in the repository points to nothing (%s): commit its target, or remove the link", at, target)}
	}
	// A link to a directory: its files, under the link's name.
	prefix := resolved + "/"
	var inside []string
	for p := range t.byPath {
		if strings.HasPrefix(p, prefix) {
			inside = append(inside, p)
		}
	}
	sort.Strings(inside)
	for _, p := range inside {
		name := at + "/" + strings.TrimPrefix(p, prefix)
		if t.excluded(name, false) {
			continue
		}
		if err := t.add(name, t.byPath[p], hops+1); err != nil {
			return err
		}
	}
	return nil
}
