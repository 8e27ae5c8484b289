package engine

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/archive"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store/sqlite"
	"github.com/ferryhq/terraform-provider-ferry/internal/version"
)

// Backups of a data dir. Migrations only go forward, so before one the
// engine keeps a copy of the store and key as they were (under BackupsDir);
// `ferry backup` and `ferry restore` copy a whole data dir, online.
const (
	BackupsDir         = "backups"
	backupManifestName = "backup.json"
	backupFormat       = 1
)

// openStore opens the data dir's store, migrating it forward, after copying
// it and the key to BackupsDir if a migration is due.
func openStore(ctx context.Context, dataDir string, log *slog.Logger) (store.Store, error) {
	dbPath := filepath.Join(dataDir, DBName)
	// SQLite gives its journal files the database's mode: create it the engine's alone.
	if err := createPrivate(dbPath); err != nil {
		return nil, err
	}
	schema, err := sqlite.SchemaOf(ctx, dbPath)
	if err != nil {
		return nil, err
	}
	if schema > 0 && schema < sqlite.SchemaVersion() {
		dir := filepath.Join(dataDir, BackupsDir, fmt.Sprintf("schema-%d-%s", schema, time.Now().UTC().Format("20060102T150405Z")))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		if _, err := sqlite.Snapshot(ctx, dbPath, filepath.Join(dir, DBName)); err != nil {
			return nil, fmt.Errorf("copy the store before migrating it: %w", err)
		}
		if err := copyFile(filepath.Join(dataDir, KeyName), filepath.Join(dir, KeyName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("copy the key before migrating the store: %w", err)
		}
		log.Info("copied the store and key before migrating the store", "from_schema", schema, "to_schema", sqlite.SchemaVersion(), "copy", dir)
	}
	return sqlite.Open(ctx, dbPath)
}

// copyFile copies a private file (the key) to a new file.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }() // only read
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close() // the copy error is the one to report
		return err
	}
	return out.Close()
}

// BackupManifest describes a backup; it is the archive's first entry.
type BackupManifest struct {
	Format        int       `json:"format"`
	Version       string    `json:"version"`        // of the ferry that made it
	SchemaVersion int       `json:"schema_version"` // of the store in it
	CreatedAt     time.Time `json:"created_at"`
	Deployments   int       `json:"deployments"` // whose files it holds
	Rebuilt       int       `json:"rebuilt"`     // queued or building when it was made: built again after a restore
}

// Backup writes a consistent copy of the data dir to w, as a gzipped tar:
// a snapshot of the store, the key, the uploaded blobs, and the files of
// every deployment in the snapshot except those not yet built, which are
// built again after a restore. Engines may run and write meanwhile.
func Backup(ctx context.Context, dataDir string, w io.Writer) (*BackupManifest, error) {
	dataDir, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dataDir, DBName)); err != nil {
		return nil, fmt.Errorf("%s holds no store (%s): is it a ferry data dir?", dataDir, DBName)
	}
	work, err := os.MkdirTemp(filepath.Join(dataDir, "tmp"), "backup-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(work) }() // a copy of what the archive holds
	snapshot := filepath.Join(work, DBName)
	schema, err := sqlite.Snapshot(ctx, filepath.Join(dataDir, DBName), snapshot)
	if err != nil {
		return nil, err
	}
	states, err := sqlite.DeploymentStates(ctx, snapshot)
	if err != nil {
		return nil, err
	}
	manifest := &BackupManifest{Format: backupFormat, Version: version.String(), SchemaVersion: schema, CreatedAt: time.Now().UTC()}
	for _, state := range states {
		if state == api.StateQueued || state == api.StateBuilding {
			manifest.Rebuilt++
		} else {
			manifest.Deployments++
		}
	}

	gz := gzip.NewWriter(w)
	backup := &backupWriter{tar: tar.NewWriter(gz)}
	manifestJSON, err := json.MarshalIndent(manifest, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := backup.bytes(backupManifestName, manifestJSON); err != nil {
		return nil, err
	}
	if err := backup.file(snapshot, DBName); err != nil {
		return nil, err
	}
	if err := backup.file(filepath.Join(dataDir, KeyName), KeyName); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	// Blobs are written whole under their digest, and never change; one deleted by the
	// housekeeping meanwhile was not in use.
	blobDir := filepath.Join(dataDir, "blobs")
	err = filepath.WalkDir(blobDir, func(p string, entry fs.DirEntry, err error) error {
		if err != nil || entry.IsDir() || !artifacts.ValidDigest(entry.Name()) {
			return ignoreVanished(err)
		}
		rel, err := filepath.Rel(dataDir, p)
		if err != nil {
			return err
		}
		return ignoreVanished(backup.file(p, filepath.ToSlash(rel)))
	})
	if err != nil {
		return nil, fmt.Errorf("copy the blobs: %w", err)
	}
	// A deployment's files do not change once it is built.
	for id, state := range states {
		if state == api.StateQueued || state == api.StateBuilding {
			continue
		}
		dir := filepath.Join(dataDir, "deployments", id)
		err := backup.tree(dir, path.Join("deployments", id))
		if errors.Is(err, fs.ErrNotExist) && state == api.StateReady {
			return nil, fmt.Errorf("the files of deployment %s went away during the backup (deleted meanwhile?): run the backup again", id)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("copy deployment %s: %w", id, err)
		}
	}
	if err := backup.tar.Close(); err != nil {
		return nil, err
	}
	return manifest, gz.Close()
}

func ignoreVanished(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// backupWriter adds files to a backup archive.
type backupWriter struct {
	tar *tar.Writer
}

func (b *backupWriter) bytes(name string, data []byte) error {
	if err := b.tar.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(data)), ModTime: time.Now(), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err := b.tar.Write(data)
	return err
}

// file adds the file, directory or symbolic link at p as name, with its mode and owner.
func (b *backupWriter) file(p, name string) error {
	return archive.AddFile(b.tar, p, name, archive.KeepOwners)
}

// tree adds dir and everything below it under name.
func (b *backupWriter) tree(dir, name string) error {
	return filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		return b.file(p, path.Join(name, filepath.ToSlash(rel)))
	})
}

