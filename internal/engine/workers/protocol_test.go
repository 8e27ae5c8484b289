package workers

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
)

// wsgiEnviron decodes a HEAD frame the way bootstrap.py does for WSGI.
func wsgiEnviron(t *testing.T, frame []byte) map[string]string {
	t.Helper()
	h, err := readFrameHeader(bufio.NewReader(bytes.NewReader(frame)))
	if err != nil || h.typ != frameHead {
		t.Fatalf("frame header %+v, %v", h, err)
	}
	fields := strings.SplitN(string(frame[frameHeaderSize:frameHeaderSize+h.length]), "\x00", h.count+1)
	environ := map[string]string{"PATH_INFO": fields[h.count]}
	for i := 0; i+1 < h.count; i += 2 {
		environ[fields[i]] = fields[i+1]
	}
	return environ
}

func TestWSGIHeadEncoding(t *testing.T) {
	r := httptest.NewRequest("GET", "/a%00b?q=1", nil)
	r.Header["Cookie"] = []string{"a=1", "b=2"}
	r.Header["X_Forwarded_For"] = []string{"spoofed"}
	r.Header["X-Forwarded-For"] = []string{"1.2.3.4"}
	r.Header["Proxy"] = []string{"http://evil"}
	frame, err := appendRequest(nil, r, runspec.KindWSGI, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if frame[1] != flagNoBody {
		t.Errorf("flags = %d, want flagNoBody", frame[1])
	}
	environ := wsgiEnviron(t, frame)
	want := map[string]string{
		"PATH_INFO":            "/a\x00b",
		"QUERY_STRING":         "q=1",
		"HTTP_COOKIE":          "a=1; b=2",
		"HTTP_X_FORWARDED_FOR": "1.2.3.4",
		"HTTP_HOST":            "example.com",
		"SERVER_NAME":          "example.com",
		"SERVER_PORT":          "80",
	}
	for key, value := range want {
		if environ[key] != value {
			t.Errorf("%s = %q, want %q", key, environ[key], value)
		}
	}
	if _, ok := environ["HTTP_PROXY"]; ok {
		t.Errorf("HTTP_PROXY reached the environ")
	}
}

func TestHeadWithNULIsRefused(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header["X-Bad"] = []string{"a\x00b"}
	r.RemoteAddr = "1.2.3.4\x00:5" // the only string field of a handler head that can come from outside
	for _, kind := range []string{runspec.KindWSGI, runspec.KindASGI, runspec.KindHandler} {
		if _, err := appendRequest(nil, r, kind, false, nil); !errors.Is(err, errInvalidRequest) {
			t.Errorf("%s: err = %v, want errInvalidRequest", kind, err)
		}
	}
}

func TestHandlerHead(t *testing.T) {
	r := httptest.NewRequest("POST", "/a%20b/c?x=1&y=%20z", strings.NewReader("hello"))
	r.RemoteAddr = "10.0.0.7:4242"
	r.Header["X-Multi"] = []string{"a", "b"}
	r.Header["Content-Length"] = []string{"5"}
	r.Header["Connection"] = []string{"keep-alive"}
	r.Header["Keep-Alive"] = []string{"timeout=5"}
	frame, err := appendRequest(nil, r, runspec.KindHandler, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := readFrameHeader(bufio.NewReader(bytes.NewReader(frame)))
	fields := strings.SplitN(string(frame[frameHeaderSize:frameHeaderSize+h.length]), "\x00", h.count+1)
	if h.count != 3 || frame[1] != 0 || fields[0] != "10.0.0.7" || fields[1] != "4242" || fields[2] != "5" {
		t.Fatalf("count %d, flags %d, fields %q", h.count, frame[1], fields)
	}
	lines := strings.Split(fields[3], "\r\n")
	if lines[0] != "POST /a%20b/c?x=1&y=%20z HTTP/1.1" || lines[len(lines)-1] != "" {
		t.Fatalf("request head %q: want the request line first and every line ended by CRLF", fields[3])
	}
	headers := lines[1 : len(lines)-1]
	slices.Sort(headers)
	if want := []string{"Host: example.com", "X-Multi: a", "X-Multi: b"}; !slices.Equal(headers, want) {
		t.Errorf("header lines %q, want %q (no Content-Length, no hop-by-hop headers)", headers, want)
	}

	r = httptest.NewRequest("GET", "/", nil)
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.0", 1, 0
	if frame, err = appendRequest(nil, r, runspec.KindHandler, false, nil); err != nil || !bytes.Contains(frame, []byte("GET / HTTP/1.0\r\n")) {
		t.Errorf("HTTP/1.0 request head: %q, %v", frame, err)
	}
	if frame[1] != flagNoBody {
		t.Errorf("flags = %d, want flagNoBody", frame[1])
	}

	for name, value := range map[string]string{"X-Injected": "a\r\nX-Admin: yes", "X-Bare-LF": "a\nb"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header[name] = []string{value}
		if _, err := appendRequest(nil, r, runspec.KindHandler, false, nil); !errors.Is(err, errInvalidRequest) {
			t.Errorf("%s: %q: err = %v, want errInvalidRequest", name, value, err)
		}
	}
}

func TestSmallBodyTravelsWithTheHead(t *testing.T) {
	r := httptest.NewRequest("POST", "/", strings.NewReader("hello"))
	frame, err := appendRequest(nil, r, runspec.KindWSGI, true, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	reader := bufio.NewReader(bytes.NewReader(frame))
	head, _ := readFrameHeader(reader)
	if _, err := reader.Discard(head.length); err != nil {
		t.Fatal(err)
	}
	body, _ := readFrameHeader(reader)
	payload := make([]byte, body.length)
	if _, err := io.ReadFull(reader, payload); err != nil {
		t.Fatal(err)
	}
	end, err := readFrameHeader(reader)
	if body.typ != frameBody || string(payload) != "hello" || end.typ != frameEnd || err != nil {
		t.Fatalf("body %+v %q, end %+v %v", body, payload, end, err)
	}
}

func TestResponseHeadDecoding(t *testing.T) {
	frame := func(count int, payload string) *bufio.Reader {
		b := appendFrameHeader(nil, frameResponse, count, len(payload))
		return bufio.NewReader(bytes.NewReader(append(b, payload...)))
	}
	var head responseHead
	if err := readResponseHead(frame(2, "201\x00Set-Cookie\x00a=1\x00Set-Cookie\x00b=2"), &head); err != nil {
		t.Fatal(err)
	}
	if head.status != 201 || strings.Join(head.fields, "|") != "Set-Cookie|a=1|Set-Cookie|b=2" {
		t.Errorf("decoded %+v", head)
	}
	for _, bad := range []struct {
		count   int
		payload string
	}{
		{1, "200\x00X-A\x00v\x00w"}, // a NUL inside a value
		{2, "200\x00X-A\x00v"},      // fewer headers than announced
		{0, "200\x00X-A"},           // headers not announced
		{0, "20x"},                  // not a status
		{0, "101"},                  // an informational status is not a response
	} {
		if err := readResponseHead(frame(bad.count, bad.payload), &head); err == nil {
			t.Errorf("accepted count %d payload %q", bad.count, bad.payload)
		}
	}
}
