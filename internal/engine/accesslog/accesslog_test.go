package accesslog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"golang.org/x/sys/unix"
)

func entry(deploymentID string, i int) api.RequestLogEntry {
	return api.RequestLogEntry{Time: time.Unix(1700000000, int64(i)).UTC(), DeploymentID: deploymentID, Method: "GET",
		Host: "app.localhost", Path: fmt.Sprintf("/%d", i), Status: 200, DurationMS: 1.5, BytesOut: 13}
}

// Entries recorded from many goroutines are all read back per deployment, each once; the newest
// limit come oldest first; a removed deployment's log is gone and later entries for it dropped.
func TestRecordReadRemove(t *testing.T) {
	dir := t.TempDir()
	l := New(dir, slog.New(slog.DiscardHandler))
	defer l.Close()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				l.Record(entry(fmt.Sprintf("dpl_%d", g%2), g*1000+i))
			}
		})
	}
	wg.Wait()
	ctx := context.Background()
	for _, id := range []string{"dpl_0", "dpl_1"} {
		got, err := l.Read(ctx, id, api.MaxRequestLimit)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, e := range got {
			if e.DeploymentID != id || seen[e.Path] {
				t.Fatalf("%s: entry %+v of another deployment, or twice", id, e)
			}
			seen[e.Path] = true
		}
		if len(got) != 1000 || l.Dropped() != 0 {
			t.Fatalf("%s: %d entries read back, %d dropped; want 1000 and none", id, len(got), l.Dropped())
		}
	}
	l.Record(entry("dpl_0", 5000))
	newest, err := l.Read(ctx, "dpl_0", 2)
	if err != nil || len(newest) != 2 || newest[1].Path != "/5000" {
		t.Fatalf("newest 2: %+v, %v", newest, err)
	}

	l.Remove("dpl_0")
	if _, err := os.Stat(l.Path("dpl_0")); !os.IsNotExist(err) {
		t.Fatalf("removed log: %v", err)
	}
	l.Record(entry("dpl_0", 6000))
	if got, err := l.Read(ctx, "dpl_0", 10); err != nil || len(got) != 0 {
		t.Fatalf("after removal: %+v, %v; want nothing", got, err)
	}
}

// A writer that cannot keep up costs entries, never the recording goroutine's time: with the
// writer stuck (its log is a FIFO nobody reads yet), a full queue drops what comes after it.
func TestRecordNeverBlocks(t *testing.T) {
	dir := t.TempDir()
	l := New(dir, slog.New(slog.DiscardHandler))
	fifo := l.Path("dpl_stuck")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	l.Record(entry("dpl_stuck", 0))
	flushed := make(chan struct{})
	l.queue <- message{written: flushed} // as a reader does: the writer flushes, into the FIFO
	for deadline := time.Now().Add(time.Minute); len(l.queue) > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the writer never took the entry and the flush")
		}
	}
	// The writer is in the FIFO's open now (or about to be), and takes nothing more.
	for i := range 2 * queueLength {
		l.Record(entry("dpl_busy", i))
	}
	if got := l.Dropped(); got != queueLength {
		t.Errorf("dropped %d entries, want %d: the queue holds %d and the writer is stuck", got, queueLength, queueLength)
	}
	select {
	case <-flushed:
		t.Fatal("the writer flushed into a FIFO nobody reads")
	default:
	}

	// Unstuck, it writes what the queue held.
	reader, err := os.OpenFile(fifo, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	drained := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, reader); close(drained) }()
	<-flushed
	got, err := l.Read(context.Background(), "dpl_busy", api.MaxRequestLimit)
	if err != nil || len(got) == 0 {
		t.Fatalf("read %d, %v", len(got), err)
	}
	l.Close()
	_ = reader.Close()
	<-drained
}

// After Close, recording drops and reading and removing return instead of waiting forever.
func TestClosedLogDoesNotHang(t *testing.T) {
	l := New(t.TempDir(), slog.New(slog.DiscardHandler))
	l.Close()
	l.Close()
	l.Record(entry("dpl_late", 1))
	l.Remove("dpl_late")
	if _, err := l.Read(context.Background(), "dpl_late", 1); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkWriter measures the writer goroutine's work per entry (encoding and appending, in
// batches as a busy engine queues them): the CPU the access log takes from serving.
func BenchmarkWriter(b *testing.B) {
	l := New(b.TempDir(), slog.New(slog.DiscardHandler))
	defer l.Close()
	ctx := context.Background()
	e := entry("dpl_bench", 1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		l.Record(e)
		if i%1024 == 1023 {
			_ = l.await(ctx, message{written: make(chan struct{})})
		}
	}
	if l.Dropped() > 0 {
		b.Fatalf("%d dropped", l.Dropped())
	}
}
