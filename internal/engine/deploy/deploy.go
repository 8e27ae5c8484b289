// Package deploy creates deployments and builds them: it checks the file
// list, freezes the env, writes the source from blobs, runs the build and,
// when it succeeds, marks the deployment ready and moves production aliases.
package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/blobs"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/builder"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/envvars"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/sandbox"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// MaxFiles is the default bound on the file list of one deployment.
const MaxFiles = 20000

// DefaultMaxBytes is the default bound on the total size of a deployment's
// files: Vercel's limit on a Python bundle.
const DefaultMaxBytes = 500 << 20

// Hosts names the hostnames of projects and deployments.
type Hosts interface {
	ProductionHost(projectName string) string
	DeploymentHost(projectName, deploymentID string) string
}

// Config wires a Service.
type Config struct {
	Store          *store.Store
	Blobs          *blobs.Store
	Secrets        *secrets.Box
	Hosts          Hosts
	DeploymentsDir string // each deployment gets DeploymentsDir/<id>
	Python         string // base interpreter of builds
	StopRuntime    func(deploymentID string)
	Logger         *slog.Logger
	Sandbox        *sandbox.Sandbox // builds run in it
	BuildLimits    BuildLimits
	Limits         Limits

	// SyncRoutes returns once the edge serves what the store says.
	SyncRoutes func(context.Context) error
}

// Limits bound one deployment's source; zero fields take the defaults.
type Limits struct {
	MaxFiles int   // default MaxFiles
	MaxBytes int64 // sum of the file sizes; default DefaultMaxBytes
}

// Service creates, builds and deletes deployments. Builds run one at a time
// in the background, in the order they were created.
type Service struct {
	cfg     Config
	queue   chan string
	mu      sync.Mutex
	cancels map[string]context.CancelFunc // builds in progress
	done    chan struct{}
}

// New returns a Service; call Run to start building.
func New(cfg Config) *Service {
	return &Service{cfg: cfg, queue: make(chan string, 1024), cancels: map[string]context.CancelFunc{}, done: make(chan struct{})}
}

// InputError is a request the engine refuses before changing anything.
type InputError struct {
	Code    string
	Field   string
	Message string
	Missing []string
}

func (e *InputError) Error() string { return e.Message }

// Create validates req, freezes the env and queues a build. Every file's
// blob must already be stored; otherwise it answers CodeMissingFiles with
// the digests to upload.
func (s *Service) Create(ctx context.Context, req api.DeploymentRequest) (*store.Deployment, error) {
	project, err := s.cfg.Store.GetProject(ctx, req.ProjectID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &InputError{Code: api.CodeNotFound, Field: "project_id", Message: fmt.Sprintf("project %q does not exist", req.ProjectID)}
	}
	if err != nil {
		return nil, err
	}
	files, err := checkFiles(req.Files, s.cfg.Limits)
	if err != nil {
		return nil, err
	}
	var missing []string
	seen := map[string]bool{}
	for _, f := range files {
		if !seen[f.Digest] && !s.cfg.Blobs.Has(f.Digest) {
			missing = append(missing, f.Digest)
		}
		seen[f.Digest] = true
	}
	if len(missing) > 0 {
		return nil, &InputError{Code: api.CodeMissingFiles, Field: "files", Missing: missing,
			Message: fmt.Sprintf("%d file(s) of the deployment have not been uploaded: PUT each to %s, then create the deployment again", len(missing), api.PathFiles)}
	}
	if err := s.checkStoredSize(files); err != nil {
		return nil, err
	}

	id := NewID("dpl")
	target := api.TargetPreview
	if req.Production {
		target = api.TargetProduction
	}
	frozen, err := s.frozenEnv(ctx, project, id, target)
	if err != nil {
		return nil, err
	}
	fileList, _ := json.Marshal(files)
	d := &store.Deployment{
		ID:           id,
		ProjectID:    project.ID,
		Target:       target,
		State:        api.StateQueued,
		Hostname:     s.cfg.Hosts.DeploymentHost(project.Name, id),
		SourceDigest: SourceDigest(files),
		Files:        fileList,
		SealedEnv:    s.cfg.Secrets.Seal(frozen),
	}
	err = s.cfg.Store.CreateDeployment(ctx, d)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &InputError{Code: api.CodeNotFound, Field: "project_id", Message: fmt.Sprintf("project %q was deleted", req.ProjectID)}
	}
	if err != nil {
		return nil, err
	}
	s.cfg.Logger.Info("deployment queued", "deployment", id, "project", project.Name, "target", target, "files", len(files))
	s.queue <- id
	return d, nil
}

