package engine_test

import (
	"context"
	"net/url"
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
	writeFile(t, filepath.Join(dir, "main.py"), `import os
from fastapi import FastAPI, WebSocket, WebSocketDisconnect

app = FastAPI()

@app.websocket("/ws")
async def echo(ws: WebSocket):
    await ws.accept(subprotocol="echo.v1" if "echo.v1" in ws.scope["subprotocols"] else None)
    await ws.send_text("hello from " + os.environ["VERCEL_ENV"])
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None:
                await ws.send_text(message["text"].upper())
            else:
                await ws.send_bytes(message["bytes"][::-1])
    except WebSocketDisconnect:
        pass
`)
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
	conn, _, err := websocket.Dial(dialCtx, "ws://"+addr+"/ws", &websocket.DialOptions{Host: u.Host, Subprotocols: []string{"echo.v1"}})
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
	expect(websocket.MessageText, "hello from production")
	for _, m := range []struct {
		typ       websocket.MessageType
		sent, got string
	}{{websocket.MessageText, "shout", "SHOUT"}, {websocket.MessageBinary, "abc", "cba"}} {
		if err := conn.Write(dialCtx, m.typ, []byte(m.sent)); err != nil {
			t.Fatal(err)
		}
		expect(m.typ, m.got)
	}
	if err := conn.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
}
