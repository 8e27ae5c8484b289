package edge

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/workers"
)

// A WebSocket through the edge reaches its app; once its host serves another
// deployment it is closed with 1001, while one opened on the deployment's own
// host stays open. The access log records the upgrade.
func TestWebSocketsFollowTheirHost(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import fastapi").Run(); err != nil {
		t.Skipf("/usr/bin/python3 cannot import fastapi: %v", err)
	}
	app, err := os.ReadFile("../workers/testdata/websocket/main.py")
	if err != nil {
		t.Fatal(err)
	}
	appDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(appDir, "main.py"), app, 0o644); err != nil {
		t.Fatal(err)
	}
	runDir, err := os.MkdirTemp("", "ferry-edge-") //nolint:usetesting // t.TempDir() is too long for socket paths
	if err != nil {
		t.Fatal(err)
	}
	runtime := workers.New(workers.Config{RunDir: runDir, LogDir: t.TempDir(), Workers: 1, MaxParked: -1})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := runtime.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		_ = os.RemoveAll(runDir)
	})
	var mu sync.Mutex
	var served []ServedRequest
	e := newTestEdge(t, Config{
		Runtime: runtime,
		App: func(d *store.Deployment) (workers.App, error) {
			return workers.App{ID: d.ID, Dir: appDir, Python: "/usr/bin/python3", Entrypoint: "main:app", Kind: runspec.KindASGI, Env: []string{"PATH=/usr/bin:/bin"}}, nil
		},
		Observe: func(r ServedRequest) {
			mu.Lock()
			served = append(served, r)
			mu.Unlock()
		},
	})
	e.project(t, "p1", "chat")
	e.deployment(t, "p1", "chat", "d1", "production", "READY")
	e.sync(t)

	dial := func(host string) *websocket.Conn {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http")+"/echo", &websocket.DialOptions{Host: host})
		if err != nil {
			t.Fatalf("dial %s: %v", host, err)
		}
		t.Cleanup(func() { _ = conn.CloseNow() })
		if err := conn.Write(ctx, websocket.MessageText, []byte("ping "+host)); err != nil {
			t.Fatal(err)
		}
		if _, got, err := conn.Read(ctx); err != nil || string(got) != "ping "+host {
			t.Fatalf("echo on %s: %q, %v", host, got, err)
		}
		return conn
	}
	production := dial("chat.localhost")
	own := dial("chat-d1.localhost")

	e.deployment(t, "p1", "chat", "d2", "production", "READY")
	e.sync(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _, err = production.Read(ctx)
	var closeErr websocket.CloseError
	if !errors.As(err, &closeErr) || closeErr.Code != websocket.StatusGoingAway || !strings.Contains(closeErr.Reason, "new deployment") {
		t.Fatalf("the production host's socket after a new production deployment: %v, want a close with 1001", err)
	}
	// The deployment's own host still leads to it.
	if err := own.Write(ctx, websocket.MessageText, []byte("still")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := own.Read(ctx); err != nil || string(got) != "still" {
		t.Fatalf("the deployment host's socket: %q, %v", got, err)
	}
	if err := own.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	// Each is recorded once its handler returns, just after the close.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(served)
		mu.Unlock()
		if n >= 2 {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(served) != 2 || served[0].Status != 101 || served[0].DeploymentID != "d1" || served[1].Status != 101 {
		t.Errorf("access log: %+v, want two upgrades (101) to d1", served)
	}
}
