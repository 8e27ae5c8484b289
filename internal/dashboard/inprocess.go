package dashboard

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// inProcess carries the dashboard's API requests to the engine's API handler in this process,
// with no socket in between. The answer streams as the handler writes it (a followed log).
type inProcess struct{ api http.Handler }

type browserAddrKey struct{}

// withBrowser marks API calls made for a browser with its address, so that the API's throttle
// of wrong tokens counts them against that browser rather than against the engine itself.
func withBrowser(ctx context.Context, remoteAddr string) context.Context {
	return context.WithValue(ctx, browserAddrKey{}, remoteAddr)
}

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	inner := req.Clone(ctx)
	inner.RequestURI = req.URL.RequestURI()
	inner.RemoteAddr, _ = ctx.Value(browserAddrKey{}).(string)
	if inner.Body == nil {
		inner.Body = http.NoBody
	}
	body, bodyWriter := io.Pipe()
	w := &pipeResponse{header: http.Header{}, body: bodyWriter, started: make(chan struct{})}
	go func() {
		defer func() {
			if p := recover(); p != nil {
				_ = bodyWriter.CloseWithError(fmt.Errorf("the API handler failed: %v", p))
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusOK) // a handler that wrote nothing answered 200
			_ = bodyWriter.Close()
		}()
		t.api.ServeHTTP(w, inner)
	}()
	select {
	case <-w.started:
	case <-ctx.Done():
		cancel()
		_ = body.Close()
		return nil, ctx.Err()
	}
	return &http.Response{
		Status: fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)), StatusCode: w.status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: w.sent, Body: &cancelingBody{PipeReader: body, cancel: cancel}, ContentLength: -1, Request: req,
	}, nil
}

// pipeResponse is the handler's side of an in-process answer.
type pipeResponse struct {
	header  http.Header
	body    *io.PipeWriter
	once    sync.Once
	started chan struct{}
	status  int
	sent    http.Header // the header as it was when the status was written
}

func (w *pipeResponse) Header() http.Header { return w.header }

func (w *pipeResponse) WriteHeader(status int) {
	w.once.Do(func() {
		w.status, w.sent = status, w.header.Clone()
		close(w.started)
	})
}

func (w *pipeResponse) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// Flush has nothing to do: every write waits until the reader has it.
func (w *pipeResponse) Flush() {}

// cancelingBody ends the handler's request when the reader is done with the answer.
type cancelingBody struct {
	*io.PipeReader
	cancel context.CancelFunc
}

func (b *cancelingBody) Close() error {
	b.cancel()
	return b.PipeReader.Close()
}
