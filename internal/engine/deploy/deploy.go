// Package deploy creates deployments and builds them: it checks the file
// list, freezes the env, writes the source from blobs, runs the build and,
// when it succeeds, marks the deployment ready and moves production aliases.
package deploy

import (
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
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/dburl"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/builder"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/envvars"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/gitsource"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/sandbox"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/supabase"
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
	BranchHost(projectName, branch string) string
}

// Defaults of the build queue's settings.
const (
	DefaultBuildWorkers    = 2
	DefaultBuildTimeout    = 45 * time.Minute // Vercel's limit on a build
	DefaultMaxQueuedBuilds = 64
	DefaultLease           = time.Minute
	DefaultPollInterval    = 5 * time.Second
)

// Config wires a Service. Zero values of the queue's settings mean their defaults.
type Config struct {
	Store          store.Store
	Blobs          artifacts.Store
	Secrets        secrets.Keeper
	Hosts          Hosts
	DeploymentsDir string   // each deployment gets DeploymentsDir/<id>
	Python         string   // the default interpreter of builds
	ExtraPythons   []string // more interpreters a project may ask for, besides those found on PATH and in pyenv
	BuildCacheDir  string   // where builds keep installed dependencies for later builds; "" for none
	StopRuntime    func(deploymentID string)
	Logger         *slog.Logger
	Sandbox        *sandbox.Sandbox // builds run in it
	BuildLimits    BuildLimits
	Limits         Limits
	Git            *gitsource.Repos // fetches git sources
	GitTimeout     time.Duration    // bounds one fetch; default DefaultGitTimeout
	// URLHost writes a host as the URL variables of apps carry it (VERCEL_URL and the like):
	// with the edge's port, unless that is 443. nil leaves hosts bare.
	URLHost   func(host string) string
	MaxLimits api.Limits // the most an instance may use; vercel.json's functions.memory may not ask more

	NodeID          string        // names this engine in the claims it holds on builds
	BuildWorkers    int           // builds run at once
	BuildTimeout    time.Duration // a build still running after this is stopped and fails
	MaxQueuedBuilds int           // deployments allowed to wait; more are refused
	Lease           time.Duration // a claim on a build lapses unless renewed within this
	PollInterval    time.Duration // how often idle workers look for builds queued by another node
	// BuildCaps are the builds a team may run at once, by plan, on all nodes.
	BuildCaps store.BuildCaps
	// SyncRoutes returns once the edge serves what the store says.
	SyncRoutes func(context.Context) error
	// BuildEnded, when set, hears of each build this node ended, READY or ERROR, of which project, and how long it took.
	BuildEnded func(projectID, state string, took time.Duration)
	// DeploymentEvent, when set, hears of each deployment created, READY or failed (an
	// api.EventDeployment*), once the store has it: webhooks send it on.
	DeploymentEvent func(eventType string, d *store.Deployment)
	// ShareOutputs archives every build's output to Blobs, for the other nodes of an engine whose
	// nodes share the artifact store (see Fetch).
	ShareOutputs bool
	// OutputCacheBytes bounds the build outputs a node of several holds (see TrimOutputs); 0: no bound.
	OutputCacheBytes int64
}

// Limits bound one deployment's source; zero fields take the defaults.
type Limits struct {
	MaxFiles int   // default MaxFiles
	MaxBytes int64 // sum of the file sizes; default DefaultMaxBytes
}

// Service creates, builds and deletes deployments. The store is the queue:
// BuildWorkers workers claim queued deployments, oldest first, each under a
// lease they renew while building.
type Service struct {
	cfg     Config
	wake    chan struct{} // a deployment was queued
	mu      sync.Mutex
	running map[string]*runningBuild // builds in progress on this node
	workers sync.WaitGroup
	fetches singleflight.Group // build outputs being fetched, by the deployment that built them
}

type runningBuild struct {
	stop    context.CancelCauseFunc
	stopped chan struct{}
}

// Why a build stopped before its end.
var (
	errBuildCanceled = errors.New("the build was canceled")
	errBuildDeleted  = errors.New("the deployment was deleted")
	errBuildDeadline = errors.New("the build passed its deadline")
	errLeaseLost     = errors.New("this node lost its claim on the build")
)

