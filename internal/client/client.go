// Package client is the one Go client of ferry's engine API (internal/api).
// The provider and the CLI both use it; nothing else talks HTTP to the engine.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// unixHost is the host name used in URLs sent over a unix socket; the
// transport ignores it and dials the socket.
const unixHost = "ferry"

// maxUnixSocketPath is the longest path a unix socket may have on Linux
// (sun_path is 108 bytes, including the terminating NUL).
const maxUnixSocketPath = 107

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 1 << 20

// Config says how to reach an engine.
type Config struct {
	// Endpoint is "unix:///abs/path/engine.sock" for a local engine, or
	// "https://host:port" (or "http://host:port") for a remote one.
	Endpoint string
	// Token is the bearer token of a remote engine. It is sent in the
	// Authorization header and never logged.
	Token string
	// UserAgent is sent with every request, e.g. "terraform-provider-ferry/1.2.3".
	UserAgent string
	// RetryMax is how many times a retryable request is retried; 0 means 4.
	RetryMax int
	// Logger receives retry and failure messages (method, URL, status; never
	// bodies). nil silences them.
	Logger *slog.Logger
	// Transport, when set, carries the requests of an http(s) Endpoint instead of the network:
	// for a caller inside the engine's process (the dashboard).
	Transport http.RoundTripper
}

// Client talks to one engine. It is safe for concurrent use.
type Client struct {
	baseURL   *url.URL
	token     string
	userAgent string

	// idempotent retries GET/PUT/DELETE/HEAD on connection errors, 429 and 5xx.
	idempotent *retryablehttp.Client
	// nonIdempotent retries POST only when the connection could not be
	// made, so that a request is never sent twice.
	nonIdempotent *retryablehttp.Client
}

// New returns a client of the engine at cfg.Endpoint. It does not contact the engine.
func New(cfg Config) (*Client, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("no engine endpoint: want unix:///path/to/engine.sock or https://host:port")
	}
	u, err := url.Parse(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("engine endpoint %q is not a URL: %w", cfg.Endpoint, err)
	}

	var httpClient *http.Client
	switch u.Scheme {
	case "unix":
		socket := u.Path
		if socket == "" || !strings.HasPrefix(socket, "/") {
			return nil, fmt.Errorf("engine endpoint %q: a unix endpoint needs an absolute socket path, as in unix:///path/to/engine.sock", cfg.Endpoint)
		}
		if len(socket) > maxUnixSocketPath {
			return nil, fmt.Errorf("engine socket path %q is %d bytes long; unix sockets allow at most %d: use a shorter data directory", socket, len(socket), maxUnixSocketPath)
		}
		transport := cleanhttp.DefaultPooledTransport()
		transport.Proxy = nil
		dialer := &net.Dialer{Timeout: 10 * time.Second}
		transport.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", socket)
		}
		httpClient = &http.Client{Transport: transport}
		u = &url.URL{Scheme: "http", Host: unixHost}
	case "http", "https":
		if u.Host == "" {
			return nil, fmt.Errorf("engine endpoint %q has no host", cfg.Endpoint)
		}
		httpClient = cleanhttp.DefaultPooledClient()
		if cfg.Transport != nil {
			httpClient = &http.Client{Transport: cfg.Transport}
		}
		u = &url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.TrimSuffix(u.Path, "/")}
	default:
		return nil, fmt.Errorf("engine endpoint %q: scheme must be unix, https or http", cfg.Endpoint)
	}

	retryMax := cfg.RetryMax
	if retryMax <= 0 {
		retryMax = 4
	}
	var logger any
	if cfg.Logger != nil {
		logger = slogAdapter{cfg.Logger}
	}
	newRetrying := func(check retryablehttp.CheckRetry) *retryablehttp.Client {
		return &retryablehttp.Client{
			HTTPClient:   httpClient,
			Logger:       logger,
			RetryWaitMin: 200 * time.Millisecond,
			RetryWaitMax: 3 * time.Second,
			RetryMax:     retryMax,
			CheckRetry:   check,
			Backoff:      retryablehttp.DefaultBackoff,
			ErrorHandler: giveUp,
		}
	}
	return &Client{
		baseURL:       u,
		token:         cfg.Token,
		userAgent:     cfg.UserAgent,
		idempotent:    newRetrying(retryablehttp.DefaultRetryPolicy),
		nonIdempotent: newRetrying(retryBeforeSending),
	}, nil
}

