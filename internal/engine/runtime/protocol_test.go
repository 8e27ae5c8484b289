package runtime

import (
	"bufio"
	"bytes"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
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
	frame, err := appendRequest(nil, r, kindWSGI, false, nil)
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
	for _, kind := range []string{kindWSGI, kindASGI} {
		if _, err := appendRequest(nil, r, kind, false, nil); !errors.Is(err, errInvalidRequest) {
			t.Errorf("%s: err = %v, want errInvalidRequest", kind, err)
		}
	}
}

func TestSmallBodyTravelsWithTheHead(t *testing.T) {
	r := httptest.NewRequest("POST", "/", strings.NewReader("hello"))
	frame, err := appendRequest(nil, r, kindWSGI, true, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	reader := bufio.NewReader(bytes.NewReader(frame))
	head, _ := readFrameHeader(reader)
	reader.Discard(head.length)
	body, _ := readFrameHeader(reader)
	payload := make([]byte, body.length)
	reader.Read(payload)
	end, err := readFrameHeader(reader)
	if body.typ != frameBody || string(payload) != "hello" || end.typ != frameEnd || err != nil {
		t.Fatalf("body %+v %q, end %+v %v", body, payload, end, err)
	}
}

func TestResponseHeadDecoding(t *testing.T) {
	frame := func(count int, payload string) *bufio.Reader {
		b := appendFrameHeader(nil, frameResponse, 0, count, len(payload))
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