// New returns a Service; call Start to start building.
func New(cfg Config) *Service {
	if cfg.BuildWorkers <= 0 {
		cfg.BuildWorkers = DefaultBuildWorkers
	}
	if cfg.BuildTimeout <= 0 {
		cfg.BuildTimeout = DefaultBuildTimeout
	}
	if cfg.MaxQueuedBuilds <= 0 {
		cfg.MaxQueuedBuilds = DefaultMaxQueuedBuilds
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.GitTimeout <= 0 {
		cfg.GitTimeout = DefaultGitTimeout
	}
	if cfg.URLHost == nil {
		cfg.URLHost = func(host string) string { return host }
	}
	return &Service{cfg: cfg, wake: make(chan struct{}, 1), running: map[string]*runningBuild{}}
}

// InputError is a request the engine refuses before changing anything.
type InputError struct {
	Code    string
	Field   string
	Message string
	Missing []string
}

func (e *InputError) Error() string { return e.Message }

// Create validates req, fetches a git source, freezes the env and queues a
// build; or, when a READY deployment of the project was built from the same
// input (see BuildKey), serves that build's output at once (a redeploy). Every
// uploaded file's blob must already be stored; otherwise it answers
// CodeMissingFiles with the digests to upload.
func (s *Service) Create(ctx context.Context, req api.DeploymentRequest) (*store.Deployment, error) {
	var source *store.Deployment
	if req.RedeployOf != "" {
		var err error
		if source, err = s.redeploySource(ctx, req); err != nil {
			return nil, err
		}
		if req.ProjectID == "" {
			req.ProjectID = source.ProjectID
		}
	}
	project, err := s.cfg.Store.GetProject(ctx, req.ProjectID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &InputError{Code: api.CodeNotFound, Field: "project_id", Message: fmt.Sprintf("project %q does not exist", req.ProjectID)}
	}
	if err != nil {
		return nil, err
	}
	var files []api.File
	var commit *api.GitCommit
	if source != nil {
		files, commit, err = s.redeployedFiles(ctx, project, source)
	} else {
		files, commit, err = s.sourceFiles(ctx, project, req)
	}
	if err != nil {
		return nil, err
	}

	id := NewID("dpl")
	target := api.TargetPreview
	if req.Production {
		target = api.TargetProduction
	}
	fileList, err := json.Marshal(files)
	if err != nil {
		return nil, fmt.Errorf("encode the file list: %w", err)
	}
	d := &store.Deployment{
		ID:            id,
		ProjectID:     project.ID,
		Target:        target,
		State:         api.StateQueued,
		Hostname:      s.cfg.Hosts.DeploymentHost(project.Name, id),
		SourceDigest:  api.SourceDigest(files),
		Files:         fileList,
		Git:           commit,
		UseBuildCache: req.UseBuildCache == nil || *req.UseBuildCache,
	}
	if commit != nil {
		d.GitBranch = commit.Branch
	}
	d.BuildKey = BuildKey(s.buildInput(project, d.SourceDigest))
	frozen, err := s.frozenEnv(ctx, project, d)
	if err != nil {
		return nil, err
	}
	if d.SealedEnv, err = s.cfg.Secrets.Seal(ctx, frozen); err != nil {
		return nil, fmt.Errorf("seal the deployment's environment: %w", err)
	}
	if d.UseBuildCache {
		built, err := s.reusableBuild(ctx, d)
		if err != nil {
			return nil, err
		}
		if built != nil {
			redeployed, err := s.redeploy(ctx, project, d, built)
			if !errors.Is(err, store.ErrBuildGone) {
				return redeployed, s.insertError(err, project.ID)
			}
			// The deployments that served the output were deleted meanwhile: build it anew.
			d.Run, d.BuildOf, d.ReadyAt = nil, "", nil
		}
	}
	err = s.cfg.Store.EnqueueDeployment(ctx, d, s.cfg.MaxQueuedBuilds)
	if errors.Is(err, store.ErrQueueFull) {
		return nil, &InputError{Code: api.CodeQueueFull, Message: fmt.Sprintf(
			"%v (the limit is %d): nothing was created; try again once builds have finished, or raise the engine's --max-queued-builds",
			err, s.cfg.MaxQueuedBuilds)}
	}
	if err != nil {
		return nil, s.insertError(err, req.ProjectID)
	}
	s.cfg.Logger.Info("deployment queued", "deployment", id, "project", project.Name, "target", target, "files", len(files))
	s.deploymentEvent(api.EventDeploymentCreated, d)
	s.wakeWorker()
	return d, nil
}

// insertError is the answer to a deployment the store would not insert.
func (s *Service) insertError(err error, projectID string) error {
	if errors.Is(err, store.ErrNotFound) {
		return &InputError{Code: api.CodeNotFound, Field: "project_id", Message: fmt.Sprintf("project %q was deleted", projectID)}
	}
	return err
}

// sourceFiles is the checked file list of a deployment, every blob kept, with the commit it
// comes from for a git source.
func (s *Service) sourceFiles(ctx context.Context, project *store.Project, req api.DeploymentRequest) ([]api.File, *api.GitCommit, error) {
	if req.Git != nil {
		if len(req.Files) > 0 {
			return nil, nil, &InputError{Code: api.CodeBadRequest, Field: "files", Message: "the deployment names both files and a git source: give one of them"}
		}
		files, commit, err := s.gitFiles(ctx, project, *req.Git)
		if err != nil {
			return nil, nil, err
		}
		_, err = s.keepBlobs(ctx, files)
		return files, commit, err
	}
	files, err := checkFiles(req.Files, s.cfg.Limits)
	if err != nil {
		return nil, nil, err
	}
	sizes, err := s.keepBlobs(ctx, files)
	if err != nil {
		return nil, nil, err
	}
	return files, nil, checkStoredSize(files, sizes, s.cfg.Limits)
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
		return nil, tooManyFiles(len(files), limits)
	}
	out := append([]api.File(nil), files...)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	paths := make(map[string]bool, len(out))
	var declared int64
	for i, f := range out {
		if problem := pathProblem(f.Path); problem != "" {
			return nil, &InputError{Code: api.CodeBadRequest, Field: "files", Message: problem}
		}
		if !artifacts.ValidDigest(f.Digest) {
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

func tooManyFiles(n int, limits Limits) *InputError {
	return &InputError{Code: api.CodeBadRequest, Field: "files", Message: fmt.Sprintf("the deployment has %d files, more than the limit of %d: exclude build output and dependencies (.venv, node_modules) from the source (with .vercelignore), or raise the engine's limit (ferry serve --max-deployment-files)", n, limits.MaxFiles)}
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

// keepBlobs finds the blob of every file, marking it used so that it outlives
// the creation of the deployment, and returns their sizes by digest. Blobs not
// uploaded are one input error that lists them all.
func (s *Service) keepBlobs(ctx context.Context, files []api.File) (map[string]int64, error) {
	sizes := map[string]int64{}
	var missing []string
	for _, f := range files {
		if _, seen := sizes[f.Digest]; seen {
			continue
		}
		size, err := s.cfg.Blobs.Keep(ctx, f.Digest)
		switch {
		case errors.Is(err, artifacts.ErrNotFound):
			missing = append(missing, f.Digest)
		case err != nil:
			return nil, fmt.Errorf("look up blob %s: %w", f.Digest, err)
		}
		sizes[f.Digest] = size
	}
	if len(missing) > 0 {
		return nil, &InputError{Code: api.CodeMissingFiles, Field: "files", Missing: missing,
			Message: fmt.Sprintf("%d file(s) of the deployment have not been uploaded: PUT each to %s, then create the deployment again", len(missing), api.PathFiles)}
	}
	return sizes, nil
}

// checkStoredSize sums the sizes of the stored blobs, a blob listed n times
// counting n times, since each is written out n times.
func checkStoredSize(files []api.File, sizes map[string]int64, configured Limits) error {
	limits := configured.withDefaults()
	var total int64
	for _, f := range files {
		total += sizes[f.Digest]
		if total > limits.MaxBytes {
			return tooLarge(total, limits)
		}
	}
	return nil
}

// userVars are a project's env vars, values opened, with their digests.
func (s *Service) userVars(ctx context.Context, projectID string) ([]envvars.Var, error) {
	stored, err := s.cfg.Store.ListEnvVars(ctx, projectID)
	if err != nil {
		return nil, err
	}
	vars := make([]envvars.Var, 0, len(stored))
	for _, v := range stored {
		value, err := s.cfg.Secrets.Open(ctx, v.SealedValue)
		if err != nil {
			return nil, fmt.Errorf("env var %s: %w", v.Key, err)
		}
		// Not the stored digest: rows of older engines may hold an unkeyed one.
		digest, err := s.cfg.Secrets.Digest(ctx, value)
		if err != nil {
			return nil, fmt.Errorf("env var %s: %w", v.Key, err)
		}
		vars = append(vars, envvars.Var{Key: v.Key, Value: string(value), ValueDigest: digest, Targets: v.Targets, GitBranch: v.GitBranch})
	}
	return vars, nil
}

// envTarget describes d for envvars, its hosts as the URL variables carry them.
func (s *Service) envTarget(project *store.Project, d *store.Deployment) envvars.Deployment {
	target := envvars.Deployment{
		ID:             d.ID,
		ProjectID:      project.ID,
		ProjectName:    project.Name,
		Target:         d.Target,
		GitBranch:      d.GitBranch,
		Hostname:       s.cfg.URLHost(d.Hostname),
		ProductionHost: s.cfg.URLHost(s.cfg.Hosts.ProductionHost(project.Name)),
		Git:            d.Git,
	}
	if d.GitBranch != "" {
		target.BranchHost = s.cfg.URLHost(s.cfg.Hosts.BranchHost(project.Name, d.GitBranch))
	}
	return target
}

// integrations are what a project's integrations give its deployments.
func (s *Service) integrations(ctx context.Context, projectID string) ([]envvars.Integration, error) {
	stored, err := s.cfg.Store.ListIntegrations(ctx, projectID)
	if err != nil {
		return nil, err
	}
	integrations, err := supabase.ForDeployments(ctx, s.cfg.Secrets, stored)
	var problem *dburl.ProblemError
	if errors.As(err, &problem) {
		// A connection string this engine can no longer make right: say which, before anything is created.
		return nil, &InputError{Code: api.CodeBadRequest, Field: "project_id", Message: err.Error() + ": update the integration's connection_string"}
	}
	return integrations, err
}

// frozenEnv resolves d's env and records the digest of its user vars and integrations in d.EnvDigest.
func (s *Service) frozenEnv(ctx context.Context, project *store.Project, d *store.Deployment) ([]byte, error) {
	vars, err := s.userVars(ctx, project.ID)
	if err != nil {
		return nil, err
	}
	integrations, err := s.integrations(ctx, project.ID)
	if err != nil {
		return nil, err
	}
	target := s.envTarget(project, d)
	d.EnvDigest = envvars.Digest(envvars.Select(target, vars, integrations))
	return json.Marshal(envvars.Resolve(target, vars, integrations))
}

// EnvDigest is the digest of the user vars a new deployment of project with target and git
// branch would get: a deployment whose EnvDigest differs has an env that is out of date.
func (s *Service) EnvDigest(ctx context.Context, project *store.Project, target, gitBranch string) (string, error) {
	vars, err := s.userVars(ctx, project.ID)
	if err != nil {
		return "", err
	}
	integrations, err := s.integrations(ctx, project.ID)
	if err != nil {
		return "", err
	}
	return envvars.Digest(envvars.Select(envvars.Deployment{Target: target, GitBranch: gitBranch}, vars, integrations)), nil
}

// OpenEnv returns a deployment's frozen env.
func OpenEnv(ctx context.Context, keeper secrets.Keeper, d *store.Deployment) ([]string, error) {
	plain, err := keeper.Open(ctx, d.SealedEnv)
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

// Building is the number of builds running on this node.
func (s *Service) Building() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.running)
}

// Start puts back in the queue the builds this node's previous run left
// BUILDING (it is gone: they need not wait for their leases to run out),
// then starts the workers, which build until ctx is done. See Wait.
func (s *Service) Start(ctx context.Context) error {
	released, err := s.cfg.Store.ReleaseNodeClaims(ctx, s.cfg.NodeID)
	if err != nil {
		return fmt.Errorf("requeue the builds of this node's previous run: %w", err)
	}
	if released > 0 {
		s.cfg.Logger.Info("resuming builds interrupted by a restart", "builds", released)
	}
	for range s.cfg.BuildWorkers {
		s.workers.Add(1)
		go s.work(ctx)
	}
	return nil
}

// Wait returns when the workers have stopped and released their builds.
func (s *Service) Wait() { s.workers.Wait() }

// wakeWorker tells an idle worker that a deployment was queued.
func (s *Service) wakeWorker() {
	select {
	case s.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// work claims and builds deployments until ctx is done. It looks for work
// when woken, after each build, and every PollInterval, since another node
// may have queued a deployment or left a lease to run out.
func (s *Service) work(ctx context.Context) {
	defer s.workers.Done()
	poll := time.NewTimer(s.cfg.PollInterval)
	defer poll.Stop()
	for {
		d, err := s.cfg.Store.ClaimDeployment(ctx, s.cfg.NodeID, time.Now().Add(s.cfg.Lease), s.cfg.BuildCaps)
		if err != nil && ctx.Err() == nil {
			s.cfg.Logger.Error("claim a queued build", "error", err)
		}
		if d != nil {
			// More may be waiting: pass the wake-up on to another idle worker.
			s.wakeWorker()
			s.buildOne(ctx, d)
			continue
		}
		poll.Reset(s.cfg.PollInterval)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-poll.C:
		}
	}
}

// buildOne builds a claimed deployment and records the outcome, unless the
// claim was lost meanwhile (deleted, canceled, or taken over).
func (s *Service) buildOne(workerCtx context.Context, d *store.Deployment) {
	log := s.cfg.Logger.With("deployment", d.ID)
	ctx, stop := context.WithCancelCause(workerCtx)
	defer stop(nil)
	timeout, err := s.buildTimeout(ctx, d.ProjectID)
	if err != nil {
		log.Error("read the project's build deadline; using the engine's", "error", err)
	}
	ctx, stopAtDeadline := context.WithTimeoutCause(ctx, timeout, errBuildDeadline)
	defer stopAtDeadline()

	build := &runningBuild{stop: stop, stopped: make(chan struct{})}
	s.mu.Lock()
	s.running[d.ID] = build
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.running, d.ID)
		s.mu.Unlock()
		// forget leaves the directory of a deployment deleted while building
		// to us: remove it once the build is over.
		if _, err := s.cfg.Store.GetDeployment(context.Background(), d.ID); errors.Is(err, store.ErrNotFound) {
			if err := os.RemoveAll(s.Dir(d.ID)); err != nil {
				log.Error("remove the files of a deleted deployment", "error", err)
			}
		}
		close(build.stopped)
	}()

	// A cancel or delete between the claim and the registration above found
	// nothing to stop here; this first renewal sees it.
	if err := s.renewLease(ctx, d.ID); err != nil {
		log.Info("build dropped before it started", "reason", err)
		return
	}
	renewing := s.keepLease(ctx, d.ID, stop)
	log.Info("build started", "node", s.cfg.NodeID)
	began := time.Now()
	result, buildErr := s.build(ctx, d)
	took := time.Since(began) // the build's own time: what build minutes count
	stop(nil)                 // ends the lease renewal
	<-renewing

	cause := context.Cause(ctx)
	switch {
	case buildErr != nil && workerCtx.Err() != nil:
		// The engine is stopping: the build starts over on the next start,
		// or on another node.
		if err := s.cfg.Store.ReleaseDeployment(context.Background(), d.ID, s.cfg.NodeID); err != nil && !errors.Is(err, store.ErrNotClaimed) {
			log.Error("put an interrupted build back in the queue; it resumes when its lease runs out", "error", err)
		}
		return
	case buildErr != nil && (errors.Is(cause, errBuildCanceled) || errors.Is(cause, errBuildDeleted) || errors.Is(cause, errLeaseLost)):
		log.Info("build stopped", "reason", cause)
		return
	case buildErr != nil:
		message := buildErr.Error()
		if errors.Is(cause, errBuildDeadline) {
			message = deadlineMessage(buildErr, timeout)
		}
		log.Info("build failed", "error", buildErr)
		if s.record(log, "record the failed build", func(ctx context.Context) error {
			return s.cfg.Store.FailBuild(ctx, d.ID, s.cfg.NodeID, api.StateError, message)
		}) {
			s.buildEnded(d.ProjectID, api.StateError, took)
			s.deploymentEvent(api.EventDeploymentError, d)
		}
		return
	}
	d.Run = result
	if s.record(log, "mark the deployment ready", func(ctx context.Context) error {
		// The project as it is now: a rename while building moved its branch hostnames.
		project, err := s.cfg.Store.GetProject(ctx, d.ProjectID)
		if err != nil {
			return err
		}
		return s.cfg.Store.MarkReady(ctx, d, s.moves(project, d))
	}) {
		if err := s.cfg.SyncRoutes(context.Background()); err != nil {
			log.Error("route a ready deployment", "error", err)
		}
		log.Info("deployment ready", "entrypoint", result.Entrypoint)
		s.buildEnded(d.ProjectID, api.StateReady, took)
		s.deploymentEvent(api.EventDeploymentReady, d)
	}
}

func (s *Service) deploymentEvent(eventType string, d *store.Deployment) {
	if s.cfg.DeploymentEvent != nil {
		s.cfg.DeploymentEvent(eventType, d)
	}
}

func (s *Service) buildEnded(projectID, state string, took time.Duration) {
	if s.cfg.BuildEnded != nil {
		s.cfg.BuildEnded(projectID, state, took)
	}
}

// buildTimeout is a project's build deadline (limits.build_minutes), at most the engine's.
func (s *Service) buildTimeout(ctx context.Context, projectID string) (time.Duration, error) {
	set, err := s.cfg.Store.ProjectLimits(ctx, projectID)
	if err != nil || set == nil || set.BuildMinutes == 0 {
		return s.cfg.BuildTimeout, err
	}
	return min(time.Duration(set.BuildMinutes)*time.Minute, s.cfg.BuildTimeout), nil
}

// deadlineMessage says that a build ran out of time, in place of the
// builder's "canceled", keeping the tail of its log.
func deadlineMessage(buildErr error, timeout time.Duration) string {
	message := fmt.Sprintf("the build did not finish within %s, its deadline, and was stopped: make the build "+
		"(install_command, build_command) faster, or raise the deadline (the project's limits.build_minutes, "+
		"up to the engine's ferry serve --build-timeout)", timeout)
	var failed *builder.Error
	if errors.As(buildErr, &failed) {
		stopped := *failed
		stopped.Message = message + " (step: " + failed.Step + ")"
		return stopped.Error()
	}
	return message
}

// record writes a build's outcome, retrying a failing store a few times. It
// reports whether it was written. When it cannot be, the lease is no longer
// renewed, so the build runs again once it lapses rather than staying
// BUILDING forever.
func (s *Service) record(log *slog.Logger, what string, write func(context.Context) error) bool {
	var err error
	for attempt, pause := 1, 200*time.Millisecond; attempt <= 4; attempt, pause = attempt+1, pause*4 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = write(ctx)
		cancel()
		if err == nil {
			return true
		}
		// Gone (its project too) or no longer this node's: trying again cannot help.
		if errors.Is(err, store.ErrNotClaimed) || errors.Is(err, store.ErrNotFound) {
			log.Info("build outcome dropped: the deployment was deleted, canceled or taken over", "step", what, "reason", err)
			return false
		}
		log.Warn(what, "attempt", attempt, "error", err)
		time.Sleep(pause)
	}
	log.Error(what+": giving up; the build runs again when its lease lapses", "error", err)
	return false
}

func (s *Service) renewLease(ctx context.Context, id string) error {
	return s.cfg.Store.RenewLease(ctx, id, s.cfg.NodeID, time.Now().Add(s.cfg.Lease))
}

// keepLease renews the claim on a build every third of the lease until ctx
// is done; when the claim is lost it stops the build. The returned channel
// is closed when it has returned.
func (s *Service) keepLease(ctx context.Context, id string, stopBuild context.CancelCauseFunc) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		ticker := time.NewTicker(s.cfg.Lease / 3)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
			err := s.renewLease(ctx, id)
			switch {
			case errors.Is(err, store.ErrNotClaimed):
				stopBuild(errLeaseLost)
				return
			case err != nil && ctx.Err() == nil:
				// Renewed again on the next tick; the lease outlasts a few misses.
				s.cfg.Logger.Warn("renew the lease of a build", "deployment", id, "error", err)
			}
		}
	}()
	return done
}

