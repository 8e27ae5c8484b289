package workers

import (
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// An app's own idle timeout, workers, threads and maximum duration win over the engine's.
func TestAppSettingsOverrideTheEngines(t *testing.T) {
	requirePython(t)
	t.Run("idle timeout", func(t *testing.T) {
		h := newHarness(t, Config{}, App{Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp}), IdleTimeout: time.Second})
		parent := h.info(t, "/").PPID
		members := groupMembers(t, parent)
		began := time.Now()
		eventually(t, "the idle instance stops", func() bool { return len(h.manager.Running()) == 0 })
		if waited := time.Since(began); waited < 900*time.Millisecond {
			t.Errorf("stopped after %s, before its idle timeout of 1s", waited)
		}
		eventually(t, "its processes exit", func() bool { return !slices.ContainsFunc(members, processAlive) })
		if again := h.info(t, "/").PPID; again == parent {
			t.Fatal("served by the stopped instance")
		}
	})
	t.Run("one worker of one thread", func(t *testing.T) {
		h := newHarness(t, Config{}, App{Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp}), Workers: 1, Threads: 1})
		if members := groupMembers(t, h.info(t, "/").PPID); len(members) != 2 {
			t.Errorf("process group %v, want the parent and one worker", members)
		}
		const sleep = 500 * time.Millisecond
		began := time.Now()
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				if resp, body := h.get(t, "/sleep?0.5"); resp.StatusCode != http.StatusOK {
					t.Errorf("%d %s", resp.StatusCode, body)
				}
			})
		}
		wg.Wait()
		if took := time.Since(began); took < 2*sleep {
			t.Errorf("two requests of %s took %s together: they did not wait for each other", sleep, took)
		}
	})
	t.Run("max duration", func(t *testing.T) {
		h := newHarness(t, Config{}, App{Dir: writeApp(t, map[string]string{"app.py": plainWSGIApp}), MaxDuration: time.Second})
		if resp, body := h.get(t, "/sleep?3"); resp.StatusCode != http.StatusGatewayTimeout {
			t.Fatalf("%d %s, want 504", resp.StatusCode, body)
		}
	})
}
