package sandbox

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// HandOver gives the trees at paths to a project's identity, for its build or instance to write
// in (ModeUIDs; otherwise the engine's own uid runs them and nothing changes).
func (s *Sandbox) HandOver(id Identity, paths ...string) error {
	if !s.SeparateIdentities() {
		return nil
	}
	for _, root := range paths {
		err := filepath.WalkDir(root, func(path string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(path, id.UID, id.GID)
		})
		if err != nil {
			return fmt.Errorf("hand %s to the project's user: %w", root, err)
		}
	}
	return nil
}

// Seal makes the trees of a built deployment immutable: every file and directory below each
// path becomes the engine's, without write, set-uid or set-gid bits. Symbolic links are not
// followed.
func (s *Sandbox) Seal(paths ...string) error {
	for _, root := range paths {
		if err := sealTree(root); err != nil {
			return fmt.Errorf("seal the deployment's files: %w", err)
		}
	}
	return nil
}

func sealTree(root string) error {
	owner, group := os.Getuid(), os.Getgid()
	return filepath.WalkDir(root, func(path string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if entry.Type()&fs.ModeSymlink != 0 {
			return os.Lchown(path, owner, group)
		}
		info, err := entry.Info()
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if entry.IsDir() || info.Mode()&0o111 != 0 {
			mode = 0o755
		}
		if err := os.Lchown(path, owner, group); err != nil {
			return err
		}
		return os.Chmod(path, mode)
	})
}

// ShareWithProject lets the project's identity (and nobody else but the engine) enter dir, the
// top of a deployment, so that other projects cannot read it.
func (s *Sandbox) ShareWithProject(dir string, id Identity) error {
	if !s.SeparateIdentities() {
		return os.Chmod(dir, 0o700)
	}
	if err := os.Lchown(dir, os.Getuid(), id.GID); err != nil {
		return err
	}
	return os.Chmod(dir, 0o750)
}
