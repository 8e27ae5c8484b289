package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// uploadConcurrency bounds parallel blob uploads.
const uploadConcurrency = 4

// Deploy creates a deployment of the source directory dir: it collects the
// files, asks for the deployment, uploads the blobs the engine is missing
// and asks again. It returns as soon as the engine accepted the deployment;
// see WaitDeployment.
func (c *Client) Deploy(ctx context.Context, projectID, dir string, production bool) (*api.Deployment, error) {
	files, err := CollectFiles(dir)
	if err != nil {
		return nil, err
	}
	return c.DeployFiles(ctx, dir, api.DeploymentRequest{ProjectID: projectID, Files: files, Production: production})
}

// DeployFiles creates the deployment req describes, req.Files collected from
// dir, uploading the blobs the engine is missing.
func (c *Client) DeployFiles(ctx context.Context, dir string, req api.DeploymentRequest) (*api.Deployment, error) {
	files := req.Files
	// Blobs can in principle vanish between upload and the second request
	// (a concurrent cleanup); a third try covers that.
	const tries = 3
	for attempt := 1; ; attempt++ {
		d, err := c.CreateDeployment(ctx, req)
		missing, isMissing := IsMissingFiles(err)
		if !isMissing || len(missing) == 0 || attempt == tries {
			return d, err
		}
		if err := c.uploadMissing(ctx, dir, files, missing); err != nil {
			return nil, err
		}
	}
}

func (c *Client) uploadMissing(ctx context.Context, dir string, files []api.File, missing []string) error {
	byDigest := make(map[string]string, len(files))
	for _, f := range files {
		byDigest[f.Digest] = f.Path
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sem      = make(chan struct{}, uploadConcurrency)
		seen     = map[string]bool{}
	)
	for _, digest := range missing {
		if seen[digest] {
			continue
		}
		seen[digest] = true
		rel, ok := byDigest[digest]
		if !ok {
			return fmt.Errorf("the engine asked for blob %s, which is not in the deployment's files", digest)
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := c.uploadOne(ctx, dir, rel, digest); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return firstErr
}

func (c *Client) uploadOne(ctx context.Context, dir, rel, digest string) error {
	content, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return fmt.Errorf("reading %s for upload: %w", rel, err)
	}
	sum := sha256.Sum256(content)
	if !bytes.Equal([]byte(hex.EncodeToString(sum[:])), []byte(digest)) {
		return fmt.Errorf("%s changed while it was being deployed: deploy again once the source is stable", rel)
	}
	if err := c.UploadFile(ctx, digest, content); err != nil {
		return fmt.Errorf("uploading %s: %w", rel, err)
	}
	return nil
}

// Terminal reports whether a deployment state is final.
func Terminal(state string) bool {
	return state == api.StateReady || state == api.StateError || state == api.StateCanceled
}

// WaitDeployment polls a deployment every poll (500ms if 0) until it is
// READY, ERROR or CANCELED, and returns it; or until ctx is done, when it
// returns the last deployment seen with ctx's error.
func (c *Client) WaitDeployment(ctx context.Context, id string, poll time.Duration) (*api.Deployment, error) {
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	var last *api.Deployment
	for {
		d, err := c.GetDeployment(ctx, id)
		if err != nil {
			if ctx.Err() != nil && last != nil {
				break
			}
			return last, err
		}
		last = d
		if Terminal(d.State) {
			return d, nil
		}
		select {
		case <-ctx.Done():
		case <-ticker.C:
			continue
		}
		break
	}
	return last, fmt.Errorf("deployment %s still %s: %w", id, last.State, ctx.Err())
}
