package edge

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// Preview protection (api.PreviewProtection): the edge asks for the project's password on every
// host but its production ones, remembers a right one in a signed cookie of that host alone, and
// lets requests that carry the bypass secret through.
const (
	// protectionCookieLifetime is how long a browser stays signed in to a preview host.
	protectionCookieLifetime = 12 * time.Hour
	// Throttle of wrong passwords (and bypass secrets): each client address may get
	// maxProtectionFailures wrong in a protectionFailureWindow; past that it is answered 429.
	maxProtectionFailures   = 10
	protectionFailureWindow = time.Minute
	maxPasswordFormBytes    = 4 << 10
)

// The protection cookie (api.ProtectionCookie) holds "<expiry unix>.<hex HMAC of host and expiry>".

// guard is one project's protection as the edge checks it. Nothing in it changes once made.
type guard struct {
	digests   string // the stored digests it was made from: a reload keeps it while they hold
	password  []byte // nil when it could not be opened: nobody passes but with the bypass secret
	bypass    []byte // nil for no bypass secret
	cookieKey []byte // signs cookies; changes with the password, so a new one signs everyone out
}

// newGuard opens a project's protection with the engine's keeper.
func (r *Router) newGuard(ctx context.Context, p *store.PreviewProtection) *guard {
	g := &guard{digests: p.PasswordDigest + " " + p.BypassDigest}
	password, err := r.cfg.Secrets.Open(ctx, p.SealedPassword)
	if err != nil {
		r.cfg.Logger.Error("a preview password cannot be decrypted: its project's previews refuse every visitor", "project_id", p.ProjectID, "error", err)
		return g
	}
	if p.SealedBypass != nil {
		if g.bypass, err = r.cfg.Secrets.Open(ctx, p.SealedBypass); err != nil {
			r.cfg.Logger.Error("a preview bypass secret cannot be decrypted: it lets nobody through", "project_id", p.ProjectID, "error", err)
		}
	}
	// Keyed by the store's data key, so that every node signs alike and a copy of a cookie
	// does not help to guess the password offline.
	key, err := r.cfg.Secrets.Digest(ctx, []byte("ferry preview cookie\x00"+p.ProjectID+"\x00"+string(password)))
	if err != nil {
		r.cfg.Logger.Error("a preview cookie key cannot be made: its project's previews refuse every visitor", "project_id", p.ProjectID, "error", err)
		return g
	}
	g.password, g.cookieKey = password, []byte(key)
	return g
}

func (g *guard) sign(host string, expiry int64) string {
	mac := hmac.New(sha256.New, g.cookieKey)
	mac.Write([]byte(host + "\n" + strconv.FormatInt(expiry, 10)))
	return strconv.FormatInt(expiry, 10) + "." + hex.EncodeToString(mac.Sum(nil))
}

// signedIn says whether req carries a cookie this guard signed for host, not expired.
func (g *guard) signedIn(req *http.Request, host string, now time.Time) bool {
	if g.password == nil {
		return false
	}
	for _, c := range req.CookiesNamed(api.ProtectionCookie) {
		expiry, _, ok := strings.Cut(c.Value, ".")
		at, err := strconv.ParseInt(expiry, 10, 64)
		if ok && err == nil && at > now.Unix() && hmac.Equal([]byte(c.Value), []byte(g.sign(host, at))) {
			return true
		}
	}
	return false
}

func equalSecret(sent string, want []byte) bool {
	return want != nil && subtle.ConstantTimeCompare([]byte(sent), want) == 1
}

// admit answers a request to a protected host unless it may pass, and says whether it may.
func (r *Router) admit(w http.ResponseWriter, req *http.Request, host string, g *guard) bool {
	client := r.clientAddress(req)
	if wait := r.failures.blocked(client, time.Now()); wait > 0 && (req.Method == http.MethodPost && req.URL.Path == api.ProtectionPath ||
		req.Header.Get(api.ProtectionBypassHeader) != "" || req.Header.Get(api.VercelProtectionBypassHeader) != "") {
		tooManyFailures(w, wait) // no secret is even compared until the window ends
		return false
	}
	for _, name := range []string{api.ProtectionBypassHeader, api.VercelProtectionBypassHeader} {
		if sent := req.Header.Get(name); sent != "" {
			if equalSecret(sent, g.bypass) {
				return true
			}
			if wait := r.failures.fail(client, time.Now()); wait > 0 {
				tooManyFailures(w, wait)
				return false
			}
			protectionPage(w, http.StatusUnauthorized, req.URL.RequestURI(), "The bypass secret sent in "+name+" is not this project's.")
			return false
		}
	}
	if req.URL.Path == api.ProtectionPath && req.Method == http.MethodPost {
		r.signIn(w, req, host, g, client)
		return false
	}
	if g.signedIn(req, host, time.Now()) {
		return true
	}
	protectionPage(w, http.StatusUnauthorized, req.URL.RequestURI(), "")
	return false
}

