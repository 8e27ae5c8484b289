package workers

// WebSockets of ASGI apps. The edge hands the runtime an HTTP/1.1 upgrade request; the runtime sends a
// worker its HEAD with flagWebSocket, and that connection then carries the socket until it ends:
//
//	worker -> engine: ACCEPT (the app's websocket.accept), or CLOSE before any ACCEPT (the client gets
//	                  403, as ASGI says), or a RESPONSE (the app failed before accepting: its 500)
//	both ways:        MESSAGE, one whole message per frame: UTF-8 text with flagText, else bytes
//	both ways:        CLOSE: u16 close code, then the UTF-8 reason
//
//	ACCEPT 'K'   count headers; payload: the subprotocol ("" for none), then header name/value strings,
//	             NUL-separated.
//
// The engine tells the worker CLOSE once the client's side has ended (with the client's code, 1001 when
// the engine ends the socket, 1006 when the client went away without one); the worker sends CLOSE once
// the app has closed or returned. The socket holds its worker connection, and so one of the instance's
// concurrency slots, from the upgrade until both CLOSEs; the connection is not reused after it.

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
)

const (
	frameAccept  = 'K'
	frameMessage = 'M'
	frameClose   = 'C'

	flagWebSocket = 2 // on a HEAD: the request is a WebSocket upgrade
	flagText      = 1 // on a MESSAGE: text, not bytes

	defaultWebSocketIdleTimeout = 5 * time.Minute
	defaultWebSocketMaxMessage  = 16 << 20 // as uvicorn's default

	// webSocketCloseWait is how long a socket the engine closed waits for the app to end it.
	webSocketCloseWait = 5 * time.Second
	// maxCloseReason is the longest reason a close frame carries (125 bytes of payload less the code).
	maxCloseReason = 123
)

// ErrDeploymentReplaced, as the cause of a WebSocket request's context, makes the runtime close the
// socket with 1001: the host it was opened on now serves another deployment.
var ErrDeploymentReplaced = errors.New("the host now serves another deployment")

// IsWebSocketUpgrade reports whether r asks to become a WebSocket.
func IsWebSocketUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, value := range h[name] {
		for _, part := range strings.Split(value, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// webSocketRefusal is why r cannot become a WebSocket of app, or "" when it can.
func webSocketRefusal(r *http.Request, app App) (int, string) {
	switch {
	case app.Kind != runspec.KindASGI:
		return http.StatusNotImplemented, fmt.Sprintf("WebSockets are served for ASGI apps only (FastAPI, Starlette, ...); this app is a %s app", strings.ToUpper(app.Kind))
	case r.ProtoMajor != 1 || r.ProtoMinor != 1 || r.Method != http.MethodGet:
		return http.StatusBadRequest, "a WebSocket upgrade must be an HTTP/1.1 GET request"
	case !headerHasToken(r.Header, "Connection", "Upgrade"):
		return http.StatusBadRequest, "a WebSocket upgrade needs Connection: Upgrade"
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		return http.StatusUpgradeRequired, "only WebSocket version 13 is served (Sec-WebSocket-Version: 13)"
	case r.Header.Get("Sec-WebSocket-Key") == "":
		return http.StatusBadRequest, "a WebSocket upgrade needs a Sec-WebSocket-Key header"
	}
	return 0, ""
}

// serveWebSocket carries r, a WebSocket upgrade, to one of d's workers and the socket's messages both
// ways until it ends. It returns false, having written nothing, when d stopped before r could be sent.
func (d *deployment) serveWebSocket(w http.ResponseWriter, r *http.Request) bool {
	c, answered := d.connect(w, r.Context())
	if c == nil {
		return answered
	}
	defer d.pool.put(c, false) // a socket's connection is not reused
	// The app has the maximum duration to accept; a deadline fails to set only on a closed connection.
	_ = c.conn.SetDeadline(time.Now().Add(d.maxDuration()))
	frame, err := appendRequest(c.buf[:0], r, runspec.KindASGI, false, nil)
	if err != nil {
		writeProblem(w, http.StatusBadRequest, err.Error())
		return true
	}
	frame[1] |= flagWebSocket
	if _, err := c.conn.Write(frame); err != nil {
		d.log.Warn("cannot reach worker", "error", err)
		writeProblem(w, http.StatusBadGateway, "could not reach the app")
		return true
	}
	subprotocol, ok := d.awaitAccept(w, c)
	if !ok {
		return true
	}
	_ = c.conn.SetDeadline(time.Time{})
	var subprotocols []string
	if subprotocol != "" {
		subprotocols = []string{subprotocol}
	}
	// The app saw Origin in its scope and accepted: the choice is its own, as under uvicorn.
	// permessage-deflate when the client offers it, each message on its own (pooled compressors,
	// no window kept per socket); the message limit holds for what a message inflates to.
	client, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: subprotocols, InsecureSkipVerify: true,
		CompressionMode: websocket.CompressionNoContextTakeover})
	if err != nil {
		d.log.Debug("WebSocket upgrade failed", "error", err)
		_, _ = c.conn.Write(closeFrame(websocket.StatusAbnormalClosure, ""))
		return true
	}
	client.SetReadLimit(-1) // the session enforces the limit, with its own reason
	s := &webSocketSession{d: d, client: client, worker: c, done: make(chan struct{})}
	s.lastActive.Store(time.Now().UnixNano())
	if !d.trackSocket(s) {
		s.end(websocket.StatusGoingAway, "the deployment is stopping")
	}
	defer d.untrackSocket(s)
	stopWatching := context.AfterFunc(r.Context(), func() {
		reason := "the connection to the engine ended"
		if errors.Is(context.Cause(r.Context()), ErrDeploymentReplaced) {
			reason = "this host now serves a new deployment: reconnect"
		}
		s.end(websocket.StatusGoingAway, reason)
	})
	defer stopWatching()
	s.run()
	return true
}

