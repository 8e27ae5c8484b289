package deploy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/sandbox"
)

// BuildLimits bound every build; they are the engine's, not the project's.
type BuildLimits struct {
	MemoryMB  int64 // 0 -> 4096
	Processes int64 // 0 -> 1024
	DiskMB    int64 // what the build directory may grow to; 0 -> 4096
}

func (l BuildLimits) withDefaults() BuildLimits {
	if l.MemoryMB == 0 {
		l.MemoryMB = 4096
	}
	if l.Processes == 0 {
		l.Processes = 1024
	}
	if l.DiskMB == 0 {
		l.DiskMB = 4096
	}
	return l
}

// EffectiveLimits fills what a project did not set with the defaults.
func EffectiveLimits(set *api.Limits) api.Limits {
	defaults := api.Limits{MemoryMB: api.DefaultMemoryMB, CPU: api.DefaultCPU, Processes: api.DefaultProcesses,
		OpenFiles: api.DefaultOpenFiles, BuildMinutes: api.DefaultBuildMinutes,
		FunctionSettings: api.FunctionSettings{IdleTimeoutSeconds: api.DefaultIdleTimeoutSeconds, Concurrency: api.DefaultConcurrency,
			MaxInstances: api.DefaultMaxInstances, MaxDurationSeconds: api.DefaultMaxDurationSeconds,
			WebSocketIdleTimeoutSeconds: api.DefaultWebSocketIdleTimeoutSeconds, WebSocketMaxMessageBytes: api.DefaultWebSocketMaxMessageBytes}}
	if set == nil {
		return defaults
	}
	return FillLimits(*set, defaults)
}

// FillLimits gives every zero field of set the value of that field in defaults.
func FillLimits(set, defaults api.Limits) api.Limits {
	fill := func(field *int64, value int64) {
		if *field == 0 {
			*field = value
		}
	}
	fill(&set.MemoryMB, defaults.MemoryMB)
	fill(&set.Processes, defaults.Processes)
	fill(&set.OpenFiles, defaults.OpenFiles)
	fill(&set.BuildMinutes, defaults.BuildMinutes)
	fill(&set.IdleTimeoutSeconds, defaults.IdleTimeoutSeconds)
	fill(&set.Concurrency, defaults.Concurrency)
	fill(&set.MaxInstances, defaults.MaxInstances)
	fill(&set.MaxDurationSeconds, defaults.MaxDurationSeconds)
	fill(&set.WebSocketIdleTimeoutSeconds, defaults.WebSocketIdleTimeoutSeconds)
	fill(&set.WebSocketMaxMessageBytes, defaults.WebSocketMaxMessageBytes)
	if set.CPU == 0 {
		set.CPU = defaults.CPU
	}
	return set
}

// InstanceLimits are the sandbox limits of a deployment's instances.
func InstanceLimits(l api.Limits) sandbox.Limits {
	return sandbox.Limits{MemoryMB: l.MemoryMB, CPU: l.CPU, Processes: l.Processes, OpenFiles: l.OpenFiles}
}

// projectIdentity is whom a project's builds and instances run as.
func (s *Service) projectIdentity(ctx context.Context, projectID string) (sandbox.Identity, error) {
	if !s.cfg.Sandbox.SeparateIdentities() {
		return sandbox.Identity{}, nil
	}
	first, last := s.cfg.Sandbox.UIDRange()
	uid, err := s.cfg.Store.ProjectUID(ctx, projectID, first, last)
	if err != nil {
		return sandbox.Identity{}, err
	}
	return sandbox.Identity{UID: uid, GID: uid}, nil
}

// errDiskLimit is why a build that wrote too much was stopped.
type errDiskLimit struct{ limitMB int64 }

func (e errDiskLimit) Error() string {
	return fmt.Sprintf("the build stopped: its directory grew past the engine's limit of %d MB; exclude large files from the source or install fewer dependencies", e.limitMB)
}

// watchDisk cancels the build when dir grows past limitMB, checking every interval.
func watchDisk(ctx context.Context, cancel context.CancelCauseFunc, dir string, limitMB int64, interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		if treeSize(dir) > limitMB<<20 {
			cancel(errDiskLimit{limitMB})
			return
		}
	}
}

// treeSize is the bytes of the regular files under dir (unreadable entries count as nothing).
func treeSize(dir string) int64 {
	var total int64
	_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			total += info.Size()
		}
		return nil
	})
	return total
}

// ConfineUnconfined records a sandbox for every READY deployment that has none (built before
// engines confined instances), as its build would now: its project's identity and limits, and a
// directory only that identity may enter. Without one, its instances could not start.
func (s *Service) ConfineUnconfined(ctx context.Context) error {
	unconfined, err := s.cfg.Store.UnconfinedDeployments(ctx)
	if err != nil {
		return fmt.Errorf("find deployments built without a sandbox: %w", err)
	}
	for _, d := range unconfined {
		identity, err := s.projectIdentity(ctx, d.ProjectID)
		if err != nil {
			return err
		}
		set, err := s.cfg.Store.ProjectLimits(ctx, d.ProjectID)
		if err != nil {
			return err
		}
		err = s.cfg.Sandbox.ShareWithProject(s.Dir(d.ID), identity)
		if errors.Is(err, fs.ErrNotExist) {
			s.cfg.Logger.Warn("a ready deployment has no files: it cannot be served", "deployment", d.ID, "dir", s.Dir(d.ID))
			continue
		}
		if err != nil {
			return fmt.Errorf("confine deployment %s, built before sandboxes: %w", d.ID, err)
		}
		if d.Run == nil {
			s.cfg.Logger.Warn("a ready deployment has no run spec: it cannot be served", "deployment", d.ID)
			continue
		}
		run := *d.Run
		run.UID, run.Limits = identity.UID, EffectiveLimits(set)
		if err := s.cfg.Store.SetRunSpec(ctx, d.ID, &run); err != nil {
			return err
		}
		s.cfg.Logger.Info("deployment built before sandboxes now runs in one", "deployment", d.ID, "uid", identity.UID)
	}
	return nil
}
