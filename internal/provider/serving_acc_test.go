package provider

import (
	"context"
	"fmt"
	"net/http"
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

// sleepyApp answers /sleep?SECONDS after sleeping, and anything else with a token of its start.
var sleepyApp = map[string]string{"app.py": `import os, time

START = os.urandom(8).hex()

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    if environ["PATH_INFO"] == "/sleep":
        time.sleep(float(environ["QUERY_STRING"]))
        return [b"slept"]
    return [START.encode()]
`}

// The acceptance list: a function that sleeps past its maximum duration gets 504, and an
// idle instance stops and the next request starts it, both set in the project's limits.
func TestAccFunctionSettings(t *testing.T) {
	e := startEngine(t)
	name := randomName()
	appDir := t.TempDir()
	writeApp(t, appDir, sleepyApp)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		CheckDestroy:             e.checkProjectsGone(name),
		Steps: []resource.TestStep{{
			Config: e.config(fmt.Sprintf(`
resource "ferry_project" "app" {
  name   = %q
  limits = { idle_timeout_seconds = 1, max_duration_seconds = 1 }
}
resource "ferry_deployment" "prod" {
  project_id = ferry_project.app.id
  source     = { path = %q }
  production = true
}`, name, appDir)),
			Check: func(*terraform.State) error {
				base := fmt.Sprintf("http://%s.localhost:%s", name, e.httpPort)
				if status, body, err := get(base + "/sleep?3"); err != nil || status != http.StatusGatewayTimeout {
					return fmt.Errorf("a request past max_duration_seconds = 1: %d %q %v, want 504", status, body, err)
				}
				_, first, err := get(base)
				if err != nil {
					return err
				}
				time.Sleep(2500 * time.Millisecond)
				_, second, err := get(base)
				if err != nil {
					return err
				}
				if second == first {
					return fmt.Errorf("after 2.5s idle the same instance (start %s) answered: it did not stop", first)
				}
				return nil
			},
		}},
	})
}
