package apiserver

import "github.com/ferryhq/terraform-provider-ferry/internal/api"

// validateFunctionSettings refuses settings outside their bounds; zero takes the default.
func validateFunctionSettings(f api.FunctionSettings) error {
	for _, setting := range []struct {
		name          string
		value, lo, hi int64
		unit          string
	}{
		{"idle_timeout_seconds", f.IdleTimeoutSeconds, api.MinIdleTimeoutSeconds, api.MaxIdleTimeoutSeconds, " (seconds)"},
		{"concurrency", f.Concurrency, api.MinConcurrency, api.MaxConcurrency, " (requests per instance)"},
		{"max_instances", f.MaxInstances, api.MinMaxInstances, api.MaxMaxInstances, ""},
		{"max_duration_seconds", f.MaxDurationSeconds, api.MinMaxDurationSeconds, api.MaxMaxDurationSeconds, " (seconds)"},
		{"websocket_idle_timeout_seconds", f.WebSocketIdleTimeoutSeconds, api.MinWebSocketIdleTimeoutSeconds, api.MaxWebSocketIdleTimeoutSeconds, " (seconds)"},
		{"websocket_max_message_bytes", f.WebSocketMaxMessageBytes, api.MinWebSocketMaxMessageBytes, api.MaxWebSocketMaxMessageBytes, " (bytes)"},
	} {
		if setting.value != 0 && (setting.value < setting.lo || setting.value > setting.hi) {
			return badRequest("limits."+setting.name, "%s %d is out of range: give %d to %d%s", setting.name, setting.value, setting.lo, setting.hi, setting.unit)
		}
	}
	return nil
}
