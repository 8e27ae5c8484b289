package workers

// The engine and a deployment's Python workers (bootstrap.py, which carries the same description) talk
// over unix stream sockets with a compact binary framing. Every frame is an 8-byte header and a payload;
// integers are big-endian:
//
//	u8 type | u8 flags | u16 count | u32 length | length bytes of payload
//
// A connection carries one request at a time:
//
//	engine -> worker: HEAD, then BODY* END unless HEAD has flagNoBody
//	worker -> engine: RESPONSE, BODY*, then END (or ABORT once the app fails mid-response)
//
//	HEAD 'H'      count NUL-separated latin-1 strings, a NUL, then the path (which may contain NULs).
//	              WSGI: environ key/value pairs (REQUEST_METHOD, QUERY_STRING, CONTENT_TYPE, HTTP_*, ...);
//	                    the path is PATH_INFO (percent-decoded).
//	              ASGI: method, scheme, query string, raw path, http version, client host, client port,
//	                    server host, server port, then header name/value pairs with lower-case names;
//	                    the path is the percent-decoded path.
//	              handler (a BaseHTTPRequestHandler class): client host, client port, the declared
//	                    Content-Length ("" for none); instead of the path, the request head as http.server
//	                    reads it: the request line (method, path and query as sent, HTTP/1.0 or HTTP/1.1)
//	                    and header lines, each ending in CRLF, without Content-Length and hop-by-hop
//	                    headers. The worker adds Content-Length (the length of the body it received),
//	                    Connection: close and the empty line.
//	BODY 'B'      the next chunk of the request or response body.
//	END 'E'       empty: the request body, or the response, is complete.
//	RESPONSE 'R'  count headers; payload: 3-digit status, then header name/value strings, NUL-separated.
//	ABORT 'A'     empty: the response cannot be completed; the engine drops the client connection.
//
// Request bodies of known length up to smallBodyLimit travel in the same write as the head; larger or
// chunked ones are streamed in BODY frames of up to streamChunkSize while the response is read.
//
// NUL-separated strings let a worker split a head with one str.split and fill a WSGI environ with one
// dict.update: Python's per-request work is what bounds throughput.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
)

const (
	frameHeaderSize = 8

	frameHead     = 'H'
	frameBody     = 'B'
	frameEnd      = 'E'
	frameResponse = 'R'
	frameAbort    = 'A'

	flagNoBody = 1

	smallBodyLimit  = 64 << 10
	streamChunkSize = 64 << 10
)

var (
	errInvalidRequest = errors.New("the request contains a NUL byte or line break where the app's protocol cannot carry one")
	errAppAborted     = errors.New("the app failed after it started its response")
)

// protocolError means a worker sent something out of protocol.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return "ferry runtime protocol: " + e.msg }

type frameHeader struct {
	typ    byte
	flags  byte
	count  int
	length int
}

// appendFrameHeader appends a frame header with no flags; appendRequest sets a HEAD's in place.
func appendFrameHeader(b []byte, typ byte, count int, length int) []byte {
	b = append(b, typ, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(count))
	return binary.BigEndian.AppendUint32(b, uint32(length))
}

func readFrameHeader(r *bufio.Reader) (frameHeader, error) {
	b, err := r.Peek(frameHeaderSize)
	if err != nil {
		return frameHeader{}, err
	}
	h := frameHeader{
		typ:    b[0],
		flags:  b[1],
		count:  int(binary.BigEndian.Uint16(b[2:])),
		length: int(binary.BigEndian.Uint32(b[4:])),
	}
	_, err = r.Discard(frameHeaderSize)
	return h, err
}

// headBuilder appends NUL-terminated strings to a HEAD frame under construction. A string can also be
// appended to buf piece by piece and ended with add("").
type headBuilder struct {
	buf     []byte
	strings int
}

func (h *headBuilder) add(s string) {
	h.buf = append(h.buf, s...)
	h.buf = append(h.buf, 0)
	h.strings++
}

func (h *headBuilder) pair(key, value string) {
	h.add(key)
	h.add(value)
}

