package workers

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
)

// webSocketApp is a FastAPI app with WebSocket endpoints (see its docstring); the tests of the edge,
// the engine and the provider serve it too.
//
//go:embed testdata/websocket/main.py
var webSocketApp string

func newWebSocketHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	return newHarness(t, cfg, webSocketEchoApp(t))
}

// webSocketEchoApp is the FastAPI app of webSocketApp.
func webSocketEchoApp(t *testing.T) App {
	t.Helper()
	requirePython(t, "fastapi")
	return App{Kind: runspec.KindASGI, Dir: writeApp(t, map[string]string{"main.py": webSocketApp}), Entrypoint: "main:app"}
}

func (h *harness) dial(t *testing.T, path string, opts *websocket.DialOptions) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.server.URL, "http")+path, opts)
}

func (h *harness) mustDial(t *testing.T, path string) *websocket.Conn {
	t.Helper()
	conn, _, err := h.dial(t, path, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	conn.SetReadLimit(4 << 20)
	t.Cleanup(func() { _ = conn.CloseNow() })
	return conn
}

func echo(t *testing.T, conn *websocket.Conn, typ websocket.MessageType, data []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := conn.Write(ctx, typ, data); err != nil {
		t.Fatalf("write: %v", err)
	}
	gotType, got, err := conn.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if gotType != typ || !bytes.Equal(got, data) {
		t.Fatalf("echo of a %v message of %d bytes: got a %v message of %d bytes", typ, len(data), gotType, len(got))
	}
}

// awaitClose reads until the socket closes and returns how.
func awaitClose(t *testing.T, conn *websocket.Conn) websocket.CloseError {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		_, _, err := conn.Read(ctx)
		if err == nil {
			continue
		}
		var closeErr websocket.CloseError
		if !errors.As(err, &closeErr) {
			t.Fatalf("the socket ended without a close frame: %v", err)
		}
		return closeErr
	}
}

// appDisconnect is a websocket.disconnect message the app saw.
type appDisconnect struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

// appDisconnects are the websocket.disconnect messages the app has seen.
func (h *harness) appDisconnects(t *testing.T) []appDisconnect {
	t.Helper()
	resp, body := h.get(t, "/disconnects")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /disconnects: %d %s", resp.StatusCode, body)
	}
	var seen []appDisconnect
	if err := json.Unmarshal(body, &seen); err != nil {
		t.Fatal(err)
	}
	return seen
}

func (h *harness) awaitDisconnect(t *testing.T, code int, reason string) {
	t.Helper()
	eventually(t, fmt.Sprintf("the app sees websocket.disconnect %d %q", code, reason), func() bool {
		for _, seen := range h.appDisconnects(t) {
			if seen.Code == code && strings.Contains(seen.Reason, reason) {
				return true
			}
		}
		return false
	})
}

func TestWebSocketEcho(t *testing.T) {
	h := newWebSocketHarness(t, Config{Workers: 1})
	conn, resp, err := h.dial(t, "/echo?x=1", &websocket.DialOptions{Subprotocols: []string{"chat.v2", "chat.v1"}})
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(4 << 20)
	if conn.Subprotocol() != "chat.v2" || resp.Header.Get("X-Scheme") != "ws" {
		t.Errorf("subprotocol %q, X-Scheme %q: want the app's choice chat.v2 and ws", conn.Subprotocol(), resp.Header.Get("X-Scheme"))
	}
	echo(t, conn, websocket.MessageText, []byte("hello, ünïcode"))
	echo(t, conn, websocket.MessageBinary, []byte{0, 1, 2, 255})
	echo(t, conn, websocket.MessageText, []byte(""))
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	echo(t, conn, websocket.MessageBinary, big)
	echo(t, conn, websocket.MessageText, big)

	// The client's close code reaches the app.
	if err := conn.Close(4002, "done here"); err != nil {
		t.Fatal(err)
	}
	h.awaitDisconnect(t, 4002, "done here")

	// The app's close code reaches the client.
	conn = h.mustDial(t, "/echo")
	if conn.Subprotocol() != "" {
		t.Errorf("subprotocol %q without any offered", conn.Subprotocol())
	}
	ctx := context.Background()
	if err := conn.Write(ctx, websocket.MessageText, []byte("close:4001")); err != nil {
		t.Fatal(err)
	}
	if got := awaitClose(t, conn); got.Code != 4001 || got.Reason != "asked to close" {
		t.Errorf("closed with %d %q, want 4001 from the app", got.Code, got.Reason)
	}
}

