package deploy

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/archive"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/sandbox"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// A build output travels between the nodes of an engine as one gzip'd tar in the artifact
// store: the deployment directory's source and environment, and its build log. The directory
// holds no absolute path of the node that built it (see runspec), so another node unpacks it
// under its own deployments directory and runs it as it is.
var outputParts = []string{"src", "venv", "build.log"}

// outputMarker, in a deployment directory, names the output archive the directory holds whole.
// A directory without it is one a build or a fetch left unfinished.
const outputMarker = ".output"

// fetchTimeout bounds the fetch of one build output, however many requests wait for it.
const fetchTimeout = 10 * time.Minute

// unfinishedPrefixes begin the names of what a build or a fetch writes beside the deployment
// directories before it is whole; a node stopped meanwhile leaves them behind.
var unfinishedPrefixes = []string{".output-", ".fetch-"}

// SweepUnfinished removes what builds and fetches left unfinished in the deployments directory
// more than olderThan ago, and returns how many it removed. Those of a build or fetch still
// running are younger than any olderThan longer than the build deadline and fetchTimeout.
func (s *Service) SweepUnfinished(olderThan time.Duration) (int, error) {
	entries, err := os.ReadDir(s.cfg.DeploymentsDir)
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, e := range entries {
		if !slices.ContainsFunc(unfinishedPrefixes, func(prefix string) bool { return strings.HasPrefix(e.Name(), prefix) }) {
			continue
		}
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < olderThan {
			continue // gone meanwhile, or perhaps still being written
		}
		if err := os.RemoveAll(filepath.Join(s.cfg.DeploymentsDir, e.Name())); err != nil {
			return removed, err
		}
		removed++
	}
	return removed, nil
}

// shareOutput archives the build output in dir to the artifact store and returns its digest.
func (s *Service) shareOutput(ctx context.Context, dir string) (string, error) {
	tmp, err := os.CreateTemp(s.cfg.DeploymentsDir, ".output-*.tar.gz")
	if err != nil {
		return "", fmt.Errorf("archive the build output: %w", err)
	}
	defer func() {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
	}()
	hash := sha256.New()
	if err := writeOutput(io.MultiWriter(tmp, hash), dir); err != nil {
		return "", fmt.Errorf("archive the build output: %w", err)
	}
	digest := hex.EncodeToString(hash.Sum(nil))
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("archive the build output: %w", err)
	}
	if err := s.cfg.Blobs.Write(ctx, digest, tmp); err != nil {
		return "", fmt.Errorf("store the build output for the other nodes: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, outputMarker), []byte(digest), 0o644); err != nil {
		return "", fmt.Errorf("mark the build output: %w", err)
	}
	return digest, nil
}

