package client

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/sourceignore"
)

// ErrSourceNotFound is returned (wrapped) by CollectFiles when the source
// directory does not exist.
var ErrSourceNotFound = errors.New("source directory does not exist")

// CollectFiles lists the files of a source directory as a deployment sends
// them: slash-separated paths relative to dir, sorted, each with its sha256,
// size and mode (0755 if any execute bit is set, else 0644, so that umasks
// do not change the digest).
//
// It leaves out what the tree's ignore files say, as Vercel does: its
// .vercelignore or, without one, its .gitignore files; and always version
// control, virtual environments, caches and Terraform's files (see
// sourceignore). A symbolic link is followed when it points inside dir (its
// target's content is sent under the link's path); one that points outside
// dir, that dangles, or that loops is an error. Sockets, pipes and devices are
// skipped.
func CollectFiles(dir string) ([]api.File, error) {
	info, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrSourceNotFound, dir)
		}
		return nil, err
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("source %s is not a directory", dir)
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if root, err = filepath.EvalSymlinks(root); err != nil {
		return nil, err
	}

	vercelignore, err := os.ReadFile(filepath.Join(root, sourceignore.VercelIgnore))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		vercelignore = nil
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", sourceignore.VercelIgnore, err)
	case vercelignore == nil:
		vercelignore = []byte{} // an empty .vercelignore still replaces the .gitignore files
	}
	c := collector{root: root, rules: sourceignore.New(vercelignore), digests: openDigestCache(root)}
	if err := c.walk(root, "", []string{root}); err != nil {
		return nil, err
	}
	c.digests.save()
	sort.Slice(c.files, func(i, j int) bool { return c.files[i].Path < c.files[j].Path })
	return c.files, nil
}

type collector struct {
	root    string
	rules   *sourceignore.Rules
	digests *digestCache
	files   []api.File
}

// walk adds the files under the real directory dir, named under rel.
// ancestors are the real directories being walked, to catch link cycles.
func (c *collector) walk(dir, rel string, ancestors []string) error {
	if c.rules.UsesGitignore() {
		switch ignore, err := os.ReadFile(filepath.Join(dir, sourceignore.GitIgnore)); {
		case err == nil:
			c.rules.AddGitignore(rel, ignore)
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("read %s: %w", path.Join(rel, sourceignore.GitIgnore), err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		relPath := path.Join(rel, name)
		full := filepath.Join(dir, name)

		switch typ := e.Type(); {
		case typ&fs.ModeSymlink != 0:
			target, err := filepath.EvalSymlinks(full)
			if err != nil {
				return fmt.Errorf("symbolic link %s in the source points to nothing: %w", relPath, err)
			}
			if !within(c.root, target) {
				return fmt.Errorf("symbolic link %s points outside the source directory (to %s): copy the file into the source instead", relPath, target)
			}
			info, err := os.Stat(target)
			if err != nil {
				return err
			}
			if c.rules.Excluded(relPath, info.IsDir()) {
				continue
			}
			if info.IsDir() {
				for _, a := range ancestors {
					if a == target {
						return fmt.Errorf("symbolic link %s points to a directory that contains it (%s): links must not loop", relPath, target)
					}
				}
				if err := c.walk(target, relPath, append(ancestors[:len(ancestors):len(ancestors)], target)); err != nil {
					return err
				}
				continue
			}
			if info.Mode().IsRegular() {
				if err := c.add(relPath, target, info); err != nil {
					return err
				}
			}
		case e.IsDir():
			if c.rules.Excluded(relPath, true) {
				continue
			}
			if err := c.walk(full, relPath, append(ancestors[:len(ancestors):len(ancestors)], full)); err != nil {
				return err
			}
		case typ.IsRegular():
			if c.rules.Excluded(relPath, false) {
				continue
			}
			info, err := e.Info()
			if err != nil {
				return err
			}
			if err := c.add(relPath, full, info); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *collector) add(rel, file string, info fs.FileInfo) error {
	digest, size, err := c.digests.digest(file, info)
	if err != nil {
		return err
	}
	mode := uint32(0o644)
	if info.Mode().Perm()&0o111 != 0 {
		mode = 0o755
	}
	c.files = append(c.files, api.File{Path: rel, Digest: digest, Size: size, Mode: mode})
	return nil
}

func hashFile(name string) (string, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer func() { _ = f.Close() }() // read-only
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// within reports whether the real path p is root or below it.
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
