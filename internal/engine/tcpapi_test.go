package engine_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
	"github.com/ferryhq/terraform-provider-ferry/internal/logbuffer"
)

func TestTCPAPILogsItsAddressAndThrottlesWrongTokens(t *testing.T) {
	dataDir := shortDataDir(t)
	free := func() string { return freeport.Loopback(t) }
	apiAddress := free()
	logs := &logbuffer.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- engine.Run(ctx, engine.Config{DataDir: dataDir, HTTPAddress: free(), APIAddress: apiAddress, Token: "t0ken-of-the-test",
			Logger: slog.New(slog.NewTextHandler(logs, nil))})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("engine: %v", err)
		}
	}()

	get := func(token string) *http.Response {
		req, _ := http.NewRequest("GET", "http://"+apiAddress+"/v1/health", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil
		}
		_ = resp.Body.Close() // only the status is wanted
		return resp
	}
	for i := 0; ; i++ {
		if resp := get("t0ken-of-the-test"); resp != nil && resp.StatusCode == 200 {
			break
		}
		if i > 100 {
			t.Fatal("engine not reachable over TCP")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out := logs.String(); !strings.Contains(out, `msg="API listening on TCP" address=`+apiAddress) || strings.Contains(out, "without TLS") {
		t.Errorf("start log should name %s and not warn on loopback:\n%s", apiAddress, out)
	}

	var codes []int
	for range 12 {
		resp := get("wrong-guess")
		if resp == nil {
			t.Fatal("no answer")
		}
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if codes[0] != 401 || codes[len(codes)-1] != 429 {
		t.Errorf("answers to 12 wrong tokens: %v; want 401 first, 429 at the end", codes)
	}
	out := logs.String()
	if !strings.Contains(out, "API requests refused") || strings.Contains(out, "wrong-guess") || strings.Contains(out, "t0ken-of-the-test") {
		t.Errorf("failed attempts not logged, or a token logged:\n%s", out)
	}
}
