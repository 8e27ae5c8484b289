package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/gitsource"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// DefaultGitTimeout bounds fetching a commit for one request.
const DefaultGitTimeout = 10 * time.Minute

// ResolveGit finds, fetching it if needed, the commit src names now. What src leaves out comes
// from the project (nil for none): its repository URL, and its production branch as the ref.
// A source that does not exist is an *InputError.
func (s *Service) ResolveGit(ctx context.Context, project *store.Project, src api.GitSource) (*gitsource.Checkout, error) {
	if project != nil {
		if src.URL == "" {
			src.URL = project.GitRepositoryURL
		}
		if src.Ref == "" && src.Commit == "" {
			src.Ref = project.ProductionBranch
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.GitTimeout)
	defer cancel()
	checkout, err := s.cfg.Git.Resolve(ctx, gitsource.Source{URL: src.URL, Ref: src.Ref, Commit: src.Commit})
	var bad *gitsource.Error
	switch {
	case errors.As(err, &bad):
		return nil, &InputError{Code: api.CodeBadRequest, Field: "git." + bad.Field, Message: bad.Message}
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		return nil, &InputError{Code: api.CodeBadRequest, Field: "git.url", Message: fmt.Sprintf(
			"fetching %s took longer than %s and was stopped: check that the server answers, or raise the engine's --git-timeout", src.URL, s.cfg.GitTimeout)}
	}
	return checkout, err
}

// gitFiles fetches the commit of a git source and stores its files as blobs, as an upload
// would: it returns them as a deployment's file list, sorted, with the commit's record.
func (s *Service) gitFiles(ctx context.Context, project *store.Project, src api.GitSource) ([]api.File, *api.GitCommit, error) {
	checkout, err := s.ResolveGit(ctx, project, src)
	if err != nil {
		return nil, nil, err
	}
	listed, err := checkout.Files()
	var bad *gitsource.Error
	if errors.As(err, &bad) {
		return nil, nil, &InputError{Code: api.CodeBadRequest, Field: "git." + bad.Field, Message: fmt.Sprintf("commit %s: %s", checkout.Commit.SHA, bad.Message)}
	}
	if err != nil {
		return nil, nil, err
	}
	// The limits first, on the sizes git records, before any content is read.
	limits := s.cfg.Limits.withDefaults()
	if len(listed) > limits.MaxFiles {
		return nil, nil, tooManyFiles(len(listed), limits)
	}
	var total int64
	for _, f := range listed {
		if total += f.Size; total > limits.MaxBytes {
			return nil, nil, tooLarge(total, limits)
		}
	}
	files := make([]api.File, 0, len(listed))
	for _, f := range listed {
		digest, err := s.storeGitFile(ctx, f)
		if err != nil {
			return nil, nil, fmt.Errorf("store %s of commit %s: %w", f.Path, checkout.Commit.SHA, err)
		}
		files = append(files, api.File{Path: f.Path, Digest: digest, Size: f.Size, Mode: f.Mode})
	}
	if files, err = checkFiles(files, s.cfg.Limits); err != nil {
		return nil, nil, err
	}
	return files, &checkout.Commit, nil
}

// storeGitFile stores a file's content as a blob unless it is stored already, and returns its
// digest.
func (s *Service) storeGitFile(ctx context.Context, f gitsource.File) (string, error) {
	hash := sha256.New()
	if err := copyFrom(f, hash); err != nil {
		return "", err
	}
	digest := hex.EncodeToString(hash.Sum(nil))
	_, err := s.cfg.Blobs.Keep(ctx, digest)
	if !errors.Is(err, artifacts.ErrNotFound) {
		return digest, err
	}
	content, err := f.Open()
	if err != nil {
		return "", err
	}
	defer func() { _ = content.Close() }() // read-only
	return digest, s.cfg.Blobs.Write(ctx, digest, content)
}

func copyFrom(f gitsource.File, w io.Writer) error {
	content, err := f.Open()
	if err != nil {
		return err
	}
	defer func() { _ = content.Close() }() // read-only
	_, err = io.Copy(w, content)
	return err
}