// writeOutput writes the parts of the deployment directory dir as a gzip'd tar to w.
func writeOutput(w io.Writer, dir string) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	for _, part := range outputParts {
		err := filepath.WalkDir(filepath.Join(dir, part), func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			return archive.AddFile(tw, p, filepath.ToSlash(rel), archive.DropOwners)
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// Fetch makes the build output d serves present on this node, fetching it from the artifact
// store unless this node built it or fetched it before. A deployment whose run spec names no
// shared output (one built on a single node) is always present. Concurrent calls for one
// output fetch it once.
func (s *Service) Fetch(ctx context.Context, d *store.Deployment) error {
	if d.Run == nil || d.Run.Output == "" {
		return nil
	}
	owner, run := d.OutputOwner(), *d.Run
	done := s.fetches.DoChan(owner, func() (any, error) {
		// Not the first caller's context: one giving up must not fail the others.
		fetchCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		defer cancel()
		return nil, s.fetchOutput(fetchCtx, owner, run)
	})
	select {
	case <-ctx.Done():
		return ctx.Err()
	case result := <-done:
		return result.Err
	}
}

func (s *Service) fetchOutput(ctx context.Context, owner string, run runspec.Spec) error {
	dir := s.Dir(owner)
	marker := filepath.Join(dir, outputMarker)
	if held, err := os.ReadFile(marker); err == nil && string(held) == run.Output {
		// Its last use, for TrimOutputs, which counts in minutes: most starts need not write it.
		now := time.Now()
		if info, err := os.Stat(marker); err == nil && now.Sub(info.ModTime()) < lastUseResolution {
			return nil
		}
		return os.Chtimes(marker, now, now)
	}
	began := time.Now()
	blob, err := s.cfg.Blobs.Open(ctx, run.Output)
	if err != nil {
		return fmt.Errorf("fetch the build output of deployment %s: %w", owner, err)
	}
	defer func() { _ = blob.Close() }()
	tmp, err := os.MkdirTemp(s.cfg.DeploymentsDir, ".fetch-"+owner+"-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(tmp) }() // gone once renamed
	hash := sha256.New()
	if err := unpackOutput(io.TeeReader(blob, hash), tmp); err != nil {
		return fmt.Errorf("unpack the build output of deployment %s: %w", owner, err)
	}
	// The rest of the stream, so that the digest covers all of it.
	if _, err := io.Copy(hash, blob); err != nil {
		return fmt.Errorf("fetch the build output of deployment %s: %w", owner, err)
	}
	if got := hex.EncodeToString(hash.Sum(nil)); got != run.Output {
		return fmt.Errorf("the build output of deployment %s is damaged: its digest is %s, not %s", owner, got, run.Output)
	}
	if err := os.WriteFile(filepath.Join(tmp, outputMarker), []byte(run.Output), 0o644); err != nil {
		return err
	}
	if err := s.cfg.Sandbox.ShareWithProject(tmp, sandbox.Identity{UID: run.UID, GID: run.UID}); err != nil {
		return err
	}
	// What an unfinished build or fetch left there goes first.
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	s.cfg.Logger.Info("build output fetched", "deployment", owner, "duration", time.Since(began))
	return nil
}

// unpackOutput unpacks a build output archive into dir. Files come out as Seal leaves a built
// deployment: the engine's, read-only for everyone else, without set-id bits. It refuses any
// entry that would land outside dir or below a symbolic link.
func unpackOutput(r io.Reader, dir string) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	links := map[string]bool{}
	for {
		header, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return zr.Close()
		}
		if err != nil {
			return err
		}
		name := path.Clean(header.Name)
		if !filepath.IsLocal(name) || !isOutputPart(name) {
			return fmt.Errorf("entry %q is not part of a build output", header.Name)
		}
		for parent := path.Dir(name); parent != "."; parent = path.Dir(parent) {
			if links[parent] {
				return fmt.Errorf("entry %q lies below the symbolic link %s", header.Name, parent)
			}
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		mode := fs.FileMode(0o644)
		switch {
		case name == "build.log":
			mode = 0o600 // the engine's only, as where it was written
		case header.FileInfo().Mode()&0o111 != 0:
			mode = 0o755
		}
		switch header.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(target, 0o755)
		case tar.TypeSymlink:
			links[name] = true
			if err = os.MkdirAll(filepath.Dir(target), 0o755); err == nil {
				err = os.Symlink(header.Linkname, target)
			}
		case tar.TypeReg:
			err = writeOutputFile(target, mode, tr)
		default:
			return fmt.Errorf("entry %q is of a kind a build output does not hold", header.Name)
		}
		if err != nil {
			return err
		}
	}
}

func isOutputPart(name string) bool {
	for _, part := range outputParts {
		if name == part || strings.HasPrefix(name, part+"/") {
			return true
		}
	}
	return false
}

func writeOutputFile(target string, mode fs.FileMode, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Chmod(target, mode) // past the umask
}

// outputRecentlyUsed spares a fetched output from trimming: an instance may be starting from it.
const outputRecentlyUsed = 10 * time.Minute

// lastUseResolution is how stale an output's recorded last use may be; far below outputRecentlyUsed.
const lastUseResolution = time.Minute

// cachedOutput is a build output held in a deployment directory of this node.
type cachedOutput struct {
	owner    string
	size     int64
	lastUsed time.Time
}

// heldOutput describes the output in owner's directory; whole is false for a directory without
// one whole (a build in progress, one that never shared, a fetch cut short).
func (s *Service) heldOutput(owner string) (o cachedOutput, whole bool) {
	marker, err := os.Stat(filepath.Join(s.Dir(owner), outputMarker))
	if err != nil {
		return cachedOutput{}, false
	}
	return cachedOutput{owner: owner, size: treeSize(s.Dir(owner)), lastUsed: marker.ModTime()}, true
}

// TrimOutputs removes the least recently used build outputs this node holds beyond
// OutputCacheBytes, sparing those inUse names (the deployments whose directories instances run
// from) and those used in the last outputRecentlyUsed. Any of them can be fetched again from the
// artifact store. It returns how many it removed and how many bytes that freed.
func (s *Service) TrimOutputs(ctx context.Context, inUse func(owner string) bool) (removed int, freed int64, err error) {
	if !s.cfg.ShareOutputs || s.cfg.OutputCacheBytes <= 0 {
		return 0, 0, nil
	}
	entries, err := os.ReadDir(s.cfg.DeploymentsDir)
	if err != nil {
		return 0, 0, err
	}
	var held []cachedOutput
	var total int64
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "dpl_") {
			continue
		}
		if o, whole := s.heldOutput(e.Name()); whole {
			held = append(held, o)
			total += o.size
		}
	}
	sort.Slice(held, func(i, j int) bool { return held[i].lastUsed.Before(held[j].lastUsed) })
	for _, o := range held {
		if err := ctx.Err(); err != nil {
			return removed, freed, err
		}
		if total <= s.cfg.OutputCacheBytes {
			break
		}
		if inUse(o.owner) || time.Since(o.lastUsed) < outputRecentlyUsed {
			continue
		}
		// Under the output's fetch key: a fetch of it waits, then finds it gone and fetches it again.
		_, err, _ := s.fetches.Do(o.owner, func() (any, error) { return nil, os.RemoveAll(s.Dir(o.owner)) })
		if err != nil {
			return removed, freed, err
		}
		removed, freed, total = removed+1, freed+o.size, total-o.size
	}
	return removed, freed, nil
}
