package engine

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/deploy"
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

	// engine.log and each deployment's runtime and access logs keep at most
	// this much, plus one older generation of about the same size.
	maxLogBytes    = 10 << 20
	logCheckEvery  = time.Minute
	runtimeLogGlob = "*.log"

	// The audit log is kept a year, as audits of a year's changes ask; a webhook's ended
	// deliveries a month, long enough to look into a receiver's outage.
	auditRetention    = 365 * 24 * time.Hour
	deliveryRetention = 30 * 24 * time.Hour
)

// keepHouse applies the projects' retention, then collects unused blobs and build outputs,
// and caps the logs, until ctx ends.
func keepHouse(ctx context.Context, log *slog.Logger, st store.Store, blobStore artifacts.Store, deployments *deploy.Service, dataDir string, running func() []string) {
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
			applyRetention(ctx, log, st, deployments.Delete, time.Now())
			collectDeploymentDirs(ctx, log, deployments, filepath.Join(dataDir, "deployments"))
			collectBlobs(ctx, log, st, blobStore, blobGracePeriod)
			trimOutputs(ctx, log, st, deployments, running())
			pruneRecords(ctx, log, st, time.Now())
			collect.Reset(blobCollectEvery)
		case <-logs.C:
			capLogs(log, dataDir, maxLogBytes)
		}
	}
}

// trimOutputs bounds the build outputs fetched to this node, sparing those its instances run from.
// The owners of the running instances are looked up only once an output is to go: a node that
// shares no outputs, or holds less than its cap, asks the store nothing.
func trimOutputs(ctx context.Context, log *slog.Logger, st store.Store, deployments *deploy.Service, running []string) {
	var inUse map[string]bool
	runsFrom := func(owner string) bool {
		if inUse == nil {
			inUse = map[string]bool{}
			for _, id := range running {
				if d, err := st.GetDeployment(ctx, id); err == nil {
					inUse[d.OutputOwner()] = true
				} else {
					inUse[id] = true // unknown: kept, to be safe
				}
			}
		}
		return inUse[owner]
	}
	removed, freed, err := deployments.TrimOutputs(ctx, runsFrom)
	if err != nil && ctx.Err() == nil {
		log.Error("trim the build outputs held here", "error", err)
	}
	if removed > 0 {
		log.Info("build outputs trimmed; they are fetched again when needed", "removed", removed, "freed_bytes", freed)
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

// pruneRecords deletes the audit events and the ended webhook deliveries past their retention.
func pruneRecords(ctx context.Context, log *slog.Logger, st store.Store, now time.Time) {
	if n, err := st.PruneAudit(ctx, now.Add(-auditRetention)); err != nil {
		log.Error("cannot prune the audit log", "error", err)
	} else if n > 0 {
		log.Info("audit log pruned", "deleted", n, "kept_for", auditRetention.String())
	}
	if n, err := st.PruneDeliveries(ctx, now.Add(-deliveryRetention)); err != nil {
		log.Error("cannot prune the webhook deliveries", "error", err)
	} else if n > 0 {
		log.Info("webhook deliveries pruned", "deleted", n, "kept_for", deliveryRetention.String())
	}
}

// capLogs rotates engine.log and every deployment's runtime and access log
// (both *.log) that has grown past limit.
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

// applyRetention deletes the deployments the projects' retention and their teams' plans let go
// (see expiredDeployments) with remove.
func applyRetention(ctx context.Context, log *slog.Logger, st store.Store, remove func(context.Context, string) error, now time.Time) {
	projects, err := st.ListProjects(ctx)
	if err != nil {
		log.Error("retention skipped: cannot list the projects", "error", err)
		return
	}
	teams, err := st.ListTeams(ctx)
	if err != nil {
		log.Error("retention skipped: cannot list the teams", "error", err)
		return
	}
	retained := map[string]int{} // team id -> deployments its plan lets a project keep
	for _, team := range teams {
		if plan, ok := api.PlanNamed(team.Plan); ok {
			retained[team.ID] = plan.RetainedDeployments
		}
	}
	var served map[string]bool
	for _, p := range projects {
		keep := retained[p.TeamID]
		if p.Retention == (api.Retention{}) && keep <= 0 {
			continue // keeps everything: no need to read its deployments
		}
		if served == nil {
			if served, err = st.ServedDeployments(ctx); err != nil {
				log.Error("retention skipped: cannot list the deployments hostnames serve", "error", err)
				return
			}
		}
		list, err := st.ListDeployments(ctx, p.ID)
		if err != nil {
			log.Error("retention skipped for a project: cannot list its deployments", "project", p.Name, "error", err)
			continue
		}
		for _, d := range expiredDeployments(p.Retention, keep, list, served, now) {
			if err := remove(ctx, d.ID); err != nil {
				log.Error("retention: cannot delete an expired deployment", "project", p.Name, "deployment", d.ID, "error", err)
				continue
			}
			log.Info("retention: deployment expired and deleted", "project", p.Name, "deployment", d.ID,
				"state", d.State, "target", d.Target, "created_at", d.CreatedAt, "plan_keeps", keep)
		}
	}
}

// expiredDeployments are the deployments of list (a project's, newest first) that retention
// lets go at now, each by the period of its kind, as Vercel's retention does, and those beyond
// the newest keep (the plan's retained deployments; 0: no such count). Never one a production
// or branch hostname or an alias serves (served), one still queued or building, nor one of the
// newest api.KeptProductionDeployments READY production deployments: a rollback target stays,
// beyond keep too.
func expiredDeployments(retention api.Retention, keep int, list []*store.Deployment, served map[string]bool, now time.Time) []*store.Deployment {
	var expired []*store.Deployment
	productionSeen := 0
	for i, d := range list {
		var period string
		switch {
		case d.State == api.StateReady && d.Target == api.TargetProduction:
			productionSeen++
			if productionSeen <= api.KeptProductionDeployments {
				continue
			}
			period = retention.Production
		case d.State == api.StateReady:
			period = retention.Preview
		case d.State == api.StateError:
			period = retention.Errored
		case d.State == api.StateCanceled:
			period = retention.Canceled
		default:
			continue
		}
		if served[d.ID] {
			continue
		}
		beyondKeep := keep > 0 && i >= keep
		if expiry, expires := api.RetentionExpiry(period, d.CreatedAt); beyondKeep || (expires && !now.Before(expiry)) {
			expired = append(expired, d)
		}
	}
	return expired
}

// collectDeploymentDirs removes the directories of deployments that are gone and whose build
// output no redeploy serves, such as those a crash left between a delete and its cleanup.
func collectDeploymentDirs(ctx context.Context, log *slog.Logger, deployments *deploy.Service, dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		log.Error("cannot list the deployment directories", "error", err)
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "dpl_") {
			continue
		}
		if err := deployments.RemoveUnusedDir(ctx, e.Name()); err != nil {
			log.Error("cannot remove the directory of a deleted deployment", "deployment", e.Name(), "error", err)
		}
	}
	if removed, err := deployments.SweepUnfinished(unfinishedGracePeriod); err != nil {
		log.Error("cannot remove what unfinished builds and fetches left", "error", err)
	} else if removed > 0 {
		log.Info("removed what unfinished builds and fetches left", "entries", removed)
	}
}

// unfinishedGracePeriod is how old an unfinished build output or fetch must be to go: no build
// or fetch runs for a day.
const unfinishedGracePeriod = 24 * time.Hour
