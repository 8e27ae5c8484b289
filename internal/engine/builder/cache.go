package builder

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// The build cache keeps the virtual environments that pip filled, one per key: the
// interpreter, the packages it already has, and the dependency spec. A build whose key is
// cached installs nothing: its deployment's environment gets the cached files.
//
// A cached environment is shared by the deployments of every project, so nobody may change
// it: it is sealed (the engine's, no write bits) before it is published, and it is only ever
// filled by pip from the spec its key names, never by a project's own commands. When each
// project runs as a user of its own, deployments get hard links to its files, which their
// users cannot write; otherwise every build runs as the same user, who could write through a
// link, so deployments get copies.

const (
	cacheEnvsDir    = "envs"
	cacheRecordName = "ferry-env.json"
	// cacheMaxUnused is how long a cached environment that no build used is kept.
	cacheMaxUnused = 30 * 24 * time.Hour
	// cacheLeftoverAge is when a half-filled environment is surely a dead build's: no build
	// runs for a day.
	cacheLeftoverAge = 24 * time.Hour
)

// cacheRecord describes a cached environment, in the file cacheRecordName at its top.
type cacheRecord struct {
	BuiltIn     string    `json:"built_in"` // the directory pip installed into, named in its scripts
	Interpreter string    `json:"interpreter"`
	Source      string    `json:"source"`
	CreatedAt   time.Time `json:"created_at"`
}

