package engine

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/apiserver"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/gitsource"
)

// Throttle of wrong tokens: each client address may send failureBurst wrong
// tokens at once, then one more per failureRefill; past that it is answered
// 429 without its token being looked at, the right one included.
const (
	failureBurst       = 10
	failureRefill      = time.Second
	failureLogInterval = 10 * time.Second
	// maxTrackedClients bounds the memory of the throttle. When that many
	// addresses have failed recently, new ones are throttled too: under an
	// attack from that many addresses, refusing is the safe side.
	maxTrackedClients = 10000
)

// tokenGuard guards the TCP API with a bearer token. It compares HMACs of
// the sent and expected Authorization headers under a random key, so that
// the time taken says nothing of the token's length or content.
type tokenGuard struct {
	macKey  []byte
	wantMAC []byte
	next    http.Handler
	log     *slog.Logger
	now     func() time.Time
	// teamToken authenticates a team token (one with api.TokenPrefix); nil: the operator's
	// token is the only one.
	teamToken func(ctx context.Context, value string) (*apiserver.Principal, error)

	mu          sync.Mutex
	clients     map[string]*failureBucket
	lastPrune   time.Time
	unlogged    int // failures since the last log line
	lastLogLine time.Time
}

// failureBucket counts what is left of one address's allowance of wrong
// tokens.
type failureBucket struct {
	tokens  float64
	updated time.Time
}

func newTokenGuard(token string, next http.Handler, log *slog.Logger) *tokenGuard {
	g := &tokenGuard{macKey: make([]byte, 32), next: next, log: log, now: time.Now, clients: map[string]*failureBucket{}}
	if _, err := rand.Read(g.macKey); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	g.wantMAC = g.mac("Bearer " + token)
	return g
}

func (g *tokenGuard) mac(header string) []byte {
	m := hmac.New(sha256.New, g.macKey)
	m.Write([]byte(header))
	return m.Sum(nil)
}

func (g *tokenGuard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	client := clientKey(r.RemoteAddr)
	if wait := g.throttled(client); wait > 0 {
		g.refuse(client, true)
		seconds := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(seconds))
		writeAuthError(w, http.StatusTooManyRequests, api.CodeRateLimited,
			fmt.Sprintf("too many requests with a wrong token from this address: wait %d s (Retry-After), then retry with the right token", seconds))
		return
	}
	header := r.Header.Get("Authorization")
	principal := apiserver.Operator
	if !hmac.Equal(g.mac(header), g.wantMAC) {
		value, bearer := strings.CutPrefix(header, "Bearer ")
		if !bearer || g.teamToken == nil || !apiserver.IsTeamToken(value) {
			g.refuse(client, false)
			writeAuthError(w, http.StatusUnauthorized, api.CodeUnauthorized,
				"missing or wrong token: send Authorization: Bearer <token> (provider token / FERRY_TOKEN)")
			return
		}
		var err error
		if principal, err = g.teamToken(r.Context(), value); err != nil {
			var refused *api.Error
			if !errors.As(err, &refused) {
				g.log.Error("checking a team token failed", "error", err)
				writeAuthError(w, http.StatusServiceUnavailable, api.CodeInternal, "the engine could not check the token now (its store failed): retry")
				return
			}
			g.refuse(client, false)
			writeAuthError(w, http.StatusUnauthorized, refused.Code, refused.Message)
			return
		}
	}
	// A token holder is not the engine's user: it may not read repositories on its machine.
	ctx := apiserver.WithPrincipal(gitsource.ForRemoteCaller(r.Context()), principal)
	g.next.ServeHTTP(w, r.WithContext(ctx))
}

// throttled returns how long client must wait, or 0 if it may try a token.
func (g *tokenGuard) throttled(client string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	b := g.clients[client]
	if b == nil {
		if len(g.clients) < maxTrackedClients {
			return 0
		}
		if now.Sub(g.lastPrune) >= time.Second {
			g.prune(now)
		}
		if len(g.clients) < maxTrackedClients {
			return 0
		}
		return failureRefill
	}
	b.refill(now)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(failureRefill))
}

// refuse takes one wrong token (or a throttled request) off client's
// allowance and logs, at most once per failureLogInterval, how many were
// refused. Neither the token sent nor the right one is ever logged.
func (g *tokenGuard) refuse(client string, throttled bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if !throttled {
		b := g.clients[client]
		if b == nil {
			b = &failureBucket{tokens: failureBurst, updated: now}
			g.clients[client] = b
		}
		b.refill(now)
		b.tokens--
	}
	g.unlogged++
	if now.Sub(g.lastLogLine) >= failureLogInterval {
		g.log.Warn("API requests refused: missing or wrong token", "remote", client, "refused_since_last_line", g.unlogged, "throttled", throttled)
		g.unlogged, g.lastLogLine = 0, now
	}
}

func (b *failureBucket) refill(now time.Time) {
	b.tokens = min(failureBurst, b.tokens+float64(now.Sub(b.updated))/float64(failureRefill))
	b.updated = now
}

// prune forgets addresses whose allowance is whole again.
func (g *tokenGuard) prune(now time.Time) {
	g.lastPrune = now
	for client, b := range g.clients {
		if b.refill(now); b.tokens >= failureBurst {
			delete(g.clients, client)
		}
	}
}

// clientKey names the client of a request for the throttle: its IP, or for
// IPv6 its /64, which one host usually holds whole.
func clientKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

func writeAuthError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "{\"code\":%q,\"message\":%q}\n", code, message) // a failed write means the client has gone
}

// exposedWithoutTLS reports whether an API listener is reachable from other
// machines while it speaks plain HTTP, so that the token and every value
// sent would cross the network in the clear.
func exposedWithoutTLS(addr net.Addr, tls bool) bool {
	if tls {
		return false
	}
	tcp, ok := addr.(*net.TCPAddr)
	return !ok || !tcp.IP.IsLoopback()
}