// Restore unpacks a backup made by Backup into dataDir, which must hold no
// store: a new data dir, or one whose store was moved away. It holds the
// data dir's lock meanwhile, so no engine starts on it half-restored. An
// engine started on it afterwards migrates the store if it is older, and
// builds again the deployments that were queued or building.
func Restore(r io.Reader, dataDir string) (*BackupManifest, error) {
	dataDir, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	lock, err := lockDataDir(dataDir)
	if err != nil {
		return nil, err
	}
	defer func() { _ = lock.Close() }() // releases the lock
	if info, err := os.Stat(filepath.Join(dataDir, DBName)); err == nil && info.Size() > 0 {
		return nil, fmt.Errorf("%s holds a store already (%s): restore into a new data dir, or move its store away first", dataDir, DBName)
	}
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("not a ferry backup (want the gzipped tar `ferry backup` writes): %w", err)
	}
	entries := tar.NewReader(gz)
	manifest, err := readManifest(entries)
	if err != nil {
		return nil, err
	}
	if manifest.SchemaVersion > sqlite.SchemaVersion() {
		return nil, fmt.Errorf("the backup holds a store of schema version %d, made by ferry %s, but this ferry (%s) knows schema versions up to %d: restore it with ferry %s or later",
			manifest.SchemaVersion, manifest.Version, version.String(), sqlite.SchemaVersion(), manifest.Version)
	}
	unpacker := &restorer{root: dataDir, asRoot: os.Geteuid() == 0, links: map[string]bool{}}
	for {
		header, err := entries.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read the backup: %w", err)
		}
		if err := unpacker.unpack(header, entries); err != nil {
			return nil, err
		}
	}
	if err := unpacker.finish(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dataDir, DBName)); err != nil {
		return nil, fmt.Errorf("the backup holds no store: it is incomplete; %s is left partly restored", dataDir)
	}
	return manifest, nil
}

func readManifest(archive *tar.Reader) (*BackupManifest, error) {
	header, err := archive.Next()
	if err != nil || header.Name != backupManifestName {
		return nil, fmt.Errorf("not a ferry backup: it does not start with %s", backupManifestName)
	}
	var m BackupManifest
	if err := json.NewDecoder(io.LimitReader(archive, 1<<20)).Decode(&m); err != nil {
		return nil, fmt.Errorf("read the backup's %s: %w", backupManifestName, err)
	}
	if m.Format != backupFormat {
		return nil, fmt.Errorf("the backup is of format %d, made by ferry %s; this ferry (%s) reads format %d: restore it with ferry %s or later",
			m.Format, m.Version, version.String(), backupFormat, m.Version)
	}
	return &m, nil
}

// restorer writes a backup's entries below root.
type restorer struct {
	root   string
	asRoot bool // restore owners
	links  map[string]bool
	dirs   []*tar.Header // modes set at the end, once their contents are written
}

func (u *restorer) unpack(h *tar.Header, content io.Reader) error {
	name := path.Clean(strings.TrimSuffix(h.Name, "/"))
	top, _, _ := strings.Cut(name, "/")
	known := name == DBName || name == KeyName || top == "blobs" || top == "deployments"
	if !known || !fs.ValidPath(name) {
		return fmt.Errorf("the backup holds %q, which no ferry backup has: refusing to restore it", h.Name)
	}
	// Nothing is written through a link the backup itself made.
	for parent := path.Dir(name); parent != "."; parent = path.Dir(parent) {
		if u.links[parent] {
			return fmt.Errorf("the backup writes %q through the symbolic link %q: refusing to restore it", h.Name, parent)
		}
	}
	target := filepath.Join(u.root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return err
	}
	switch h.Typeflag {
	case tar.TypeDir:
		if err := os.Mkdir(target, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		u.dirs = append(u.dirs, h)
		return nil
	case tar.TypeSymlink:
		u.links[name] = true
		if err := os.Symlink(h.Linkname, target); err != nil {
			return err
		}
	case tar.TypeReg:
		f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, content); err != nil {
			_ = f.Close() // the copy error is the one to report
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := os.Chmod(target, fs.FileMode(h.Mode).Perm()); err != nil {
			return err
		}
	default:
		return fmt.Errorf("the backup holds %q of a type no ferry backup has (%c): refusing to restore it", h.Name, h.Typeflag)
	}
	return u.chown(target, h)
}

func (u *restorer) chown(target string, h *tar.Header) error {
	if !u.asRoot {
		return nil
	}
	return os.Lchown(target, h.Uid, h.Gid)
}

// finish gives the directories their modes and owners, deepest first.
func (u *restorer) finish() error {
	for i := len(u.dirs) - 1; i >= 0; i-- {
		h := u.dirs[i]
		target := filepath.Join(u.root, filepath.FromSlash(path.Clean(strings.TrimSuffix(h.Name, "/"))))
		if err := os.Chmod(target, fs.FileMode(h.Mode).Perm()); err != nil {
			return err
		}
		if err := u.chown(target, h); err != nil {
			return err
		}
	}
	return nil
}
