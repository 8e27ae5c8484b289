package engine_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// A FastAPI app's WebSocket, built and served by a real engine, in its sandbox.
func TestWebSocketThroughTheEngine(t *testing.T) {
	if err := exec.Command(python, "-c", "import fastapi").Run(); err != nil {
		t.Skipf("%s cannot import fastapi (apt-get install python3-fastapi): %v", python, err)
	}
	c, addr := startEngine(t)
	ctx := context.Background()
	p, err := c.CreateProject(ctx, api.ProjectRequest{Name: "sockets", Framework: api.FrameworkFastAPI})
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
	dialCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	conn, _, err := websocket.Dial(dialCtx, "ws://"+addr+"/echo", &websocket.DialOptions{Host: u.Host, Subprotocols: []string{"echo.v1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.CloseNow() }()
	if conn.Subprotocol() != "echo.v1" {
		t.Errorf("subprotocol %q", conn.Subprotocol())
	}
	expect := func(typ websocket.MessageType, want string) {
		t.Helper()
		gotType, got, err := conn.Read(dialCtx)
		if err != nil || gotType != typ || string(got) != want {
			t.Fatalf("read %v %q, %v; want %v %q", gotType, got, err, typ, want)
		}
	}
	for _, m := range []struct {
		typ  websocket.MessageType
		data string
	}{{websocket.MessageText, "hello, ünïcode"}, {websocket.MessageBinary, "\x00\xff"}} {
		if err := conn.Write(dialCtx, m.typ, []byte(m.data)); err != nil {
			t.Fatal(err)
		}
		expect(m.typ, m.data)
	}
	if err := conn.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
}