func TestWebSocketRefusals(t *testing.T) {
	h := newWebSocketHarness(t, Config{Workers: 1})
	for path, want := range map[string]int{"/refuse": http.StatusForbidden, "/fail-before-accept": http.StatusInternalServerError} {
		_, resp, err := h.dial(t, path, nil)
		if err == nil || resp == nil || resp.StatusCode != want {
			t.Errorf("%s: %v, want status %d", path, err, want)
		}
	}
	if !strings.Contains(h.log(t), "boom before accept") {
		t.Errorf("the traceback is not in the deployment's log:\n%s", h.log(t))
	}

	// An app may answer the upgrade with an HTTP response of its own (websocket.http.response).
	_, resp, err := h.dial(t, "/deny", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Www-Authenticate") != "Bearer" {
		t.Errorf("/deny: %v, %+v; want the app's 401 with its WWW-Authenticate", err, resp)
	} else if body, _ := io.ReadAll(resp.Body); string(body) != "sign in first" {
		t.Errorf("/deny: body %q, want the app's", body)
	}

	conn := h.mustDial(t, "/fail-after-accept")
	if err := conn.Write(context.Background(), websocket.MessageText, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got := awaitClose(t, conn); got.Code != websocket.StatusInternalError {
		t.Errorf("an app failing after accept closed with %d, want 1011", got.Code)
	}

	// A request that is not a proper upgrade is refused before the app hears of it.
	resp, body := h.do(t, http.MethodGet, "/echo", nil, http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}, "Sec-Websocket-Key": {"x"}})
	if resp.StatusCode != http.StatusUpgradeRequired || !strings.Contains(string(body), "Sec-WebSocket-Version: 13") {
		t.Errorf("without a version: %d %s", resp.StatusCode, body)
	}
}

func TestWebSocketToWSGIAppIsRefused(t *testing.T) {
	requirePython(t)
	h := newHarness(t, Config{}, App{Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp})})
	_, resp, err := h.dial(t, "/", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusNotImplemented {
		t.Fatalf("upgrade to a WSGI app: %v, want 501", err)
	}
}

// The App's limits (a project's settings) override the Config's, which are far apart from them.
func TestWebSocketLimits(t *testing.T) {
	app := webSocketEchoApp(t)
	app.WebSocketMaxMessage, app.WebSocketIdleTimeout = 1000, 500*time.Millisecond
	h := newHarness(t, Config{Workers: 1, WebSocketMaxMessage: 1 << 20, WebSocketIdleTimeout: time.Hour}, app)

	conn := h.mustDial(t, "/echo")
	echo(t, conn, websocket.MessageBinary, make([]byte, 1000))
	if err := conn.Write(context.Background(), websocket.MessageBinary, make([]byte, 1001)); err != nil {
		t.Fatal(err)
	}
	if got := awaitClose(t, conn); got.Code != websocket.StatusMessageTooBig || !strings.Contains(got.Reason, "limit of 1000 bytes") {
		t.Errorf("a message past the limit closed with %d %q, want 1009", got.Code, got.Reason)
	}
	h.awaitDisconnect(t, 1009, "limit of 1000 bytes")

	conn = h.mustDial(t, "/echo")
	// Messages keep it open past the idle timeout.
	for range 4 {
		time.Sleep(200 * time.Millisecond)
		echo(t, conn, websocket.MessageText, []byte("still here"))
	}
	began := time.Now()
	if got := awaitClose(t, conn); got.Code != websocket.StatusGoingAway || !strings.Contains(got.Reason, "idle timeout") {
		t.Errorf("an idle socket closed with %d %q, want 1001 for the idle timeout", got.Code, got.Reason)
	}
	if waited := time.Since(began); waited < 400*time.Millisecond {
		t.Errorf("closed %s after the last message, before the idle timeout of 500ms", waited)
	}
	h.awaitDisconnect(t, 1001, "idle timeout")

	invalid := h.mustDial(t, "/echo")
	if err := invalid.Write(context.Background(), websocket.MessageText, []byte{0xff, 0xfe}); err != nil {
		t.Fatal(err)
	}
	if got := awaitClose(t, invalid); got.Code != websocket.StatusInvalidFramePayloadData {
		t.Errorf("invalid UTF-8 closed with %d, want 1007", got.Code)
	}
}

// A client offering permessage-deflate gets it; the message limit counts inflated bytes, so a
// small compressed message that inflates past it is refused.
func TestWebSocketCompression(t *testing.T) {
	h := newWebSocketHarness(t, Config{Workers: 1, WebSocketMaxMessage: 1 << 20})
	conn, resp, err := h.dial(t, "/echo", &websocket.DialOptions{CompressionMode: websocket.CompressionNoContextTakeover})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(got, "permessage-deflate") {
		t.Fatalf("Sec-WebSocket-Extensions %q: want permessage-deflate", got)
	}
	conn.SetReadLimit(2 << 20)
	echo(t, conn, websocket.MessageText, bytes.Repeat([]byte("compress me "), 1<<16/12))
	echo(t, conn, websocket.MessageBinary, []byte{1, 2, 3})
	if err := conn.Write(context.Background(), websocket.MessageBinary, make([]byte, 1<<20+1)); err != nil {
		t.Fatal(err)
	}
	if got := awaitClose(t, conn); got.Code != websocket.StatusMessageTooBig {
		t.Errorf("a compressed message inflating past the limit closed with %d %q, want 1009", got.Code, got.Reason)
	}

	plain, resp, err := h.dial(t, "/echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("Sec-WebSocket-Extensions"); got != "" {
		t.Errorf("a client offering no extension got %q", got)
	}
	echo(t, plain, websocket.MessageText, []byte("plain"))
}

