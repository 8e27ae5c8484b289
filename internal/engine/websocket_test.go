package engine_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
)

// A FastAPI app's WebSocket, built and served by a real engine, in its sandbox, over HTTP (ws) and
// HTTPS (wss, the engine's local CA); the project's message size limit is its sockets'.
func TestWebSocketThroughTheEngine(t *testing.T) {
	if err := exec.Command(python, "-c", "import fastapi").Run(); err != nil {
		t.Skipf("%s cannot import fastapi (apt-get install python3-fastapi): %v", python, err)
	}
	httpsAddress := freeport.Loopback(t)
	c, addr, dataDir := startEngineWithDataDir(t, func(cfg *engine.Config) { cfg.HTTPSAddress = httpsAddress })
	ctx := context.Background()
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "sockets", Framework: api.FrameworkFastAPI,
		Limits: &api.Limits{FunctionSettings: api.FunctionSettings{WebSocketMaxMessageBytes: 1024}}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	app, err := os.ReadFile("workers/testdata/websocket/main.py")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "main.py"), string(app))
	d := deploy(t, c, p.ID, dir)
	if d.State != api.StateReady {
		t.Fatalf("build: %s %q", d.State, d.ErrorMessage)
	}
	u, err := url.Parse(d.URL)
	if err != nil {
		t.Fatal(err)
	}
	roots := localCARoots(t, dataDir)
	host := u.Hostname()
	for _, tc := range []struct {
		scheme, address string
		tls             *tls.Config
	}{{"ws", addr, nil}, {"wss", httpsAddress, &tls.Config{RootCAs: roots}}} {
		t.Run(tc.scheme, func(t *testing.T) {
			dialCtx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			dialer := &net.Dialer{Timeout: 5 * time.Second}
			client := &http.Client{Transport: &http.Transport{
				DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
					return dialer.DialContext(ctx, network, tc.address)
				},
				TLSClientConfig: tc.tls,
			}}
			dial := func() (*websocket.Conn, *http.Response) {
				conn, resp, err := websocket.Dial(dialCtx, tc.scheme+"://"+host+"/echo", &websocket.DialOptions{HTTPClient: client, Subprotocols: []string{"echo.v1"}})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = conn.CloseNow() })
				return conn, resp
			}
			conn, resp := dial()
			if conn.Subprotocol() != "echo.v1" || resp.Header.Get("X-Scheme") != tc.scheme {
				t.Errorf("subprotocol %q, the app's scope scheme %q", conn.Subprotocol(), resp.Header.Get("X-Scheme"))
			}
			for _, m := range []struct {
				typ  websocket.MessageType
				data string
			}{{websocket.MessageText, "hello, ünïcode"}, {websocket.MessageBinary, "\x00\xff"}} {
				if err := conn.Write(dialCtx, m.typ, []byte(m.data)); err != nil {
					t.Fatal(err)
				}
				gotType, got, err := conn.Read(dialCtx)
				if err != nil || gotType != m.typ || string(got) != m.data {
					t.Fatalf("read %v %q, %v; want %v %q", gotType, got, err, m.typ, m.data)
				}
			}
			if err := conn.Close(websocket.StatusNormalClosure, "bye"); err != nil {
				t.Fatal(err)
			}

			tooBig, _ := dial()
			if err := tooBig.Write(dialCtx, websocket.MessageBinary, make([]byte, 1025)); err != nil {
				t.Fatal(err)
			}
			if _, _, err := tooBig.Read(dialCtx); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
				t.Errorf("a message past the project's limit of 1024 bytes: %v, want a close with 1009", err)
			}
		})
	}
}
