package apiserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/deploy"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// queueableRequest creates a project and uploads one file, returning a
// deployment request the engine accepts.
func queueableRequest(t *testing.T, srv *httptest.Server) api.DeploymentRequest {
	t.Helper()
	var p api.Project
	if status, e := call(t, srv, "POST", "/v1/projects", api.ProjectRequest{Name: "hello"}, &p); status != 201 {
		t.Fatalf("create project: %d %+v", status, e)
	}
	content := []byte("app = None\n")
	sum := sha256.Sum256(content)
	digest := hex.EncodeToString(sum[:])
	if status, e := call(t, srv, "PUT", "/v1/files/"+digest, content, nil); status != 204 {
		t.Fatalf("upload: %d %+v", status, e)
	}
	return api.DeploymentRequest{ProjectID: p.ID, Files: []api.File{{Path: "app.py", Digest: digest, Size: int64(len(content)), Mode: 0o644}}}
}

func TestQueueFullAnswers429AndCreatesNothing(t *testing.T) {
	srv, _ := newTestServer(t) // no workers: every deployment waits
	req := queueableRequest(t, srv)
	for i := 0; i < deploy.DefaultMaxQueuedBuilds; i++ {
		if status, e := call(t, srv, "POST", "/v1/deployments", req, nil); status != 201 {
			t.Fatalf("deployment %d: %d %+v", i+1, status, e)
		}
	}
	status, e := call(t, srv, "POST", "/v1/deployments", req, nil)
	if status != http.StatusTooManyRequests || e.Code != api.CodeQueueFull || !strings.Contains(e.Message, "nothing was created") {
		t.Fatalf("one more than the queue holds: %d %+v", status, e)
	}
	var list api.DeploymentList
	call(t, srv, "GET", "/v1/deployments?project=hello", nil, &list)
	if len(list.Deployments) != deploy.DefaultMaxQueuedBuilds {
		t.Errorf("%d deployments stored, want %d", len(list.Deployments), deploy.DefaultMaxQueuedBuilds)
	}
}

// A project deleted just as a deployment of it was created takes the deployment with it: the
// creator hears 404, not an internal error.
func TestDeploymentOfAProjectDeletedAsItIsCreated(t *testing.T) {
	var st store.Store
	srv, st := newTestServer(t, func(cfg *deploy.Config) {
		cfg.DeploymentEvent = func(eventType string, d *store.Deployment) {
			if eventType != api.EventDeploymentCreated {
				return
			}
			if _, err := st.DeleteProject(context.Background(), d.ProjectID); err != nil {
				t.Errorf("delete the project: %v", err)
			}
		}
	})
	req := queueableRequest(t, srv)
	status, e := call(t, srv, "POST", "/v1/deployments", req, nil)
	if status != http.StatusNotFound || !strings.Contains(e.Message, "deleted with its project") {
		t.Fatalf("deployment of a project deleted meanwhile: %d %+v", status, e)
	}
}

func TestCancelEndpoint(t *testing.T) {
	srv, _ := newTestServer(t)
	req := queueableRequest(t, srv)
	var d api.Deployment
	if status, e := call(t, srv, "POST", "/v1/deployments", req, &d); status != 201 {
		t.Fatalf("create: %d %+v", status, e)
	}
	for range 2 { // canceling twice answers the same
		var canceled api.Deployment
		if status, e := call(t, srv, "POST", "/v1/deployments/"+d.ID+"/cancel", nil, &canceled); status != 200 || canceled.State != api.StateCanceled || canceled.ID != d.ID {
			t.Fatalf("cancel: %d %+v %+v", status, e, canceled)
		}
	}
	var got api.Deployment
	if call(t, srv, "GET", "/v1/deployments/"+d.ID, nil, &got); got.State != api.StateCanceled {
		t.Errorf("after cancel: %s", got.State)
	}
	if status, e := call(t, srv, "POST", "/v1/deployments/dpl_nope/cancel", nil, nil); status != 404 || e.Code != api.CodeNotFound {
		t.Errorf("cancel of a missing deployment: %d %+v", status, e)
	}
}
