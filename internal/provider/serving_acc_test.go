package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// testServing applies a project (with extra, its other settings) and a production deployment of
// the app in file (relative to internal/engine, as app.py or main.py), then runs check on the
// project's production URL.
func testServing(t *testing.T, file, as, extra string, check func(productionURL string) error) {
	e := startEngine(t)
	name := randomName()
	app, err := os.ReadFile("../engine/" + file)
	if err != nil {
		t.Fatal(err)
	}
	appDir := t.TempDir()
	writeApp(t, appDir, map[string]string{as: string(app)})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		CheckDestroy:             e.checkProjectsGone(name),
		Steps: []resource.TestStep{{
			Config: e.config(fmt.Sprintf(`
resource "ferry_project" "app" {
  name = %q
  %s
}
resource "ferry_deployment" "prod" {
  project_id = ferry_project.app.id
  source     = { path = %q }
  production = true
}`, name, extra, appDir)),
			Check: func(*terraform.State) error {
				return check(fmt.Sprintf("http://%s.localhost:%s", name, e.httpPort))
			},
		}},
	})
}

// The acceptance list: a WebSocket echo; a message past the project's
// websocket_max_message_bytes closes the socket with 1009.
func TestAccWebSocketEcho(t *testing.T) {
	extra := `framework = "fastapi"
  limits    = { websocket_max_message_bytes = 1024 }`
	testServing(t, "workers/testdata/websocket/main.py", "main.py", extra, func(productionURL string) error {
		answer, err := echoOverWebSocket(productionURL+"/echo", "hello")
		if err != nil {
			return err
		}
		if answer != "hello" {
			return fmt.Errorf("WebSocket echo at %s answered %q", productionURL, answer)
		}
		if _, err := echoOverWebSocket(productionURL+"/echo", strings.Repeat("x", 1025)); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
			return fmt.Errorf("a message past websocket_max_message_bytes = 1024: %v, want a close with 1009", err)
		}
		return nil
	})
}

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

// The acceptance list: a function that sleeps past its maximum duration gets 504, and an
// idle instance stops and the next request starts it, both set in the project's limits.
func TestAccFunctionSettings(t *testing.T) {
	testServing(t, "testdata/sleepy/app.py", "app.py", `limits = { idle_timeout_seconds = 1, max_duration_seconds = 1 }`, func(productionURL string) error {
		if status, body, err := get(productionURL + "/sleep?3"); err != nil || status != http.StatusGatewayTimeout {
			return fmt.Errorf("a request past max_duration_seconds = 1: %d %q %v, want 504", status, body, err)
		}
		_, first, err := get(productionURL)
		if err != nil {
			return err
		}
		time.Sleep(2500 * time.Millisecond)
		_, second, err := get(productionURL)
		if err != nil {
			return err
		}
		if second == first {
			return fmt.Errorf("after 2.5s idle the same instance (start %s) answered: it did not stop", first)
		}
		return nil
	})
}