// build builds d and returns its run spec.
func (s *Service) build(ctx context.Context, d *store.Deployment) (out *runspec.Spec, err error) {
	project, err := s.cfg.Store.GetProject(ctx, d.ProjectID)
	if err != nil {
		return nil, fmt.Errorf("read the project: %w", err)
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
		return nil, fmt.Errorf("clear the deployment directory: %w", err)
	}
	srcDir, venvDir, homeDir := filepath.Join(dir, "src"), filepath.Join(dir, "venv"), filepath.Join(dir, "home")
	for _, sub := range []string{srcDir, venvDir, homeDir} {
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return nil, fmt.Errorf("create the deployment directory: %w", err)
		}
	}
	defer func() {
		if err := os.RemoveAll(homeDir); err != nil {
			s.cfg.Logger.Warn("remove the build's home directory", "deployment", d.ID, "error", err)
		}
	}()
	logFile, err := os.OpenFile(s.LogPath(d.ID), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create the build log: %w", err)
	}
	defer func() {
		if closeErr := logFile.Close(); closeErr != nil && err == nil {
			out, err = nil, fmt.Errorf("write the build log: %w", closeErr)
		}
	}()

	var files []api.File
	if err := json.Unmarshal(d.Files, &files); err != nil {
		return nil, fmt.Errorf("read the file list: %w", err)
	}
	if g := d.Git; g != nil {
		if _, err := fmt.Fprintf(logFile, "ferry: source: %s at %s (%s)\n", g.URL, g.SHA, firstLine(g.Message)); err != nil {
			return nil, fmt.Errorf("write the build log: %w", err)
		}
	}
	if _, err := fmt.Fprintf(logFile, "ferry: writing %d source files\n", len(files)); err != nil {
		return nil, fmt.Errorf("write the build log: %w", err)
	}
	if err := s.writeSource(ctx, srcDir, files); err != nil {
		// The deployment's error message says it as well.
		_, _ = fmt.Fprintf(logFile, "ferry: %v\n", err)
		return nil, err
	}
	frozen, err := OpenEnv(ctx, s.cfg.Secrets, d)
	if err != nil {
		return nil, fmt.Errorf("open the frozen env: %w", err)
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
		Interpreters:   builder.FindInterpreters(append([]string{s.cfg.Python}, s.cfg.ExtraPythons...), s.cfg.Sandbox.SeparateIdentities()),
		Env:            append(frozen, "CI=1"), // as on Vercel: set while building only
		CacheDir:       s.cfg.BuildCacheDir,
		UseCache:       d.UseBuildCache,
		Log:            logFile,
		Sandbox:        s.cfg.Sandbox,
		Name:           "build-" + d.ID,
		Identity:       identity,
		Limits:         sandbox.Limits{MemoryMB: limits.MemoryMB, Processes: limits.Processes, FileMB: limits.DiskMB},
		HomeDir:        homeDir,
	})
	if cause := context.Cause(buildCtx); err != nil && ctx.Err() == nil && errors.As(cause, new(errDiskLimit)) {
		// The deployment's error message says it as well.
		_, _ = fmt.Fprintf(logFile, "ferry: %v\n", cause)
		return nil, cause
	}
	if err != nil {
		return nil, err
	}
	instance, err := s.instanceLimits(setLimits, result)
	if err != nil {
		_, _ = fmt.Fprintf(logFile, "ferry: %v\n", err) // the deployment's error message says it as well
		return nil, err
	}
	if err := s.cfg.Sandbox.Seal(srcDir, venvDir); err != nil {
		return nil, err
	}
	appDir, appErr := filepath.Rel(dir, result.AppDir)
	python, pythonErr := filepath.Rel(dir, result.Python)
	if err := errors.Join(appErr, pythonErr); err != nil {
		return nil, err
	}
	// Relative to the deployment's directory: rows hold no absolute paths.
	spec := &runspec.Spec{AppDir: appDir, Python: python, PythonVersion: result.PythonVersion, Entrypoint: result.Entrypoint, Kind: result.Kind,
		UID: identity.UID, Limits: instance, MaxDuration: result.MaxDuration, Functions: result.Functions, Vercel: result.Vercel}
	if s.cfg.ShareOutputs {
		if _, err := fmt.Fprintln(logFile, "ferry: storing the build output for the other nodes"); err != nil {
			return nil, fmt.Errorf("write the build log: %w", err)
		}
		if spec.Output, err = s.shareOutput(ctx, dir); err != nil {
			return nil, err
		}
	}
	return spec, nil
}

