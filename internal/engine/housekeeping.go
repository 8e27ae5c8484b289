package engine

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/logrotate"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// Housekeeping: what the engine deletes so that its data dir does not grow
// forever.
const (
	// An unreferenced blob younger than this is kept: a client uploads a
	// deployment's files first and creates the deployment after.
	blobGracePeriod  = time.Hour
	blobCollectEvery = 10 * time.Minute
	firstCollection  = time.Minute // soon after start, not in its way

	// engine.log and each deployment's runtime log keep at most this much,
	// plus one older generation of about the same size.
	maxLogBytes    = 10 << 20
	logCheckEvery  = time.Minute
	runtimeLogGlob = "*.log"
)

// keepHouse collects unused blobs and caps the logs until ctx ends.
func keepHouse(ctx context.Context, log *slog.Logger, st store.Store, blobStore artifacts.Store, dataDir string) {
	log = log.With("component", "housekeeping")
	collect := time.NewTimer(firstCollection)
	defer collect.Stop()
	logs := time.NewTicker(logCheckEvery)
	defer logs.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-collect.C:
			collectBlobs(ctx, log, st, blobStore, blobGracePeriod)
			collect.Reset(blobCollectEvery)
		case <-logs.C:
			capLogs(log, dataDir, maxLogBytes)
		}
	}
}

// collectBlobs deletes the blobs that no deployment lists and that have not
// been used for grace.
func collectBlobs(ctx context.Context, log *slog.Logger, st store.Store, blobStore artifacts.Store, grace time.Duration) {
	began := time.Now()
	// Listed before the cutoff is taken: a deployment created after the
	// listing used its blobs after the cutoff, so they are kept.
	referenced, err := st.ReferencedDigests(ctx)
	if err != nil {
		log.Error("blob collection skipped: cannot list the blobs deployments use", "error", err)
		return
	}
	done, err := blobStore.Sweep(ctx, referenced, time.Now().Add(-grace))
	if err != nil && ctx.Err() == nil {
		log.Error("blob collection stopped", "error", err, "deleted", done.Deleted, "freed_bytes", done.FreedBytes)
		return
	}
	log.Info("blobs collected", "deleted", done.Deleted, "freed_bytes", done.FreedBytes,
		"kept_young", done.Young, "referenced", len(referenced), "duration", time.Since(began))
}

// capLogs rotates engine.log and every deployment's runtime log that has
// grown past limit.
func capLogs(log *slog.Logger, dataDir string, limit int64) {
	runtimeLogs, err := filepath.Glob(filepath.Join(dataDir, "logs", runtimeLogGlob))
	if err != nil {
		log.Error("cannot list the runtime logs", "error", err)
	}
	for _, path := range append([]string{filepath.Join(dataDir, LogName)}, runtimeLogs...) {
		rotated, err := logrotate.Rotate(path, limit)
		if err != nil {
			log.Error("cannot rotate a log", "path", path, "error", err)
		} else if rotated {
			log.Info("log rotated", "path", path, "older", path+logrotate.RotatedSuffix)
		}
	}
}