// awaitAccept reads the app's answer to a WebSocket's HEAD: the subprotocol it accepted with, its
// headers set on w; ok false when the app refused or failed, and w has its answer.
func (d *deployment) awaitAccept(w http.ResponseWriter, c *backendConn) (subprotocol string, ok bool) {
	peeked, err := c.reader.Peek(frameHeaderSize)
	if err == nil && (peeked[0] == frameResponse || peeked[0] == frameAbort) {
		if ex := d.copyResponse(w, c); ex.err != nil && !ex.responseStarted {
			writeProblem(w, http.StatusBadGateway, "the app failed while answering (see the deployment's log)")
		}
		return "", false
	}
	var h frameHeader
	var payload []byte
	if err == nil {
		if h, err = readFrameHeader(c.reader); err == nil {
			payload = make([]byte, h.length)
			_, err = io.ReadFull(c.reader, payload)
		}
	}
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		writeProblem(w, http.StatusGatewayTimeout, fmt.Sprintf("the app did not accept the WebSocket within %s", d.maxDuration()))
		return "", false
	case err != nil:
		d.log.Warn("WebSocket handshake with worker failed", "error", err)
		writeProblem(w, http.StatusBadGateway, "the app's worker went away before it answered (see the deployment's log)")
		return "", false
	case h.typ == frameClose:
		writeProblem(w, http.StatusForbidden, "the app refused the WebSocket")
		return "", false
	case h.typ != frameAccept:
		d.log.Warn("WebSocket handshake with worker failed", "error", &protocolError{fmt.Sprintf("expected an accept, got frame type %q", h.typ)})
		writeProblem(w, http.StatusBadGateway, "the app's worker answered out of protocol")
		return "", false
	}
	fields := strings.Split(string(payload), "\x00")
	if len(fields) != 1+2*h.count {
		writeProblem(w, http.StatusBadGateway, "the app accepted the WebSocket with headers it cannot send (a NUL byte in a header?)")
		return "", false
	}
	header := w.Header()
	for i := 1; i < len(fields); i += 2 {
		key := http.CanonicalHeaderKey(fields[i])
		if !isHopByHop(key) && !strings.HasPrefix(key, "Sec-Websocket-") {
			header[key] = append(header[key], fields[i+1])
		}
	}
	return fields[0], true
}

// webSocketSession is one accepted WebSocket: the client's socket and the worker connection behind it.
type webSocketSession struct {
	d          *deployment
	client     *websocket.Conn
	worker     *backendConn
	lastActive atomic.Int64 // unix nanoseconds of the last message either way
	done       chan struct{}

	writeMu     sync.Mutex // frames to the worker
	closeSent   bool       // CLOSE went to the worker; under writeMu
	endOnce     sync.Once
	ended       atomic.Pointer[websocket.CloseError] // how the engine ended the socket, if it did
	workerEnded atomic.Bool                          // the worker sent CLOSE or went away
}

