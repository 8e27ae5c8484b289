package engine

import (
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/logbuffer"
)

const testToken = "correct-horse-battery-staple"

// newTestGuard returns a guard in front of a handler answering 200, with a
// clock the test moves and the guard's log.
func newTestGuard() (*tokenGuard, *time.Time, *logbuffer.Buffer) {
	logs := &logbuffer.Buffer{}
	g := newTokenGuard(testToken, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }),
		slog.New(slog.NewTextHandler(logs, nil)))
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g.now = func() time.Time { return clock }
	return g, &clock, logs
}

func send(g http.Handler, remote, authorization string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "/v1/projects", nil)
	r.RemoteAddr = remote
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	w := httptest.NewRecorder()
	g.ServeHTTP(w, r)
	return w
}

func TestTokenGuardChecksTheWholeToken(t *testing.T) {
	g, _, _ := newTestGuard()
	if w := send(g, "10.0.0.1:5000", "Bearer "+testToken); w.Code != 200 {
		t.Fatalf("right token: %d", w.Code)
	}
	for _, header := range []string{"", "Bearer ", "Bearer " + testToken[:5], "Bearer " + testToken + "x", "bearer " + testToken, testToken, "Bearer " + strings.Repeat("x", 4096)} {
		w := send(g, "10.0.0.2:5000", header)
		var e api.Error
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
			t.Errorf("Authorization %.20q: %v in %q", header, err, w.Body.Bytes())
		}
		if w.Code != 401 || e.Code != api.CodeUnauthorized {
			t.Errorf("Authorization %.20q: %d %+v", header, w.Code, e)
		}
	}
}

func TestTokenGuardThrottlesWrongTokensPerAddress(t *testing.T) {
	g, clock, _ := newTestGuard()
	attacker, other := "192.0.2.7:4000", "192.0.2.8:4000"
	for i := range failureBurst {
		if w := send(g, attacker, "Bearer guess"+strconv.Itoa(i)); w.Code != 401 {
			t.Fatalf("wrong token %d within the burst: %d", i, w.Code)
		}
	}
	w := send(g, attacker, "Bearer another-guess")
	if w.Code != 429 || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("past the burst: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	var e api.Error
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Code != api.CodeRateLimited || !strings.Contains(e.Message, "wait 1 s") {
		t.Errorf("429 body %+v", e)
	}
	// While throttled, even the right token is not looked at...
	if w := send(g, "192.0.2.7:4001", "Bearer "+testToken); w.Code != 429 {
		t.Errorf("right token from a throttled address: %d", w.Code)
	}
	// ...but other addresses are served.
	if w := send(g, other, "Bearer "+testToken); w.Code != 200 {
		t.Errorf("right token from another address: %d", w.Code)
	}
	// One more try per refill period.
	*clock = clock.Add(failureRefill)
	if w := send(g, attacker, "Bearer again"); w.Code != 401 {
		t.Errorf("after one refill period: %d", w.Code)
	}
	if w := send(g, attacker, "Bearer again"); w.Code != 429 {
		t.Errorf("second try in one refill period: %d", w.Code)
	}
	*clock = clock.Add(failureRefill)
	if w := send(g, attacker, "Bearer "+testToken); w.Code != 200 {
		t.Errorf("right token once the wait is over: %d", w.Code)
	}
}

func TestTokenGuardGroupsIPv6By64(t *testing.T) {
	g, _, _ := newTestGuard()
	for i := range failureBurst {
		send(g, "[2001:db8:1:2::"+strconv.Itoa(i+1)+"]:4000", "Bearer x")
	}
	if w := send(g, "[2001:db8:1:2:ffff::1]:4000", "Bearer x"); w.Code != 429 {
		t.Errorf("same /64, new address: %d", w.Code)
	}
	if w := send(g, "[2001:db8:1:3::1]:4000", "Bearer "+testToken); w.Code != 200 {
		t.Errorf("another /64: %d", w.Code)
	}
}

func TestTokenGuardLogsFailuresSparinglyAndNeverTheToken(t *testing.T) {
	g, clock, logs := newTestGuard()
	for i := range 100 {
		send(g, "198.51.100."+strconv.Itoa(i%50)+":1", "Bearer s3cret-guess-"+strconv.Itoa(i))
	}
	if n := strings.Count(logs.String(), "API requests refused"); n != 1 {
		t.Errorf("100 failures in one instant logged %d lines, want 1:\n%s", n, logs)
	}
	*clock = clock.Add(failureLogInterval)
	send(g, "198.51.100.1:1", "Bearer s3cret-guess-last")
	out := logs.String()
	if n := strings.Count(out, "API requests refused"); n != 2 || !strings.Contains(out, "refused_since_last_line=100") {
		t.Errorf("after the interval: want a second line counting 100 refusals:\n%s", out)
	}
	if strings.Contains(out, "s3cret-guess") || strings.Contains(out, testToken) {
		t.Errorf("a token is in the log:\n%s", out)
	}
	if !strings.Contains(out, "remote=198.51.100.") {
		t.Errorf("the address is not in the log:\n%s", out)
	}
}

func TestTokenGuardMemoryIsBounded(t *testing.T) {
	g, clock, _ := newTestGuard()
	for i := range maxTrackedClients {
		send(g, net.IPv4(10, byte(i>>16), byte(i>>8), byte(i)).String()+":1", "Bearer x")
	}
	// Full: a new address is refused until old allowances are whole again.
	if w := send(g, "172.16.0.1:1", "Bearer "+testToken); w.Code != 429 {
		t.Errorf("new address with the table full: %d", w.Code)
	}
	*clock = clock.Add(failureBurst * failureRefill)
	if w := send(g, "172.16.0.1:1", "Bearer "+testToken); w.Code != 200 {
		t.Errorf("new address once the table could be pruned: %d", w.Code)
	}
	if len(g.clients) != 0 {
		t.Errorf("%d addresses still tracked", len(g.clients))
	}
}

func TestExposedWithoutTLS(t *testing.T) {
	for _, tc := range []struct {
		addr string
		tls  bool
		want bool
	}{
		{"127.0.0.1:9000", false, false},
		{"[::1]:9000", false, false},
		{"0.0.0.0:9000", false, true},
		{"[::]:9000", false, true},
		{"192.0.2.1:9000", false, true},
		{"0.0.0.0:9000", true, false},
	} {
		addr, err := net.ResolveTCPAddr("tcp", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := exposedWithoutTLS(addr, tc.tls); got != tc.want {
			t.Errorf("%s tls=%v: %v, want %v", tc.addr, tc.tls, got, tc.want)
		}
	}
}
