package logrotate

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRotateSmallLogIsLeftAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	if rotated, err := Rotate(path, 100); err != nil || rotated {
		t.Fatalf("missing log: rotated %v, error %v", rotated, err)
	}
	if err := os.WriteFile(path, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if rotated, err := Rotate(path, 100); err != nil || rotated {
		t.Fatalf("small log: rotated %v, error %v", rotated, err)
	}
	if _, err := os.Stat(path + RotatedSuffix); !os.IsNotExist(err) {
		t.Fatalf("a small log got an older generation: %v", err)
	}
}

// With no writer in between, the two generations hold every line once, in order.
func TestRotateKeepsEveryLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	var want bytes.Buffer
	for i := range 5000 {
		fmt.Fprintf(&want, "line %d\n", i)
	}
	if err := os.WriteFile(path, want.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	rotated, err := Rotate(path, 1024)
	if err != nil || !rotated {
		t.Fatalf("rotated %v, error %v", rotated, err)
	}
	older, err := os.ReadFile(path + RotatedSuffix)
	if err != nil {
		t.Fatal(err)
	}
	live, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := append(older, live...); !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("the generations hold %d bytes, not the %d written", len(got), want.Len())
	}
	if int64(len(live)) > 64<<10 {
		t.Fatalf("the live log kept %d bytes", len(live))
	}
}

// A writer with an O_APPEND descriptor, as an app's stdout is, keeps writing
// into the live log across rotations, and the log stays bounded.
func TestRotateUnderRunningWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = out.Close() }()
	var written atomic.Int64
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		line := []byte(strings.Repeat("x", 99) + "\n")
		for {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if _, err := out.Write(line); err != nil {
				done <- err
				return
			}
			written.Add(int64(len(line)))
		}
	}()

	const limit = 256 << 10
	rotations := 0
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && (rotations < 5 || written.Load() < 20*limit) {
		rotated, err := Rotate(path, limit)
		if err != nil {
			t.Fatal(err)
		}
		if rotated {
			rotations++
		}
		time.Sleep(time.Millisecond)
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatalf("the writer failed after a rotation: %v", err)
	}
	if rotations == 0 {
		t.Fatal("the log was never rotated")
	}

	// Still written to after the last rotation: a marker lands in the live log.
	if _, err := Rotate(path, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := out.WriteString("after rotation\n"); err != nil {
		t.Fatal(err)
	}
	live, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(live, []byte("after rotation\n")) {
		t.Fatalf("the writer's last line is not at the end of the live log (%d bytes)", len(live))
	}
	if int64(len(live)) > limit {
		t.Fatalf("the live log is %d bytes after %d rotations of %d bytes written", len(live), rotations, written.Load())
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// A writer past the end of a truncated file would leave a sparse file as
	// large as everything written.
	if info.Size() >= written.Load() {
		t.Fatalf("the log is %d bytes of %d written: not bounded", info.Size(), written.Load())
	}
	t.Logf("%d rotations, %d bytes written", rotations, written.Load())
}