// appendRequest appends the HEAD frame of r, for an app of the given kind, and when body is not nil
// the whole body with its END. hasBody false marks a request without a body at all.
func appendRequest(b []byte, r *http.Request, kind string, hasBody bool, body []byte) ([]byte, error) {
	start := len(b)
	h := headBuilder{buf: appendFrameHeader(b, frameHead, 0, 0)}
	switch kind {
	case runspec.KindASGI:
		addASGIFields(&h, r)
	case runspec.KindHandler:
		addHandlerFields(&h, r)
	default:
		addWSGIFields(&h, r)
	}
	// One check for every string at once: a NUL inside one would shift all the fields after it.
	if bytes.Count(h.buf[start+frameHeaderSize:], []byte{0}) != h.strings {
		return b, errInvalidRequest
	}
	if h.strings > 0xffff {
		return b, errInvalidRequest
	}
	if kind == runspec.KindHandler {
		var ok bool
		if h.buf, ok = appendHandlerHead(h.buf, r); !ok {
			return b, errInvalidRequest
		}
	} else {
		h.buf = append(h.buf, r.URL.Path...)
	}
	var flags byte
	if !hasBody {
		flags = flagNoBody
	}
	header := h.buf[start:]
	header[1] = flags
	binary.BigEndian.PutUint16(header[2:], uint16(h.strings))
	binary.BigEndian.PutUint32(header[4:], uint32(len(header)-frameHeaderSize))
	b = h.buf
	if body != nil {
		if len(body) > 0 {
			b = appendFrameHeader(b, frameBody, 0, len(body))
			b = append(b, body...)
		}
		b = appendFrameHeader(b, frameEnd, 0, 0)
	}
	return b, nil
}

func addWSGIFields(h *headBuilder, r *http.Request) {
	remoteHost, remotePort := splitHostPort(r.RemoteAddr)
	serverName, serverPort := serverAddress(r)
	h.pair("REQUEST_METHOD", r.Method)
	h.pair("QUERY_STRING", r.URL.RawQuery)
	h.pair("REQUEST_URI", requestURI(r))
	h.pair("SERVER_PROTOCOL", serverProtocol(r))
	h.pair("REMOTE_ADDR", remoteHost)
	h.pair("REMOTE_PORT", remotePort)
	h.pair("SERVER_NAME", serverName)
	h.pair("SERVER_PORT", serverPort)
	h.pair("wsgi.url_scheme", scheme(r))
	h.pair("HTTP_HOST", r.Host)
	if declaresLength(r) {
		h.add("CONTENT_LENGTH")
		h.buf = strconv.AppendInt(h.buf, r.ContentLength, 10)
		h.add("")
	}
	for name, values := range r.Header {
		switch name {
		case "Content-Length", "Host", "Proxy": // Proxy would become HTTP_PROXY (httpoxy)
			continue
		case "Content-Type":
			h.add("CONTENT_TYPE")
		default:
			// HTTP_X_A could come from X-A or X_A; like gunicorn and nginx, trust only the dashed form.
			if strings.IndexByte(name, '_') >= 0 {
				continue
			}
			h.buf = append(h.buf, "HTTP_"...)
			for i := 0; i < len(name); i++ {
				c := name[i]
				switch {
				case c == '-':
					c = '_'
				case 'a' <= c && c <= 'z':
					c -= 'a' - 'A'
				}
				h.buf = append(h.buf, c)
			}
			h.add("")
		}
		separator := ", "
		if name == "Cookie" {
			separator = "; "
		}
		for i, value := range values {
			if i > 0 {
				h.buf = append(h.buf, separator...)
			}
			h.buf = append(h.buf, value...)
		}
		h.add("")
	}
}

func addASGIFields(h *headBuilder, r *http.Request) {
	remoteHost, remotePort := splitHostPort(r.RemoteAddr)
	serverName, serverPort := serverAddress(r)
	if remotePort == "" {
		remotePort = "0"
	}
	h.add(r.Method)
	h.add(scheme(r))
	h.add(r.URL.RawQuery)
	h.add(r.URL.EscapedPath())
	switch {
	case r.ProtoMajor == 2:
		h.add("2")
	case r.ProtoMajor == 1 && r.ProtoMinor == 0:
		h.add("1.0")
	default:
		h.add("1.1")
	}
	h.add(remoteHost)
	h.add(remotePort)
	h.add(serverName)
	h.add(serverPort)
	h.pair("host", r.Host)
	for name, values := range r.Header {
		if name == "Host" {
			continue
		}
		for _, value := range values {
			for i := 0; i < len(name); i++ {
				c := name[i]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				h.buf = append(h.buf, c)
			}
			h.add("")
			h.add(value)
		}
	}
}

func addHandlerFields(h *headBuilder, r *http.Request) {
	remoteHost, remotePort := splitHostPort(r.RemoteAddr)
	h.add(remoteHost)
	h.add(remotePort)
	if declaresLength(r) {
		h.buf = strconv.AppendInt(h.buf, r.ContentLength, 10)
	}
	h.add("")
}