// run carries messages both ways until the worker has ended the socket and the client's side is closed.
func (s *webSocketSession) run() {
	fromClient := make(chan struct{})
	go func() {
		defer close(fromClient)
		s.clientToWorker()
	}()
	go s.watchIdle()
	s.workerToClient()
	<-fromClient
	close(s.done)
}

// clientToWorker passes the client's messages to the worker, then its close code.
func (s *webSocketSession) clientToWorker() {
	limit := s.d.webSocketMaxMessage()
	for {
		typ, reader, err := s.client.Reader(context.Background())
		if err != nil {
			code, reason := websocket.StatusAbnormalClosure, ""
			var closeErr websocket.CloseError
			if errors.As(err, &closeErr) {
				code, reason = closeErr.Code, closeErr.Reason
			}
			s.tellWorkerClosed(code, reason)
			return
		}
		data, err := io.ReadAll(io.LimitReader(reader, limit+1))
		switch {
		case err != nil:
			continue // the connection broke: the next Reader says how
		case int64(len(data)) > limit:
			// Reading stops here: Close skips the rest of the message while it waits for the client's answer.
			s.end(websocket.StatusMessageTooBig, fmt.Sprintf("a message is larger than the limit of %d bytes", limit))
			return
		case typ == websocket.MessageText && !utf8.Valid(data):
			s.end(websocket.StatusInvalidFramePayloadData, "a text message is not valid UTF-8")
			return
		}
		s.lastActive.Store(time.Now().UnixNano())
		var flags byte
		if typ == websocket.MessageText {
			flags = flagText
		}
		header := appendFrameHeader(make([]byte, 0, frameHeaderSize), frameMessage, 0, len(data))
		header[1] = flags
		s.writeMu.Lock()
		if !s.closeSent {
			buffers := net.Buffers{header, data}
			if _, err := buffers.WriteTo(s.worker.conn); err != nil {
				s.closeSent = true // the worker is gone: nothing more can reach it
				s.writeMu.Unlock()
				s.end(websocket.StatusInternalError, "the app's worker went away")
				continue
			}
		}
		s.writeMu.Unlock()
	}
}

// workerToClient passes the worker's messages to the client until the worker ends the socket.
func (s *webSocketSession) workerToClient() {
	defer s.workerEnded.Store(true)
	writeTimeout := s.d.webSocketIdleTimeout()
	for {
		h, err := readFrameHeader(s.worker.reader)
		if err != nil {
			s.endClient(websocket.StatusInternalError, "the app's worker went away")
			return
		}
		switch h.typ {
		case frameMessage:
			typ := websocket.MessageBinary
			if h.flags&flagText != 0 {
				typ = websocket.MessageText
			}
			s.lastActive.Store(time.Now().UnixNano())
			if err := s.sendToClient(typ, h.length, writeTimeout); err != nil {
				s.end(websocket.StatusAbnormalClosure, "")
			}
		case frameClose:
			code, reason, err := readClose(s.worker.reader, h.length)
			if err != nil {
				code, reason = websocket.StatusInternalError, ""
			}
			if ended := s.ended.Load(); ended != nil {
				code, reason = ended.Code, ended.Reason // the app's answer to the engine's close
			}
			s.endClient(code, reason)
			return
		default:
			s.d.log.Warn("WebSocket worker connection broken", "error", &protocolError{fmt.Sprintf("unexpected frame type %q on a WebSocket", h.typ)})
			s.endClient(websocket.StatusInternalError, "")
			return
		}
	}
}

// sendToClient copies a MESSAGE payload of n bytes from the worker to the client as one message.
func (s *webSocketSession) sendToClient(typ websocket.MessageType, n int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if n <= s.worker.reader.Size() {
		// Whole in the read buffer: one frame, without a streaming writer's setup and final frame.
		payload, err := s.worker.reader.Peek(n)
		if err != nil {
			return err
		}
		err = s.client.Write(ctx, typ, payload)
		_, _ = s.worker.reader.Discard(n) // peeked, so buffered: it cannot fail
		return err
	}
	writer, err := s.client.Writer(ctx, typ)
	if err != nil {
		readErr, _ := copyFrame(io.Discard, s.worker.reader, n)
		return errors.Join(err, readErr)
	}
	readErr, writeErr := copyFrame(writer, s.worker.reader, n)
	return errors.Join(readErr, writeErr, writer.Close())
}

