package dashboard

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/version"
)

// Lifetimes of what logs a browser in.
const (
	SessionLifetime = 12 * time.Hour
	LinkLifetime    = 5 * time.Minute
	cookieName      = "ferry_session"
)

// session is one logged-in browser. Its token reaches the API only, never the browser.
type session struct {
	csrf    string
	expires time.Time
	api     *client.Client
}

// sessions are kept in memory: an engine restart logs every browser out, which is the safe side.
// They and the one-time links are keyed by digests, so that a lookup's timing says nothing of
// a key's content.
type sessions struct {
	mu    sync.Mutex
	byKey map[[32]byte]*session
	links map[[32]byte]time.Time
}

func newSessions() *sessions {
	return &sessions{byKey: map[[32]byte]*session{}, links: map[[32]byte]time.Time{}}
}

func randomKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// apiClient calls the API in-process with token.
func (d *Dashboard) apiClient(token string) (*client.Client, error) {
	return client.New(client.Config{Endpoint: "http://engine", Token: token, Transport: inProcess{d.cfg.API},
		UserAgent: "ferry-dashboard/" + version.String(), RetryMax: 1})
}

// start opens a session that calls the API with api and returns its cookie value.
func (d *Dashboard) start(api *client.Client) string {
	key := randomKey()
	now := d.cfg.Now()
	d.sessions.mu.Lock()
	defer d.sessions.mu.Unlock()
	d.sessions.pruneLocked(now)
	d.sessions.byKey[sha256.Sum256([]byte(key))] = &session{csrf: randomKey(), expires: now.Add(SessionLifetime), api: api}
	return key
}

func (s *sessions) pruneLocked(now time.Time) {
	for k, v := range s.byKey {
		if !now.Before(v.expires) {
			delete(s.byKey, k)
		}
	}
	for k, expires := range s.links {
		if !now.Before(expires) {
			delete(s.links, k)
		}
	}
}

// current is the session of r's cookie, or nil.
func (d *Dashboard) current(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	d.sessions.mu.Lock()
	defer d.sessions.mu.Unlock()
	s := d.sessions.byKey[sha256.Sum256([]byte(c.Value))]
	if s == nil || !d.cfg.Now().Before(s.expires) {
		return nil
	}
	return s
}

func (d *Dashboard) end(r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil {
		d.sessions.mu.Lock()
		defer d.sessions.mu.Unlock()
		delete(d.sessions.byKey, sha256.Sum256([]byte(c.Value)))
	}
}

// NewLoginLink returns the key of a new one-time login link and when it expires.
func (d *Dashboard) NewLoginLink() (string, time.Time) {
	key := randomKey()
	expires := d.cfg.Now().Add(LinkLifetime)
	d.sessions.mu.Lock()
	defer d.sessions.mu.Unlock()
	d.sessions.pruneLocked(d.cfg.Now())
	d.sessions.links[sha256.Sum256([]byte(key))] = expires
	return key, expires
}

// useLink reports whether key is a live link, and makes it unusable from now on.
func (d *Dashboard) useLink(key string) bool {
	digest := sha256.Sum256([]byte(key))
	d.sessions.mu.Lock()
	defer d.sessions.mu.Unlock()
	expires, ok := d.sessions.links[digest]
	delete(d.sessions.links, digest)
	return ok && d.cfg.Now().Before(expires)
}

func setSessionCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// validCSRF reports whether a form carries its session's CSRF token.
func (s *session) validCSRF(r *http.Request) bool {
	return subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(s.csrf)) == 1
}

// sameOrigin refuses form posts that another site's page makes: browsers send Origin with every
// POST, and it must name the host the dashboard was reached on.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return r.Header.Get("Sec-Fetch-Site") == "" || r.Header.Get("Sec-Fetch-Site") == "same-origin"
	}
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	return origin == scheme+r.Host
}
