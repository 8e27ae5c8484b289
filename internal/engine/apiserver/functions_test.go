package apiserver

import (
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/deploy"
)

func TestFunctionSettings(t *testing.T) {
	s := newInputServer(t, deploy.Limits{})
	var p api.Project
	if status, e := call(t, s.srv, "POST", api.PathProjects, api.ProjectRequest{Name: "defaults"}, &p); status != 201 {
		t.Fatalf("create: %d %+v", status, e)
	}
	want := api.FunctionSettings{IdleTimeoutSeconds: 900, Concurrency: 4, MaxInstances: 2, MaxDurationSeconds: 300,
		WebSocketIdleTimeoutSeconds: 300, WebSocketMaxMessageBytes: 16 << 20}
	if p.Limits.FunctionSettings != want {
		t.Errorf("defaults in force: %+v, want %+v", p.Limits.FunctionSettings, want)
	}

	set := api.FunctionSettings{IdleTimeoutSeconds: 1, Concurrency: 1, MaxInstances: 1, MaxDurationSeconds: 1,
		WebSocketIdleTimeoutSeconds: 1, WebSocketMaxMessageBytes: 1024}
	if status, e := call(t, s.srv, "POST", api.PathProjects, api.ProjectRequest{Name: "set", Limits: &api.Limits{FunctionSettings: set}}, &p); status != 201 {
		t.Fatalf("create: %d %+v", status, e)
	}
	if p.Limits.FunctionSettings != set {
		t.Errorf("settings in force: %+v, want %+v", p.Limits.FunctionSettings, set)
	}

	for _, tc := range []struct {
		settings api.FunctionSettings
		want     string
	}{
		{api.FunctionSettings{IdleTimeoutSeconds: -1}, "idle_timeout_seconds -1 is out of range: give 1 to 604800 (seconds)"},
		{api.FunctionSettings{Concurrency: 1001}, "concurrency 1001 is out of range: give 1 to 1000 (requests per instance)"},
		{api.FunctionSettings{MaxInstances: 65}, "max_instances 65 is out of range: give 1 to 64"},
		{api.FunctionSettings{MaxDurationSeconds: 1801}, "max_duration_seconds 1801 is out of range: give 1 to 1800 (seconds)"},
		{api.FunctionSettings{WebSocketIdleTimeoutSeconds: -5}, "websocket_idle_timeout_seconds -5 is out of range: give 1 to 86400 (seconds)"},
		{api.FunctionSettings{WebSocketIdleTimeoutSeconds: 86401}, "websocket_idle_timeout_seconds 86401 is out of range: give 1 to 86400 (seconds)"},
		{api.FunctionSettings{WebSocketMaxMessageBytes: 1023}, "websocket_max_message_bytes 1023 is out of range: give 1024 to 67108864 (bytes)"},
		{api.FunctionSettings{WebSocketMaxMessageBytes: 64<<20 + 1}, "websocket_max_message_bytes 67108865 is out of range: give 1024 to 67108864 (bytes)"},
	} {
		status, e := call(t, s.srv, "POST", api.PathProjects, api.ProjectRequest{Name: "bad", Limits: &api.Limits{FunctionSettings: tc.settings}}, nil)
		if status != 400 || !strings.Contains(e.Message, tc.want) {
			t.Errorf("%+v: %d %+v, want 400 saying %q", tc.settings, status, e, tc.want)
		}
	}
}