// An open socket holds its instance's concurrency slot; stopping the deployment closes it with 1001.
func TestWebSocketHoldsItsSlotAndStopClosesIt(t *testing.T) {
	h := newWebSocketHarness(t, Config{Workers: 1, Threads: 1})
	conn := h.mustDial(t, "/echo")
	echo(t, conn, websocket.MessageText, []byte("hi"))

	served := make(chan int, 1)
	go func() {
		resp, _ := h.get(t, "/disconnects")
		served <- resp.StatusCode
	}()
	eventually(t, "a request waits for the slot the socket holds", func() bool {
		h.manager.mu.RLock()
		defer h.manager.mu.RUnlock()
		d := h.manager.deployments[h.app.key()]
		return d != nil && d.pool.queued() == 1
	})
	select {
	case status := <-served:
		t.Fatalf("a request was served (%d) while the only slot held a socket", status)
	case <-time.After(200 * time.Millisecond):
	}
	if err := conn.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	if status := <-served; status != http.StatusOK {
		t.Fatalf("the waiting request got %d once the socket closed", status)
	}

	conn = h.mustDial(t, "/echo")
	echo(t, conn, websocket.MessageText, []byte("hi"))
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		h.manager.Stop(h.app.ID)
	}()
	if got := awaitClose(t, conn); got.Code != websocket.StatusGoingAway {
		t.Errorf("stopping closed the socket with %d %q, want 1001", got.Code, got.Reason)
	}
	select {
	case <-stopped:
	case <-time.After(stopGracePeriod / 2):
		t.Error("the stop waited on the open socket")
	}
}

func TestWebSocketReplacedDeploymentClosesWith1001(t *testing.T) {
	h := newWebSocketHarness(t, Config{Workers: 1})
	replace := make(chan struct{})
	server := h.server.Config
	inner := server.Handler
	server.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancelCause(r.Context())
		defer cancel(nil)
		go func() {
			select {
			case <-replace:
				cancel(ErrDeploymentReplaced)
			case <-ctx.Done():
			}
		}()
		inner.ServeHTTP(w, r.WithContext(ctx))
	})
	conn := h.mustDial(t, "/echo")
	echo(t, conn, websocket.MessageText, []byte("hi"))
	close(replace)
	if got := awaitClose(t, conn); got.Code != websocket.StatusGoingAway || !strings.Contains(got.Reason, "new deployment") {
		t.Errorf("closed with %d %q, want 1001 for a replaced deployment", got.Code, got.Reason)
	}
}

func TestManyConcurrentWebSockets(t *testing.T) {
	const sockets, messages = 64, 20
	h := newWebSocketHarness(t, Config{Workers: 2, Threads: sockets / 2})
	var wg sync.WaitGroup
	for i := range sockets {
		wg.Go(func() {
			conn, _, err := h.dial(t, "/echo", nil)
			if err != nil {
				t.Errorf("socket %d: %v", i, err)
				return
			}
			defer func() { _ = conn.CloseNow() }()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			for j := range messages {
				want := fmt.Sprintf("socket %d message %d", i, j)
				if err := conn.Write(ctx, websocket.MessageText, []byte(want)); err != nil {
					t.Errorf("socket %d: write: %v", i, err)
					return
				}
				if _, got, err := conn.Read(ctx); err != nil || string(got) != want {
					t.Errorf("socket %d: read %q, %v; want %q", i, got, err, want)
					return
				}
			}
			if err := conn.Close(websocket.StatusNormalClosure, ""); err != nil {
				t.Errorf("socket %d: close: %v", i, err)
			}
		})
	}
	wg.Wait()
}

// An open WebSocket counts as a request in progress: its instance does not scale to zero under it.
func TestOpenWebSocketKeepsItsInstance(t *testing.T) {
	requirePython(t, "fastapi")
	h := newHarness(t, Config{}, App{Kind: runspec.KindASGI, Dir: writeApp(t, map[string]string{"main.py": webSocketApp}), Entrypoint: "main:app", IdleTimeout: time.Second})
	conn := h.mustDial(t, "/echo")
	echo(t, conn, websocket.MessageText, []byte("hi"))
	time.Sleep(2500 * time.Millisecond) // no message, but less than the sockets' idle timeout
	if len(h.manager.Running()) != 1 {
		t.Fatal("the instance of an open socket was stopped")
	}
	echo(t, conn, websocket.MessageText, []byte("still here"))
	if err := conn.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the instance stops once the socket closed", func() bool { return len(h.manager.Running()) == 0 })
}
