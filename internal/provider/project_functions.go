package provider

import (
	"fmt"
	"maps"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// withFunctionSettings adds to the limits block's attributes those of how instances serve, as
// Vercel's function settings.
func withFunctionSettings(attributes map[string]schema.Attribute) map[string]schema.Attribute {
	between := func(def, least, most int64, description string) schema.Int64Attribute {
		return schema.Int64Attribute{
			Optional: true, Computed: true, Default: int64default.StaticInt64(def),
			MarkdownDescription: fmt.Sprintf("%s Default %d, from %d to %d.", description, def, least, most),
			Validators:          []validator.Int64{int64validator.Between(least, most)},
		}
	}
	// Most settings' least value is 1.
	setting := func(def, most int64, description string) schema.Int64Attribute {
		return between(def, 1, most, description)
	}
	maps.Copy(attributes, map[string]schema.Attribute{
		"idle_timeout_seconds": setting(api.DefaultIdleTimeoutSeconds, api.MaxIdleTimeoutSeconds,
			"Seconds without a request after which a deployment's instances stop (scale to zero); the next request starts them again, "+
				"from a prepared process when the engine has one. An open WebSocket counts as a request."),
		"concurrency": setting(api.DefaultConcurrency, api.MaxConcurrency,
			"Requests one worker process serves at once (threads of a WSGI app, connections of an ASGI app's event loop); an open "+
				"WebSocket holds one. More wait for a free one, up to the engine's `--max-queue`, then get 503 with `Retry-After`."),
		"max_instances": setting(api.DefaultMaxInstances, api.MaxMaxInstances,
			"Python worker processes that may serve a deployment, each serving `concurrency` requests at once. They share the "+
				"deployment's sandbox and its limits (memory, CPU, processes). The first starts with the first request; one more starts "+
				"whenever requests wait with every running one busy, up to this many; the newest stops after `idle_timeout_seconds` "+
				"without a request, and the first with the deployment (scale to zero)."),
		"max_duration_seconds": setting(api.DefaultMaxDurationSeconds, api.MaxMaxDurationSeconds,
			"Seconds a request may take before it gets 504 and its instance is replaced, as Vercel's `maxDuration`. "+
				"A `maxDuration` in vercel.json's `functions` overrides it for the functions it names. A WebSocket (ASGI apps) has it "+
				"to be accepted; once open it lasts until a side closes it or `websocket_idle_timeout_seconds` pass without a message."),
		"websocket_idle_timeout_seconds": between(api.DefaultWebSocketIdleTimeoutSeconds, api.MinWebSocketIdleTimeoutSeconds,
			api.MaxWebSocketIdleTimeoutSeconds,
			"Seconds an open WebSocket (ASGI apps) may go without a message either way before the engine closes it with 1001 "+
				"(going away); a client that must stay quiet for longer can send a heartbeat message."),
		"websocket_max_message_bytes": between(api.DefaultWebSocketMaxMessageBytes, api.MinWebSocketMaxMessageBytes,
			api.MaxWebSocketMaxMessageBytes,
			"Largest message in bytes a client may send on a WebSocket, counted after permessage-deflate inflates it; "+
				"a larger one closes the socket with 1009 (message too big). The default is uvicorn's."),
	})
	return attributes
}
