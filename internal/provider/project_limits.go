package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/float64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// limitsModel is ferry_project's limits block.
type limitsModel struct {
	MemoryMB  types.Int64   `tfsdk:"memory_mb"`
	CPU       types.Float64 `tfsdk:"cpu"`
	Processes types.Int64   `tfsdk:"processes"`
	OpenFiles types.Int64   `tfsdk:"open_files"`

	BuildMinutes types.Int64 `tfsdk:"build_minutes"`

	IdleTimeoutSeconds types.Int64 `tfsdk:"idle_timeout_seconds"`
	Concurrency        types.Int64 `tfsdk:"concurrency"`
	MaxInstances       types.Int64 `tfsdk:"max_instances"`
	MaxDurationSeconds types.Int64 `tfsdk:"max_duration_seconds"`

	WebSocketIdleTimeoutSeconds types.Int64 `tfsdk:"websocket_idle_timeout_seconds"`
	WebSocketMaxMessageBytes    types.Int64 `tfsdk:"websocket_max_message_bytes"`
}

var limitsAttrTypes = map[string]attr.Type{
	"memory_mb": types.Int64Type, "cpu": types.Float64Type, "processes": types.Int64Type, "open_files": types.Int64Type,
	"build_minutes":        types.Int64Type,
	"idle_timeout_seconds": types.Int64Type, "concurrency": types.Int64Type, "max_instances": types.Int64Type, "max_duration_seconds": types.Int64Type,
	"websocket_idle_timeout_seconds": types.Int64Type, "websocket_max_message_bytes": types.Int64Type,
}

// limitsAttribute: every field has its default, so removing one from the configuration goes
// back to the default instead of keeping the last value.
func limitsAttribute() schema.SingleNestedAttribute {
	defaults := types.ObjectValueMust(limitsAttrTypes, map[string]attr.Value{
		"memory_mb": types.Int64Value(api.DefaultMemoryMB), "cpu": types.Float64Value(api.DefaultCPU),
		"processes": types.Int64Value(api.DefaultProcesses), "open_files": types.Int64Value(api.DefaultOpenFiles),
		"build_minutes":        types.Int64Value(api.DefaultBuildMinutes),
		"idle_timeout_seconds": types.Int64Value(api.DefaultIdleTimeoutSeconds), "concurrency": types.Int64Value(api.DefaultConcurrency),
		"max_instances": types.Int64Value(api.DefaultMaxInstances), "max_duration_seconds": types.Int64Value(api.DefaultMaxDurationSeconds),
		"websocket_idle_timeout_seconds": types.Int64Value(api.DefaultWebSocketIdleTimeoutSeconds),
		"websocket_max_message_bytes":    types.Int64Value(api.DefaultWebSocketMaxMessageBytes),
	})
	return schema.SingleNestedAttribute{
		Optional: true,
		Computed: true,
		Default:  objectdefault.StaticValue(defaults),
		MarkdownDescription: "Limits of each instance of the project's deployments, enforced by the engine's sandbox, of its builds' time, " +
			"and how its instances serve, as Vercel's function settings. " +
			"A deployment keeps the limits in force when it was built. The engine refuses values above its own maximums " +
			"(`ferry serve` settings).",
		Attributes: withFunctionSettings(map[string]schema.Attribute{
			"memory_mb": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(api.DefaultMemoryMB),
				MarkdownDescription: fmt.Sprintf("Memory in MB, as Vercel's `functions.memory`. An instance that passes it is stopped, "+
					"its request answered 502, and the next request starts a fresh one. Default %d, at least %d.", api.DefaultMemoryMB, api.MinMemoryMB),
				Validators: []validator.Int64{int64validator.AtLeast(api.MinMemoryMB)},
			},
			"cpu": schema.Float64Attribute{
				Optional: true, Computed: true, Default: float64default.StaticFloat64(api.DefaultCPU),
				MarkdownDescription: fmt.Sprintf("CPU cores an instance may use at most, such as `0.5` or `2`. Default %g, at least %g.", api.DefaultCPU, api.MinCPU),
				Validators:          []validator.Float64{float64validator.AtLeast(api.MinCPU)},
			},
			"processes": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(api.DefaultProcesses),
				MarkdownDescription: fmt.Sprintf("Processes and threads of an instance. Default %d, at least %d.", api.DefaultProcesses, api.MinProcesses),
				Validators:          []validator.Int64{int64validator.AtLeast(api.MinProcesses)},
			},
			"open_files": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(api.DefaultOpenFiles),
				MarkdownDescription: fmt.Sprintf("Open files of each process of an instance. Default %d, at least %d.", api.DefaultOpenFiles, api.MinOpenFiles),
				Validators:          []validator.Int64{int64validator.AtLeast(api.MinOpenFiles)},
			},
			"build_minutes": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(api.DefaultBuildMinutes),
				MarkdownDescription: fmt.Sprintf("Minutes a build may run before it is stopped and fails, at most the engine's "+
					"`--build-timeout`. Default %d, as on Vercel.", api.DefaultBuildMinutes),
				Validators: []validator.Int64{int64validator.AtLeast(api.MinBuildMinutes)},
			},
		}),
	}
}

func (l *limitsModel) request() *api.Limits {
	if l == nil {
		return nil
	}
	return &api.Limits{MemoryMB: l.MemoryMB.ValueInt64(), CPU: l.CPU.ValueFloat64(), Processes: l.Processes.ValueInt64(),
		OpenFiles: l.OpenFiles.ValueInt64(), BuildMinutes: l.BuildMinutes.ValueInt64(),
		FunctionSettings: api.FunctionSettings{IdleTimeoutSeconds: l.IdleTimeoutSeconds.ValueInt64(), Concurrency: l.Concurrency.ValueInt64(),
			MaxInstances: l.MaxInstances.ValueInt64(), MaxDurationSeconds: l.MaxDurationSeconds.ValueInt64(),
			WebSocketIdleTimeoutSeconds: l.WebSocketIdleTimeoutSeconds.ValueInt64(), WebSocketMaxMessageBytes: l.WebSocketMaxMessageBytes.ValueInt64()}}
}

func limitsFrom(l api.Limits) *limitsModel {
	return &limitsModel{
		MemoryMB: types.Int64Value(l.MemoryMB), CPU: types.Float64Value(l.CPU),
		Processes: types.Int64Value(l.Processes), OpenFiles: types.Int64Value(l.OpenFiles),
		BuildMinutes:       types.Int64Value(l.BuildMinutes),
		IdleTimeoutSeconds: types.Int64Value(l.IdleTimeoutSeconds), Concurrency: types.Int64Value(l.Concurrency),
		MaxInstances: types.Int64Value(l.MaxInstances), MaxDurationSeconds: types.Int64Value(l.MaxDurationSeconds),
		WebSocketIdleTimeoutSeconds: types.Int64Value(l.WebSocketIdleTimeoutSeconds),
		WebSocketMaxMessageBytes:    types.Int64Value(l.WebSocketMaxMessageBytes),
	}
}
