package apiserver

import (
	"context"
	"runtime"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/deploy"
)

// DefaultMaxLimits are the engine-wide maximums of project limits unless configured.
func DefaultMaxLimits() api.Limits {
	return api.Limits{MemoryMB: 8192, CPU: float64(runtime.NumCPU()), Processes: 4096, OpenFiles: 65536, BuildMinutes: api.DefaultBuildMinutes}
}

// validateLimits refuses limits outside [minimum, the engine's maximum].
func validateLimits(l *api.Limits, maxima api.Limits) error {
	if l == nil {
		return nil
	}
	switch {
	case l.MemoryMB != 0 && (l.MemoryMB < api.MinMemoryMB || l.MemoryMB > maxima.MemoryMB):
		return badRequest("limits.memory_mb", "memory_mb %d is out of range: give %d to %d (MB)", l.MemoryMB, api.MinMemoryMB, maxima.MemoryMB)
	case l.CPU != 0 && (l.CPU < api.MinCPU || l.CPU > maxima.CPU):
		return badRequest("limits.cpu", "cpu %g is out of range: give %g to %g (cores)", l.CPU, api.MinCPU, maxima.CPU)
	case l.Processes != 0 && (l.Processes < api.MinProcesses || l.Processes > maxima.Processes):
		return badRequest("limits.processes", "processes %d is out of range: give %d to %d", l.Processes, api.MinProcesses, maxima.Processes)
	case l.OpenFiles != 0 && (l.OpenFiles < api.MinOpenFiles || l.OpenFiles > maxima.OpenFiles):
		return badRequest("limits.open_files", "open_files %d is out of range: give %d to %d", l.OpenFiles, api.MinOpenFiles, maxima.OpenFiles)
	case l.BuildMinutes != 0 && (l.BuildMinutes < api.MinBuildMinutes || l.BuildMinutes > maxima.BuildMinutes):
		return badRequest("limits.build_minutes", "build_minutes %d is out of range: give %d to %d (the engine's --build-timeout)", l.BuildMinutes, api.MinBuildMinutes, maxima.BuildMinutes)
	}
	return validateFunctionSettings(l.FunctionSettings)
}

func (s *Server) projectLimits(ctx context.Context, projectID string) (api.Limits, error) {
	set, err := s.cfg.Store.ProjectLimits(ctx, projectID)
	return deploy.EffectiveLimits(set), err
}
