package logrotate

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func appendLines(t *testing.T, path string, from, to int) []byte {
	t.Helper()
	var text bytes.Buffer
	for i := from; i < to; i++ {
		fmt.Fprintf(&text, "line %d\n", i)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(text.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return text.Bytes()
}

func TestTailReachesIntoTheOlderGeneration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	appendLines(t, path, 0, 2000)
	if rotated, err := Rotate(path, 1024); err != nil || !rotated {
		t.Fatalf("rotated %v, error %v", rotated, err)
	}
	live, _ := os.ReadFile(path)
	liveLines := bytes.Count(live, []byte{'\n'})
	tail, _, err := Tail(path, liveLines+3)
	if err != nil {
		t.Fatal(err)
	}
	want := appendLines(t, filepath.Join(t.TempDir(), "want"), 2000-liveLines-3, 2000)
	if !bytes.Equal(tail, want) {
		t.Fatalf("tail of %d lines across generations:\n%q\nwant\n%q", liveLines+3, tail, want)
	}
	if tail, _, _ := Tail(filepath.Join(t.TempDir(), "missing.log"), 10); len(tail) != 0 {
		t.Fatalf("a missing log has a tail: %q", tail)
	}
}

// A tail longer than one read from the end back, across the two generations.
func TestLongTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	appendLines(t, path, 0, 30000)
	if rotated, err := Rotate(path, 100<<10); err != nil || !rotated {
		t.Fatalf("rotated %v, error %v", rotated, err)
	}
	appendLines(t, path, 30000, 40000)
	tail, _, err := Tail(path, 25000)
	if err != nil {
		t.Fatal(err)
	}
	if want := appendLines(t, filepath.Join(t.TempDir(), "want"), 15000, 40000); !bytes.Equal(tail, want) {
		t.Fatalf("tail of 25000 lines: %d bytes, want %d", len(tail), len(want))
	}
}

// A follower reads every line once, in order, whether the log is rotated between its reads
// before or after it has caught up.
func TestFollowerSurvivesRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	appendLines(t, path, 0, 10)
	tail, follower, err := Tail(path, 2)
	if err != nil {
		t.Fatal(err)
	}
	if string(tail) != "line 8\nline 9\n" {
		t.Fatalf("tail: %q", tail)
	}
	var want, got bytes.Buffer
	next := 10
	for round := range 6 {
		want.Write(appendLines(t, path, next, next+3000))
		next += 3000
		if round%2 == 0 { // caught up before the rotation
			more, err := follower.Next()
			if err != nil {
				t.Fatal(err)
			}
			got.Write(more)
		}
		if _, err := Rotate(path, 4096); err != nil {
			t.Fatal(err)
		}
		want.Write(appendLines(t, path, next, next+5))
		next += 5
		for {
			more, err := follower.Next()
			if err != nil {
				t.Fatal(err)
			}
			if len(more) == 0 {
				break
			}
			got.Write(more)
		}
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("followed %d bytes, want the %d appended", got.Len(), want.Len())
	}
}