// appendHandlerHead appends r's request line and header lines for a BaseHTTPRequestHandler class. It
// leaves out Content-Length (the worker writes the length of the body it hands over) and hop-by-hop
// headers (about the client's connection to the engine, not the app's). ok is false when a line break
// inside a field would have made a line of its own.
func appendHandlerHead(b []byte, r *http.Request) (_ []byte, ok bool) {
	start, lines := len(b), 1
	b = append(b, r.Method...)
	b = append(b, ' ')
	b = append(b, r.URL.RequestURI()...)
	if r.ProtoMajor == 1 && r.ProtoMinor == 0 {
		b = append(b, " HTTP/1.0\r\n"...)
	} else {
		b = append(b, " HTTP/1.1\r\n"...) // for HTTP/2 too: http.server answers 505 to any version past 1.x
	}
	if r.Host != "" {
		b = appendHeaderLine(b, "Host", r.Host)
		lines++
	}
	for name, values := range r.Header {
		if name == "Host" || name == "Content-Length" || isHopByHop(name) {
			continue
		}
		for _, value := range values {
			b = appendHeaderLine(b, name, value)
			lines++
		}
	}
	return b, bytes.Count(b[start:], []byte{'\n'}) == lines
}

func appendHeaderLine(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	b = append(b, value...)
	return append(b, "\r\n"...)
}

// declaresLength reports whether r states its body's length, zero included.
func declaresLength(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength == 0 && r.Header["Content-Length"] != nil)
}

func splitHostPort(addr string) (host, port string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, ""
	}
	return host, port
}

// serverAddress is the name and port the client addressed, from the Host header as gunicorn does.
func serverAddress(r *http.Request) (name, port string) {
	name, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		name, port = r.Host, ""
	}
	if port == "" || strings.Trim(port, "0123456789") != "" {
		port = "80"
		if r.TLS != nil {
			port = "443"
		}
	}
	if name == "" {
		name = "localhost"
	}
	return name, port
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

func requestURI(r *http.Request) string {
	if r.RequestURI != "" {
		return r.RequestURI
	}
	return r.URL.RequestURI()
}

func serverProtocol(r *http.Request) string {
	if r.Proto != "" {
		return r.Proto
	}
	return "HTTP/1.1"
}

// responseHead is a decoded RESPONSE frame.
type responseHead struct {
	status int
	fields []string // name, value, name, value, ...
}

// readResponseHead reads a RESPONSE frame into head, reusing head.fields.
func readResponseHead(r *bufio.Reader, head *responseHead) error {
	h, err := readFrameHeader(r)
	if err != nil {
		return err
	}
	switch h.typ {
	case frameResponse:
	case frameAbort:
		return errAppAborted
	default:
		return &protocolError{fmt.Sprintf("expected a response head, got frame type %q", h.typ)}
	}
	var payload []byte
	if h.length <= r.Size() {
		if payload, err = r.Peek(h.length); err != nil {
			return err
		}
		defer func() { _, _ = r.Discard(h.length) }() // peeked, so buffered: it cannot fail
	} else {
		payload = make([]byte, h.length)
		if _, err := io.ReadFull(r, payload); err != nil {
			return err
		}
	}
	status, rest, _ := bytes.Cut(payload, []byte{0})
	head.status, err = strconv.Atoi(string(status))
	if err != nil || len(status) != 3 || head.status < 200 {
		return &protocolError{fmt.Sprintf("invalid response status %q", status)}
	}
	head.fields = head.fields[:0]
	for i := 0; i < 2*h.count; i++ {
		field, more, found := bytes.Cut(rest, []byte{0})
		if found != (i < 2*h.count-1) {
			return &protocolError{fmt.Sprintf("response head holds a different number of headers than the %d it announces (a NUL byte in a header?)", h.count)}
		}
		head.fields = append(head.fields, string(field))
		rest = more
	}
	if h.count == 0 && len(rest) > 0 {
		return &protocolError{"response head has data after its status but announces no headers"}
	}
	return nil
}

// copyFrame writes the next n bytes of r to w straight from r's buffer. After a write error it still
// consumes the n bytes, so the connection stays in step.
func copyFrame(w io.Writer, r *bufio.Reader, n int) (readErr, writeErr error) {
	for n > 0 {
		chunk, err := r.Peek(min(n, r.Size()))
		if err != nil {
			return err, writeErr
		}
		if writeErr == nil {
			_, writeErr = w.Write(chunk)
		}
		_, _ = r.Discard(len(chunk)) // peeked, so buffered: it cannot fail
		n -= len(chunk)
	}
	return nil, writeErr
}

// streamBody sends body as BODY frames and an END to w.
func streamBody(w io.Writer, body io.Reader) (readErr, writeErr error) {
	buf := make([]byte, frameHeaderSize+streamChunkSize)
	for {
		n, err := body.Read(buf[frameHeaderSize:])
		if n > 0 {
			appendFrameHeader(buf[:0], frameBody, 0, n)
			if _, werr := w.Write(buf[:frameHeaderSize+n]); werr != nil {
				return nil, werr
			}
		}
		if err == io.EOF {
			_, werr := w.Write(appendFrameHeader(buf[:0], frameEnd, 0, 0))
			return nil, werr
		}
		if err != nil {
			return err, nil
		}
	}
}