func readClose(r *bufio.Reader, n int) (websocket.StatusCode, string, error) {
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, "", err
	}
	if n < 2 {
		return 0, "", &protocolError{"a WebSocket close frame without its code"}
	}
	return websocket.StatusCode(binary.BigEndian.Uint16(payload)), string(payload[2:]), nil
}

func closeFrame(code websocket.StatusCode, reason string) []byte {
	if len(reason) > maxCloseReason {
		reason = reason[:maxCloseReason]
	}
	b := appendFrameHeader(make([]byte, 0, frameHeaderSize+2+len(reason)), frameClose, 0, 2+len(reason))
	b = binary.BigEndian.AppendUint16(b, uint16(code))
	return append(b, reason...)
}

// tellWorkerClosed sends the worker CLOSE, once, and gives it webSocketCloseWait to end the socket.
func (s *webSocketSession) tellWorkerClosed(code websocket.StatusCode, reason string) {
	// The deadline also frees a write of a message stuck behind an app that reads nothing.
	_ = s.worker.conn.SetDeadline(time.Now().Add(webSocketCloseWait))
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.closeSent {
		return
	}
	s.closeSent = true
	if s.workerEnded.Load() {
		return
	}
	_, _ = s.worker.conn.Write(closeFrame(code, reason)) // a worker gone already ends the session anyway
}

// end closes the socket on the engine's side: the client gets code, and so does the app.
func (s *webSocketSession) end(code websocket.StatusCode, reason string) {
	s.endOnce.Do(func() {
		s.ended.Store(&websocket.CloseError{Code: code, Reason: reason})
		s.tellWorkerClosed(code, reason)
		go s.endClient(code, reason) // Close waits for the client's answer, which the reader takes in
	})
}

// endClient closes the client's side with code.
func (s *webSocketSession) endClient(code websocket.StatusCode, reason string) {
	if len(reason) > maxCloseReason {
		reason = reason[:maxCloseReason]
	}
	_ = s.client.Close(code, reason) // a client already gone is no news
}

// watchIdle ends the socket once no message went either way for the idle timeout.
func (s *webSocketSession) watchIdle() {
	timeout := s.d.webSocketIdleTimeout()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-timer.C:
		}
		idle := time.Since(time.Unix(0, s.lastActive.Load()))
		if idle >= timeout {
			s.end(websocket.StatusGoingAway, fmt.Sprintf("idle timeout: no message either way for %s", timeout))
			return
		}
		timer.Reset(timeout - idle)
	}
}

// trackSocket counts s among d's open sockets, unless d is stopping.
func (d *deployment) trackSocket(s *webSocketSession) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopping {
		return false
	}
	if d.sockets == nil {
		d.sockets = map[*webSocketSession]struct{}{}
	}
	d.sockets[s] = struct{}{}
	return true
}

func (d *deployment) untrackSocket(s *webSocketSession) {
	d.mu.Lock()
	delete(d.sockets, s)
	d.mu.Unlock()
}

// closeSockets ends d's open sockets with 1001: d is stopping or being replaced.
func (d *deployment) closeSockets() {
	d.mu.Lock()
	open := make([]*webSocketSession, 0, len(d.sockets))
	for s := range d.sockets {
		open = append(open, s)
	}
	d.mu.Unlock()
	for _, s := range open {
		s.end(websocket.StatusGoingAway, "the deployment is stopping")
	}
}

// webSocketIdleTimeout is how long a socket of d may go without a message either way.
func (d *deployment) webSocketIdleTimeout() time.Duration {
	return ownOr(d.app.WebSocketIdleTimeout, d.m.cfg.WebSocketIdleTimeout)
}

// webSocketMaxMessage is the largest message a client may send on a socket of d.
func (d *deployment) webSocketMaxMessage() int64 {
	return ownOr(d.app.WebSocketMaxMessage, d.m.cfg.WebSocketMaxMessage)
}