// instanceLimits are the limits of a deployment's instances: the project's, with the memory
// vercel.json's functions ask for, which may not pass the engine's maximum.
func (s *Service) instanceLimits(set *api.Limits, result *builder.Result) (api.Limits, error) {
	limits := EffectiveLimits(set)
	most := s.cfg.MaxLimits.MemoryMB
	asked := []int64{result.MemoryMB}
	for _, f := range result.Functions {
		asked = append(asked, f.MemoryMB)
	}
	for _, memory := range asked {
		if most > 0 && memory > most {
			return api.Limits{}, fmt.Errorf("vercel.json's functions ask for memory %d MB, more than this engine allows an instance (%d MB): lower memory to fit", memory, most)
		}
	}
	if result.MemoryMB > 0 {
		limits.MemoryMB = result.MemoryMB
	}
	return limits, nil
}

func (s *Service) writeSource(ctx context.Context, srcDir string, files []api.File) error {
	for _, f := range files {
		dst := filepath.Join(srcDir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if f.Mode&0o111 != 0 {
			mode = 0o755
		}
		if err := s.copyBlob(ctx, f.Digest, dst, mode); err != nil {
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
	}
	return nil
}

// copyBlob writes a blob's content to a new file at path.
func (s *Service) copyBlob(ctx context.Context, digest, path string, mode fs.FileMode) error {
	src, err := s.cfg.Blobs.Open(ctx, digest)
	if err != nil {
		return err
	}
	defer func() { _ = src.Close() }() // read-only
	dst, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		_ = dst.Close() // the copy error is the one to report
		return err
	}
	return dst.Close()
}

// Delete removes a deployment: its build is canceled, its processes
// stopped, its files removed (unless a redeploy still serves its build
// output). The edge stops routing to it first, so that no request can start
// it again once it is stopped.
func (s *Service) Delete(ctx context.Context, id string) error {
	d, err := s.cfg.Store.GetDeployment(ctx, id)
	if err != nil {
		return err
	}
	if err := s.cfg.Store.DeleteDeployment(ctx, id); err != nil {
		return err
	}
	err = s.cfg.SyncRoutes(ctx)
	s.forget(id, d.OutputOwner())
	return err
}

// DeleteProject removes a project with its env vars and deployments, in the
// same order as Delete.
func (s *Service) DeleteProject(ctx context.Context, projectID string) error {
	dirs, err := s.cfg.Store.DeleteProject(ctx, projectID)
	if err != nil {
		return err
	}
	err = s.cfg.SyncRoutes(ctx)
	for _, id := range dirs {
		s.forget(id, id)
	}
	return err
}

// Cancel stops a queued or building deployment, which ends CANCELED; when
// it returns, nothing of the build runs on this node any more (another node
// building it stops at its next lease renewal). A deployment already
// canceled is returned as it is; one that finished otherwise is refused.
func (s *Service) Cancel(ctx context.Context, id string) (*store.Deployment, error) {
	d, canceledNow, err := s.cfg.Store.CancelDeployment(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &InputError{Code: api.CodeNotFound, Message: fmt.Sprintf("deployment %q does not exist", id)}
	}
	if err != nil {
		return nil, err
	}
	if !canceledNow && d.State != api.StateCanceled {
		return nil, &InputError{Code: api.CodeConflict, Message: fmt.Sprintf(
			"deployment %s is already %s: only a queued or building deployment can be canceled; delete it to remove it", id, d.State)}
	}
	s.mu.Lock()
	build, building := s.running[id]
	s.mu.Unlock()
	if building {
		build.stop(errBuildCanceled)
		select {
		case <-build.stopped:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if canceledNow {
		s.cfg.Logger.Info("deployment canceled", "deployment", id)
		s.deploymentEvent(api.EventDeploymentCanceled, d)
	}
	return d, nil
}

// forget cancels, stops and removes what a deleted deployment left behind:
// its directory, and the directory of the build output it served (owner) once
// no deployment serves that any more.
func (s *Service) forget(id, owner string) {
	s.mu.Lock()
	build, building := s.running[id]
	s.mu.Unlock()
	if building {
		build.stop(errBuildDeleted) // buildOne removes the directory once the build has stopped
	}
	s.cfg.StopRuntime(id)
	if building {
		return
	}
	for _, dir := range []string{id, owner} {
		if err := s.RemoveUnusedDir(context.Background(), dir); err != nil {
			s.cfg.Logger.Error("remove the files of a deleted deployment", "deployment", dir, "error", err)
		}
	}
}

// RemoveUnusedDir removes the directory of deployment id unless the deployment, or a
// redeploy that serves its build output, still exists.
func (s *Service) RemoveUnusedDir(ctx context.Context, id string) error {
	inUse, err := s.cfg.Store.OutputInUse(ctx, id)
	if err != nil || inUse {
		return err
	}
	return os.RemoveAll(s.Dir(id))
}

// firstLine is the first line of a commit message.
func firstLine(message string) string {
	line, _, _ := strings.Cut(message, "\n")
	return line
}