// checkFiles refuses paths that could escape the deployment directory or
// that no file system can hold, duplicate paths, a path that is both a file
// and a directory, and lists over the limits (by the sizes the client
// declares, so that a too large source is refused before it is uploaded).
// It returns the list sorted by path.
func checkFiles(files []api.File, limits Limits) ([]api.File, error) {
	limits = limits.withDefaults()
	if len(files) == 0 {
		return nil, &InputError{Code: api.CodeBadRequest, Field: "files", Message: "the deployment has no files: point source at a directory that holds your app"}
	}
	if len(files) > limits.MaxFiles {
		return nil, &InputError{Code: api.CodeBadRequest, Field: "files", Message: fmt.Sprintf("the deployment has %d files, more than the limit of %d: exclude build output and dependencies (.venv, node_modules) from the source directory, or raise the engine's limit (ferry serve --max-deployment-files)", len(files), limits.MaxFiles)}
	}
	out := append([]api.File(nil), files...)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	paths := make(map[string]bool, len(out))
	var declared int64
	for i, f := range out {
		if problem := pathProblem(f.Path); problem != "" {
			return nil, &InputError{Code: api.CodeBadRequest, Field: "files", Message: problem}
		}
		if !blobs.ValidDigest(f.Digest) {
			return nil, &InputError{Code: api.CodeBadRequest, Field: "files", Message: fmt.Sprintf("file %q has digest %q, not a lowercase hex sha256", f.Path, f.Digest)}
		}
		if i > 0 && out[i-1].Path == f.Path {
			return nil, &InputError{Code: api.CodeBadRequest, Field: "files", Message: fmt.Sprintf("file %q is listed twice", f.Path)}
		}
		if f.Size < 0 {
			return nil, &InputError{Code: api.CodeBadRequest, Field: "files", Message: fmt.Sprintf("file %q has a negative size %d", f.Path, f.Size)}
		}
		declared = min(declared, limits.MaxBytes+1) + min(f.Size, limits.MaxBytes+1) // cannot overflow
		paths[f.Path] = true
	}
	// Sorting does not put "a" next to "a/b" ("a-b" sorts between them), so
	// look every parent directory up.
	for _, f := range out {
		for dir := path.Dir(f.Path); dir != "."; dir = path.Dir(dir) {
			if paths[dir] {
				return nil, &InputError{Code: api.CodeBadRequest, Field: "files", Message: fmt.Sprintf("%q is listed as a file and is also the directory of %q: a path cannot be both; rename one of them", dir, f.Path)}
			}
		}
	}
	if declared > limits.MaxBytes {
		return nil, tooLarge(-1, limits)
	}
	return out, nil
}

// maxNameBytes and maxPathBytes are what Linux file systems allow for one
// name and a whole path.
const (
	maxNameBytes = 255
	maxPathBytes = 4095
)