// cacheKey names the environment that installing the build's dependency spec with its
// interpreter produces, over the packages the interpreter already has; "" without a cache.
// pip's own settings and PYTHONPATH are part of it: they choose the index and what is there.
func (b *builder) cacheKey() string {
	if b.spec.CacheDir == "" {
		return ""
	}
	h := sha256.New() // writing to a hash never fails
	resolved, _ := filepath.EvalSymlinks(b.python.Path)
	_, _ = fmt.Fprintf(h, "python %s %s\nspec %x\n", resolved, b.python.Version, b.deps.digest)
	for _, dir := range b.python.sitePackages {
		entries, _ := os.ReadDir(dir) // a missing site directory holds nothing
		for _, entry := range entries {
			if name := entry.Name(); strings.HasSuffix(name, ".dist-info") || strings.HasSuffix(name, ".egg-info") {
				_, _ = fmt.Fprintf(h, "has %s/%s\n", dir, name)
			}
		}
	}
	var settings []string
	for _, kv := range b.env {
		if strings.HasPrefix(kv, "PIP_") || strings.HasPrefix(kv, "PYTHONPATH=") {
			settings = append(settings, kv)
		}
	}
	sort.Strings(settings)
	for _, kv := range settings {
		_, _ = fmt.Fprintf(h, "%s\n", kv)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func (b *builder) cachedEnvDir(key string) string {
	return filepath.Join(b.spec.CacheDir, cacheEnvsDir, key)
}

// cachedEnvironment returns the cached environment of key; "" when there is none.
func (b *builder) cachedEnvironment(key string) string {
	dir := b.cachedEnvDir(key)
	if _, err := os.Stat(filepath.Join(dir, cacheRecordName)); err != nil {
		return ""
	}
	now := time.Now()
	_ = os.Chtimes(dir, now, now) // marks it used, for pruning; best effort
	return dir
}

// fillCache has pip install the spec into a new environment and publishes it as key,
// replacing an older one of the same key. It returns the published directory.
func (b *builder) fillCache(ctx context.Context, key, requirements string) (string, error) {
	envs := filepath.Join(b.spec.CacheDir, cacheEnvsDir)
	// Project users pass through to the environment they fill, but may not list the others.
	for _, dir := range []string{b.spec.CacheDir, envs} {
		if err := os.MkdirAll(dir, 0o711); err != nil {
			return "", failure("cannot create the build cache directory: %v", err)
		}
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	building := filepath.Join(envs, ".building-"+key+"-"+hex.EncodeToString(suffix))
	defer func() { _ = os.RemoveAll(building) }() // gone once published; otherwise what a failure left
	if err := os.Mkdir(building, 0o755); err != nil {
		return "", failure("cannot create a directory in the build cache: %v", err)
	}
	if err := b.spec.Sandbox.HandOver(b.spec.Identity, building); err != nil {
		return "", err
	}
	writable := append(b.writable(), building)
	if err := b.runWritable(ctx, writable, b.appDir, b.python.Path, venvArgs(building)...); err != nil {
		return "", failure("%s -m venv could not create an environment in the build cache (%v)", b.python.Path, err)
	}
	b.log.printf("running pip install -r %s", displayRequirements(b.appDir, requirements))
	if err := b.runWritable(ctx, writable, b.appDir, filepath.Join(building, "bin", "python"), pipInstallArgs(requirements)...); err != nil {
		return "", err
	}
	if err := b.spec.Sandbox.Seal(building); err != nil {
		return "", err
	}
	// Written once the environment is the engine's and nothing of the build runs: what the build
	// may have left at that name is removed, never followed.
	recordPath := filepath.Join(building, cacheRecordName)
	record, err := json.Marshal(cacheRecord{BuiltIn: building, Interpreter: b.python.Path, Source: b.deps.source, CreatedAt: time.Now().UTC()})
	if err == nil {
		if err = os.Remove(recordPath); errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
	}
	if err == nil {
		err = writeNewFile(recordPath, record, 0o644)
	}
	if err != nil {
		return "", fmt.Errorf("record the cached environment: %w", err)
	}
	published := b.cachedEnvDir(key)
	if err := publish(building, published); err != nil {
		return "", fmt.Errorf("publish the cached environment: %w", err)
	}
	pruneCache(envs, key)
	return published, nil
}

// publish renames dir to target, replacing what target held.
func publish(dir, target string) error {
	if err := os.Rename(dir, target); err == nil || (!errors.Is(err, fs.ErrExist) && !errors.Is(err, syscall.ENOTEMPTY)) {
		return err
	}
	old := filepath.Join(filepath.Dir(target), ".old-"+filepath.Base(target)+"-"+filepath.Base(dir))
	if err := os.Rename(target, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	defer func() { _ = os.RemoveAll(old) }() // deployments hold their own links or copies
	return os.Rename(dir, target)
}

// pruneCache removes the environments no build used for cacheMaxUnused, and what builds that
// died left for a day, except keep.
func pruneCache(envs, keep string) {
	entries, err := os.ReadDir(envs)
	if err != nil {
		return
	}
	for _, entry := range entries {
		info, err := entry.Info()
		if err != nil || entry.Name() == keep {
			continue
		}
		maxAge := cacheMaxUnused
		if strings.HasPrefix(entry.Name(), ".") {
			maxAge = cacheLeftoverAge
		}
		if time.Since(info.ModTime()) > maxAge {
			_ = os.RemoveAll(filepath.Join(envs, entry.Name())) // best effort: tried again after the next build
		}
	}
}

// installCached gives the deployment's environment the files of the cached environment
// cached: hard links when each project runs as its own user, copies otherwise. Scripts that
// name the cached environment's interpreter are rewritten to name the deployment's.
func (b *builder) installCached(cached string) error {
	files, err := b.linkCached(cached)
	if err != nil {
		return fmt.Errorf("add the cached packages to the deployment: %w", err)
	}
	b.log.printf("added %d files of installed packages to the deployment's environment", files)
	return nil
}

func (b *builder) linkCached(cached string) (int, error) {
	data, err := os.ReadFile(filepath.Join(cached, cacheRecordName))
	var record cacheRecord
	if err == nil {
		err = json.Unmarshal(data, &record)
	}
	if err != nil {
		return 0, fmt.Errorf("read the cached environment's record: %w", err)
	}
	link := b.spec.Sandbox.SeparateIdentities()
	files := 0
	// The build's user owns the venv and may have run code in it: the engine writes only in
	// directories it checked are real ones, never through a symbolic link. Nothing of the build
	// runs meanwhile (each of its commands is killed whole when it ends).
	realDirs := map[string]bool{b.venvDir: true}
	err = filepath.WalkDir(cached, func(path string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(cached, path)
		if rel == "." || skippedInCache(rel, entry) {
			return nil
		}
		target := filepath.Join(b.venvDir, rel)
		if !realDirs[filepath.Dir(target)] {
			return fmt.Errorf("%s is not a directory of the deployment's environment", filepath.Dir(target))
		}
		if existing, err := os.Lstat(target); err == nil {
			// The deployment's own venv made it (lib, bin/python, activate scripts).
			realDirs[target] = existing.IsDir()
			return nil
		}
		switch {
		case entry.IsDir():
			realDirs[target] = true
			return os.Mkdir(target, 0o755)
		case entry.Type()&fs.ModeSymlink != 0:
			dest, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(dest, target)
		case !entry.Type().IsRegular():
			return nil
		}
		files++
		if strings.HasPrefix(rel, "bin"+string(filepath.Separator)) {
			if rewritten, err := rewriteScript(path, record.BuiltIn, b.venvDir); err != nil || rewritten != nil {
				if err != nil {
					return err
				}
				return writeNewFile(target, rewritten, 0o755)
			}
		}
		if link {
			if err := os.Link(path, target); err == nil || !errors.Is(err, syscall.EXDEV) {
				return err
			}
		}
		return copyFile(path, target)
	})
	return files, err
}

// skippedInCache are the parts of a cached environment that belong to the venv itself.
func skippedInCache(rel string, entry fs.DirEntry) bool {
	if rel == cacheRecordName || rel == "pyvenv.cfg" || rel == "lib64" {
		return true
	}
	dir, name := filepath.Split(rel)
	return dir == "bin"+string(filepath.Separator) && strings.HasPrefix(name, "python") && entry.Type()&fs.ModeSymlink != 0
}

// maxScriptBytes bounds the scripts whose interpreter line is rewritten.
const maxScriptBytes = 1 << 20

// rewriteScript is the script at path with every mention of the environment it was installed
// into replaced by venvDir; nil when it does not mention it.
func rewriteScript(path, builtIn, venvDir string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil || info.Size() > maxScriptBytes {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(data, []byte("#!")) || !bytes.Contains(data, []byte(builtIn)) {
		return nil, err
	}
	return bytes.ReplaceAll(data, []byte(builtIn), []byte(venvDir)), nil
}

// writeNewFile creates the file path with content, failing rather than following or replacing
// what is there.
func writeNewFile(path string, content []byte, mode fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(content); err != nil {
		_ = f.Close() // the write error is the one to report
		return err
	}
	return f.Close()
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer func() { _ = src.Close() }() // read-only
	info, err := src.Stat()
	if err != nil {
		return err
	}
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		_ = dst.Close() // the copy error is the one to report
		return err
	}
	return dst.Close()
}
