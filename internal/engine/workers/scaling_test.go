package workers

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// busyWith sends n requests that each hold a worker thread for hold, at once, and returns once
// they have all been answered.
func busyWith(t *testing.T, h *harness, n int, hold time.Duration) {
	t.Helper()
	var wg sync.WaitGroup
	statuses := make(chan int, n)
	for range n {
		wg.Go(func() {
			resp, _ := h.get(t, fmt.Sprintf("/sleep?%g", hold.Seconds()))
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	for status := range statuses {
		if status != http.StatusOK {
			t.Errorf("a request holding a worker got %d", status)
		}
	}
}

// workerCount is how many workers the parent of the group runs (the group less the parent).
func workerCount(t *testing.T, parent int) int {
	return len(groupMembers(t, parent)) - 1
}

// TestWorkersScaleWithRequests: a deployment runs one worker until requests need more, up to its
// maximum, and the ones it no longer needs stop after its idle timeout, newest first, while the
// deployment keeps serving; they start again when needed.
func TestWorkersScaleWithRequests(t *testing.T) {
	requirePython(t)
	const idle = 1500 * time.Millisecond
	h := newHarness(t, Config{Workers: 3, Threads: 1, IdleTimeout: idle}, App{Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp})})

	parent := h.info(t, "/").PPID
	if n := workerCount(t, parent); n != 1 {
		t.Fatalf("after one request the app runs %d workers, want 1", n)
	}

	// Three requests at once, one thread per worker: all three workers are needed.
	done := make(chan struct{})
	go func() {
		defer close(done)
		busyWith(t, h, 3, 2*time.Second)
	}()
	eventually(t, "the app runs 3 workers", func() bool { return workerCount(t, parent) == 3 })
	<-done
	if n := workerCount(t, parent); n != 3 {
		t.Errorf("past the maximum: %d workers, want 3", n)
	}

	// One request at a time keeps the deployment running on its first worker; the others stop.
	stop := make(chan struct{})
	var serving sync.WaitGroup
	serving.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if info := h.info(t, "/"); info.PPID != parent {
				t.Errorf("a request was served by an instance of parent %d, want %d: the deployment restarted", info.PPID, parent)
				return
			}
		}
	})
	eventually(t, "the idle workers stop", func() bool { return workerCount(t, parent) == 1 })
	close(stop)
	serving.Wait()

	// Needed again, they start again on the same sockets.
	go func() {
		busyWith(t, h, 3, time.Second)
	}()
	eventually(t, "the app runs 3 workers again", func() bool { return workerCount(t, parent) == 3 })
}
