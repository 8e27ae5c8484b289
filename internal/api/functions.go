package api

// FunctionSettings say how a project's instances serve, as Vercel's function settings do. A zero
// field takes its default, which is the engine's behaviour before the setting existed. A
// deployment keeps the settings in force when it was built.
type FunctionSettings struct {
	// IdleTimeoutSeconds: an instance without a request for this long is stopped (scale to
	// zero); the next request starts it again.
	IdleTimeoutSeconds int64 `json:"idle_timeout_seconds,omitempty"`
	// Concurrency is how many requests (or open WebSockets) one worker process serves at once;
	// more wait, up to the engine's --max-queue.
	Concurrency int64 `json:"concurrency,omitempty"`
	// MaxInstances is how many worker processes serve a deployment, in its one sandbox; they
	// start together at the first request and stop together when idle.
	MaxInstances int64 `json:"max_instances,omitempty"`
	// MaxDurationSeconds a request may take before it gets 504 and its instance is replaced;
	// vercel.json's maxDuration overrides it for its functions.
	MaxDurationSeconds int64 `json:"max_duration_seconds,omitempty"`
}

// Defaults and bounds of FunctionSettings.
const (
	DefaultIdleTimeoutSeconds = 900
	DefaultConcurrency        = 4
	DefaultMaxInstances       = 2
	DefaultMaxDurationSeconds = 300

	MinIdleTimeoutSeconds = 1
	MaxIdleTimeoutSeconds = 7 * 24 * 3600
	MinConcurrency        = 1
	MaxConcurrency        = 1000
	MinMaxInstances       = 1
	MaxMaxInstances       = 64
	MinMaxDurationSeconds = 1
	MaxMaxDurationSeconds = 1800 // as vercel.json's maxDuration
)