// pathProblem says why p cannot be a file of a deployment, or "".
func pathProblem(p string) string {
	if strings.IndexByte(p, 0) >= 0 {
		return fmt.Sprintf("file path %q contains a NUL byte, which no file system allows in a name: rename the file", p)
	}
	clean := path.Clean(p)
	if p == "" || clean != p || strings.HasPrefix(clean, "/") || clean == ".." || strings.HasPrefix(clean, "../") || clean == "." {
		return fmt.Sprintf("file path %q is not a clean relative path inside the source", p)
	}
	if len(p) > maxPathBytes {
		return fmt.Sprintf("file path %.64q... is %d bytes long; paths may have at most %d: shorten it", p, len(p), maxPathBytes)
	}
	for _, name := range strings.Split(p, "/") {
		if len(name) > maxNameBytes {
			return fmt.Sprintf("file path %q has a name of %d bytes (%.32q...); file systems allow at most %d bytes per file or directory name: shorten it", p, len(name), name, maxNameBytes)
		}
	}
	return ""
}

func (l Limits) withDefaults() Limits {
	if l.MaxFiles <= 0 {
		l.MaxFiles = MaxFiles
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	return l
}

// tooLarge says a deployment is over its size limit; total < 0 when only
// the declared sizes are known.
func tooLarge(total int64, limits Limits) *InputError {
	what := "the sizes of the deployment's files add up to"
	if total >= 0 {
		what = fmt.Sprintf("the deployment's files add up to %d bytes (%.1f MiB),", total, float64(total)/(1<<20))
	}
	return &InputError{Code: api.CodeTooLarge, Field: "files", Message: fmt.Sprintf(
		"%s more than the limit of %d bytes (%d MiB), counting a file as often as it is listed: exclude data, build output and dependencies (.venv, node_modules) from the source directory, or raise the engine's limit (ferry serve --max-deployment-size)",
		what, limits.MaxBytes, limits.MaxBytes>>20)}
}

// checkStoredSize sums the sizes of the stored blobs, a blob listed n times
// counting n times, since each is written out n times.
func (s *Service) checkStoredSize(files []api.File) error {
	limits := s.cfg.Limits.withDefaults()
	var total int64
	for _, f := range files {
		size, err := s.cfg.Blobs.Size(f.Digest)
		if err != nil {
			return fmt.Errorf("size of blob %s: %w", f.Digest, err)
		}
		total += size
		if total > limits.MaxBytes {
			return tooLarge(total, limits)
		}
	}
	return nil
}

// SourceDigest names a file list: the sha256 over its sorted
// "path NUL mode NUL digest" lines.
func SourceDigest(files []api.File) string {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%o\x00%s\n", f.Path, f.Mode, f.Digest)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Service) frozenEnv(ctx context.Context, project *store.Project, id, target string) ([]byte, error) {
	stored, err := s.cfg.Store.ListEnvVars(ctx, project.ID)
	if err != nil {
		return nil, err
	}
	vars := make([]envvars.Var, 0, len(stored))
	for _, v := range stored {
		value, err := s.cfg.Secrets.Open(v.SealedValue)
		if err != nil {
			return nil, fmt.Errorf("env var %s: %w", v.Key, err)
		}
		vars = append(vars, envvars.Var{Key: v.Key, Value: string(value), Targets: v.Targets, GitBranch: v.GitBranch})
	}
	resolved := envvars.Resolve(envvars.Deployment{
		ID:             id,
		ProjectID:      project.ID,
		ProjectName:    project.Name,
		Target:         target,
		Hostname:       s.cfg.Hosts.DeploymentHost(project.Name, id),
		ProductionHost: s.cfg.Hosts.ProductionHost(project.Name),
	}, vars)
	return json.Marshal(resolved)
}

// OpenEnv returns a deployment's frozen env.
func OpenEnv(box *secrets.Box, d *store.Deployment) ([]string, error) {
	plain, err := box.Open(d.SealedEnv)
	if err != nil {
		return nil, err
	}
	var kv []string
	err = json.Unmarshal(plain, &kv)
	return kv, err
}

// Dir is the directory of a deployment.
func (s *Service) Dir(id string) string { return filepath.Join(s.cfg.DeploymentsDir, id) }

// LogPath is the build log of a deployment.
func (s *Service) LogPath(id string) string { return filepath.Join(s.Dir(id), "build.log") }

// Resume queues builds that were queued or running when the engine stopped:
// an accepted deployment is never dropped.
func (s *Service) Resume(ctx context.Context) error {
	unfinished, err := s.cfg.Store.UnfinishedDeployments(ctx)
	if err != nil {
		return err
	}
	// Oldest first, as they were created.
	for i := len(unfinished) - 1; i >= 0; i-- {
		s.cfg.Logger.Info("resuming build", "deployment", unfinished[i].ID)
		s.queue <- unfinished[i].ID
	}
	return nil
}

// Run builds queued deployments until ctx is done.
func (s *Service) Run(ctx context.Context) {
	defer close(s.done)
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-s.queue:
			s.buildOne(ctx, id)
		}
	}
}

