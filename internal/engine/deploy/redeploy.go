package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/version"
)

// BuildInput is everything a build's output depends on. Two deployments of a project with
// equal inputs build the same output, so the second serves the first's output with its own
// frozen env instead of building: a redeploy. Every new input of the build belongs here.
//
// The build's env is not an input: an env change is what a redeploy is for. A build command
// that writes env values into files would keep the old ones; such a project deploys with
// use_build_cache = false.
type BuildInput struct {
	SourceDigest   string   `json:"source_digest"` // the files, their modes and contents
	RootDirectory  string   `json:"root_directory"`
	Framework      string   `json:"framework"`
	InstallCommand *string  `json:"install_command"`
	BuildCommand   *string  `json:"build_command"`
	Python         string   `json:"python"`                  // the default interpreter
	ExtraPythons   []string `json:"extra_pythons,omitempty"` // the others a project may ask for by version
	Engine         string   `json:"engine"`                  // the engine's version: another builder may build otherwise
}

// BuildKey is the digest of a build's whole input.
func BuildKey(in BuildInput) string {
	encoded, err := json.Marshal(in)
	if err != nil {
		panic(err) // strings and string pointers always encode
	}
	sum := sha256.Sum256(encoded)
	return hex.EncodeToString(sum[:])
}

// buildInput is the build input of a deployment of project with the given source.
func (s *Service) buildInput(project *store.Project, sourceDigest string) BuildInput {
	return BuildInput{
		SourceDigest:   sourceDigest,
		RootDirectory:  project.RootDirectory,
		Framework:      project.Framework,
		InstallCommand: project.InstallCommand,
		BuildCommand:   project.BuildCommand,
		Python:         s.cfg.Python,
		ExtraPythons:   s.cfg.ExtraPythons,
		Engine:         version.String(),
	}
}

// reusableBuild returns the READY deployment whose build output d may serve, or nil.
func (s *Service) reusableBuild(ctx context.Context, d *store.Deployment) (*store.Deployment, error) {
	built, err := s.cfg.Store.FindBuild(ctx, d.ProjectID, d.BuildKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil || built.Run == nil {
		return nil, err
	}
	return built, nil
}

// redeploy makes d READY at once on the build output of built: no build runs. It takes the
// project's limits in force now, as a build would.
func (s *Service) redeploy(ctx context.Context, project *store.Project, d, built *store.Deployment) (*store.Deployment, error) {
	began := time.Now()
	setLimits, err := s.cfg.Store.ProjectLimits(ctx, project.ID)
	if err != nil {
		return nil, err
	}
	run := *built.Run
	run.Limits = EffectiveLimits(setLimits)
	d.Run = &run
	d.BuildOf = built.OutputOwner()
	if err := s.cfg.Store.InsertReady(ctx, d, s.moves(project, d)); err != nil {
		return nil, err
	}
	s.writeRedeployLog(d, built, time.Since(began))
	s.deploymentEvent(api.EventDeploymentCreated, d)
	s.deploymentEvent(api.EventDeploymentReady, d)
	if err := s.cfg.SyncRoutes(ctx); err != nil {
		s.cfg.Logger.Error("route a redeploy", "deployment", d.ID, "error", err)
	}
	s.cfg.Logger.Info("deployment ready without a build: its build output is reused", "deployment", d.ID,
		"project", project.Name, "target", d.Target, "build_of", d.BuildOf, "duration", time.Since(began))
	return d, nil
}

// writeRedeployLog is a redeploy's build log, which says that nothing was built.
func (s *Service) writeRedeployLog(d, built *store.Deployment, took time.Duration) {
	text := fmt.Sprintf("ferry: redeploy: the source, build settings and Python are those of deployment %s, "+
		"so its build output (built by %s) is reused: no build step ran\n"+
		"ferry: environment frozen anew (%s)\nferry: ready in %s\n",
		built.ID, d.BuildOf, d.EnvDigest, took.Round(time.Millisecond))
	err := os.MkdirAll(s.Dir(d.ID), 0o700)
	if err == nil {
		err = os.WriteFile(s.LogPath(d.ID), []byte(text), 0o600)
	}
	if err != nil {
		s.cfg.Logger.Error("write a redeploy's log", "deployment", d.ID, "error", err)
	}
}

// moves are the hostnames d takes over once READY: production's for a production
// deployment, its branch's for one from a git branch.
func (s *Service) moves(project *store.Project, d *store.Deployment) store.Moves {
	moves := store.Moves{Production: d.Target == "production"}
	if d.GitBranch != "" {
		moves.BranchHost = s.cfg.Hosts.BranchHost(project.Name, d.GitBranch)
	}
	return moves
}

// redeploySource is the deployment req.RedeployOf names, once req is known to name no other source.
func (s *Service) redeploySource(ctx context.Context, req api.DeploymentRequest) (*store.Deployment, error) {
	if len(req.Files) > 0 || req.Git != nil {
		return nil, &InputError{Code: api.CodeBadRequest, Field: "redeploy_of", Message: fmt.Sprintf(
			"a redeploy takes the source of deployment %s: give no files or git source with redeploy_of", req.RedeployOf)}
	}
	source, err := s.cfg.Store.GetDeployment(ctx, req.RedeployOf)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &InputError{Code: api.CodeNotFound, Field: "redeploy_of", Message: fmt.Sprintf(
			"deployment %q does not exist (deleted, expired, or a mistyped id): redeploy another deployment of the project, or deploy its source anew", req.RedeployOf)}
	}
	return source, err
}

// redeployedFiles are the files and commit of source, for a new deployment of project.
func (s *Service) redeployedFiles(ctx context.Context, project *store.Project, source *store.Deployment) ([]api.File, *api.GitCommit, error) {
	if source.ProjectID != project.ID {
		return nil, nil, &InputError{Code: api.CodeBadRequest, Field: "redeploy_of", Message: fmt.Sprintf(
			"deployment %s belongs to another project than %s: redeploy it into its own project (leave project_id empty)", source.ID, project.Name)}
	}
	var files []api.File
	if err := json.Unmarshal(source.Files, &files); err != nil {
		return nil, nil, fmt.Errorf("read the file list of deployment %s: %w", source.ID, err)
	}
	var missing *InputError
	if _, err := s.keepBlobs(ctx, files); errors.As(err, &missing) {
		return nil, nil, &InputError{Code: api.CodeConflict, Field: "redeploy_of", Message: fmt.Sprintf(
			"%d file(s) of deployment %s are no longer stored: deploy its source anew instead of redeploying it", len(missing.Missing), source.ID)}
	} else if err != nil {
		return nil, nil, err
	}
	var commit *api.GitCommit
	if source.Git != nil {
		kept := *source.Git
		commit = &kept
	}
	return files, commit, nil
}