// retryBeforeSending retries only when the connection could not be
// established, so the engine cannot have seen the request.
func retryBeforeSending(ctx context.Context, _ *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	return err != nil && isDialError(err), nil
}

func isDialError(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// giveUp hands the last answer to the caller when retries run out, so that
// its error body is decoded; without an answer it reports the transport error.
func giveUp(resp *http.Response, err error, tries int) (*http.Response, error) {
	if resp != nil {
		return resp, nil
	}
	if err == nil {
		err = errors.New("no answer")
	}
	return nil, fmt.Errorf("engine unreachable after %d attempt(s): %w", tries, err)
}

// do sends a request and decodes a JSON answer into out (unless nil). A
// non-2xx answer becomes a *Error. in is JSON-encoded unless it is []byte,
// which is sent as is.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	resp, err := c.send(ctx, method, path, query, in, "application/json")
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }() // read to the end or abandoned; nothing to report

	if out == nil || resp.StatusCode == http.StatusNoContent || method == http.MethodHead {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decoding the engine's answer to %s %s: %w", method, path, err)
	}
	return nil
}

// send sends a request and returns a 2xx answer for the caller to read and close; any other
// answer becomes a *Error. in is JSON-encoded unless it is []byte, which is sent as is.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, in any, accept string) (*http.Response, error) {
	// path is already escaped (see expand).
	target := c.baseURL.String() + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}

	var body any
	contentType := ""
	switch v := in.(type) {
	case nil:
	case []byte:
		body = v
		contentType = "application/octet-stream"
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encoding %s %s request: %w", method, path, err)
		}
		body = b
		contentType = "application/json"
	}

	req, err := retryablehttp.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", accept)
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}

	rc := c.idempotent
	if method == http.MethodPost {
		rc = c.nonIdempotent
	}
	resp, err := rc.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, ctxErr)
		}
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer func() { _ = resp.Body.Close() }() // only its error body is read
		return nil, decodeError(resp)
	}
	return resp, nil
}

func decodeError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &Error{StatusCode: resp.StatusCode}
	if err := json.Unmarshal(raw, &e.APIError); err != nil || (e.Code == "" && e.Message == "") {
		// Not the engine's error format (a proxy in between, or an older engine).
		// Its Code stays empty: a 404 from something that is not the engine
		// must not read as "the object is gone".
		e.APIError = api.Error{Message: fallbackMessage(resp, raw)}
	}
	return e
}

func fallbackMessage(resp *http.Response, raw []byte) string {
	msg := fmt.Sprintf("the engine answered %s", resp.Status)
	text := strings.TrimSpace(string(raw))
	if len(text) > 512 {
		text = text[:512] + "..."
	}
	if text != "" {
		msg += ": " + text
	}
	return msg
}

// expand fills the {name} parameters of an api path, escaping each value.
func expand(pattern string, params ...string) string {
	for i := 0; i+1 < len(params); i += 2 {
		pattern = strings.Replace(pattern, "{"+params[i]+"}", url.PathEscape(params[i+1]), 1)
	}
	return pattern
}

// slogAdapter makes an slog.Logger a retryablehttp.LeveledLogger.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Error(msg string, kv ...any) { a.l.Error(msg, kv...) }
func (a slogAdapter) Info(msg string, kv ...any)  { a.l.Info(msg, kv...) }
func (a slogAdapter) Debug(msg string, kv ...any) { a.l.Debug(msg, kv...) }
func (a slogAdapter) Warn(msg string, kv ...any)  { a.l.Warn(msg, kv...) }