// Wait returns when Run has returned.
func (s *Service) Wait() { <-s.done }

func (s *Service) buildOne(parent context.Context, id string) {
	ctx, cancel := context.WithCancel(parent)
	s.mu.Lock()
	s.cancels[id] = cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.cancels, id)
		s.mu.Unlock()
		cancel()
		// forget leaves the directory of a deployment deleted while building
		// to us: remove it once the build is over.
		if _, err := s.cfg.Store.GetDeployment(context.Background(), id); errors.Is(err, store.ErrNotFound) {
			os.RemoveAll(s.Dir(id))
		}
	}()

	d, err := s.cfg.Store.GetDeployment(ctx, id)
	if err != nil {
		return // deleted while queued
	}
	if err := s.cfg.Store.SetDeploymentState(ctx, id, api.StateBuilding, ""); err != nil {
		return
	}
	result, buildErr := s.build(ctx, d)
	if parent.Err() != nil {
		return // engine stopping: Resume builds it again on the next start
	}
	if buildErr != nil {
		state := api.StateError
		if ctx.Err() != nil {
			state = api.StateCanceled
		}
		s.cfg.Logger.Info("build failed", "deployment", id, "error", buildErr)
		if err := s.cfg.Store.SetDeploymentState(context.Background(), id, state, buildErr.Error()); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.cfg.Logger.Error("record failed build", "deployment", id, "error", err)
		}
		return
	}
	d.AppDir, d.Python, d.Entrypoint, d.Kind = result.AppDir, result.Python, result.Entrypoint, result.Kind
	if err := s.cfg.Store.SetDeploymentSandbox(context.Background(), id, result.sandbox); err != nil {
		s.cfg.Logger.Error("record the deployment's sandbox", "deployment", id, "error", err)
		return
	}
	if err := s.cfg.Store.MarkReady(context.Background(), d, d.Target == api.TargetProduction); err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.cfg.Logger.Error("mark ready", "deployment", id, "error", err)
		}
		return
	}
	if err := s.cfg.SyncRoutes(context.Background()); err != nil {
		s.cfg.Logger.Error("route a ready deployment", "deployment", id, "error", err)
	}
	s.cfg.Logger.Info("deployment ready", "deployment", id, "entrypoint", result.Entrypoint)
}

// built is a successful build and how its instances are to be confined.
type built struct {
	*builder.Result
	sandbox store.DeploymentSandbox
}

