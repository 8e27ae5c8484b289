package workers

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
)

// BenchmarkWebSocketEcho measures message round trips (a 64-byte message out and back) over 4
// WebSockets per CPU at once to the FastAPI echo of the tests: through ferry (default workers), and straight to uvicorn
// with 2 workers, uvloop and wsproto (Debian's python3-wsproto; uvicorn's other WebSocket
// library, python3-websockets, is not installed here), when it is installed.
func BenchmarkWebSocketEcho(b *testing.B) {
	requirePython(b, "fastapi")
	b.Run("ferry", func(b *testing.B) {
		h := newHarness(b, Config{}, App{Kind: runspec.KindASGI, Dir: writeApp(b, map[string]string{"main.py": webSocketApp}), Entrypoint: "main:app"})
		h.get(b, "/") // started
		benchmarkWebSocketEcho(b, "ws"+h.server.URL[len("http"):]+"/echo")
	})
	b.Run("uvicorn", func(b *testing.B) {
		requirePython(b, "uvicorn", "uvloop", "wsproto")
		port := freeTCPPort(b)
		cmd := exec.Command(systemPython, "-m", "uvicorn", "main:app", "--port", strconv.Itoa(port), "--workers", "2",
			"--loop", "uvloop", "--ws", "wsproto", "--log-level", "warning", "--no-access-log")
		cmd.Dir = writeApp(b, map[string]string{"main.py": webSocketApp})
		// A group of its own: uvicorn's workers are its children, and must go with it.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		})
		address := "127.0.0.1:" + strconv.Itoa(port)
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if conn, err := net.Dial("tcp", address); err == nil {
				_ = conn.Close()
				break
			}
			if time.Now().After(deadline) {
				b.Fatal("uvicorn did not listen within 30s")
			}
		}
		benchmarkWebSocketEcho(b, "ws://"+address+"/echo")
	})
}

func benchmarkWebSocketEcho(b *testing.B, url string) {
	message := make([]byte, 64)
	b.SetParallelism(4) // 4 sockets per CPU: 8 on 2 cores, as many as an instance's default slots
	b.ResetTimer()
	began := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		conn, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			b.Error(err)
			return
		}
		defer func() { _ = conn.CloseNow() }()
		for pb.Next() {
			if err := conn.Write(ctx, websocket.MessageBinary, message); err != nil {
				b.Error(err)
				return
			}
			if _, _, err := conn.Read(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(began).Seconds(), "msgs/s")
}

func freeTCPPort(b *testing.B) int {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = listener.Close() }()
	address, ok := listener.Addr().(*net.TCPAddr)
	if !ok {
		b.Fatalf("a TCP listener with a %T address", listener.Addr())
	}
	return address.Port
}
