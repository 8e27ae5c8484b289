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
	// MaxInstances is how many worker processes may serve a deployment, in its one sandbox: the
	// first starts with the first request, one more whenever requests wait with every running one
	// busy, and the newest stops after IdleTimeoutSeconds without a request.
	MaxInstances int64 `json:"max_instances,omitempty"`
	// MaxDurationSeconds a request may take before it gets 504 and its instance is replaced;
	// vercel.json's maxDuration overrides it for its functions.
	MaxDurationSeconds int64 `json:"max_duration_seconds,omitempty"`
	// WebSocketIdleTimeoutSeconds: an open WebSocket (ASGI apps) with no message either way for
	// this long is closed with 1001.
	WebSocketIdleTimeoutSeconds int64 `json:"websocket_idle_timeout_seconds,omitempty"`
	// WebSocketMaxMessageBytes is the largest message a client may send on a WebSocket, counted
	// inflated; a larger one closes the socket with 1009.
	WebSocketMaxMessageBytes int64 `json:"websocket_max_message_bytes,omitempty"`
}

// Defaults and bounds of FunctionSettings.
const (
	DefaultIdleTimeoutSeconds = 900
	DefaultConcurrency        = 4
	DefaultMaxInstances       = 2
	DefaultMaxDurationSeconds = 300
	// The WebSocket defaults are the engine's before they were settings; the message size is uvicorn's.
	DefaultWebSocketIdleTimeoutSeconds = 300
	DefaultWebSocketMaxMessageBytes    = 16 << 20

	MinIdleTimeoutSeconds = 1
	MaxIdleTimeoutSeconds = 7 * 24 * 3600
	MinConcurrency        = 1
	MaxConcurrency        = 1000
	MinMaxInstances       = 1
	MaxMaxInstances       = 64
	MinMaxDurationSeconds = 1
	MaxMaxDurationSeconds = 1800 // as vercel.json's maxDuration
	// An idle socket holds one of its instance's concurrency slots and keeps the instance from
	// scaling to zero: a day is plenty for a quiet client, and one that must stay longer can
	// send a heartbeat message.
	MinWebSocketIdleTimeoutSeconds = 1
	MaxWebSocketIdleTimeoutSeconds = 24 * 3600
	// The engine holds a whole message in memory before the app gets it, so the largest one
	// bounds what each open socket may cost it; below 1 KiB ordinary JSON messages would not fit.
	MinWebSocketMaxMessageBytes = 1 << 10
	MaxWebSocketMaxMessageBytes = 64 << 20
)