// signIn checks the password the form posted, and on the right one sets the cookie and sends
// the browser back to the page it asked for.
func (r *Router) signIn(w http.ResponseWriter, req *http.Request, host string, g *guard, client string) {
	now := time.Now()
	req.Body = http.MaxBytesReader(w, req.Body, maxPasswordFormBytes)
	next := "/"
	if err := req.ParseForm(); err == nil {
		next = safeNext(req.PostForm.Get("next"))
	}
	if !equalSecret(req.PostForm.Get("password"), g.password) {
		if wait := r.failures.fail(client, now); wait > 0 {
			tooManyFailures(w, wait)
			return
		}
		protectionPage(w, http.StatusUnauthorized, next, "Wrong password.")
		return
	}
	expiry := now.Add(protectionCookieLifetime).Unix()
	http.SetCookie(w, &http.Cookie{
		Name: api.ProtectionCookie, Value: g.sign(host, expiry), Path: "/", MaxAge: int(protectionCookieLifetime / time.Second),
		HttpOnly: true, Secure: r.scheme(req) == "https", SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, req, next, http.StatusSeeOther)
}

// safeNext keeps the page to return to on this host: a path, never another site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.HasPrefix(next, api.ProtectionPath) {
		return "/"
	}
	return next
}

// stripProtection removes what only the edge reads from a request on its way to the app: the
// bypass headers and the protection cookie.
func stripProtection(req *http.Request) {
	req.Header.Del(api.ProtectionBypassHeader)
	req.Header.Del(api.VercelProtectionBypassHeader)
	if !slices.ContainsFunc(req.Header.Values("Cookie"), func(v string) bool { return strings.Contains(v, api.ProtectionCookie) }) {
		return // the common case, without parsing cookies
	}
	cookies := req.Cookies()
	kept := cookies[:0]
	for _, c := range cookies {
		if c.Name != api.ProtectionCookie {
			kept = append(kept, c)
		}
	}
	if len(kept) == len(cookies) {
		return
	}
	req.Header.Del("Cookie")
	for _, c := range kept {
		req.AddCookie(c)
	}
}

func tooManyFailures(w http.ResponseWriter, wait time.Duration) {
	seconds := int((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(seconds))
	protectionPage(w, http.StatusTooManyRequests, "/", fmt.Sprintf("Too many wrong passwords from your address: try again in %d s.", seconds))
}

// protectionPage answers the password form: one page, no external assets.
func protectionPage(w http.ResponseWriter, status int, next, problem string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Robots-Tag", "noindex")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	if problem != "" {
		problem = `<p class="problem">` + html.EscapeString(problem) + `</p>`
	}
	_, _ = fmt.Fprintf(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Protected preview</title>
<style>body{font:16px system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0;background:#f6f6f6;color:#111}
form{background:#fff;padding:2em;border-radius:8px;box-shadow:0 1px 4px #0002;max-width:22em}
input{font:inherit;width:100%%;box-sizing:border-box;margin:.5em 0;padding:.5em}button{font:inherit;padding:.5em 1.2em}.problem{color:#b00020}</style>
</head><body><form method="post" action="%s">
<h1>Protected preview</h1><p>This deployment asks for a password.</p>%s
<input type="hidden" name="next" value="%s">
<input type="password" name="password" autocomplete="current-password" placeholder="Password" required autofocus>
<button type="submit">Continue</button></form></body></html>
`, api.ProtectionPath, problem, html.EscapeString(next)) // a failed write means the client has gone
}

// failureCounter throttles wrong passwords per client address, in fixed windows.
type failureCounter struct {
	mu      sync.Mutex
	clients map[string]*failureWindow
}

type failureWindow struct {
	start    time.Time
	failures int
}

// maxTrackedAddresses bounds the counter's memory: past it, windows that ended are dropped,
// and if none has, new addresses are refused as if over their limit (the safe side).
const maxTrackedAddresses = 10000

// blocked returns how long client must wait before it may try again; 0 if it may now.
func (f *failureCounter) blocked(client string, now time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.clients[client]
	if w == nil || now.Sub(w.start) >= protectionFailureWindow || w.failures < maxProtectionFailures {
		return 0
	}
	return w.start.Add(protectionFailureWindow).Sub(now)
}

// fail counts a wrong secret from client, and returns how long it must now wait; 0 if it may
// try again at once.
func (f *failureCounter) fail(client string, now time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.clients == nil {
		f.clients = map[string]*failureWindow{}
	}
	w := f.clients[client]
	if w == nil {
		if len(f.clients) >= maxTrackedAddresses {
			for addr, other := range f.clients {
				if now.Sub(other.start) >= protectionFailureWindow {
					delete(f.clients, addr)
				}
			}
			if len(f.clients) >= maxTrackedAddresses {
				return protectionFailureWindow
			}
		}
		w = &failureWindow{start: now}
		f.clients[client] = w
	}
	if now.Sub(w.start) >= protectionFailureWindow {
		w.start, w.failures = now, 0
	}
	w.failures++
	if w.failures > maxProtectionFailures {
		return w.start.Add(protectionFailureWindow).Sub(now)
	}
	return 0
}
