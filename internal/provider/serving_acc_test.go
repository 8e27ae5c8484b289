package provider

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// webSocketEchoApp is a FastAPI app with a WebSocket echo at /ws.
var webSocketEchoApp = map[string]string{"main.py": `
from fastapi import FastAPI, WebSocket, WebSocketDisconnect

app = FastAPI()

@app.websocket("/ws")
async def echo(ws: WebSocket):
    await ws.accept()
    try:
        while True:
            await ws.send_text("echo: " + await ws.receive_text())
    except WebSocketDisconnect:
        pass
`}

// echoOverWebSocket opens a WebSocket to rawURL (http://host.localhost:port/path), sends text and
// returns the answer.
func echoOverWebSocket(rawURL, text string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws://127.0.0.1:"+u.Port()+u.Path, &websocket.DialOptions{Host: u.Host})
	if err != nil {
		return "", fmt.Errorf("dial %s: %w", rawURL, err)
	}
	defer func() { _ = conn.CloseNow() }()
	if err := conn.Write(ctx, websocket.MessageText, []byte(text)); err != nil {
		return "", err
	}
	_, answer, err := conn.Read(ctx)
	if err != nil {
		return "", err
	}
	return string(answer), conn.Close(websocket.StatusNormalClosure, "")
}

func TestAccWebSocketEcho(t *testing.T) {
	e := startEngine(t)
	name := randomName()
	appDir := t.TempDir()
	writeApp(t, appDir, webSocketEchoApp)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		CheckDestroy:             e.checkProjectsGone(name),
		Steps: []resource.TestStep{{
			Config: e.config(fmt.Sprintf(`
resource "ferry_project" "app" {
  name      = %q
  framework = "fastapi"
}
resource "ferry_deployment" "prod" {
  project_id = ferry_project.app.id
  source     = { path = %q }
  production = true
}`, name, appDir)),
			Check: func(*terraform.State) error {
				productionURL := fmt.Sprintf("http://%s.localhost:%s/ws", name, e.httpPort)
				answer, err := echoOverWebSocket(productionURL, "hello")
				if err != nil {
					return err
				}
				if answer != "echo: hello" {
					return fmt.Errorf("WebSocket echo at %s answered %q", productionURL, answer)
				}
				return nil
			},
		}},
	})
}