func (s *Service) build(ctx context.Context, d *store.Deployment) (*built, error) {
	project, err := s.cfg.Store.GetProject(ctx, d.ProjectID)
	if err != nil {
		return nil, err
	}
	identity, err := s.projectIdentity(ctx, project.ID)
	if err != nil {
		return nil, err
	}
	setLimits, err := s.cfg.Store.ProjectLimits(ctx, project.ID)
	if err != nil {
		return nil, err
	}
	dir := s.Dir(d.ID)
	// A resumed build starts over from a clean directory.
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	srcDir, venvDir, homeDir := filepath.Join(dir, "src"), filepath.Join(dir, "venv"), filepath.Join(dir, "home")
	for _, sub := range []string{srcDir, venvDir, homeDir} {
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return nil, err
		}
	}
	defer os.RemoveAll(homeDir)
	logFile, err := os.OpenFile(s.LogPath(d.ID), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()

	var files []api.File
	if err := json.Unmarshal(d.Files, &files); err != nil {
		return nil, err
	}
	fmt.Fprintf(logFile, "ferry: writing %d source files\n", len(files))
	if err := s.writeSource(srcDir, files); err != nil {
		fmt.Fprintf(logFile, "ferry: %v\n", err)
		return nil, err
	}
	frozen, err := OpenEnv(s.cfg.Secrets, d)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Sandbox.ShareWithProject(dir, identity); err != nil {
		return nil, err
	}
	if err := s.cfg.Sandbox.HandOver(identity, srcDir, venvDir, homeDir); err != nil {
		return nil, err
	}
	limits := s.cfg.BuildLimits.withDefaults()
	buildCtx, stopBuild := context.WithCancelCause(ctx)
	defer stopBuild(nil)
	go watchDisk(buildCtx, stopBuild, dir, limits.DiskMB, time.Second)
	result, err := builder.Build(buildCtx, builder.Spec{
		SrcDir:         srcDir,
		VenvDir:        venvDir,
		RootDirectory:  project.RootDirectory,
		Framework:      project.Framework,
		InstallCommand: project.InstallCommand,
		BuildCommand:   project.BuildCommand,
		Python:         s.cfg.Python,
		Env:            frozen,
		Log:            logFile,
		Sandbox:        s.cfg.Sandbox,
		Name:           "build-" + d.ID,
		Identity:       identity,
		Limits:         sandbox.Limits{MemoryMB: limits.MemoryMB, Processes: limits.Processes, FileMB: limits.DiskMB},
		HomeDir:        homeDir,
	})
	if cause := context.Cause(buildCtx); err != nil && ctx.Err() == nil && errors.As(cause, new(errDiskLimit)) {
		fmt.Fprintf(logFile, "ferry: %v\n", cause)
		return nil, cause
	}
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Sandbox.Seal(srcDir, venvDir); err != nil {
		return nil, err
	}
	return &built{Result: result, sandbox: store.DeploymentSandbox{UID: identity.UID, Limits: EffectiveLimits(setLimits)}}, nil
}

func (s *Service) writeSource(srcDir string, files []api.File) error {
	for _, f := range files {
		dst := filepath.Join(srcDir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if f.Mode&0o111 != 0 {
			mode = 0o755
		}
		if err := s.cfg.Blobs.CopyTo(f.Digest, dst, mode); err != nil {
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
	}
	return nil
}

// Delete removes a deployment: its build is canceled, its processes
// stopped, its files removed. The edge stops routing to it first, so that
// no request can start it again once it is stopped.
func (s *Service) Delete(ctx context.Context, id string) error {
	if err := s.cfg.Store.DeleteDeployment(ctx, id); err != nil {
		return err
	}
	err := s.cfg.SyncRoutes(ctx)
	s.forget(id)
	return err
}

// DeleteProject removes a project with its env vars and deployments, in the
// same order as Delete.
func (s *Service) DeleteProject(ctx context.Context, projectID string) error {
	deleted, err := s.cfg.Store.DeleteProject(ctx, projectID)
	if err != nil {
		return err
	}
	err = s.cfg.SyncRoutes(ctx)
	for _, id := range deleted {
		s.forget(id)
	}
	return err
}

// forget cancels, stops and removes what a deleted deployment left behind.
func (s *Service) forget(id string) {
	s.mu.Lock()
	cancel, building := s.cancels[id]
	s.mu.Unlock()
	if building {
		cancel() // buildOne removes the directory once the build has stopped
	}
	s.cfg.StopRuntime(id)
	if !building {
		os.RemoveAll(s.Dir(id))
	}
}
