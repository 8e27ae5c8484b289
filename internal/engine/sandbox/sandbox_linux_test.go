package sandbox

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runIn runs a shell script in a sandbox of mode and returns its output.
func runIn(t *testing.T, mode Mode, spec Spec, script string) (string, error) {
	t.Helper()
	if mode == ModeUIDs && os.Geteuid() != 0 {
		t.Skip("mode uids needs root")
	}
	s, err := New(Config{Mode: mode, Name: "test-" + strings.ReplaceAll(t.Name(), "/", "-")})
	if err != nil {
		t.Skipf("sandbox mode %s not available here: %v", mode, err)
	}
	t.Cleanup(s.Close)
	if mode == ModeUIDs && spec.Identity.UID == 0 {
		spec.Identity = Identity{UID: DefaultFirstUID + 7, GID: DefaultFirstUID + 7}
	}
	var out bytes.Buffer
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Stdout, cmd.Stderr = &out, &out
	p, err := s.Start(cmd, spec)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	err = p.Wait()
	return out.String(), err
}

func TestFilesOutsideTheSandboxAreOutOfReach(t *testing.T) {
	for _, mode := range []Mode{ModeUIDs, ModeUserNS, ModeLandlock} {
		t.Run(string(mode), func(t *testing.T) {
			secretDir := t.TempDir()
			secret := filepath.Join(secretDir, "secret.key")
			if err := os.WriteFile(secret, []byte("k"), 0o644); err != nil {
				t.Fatal(err)
			}
			work := t.TempDir()
			if err := os.Chmod(work, 0o777); err != nil {
				t.Fatal(err)
			}
			// The test's temp root, so that a project uid can pass.
			if err := os.Chmod(filepath.Dir(work), 0o755); err != nil {
				t.Fatal(err)
			}
			out, err := runIn(t, mode, Spec{Name: "files", Writable: []string{work}},
				"cat "+secret+" && echo LEAKED; echo ok > "+work+"/w && echo WROTE; echo x > "+secretDir+"/x && echo PLANTED; ls /proc/1 >/dev/null 2>&1 && echo PROC; true")
			if err != nil {
				t.Fatalf("script: %v\n%s", err, out)
			}
			if strings.Contains(out, "LEAKED") || strings.Contains(out, "PLANTED") || strings.Contains(out, "PROC") {
				t.Errorf("escaped the sandbox:\n%s", out)
			}
			if !strings.Contains(out, "WROTE") {
				t.Errorf("could not write its own directory:\n%s", out)
			}
		})
	}
}

// markerAlive reports whether a process whose command line holds marker is running.
func markerAlive(marker string) bool {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(cmdline), marker) {
			return true
		}
	}
	return false
}

func TestNothingOutlivesTheSandbox(t *testing.T) {
	for _, mode := range []Mode{ModeUIDs, ModeUserNS} {
		t.Run(string(mode), func(t *testing.T) {
			marker := "9" + strconv.Itoa(os.Getpid()) + "1" + strconv.Itoa(len(mode))
			// A detached child in a new session, which a process group kill would miss.
			out, err := runIn(t, mode, Spec{Name: "orphans"}, "setsid sleep "+marker+" </dev/null >/dev/null 2>&1 & sleep 0.2; echo started")
			if err != nil || !strings.Contains(out, "started") {
				t.Fatalf("script: %v\n%s", err, out)
			}
			deadline := time.Now().Add(5 * time.Second)
			for markerAlive(marker) {
				if time.Now().After(deadline) {
					t.Fatal("a setsid child outlived its sandbox")
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

func TestProcessesAreLimited(t *testing.T) {
	for _, mode := range []Mode{ModeUIDs, ModeUserNS} {
		t.Run(string(mode), func(t *testing.T) {
			// Each background sleep is a process; past the limit the shell cannot fork.
			out, _ := runIn(t, mode, Spec{Name: "pids", Limits: Limits{Processes: 20}},
				"n=0; while [ $n -lt 100 ]; do sleep 5 & n=$((n+1)); done 2>/dev/null; echo forked")
			if strings.Contains(out, "forked") {
				t.Errorf("100 processes started under a limit of 20:\n%s", out)
			}
		})
	}
}

func TestSignalsAndProcessesOutsideAreOutOfReach(t *testing.T) {
	for _, mode := range []Mode{ModeUIDs, ModeUserNS} {
		t.Run(string(mode), func(t *testing.T) {
			engine := strconv.Itoa(os.Getpid())
			out, err := runIn(t, mode, Spec{Name: "signals"}, "kill -0 "+engine+" 2>/dev/null && echo SIGNALED; echo $$; true")
			if err != nil {
				t.Fatalf("script: %v\n%s", err, out)
			}
			if strings.Contains(out, "SIGNALED") {
				t.Errorf("the sandbox could signal the engine:\n%s", out)
			}
			if strings.TrimSpace(out) != "1" {
				t.Errorf("the sandbox's first process is %q, not 1 in a PID namespace of its own", strings.TrimSpace(out))
			}
		})
	}
}

func TestMemoryLimitKills(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("memory cgroups need root")
	}
	s, err := New(Config{Mode: ModeUserNS, Name: "test-memory"})
	if err != nil {
		t.Skip(err)
	}
	defer s.Close()
	if linux, ok := s.confinement.(*linuxConfinement); !ok || linux.cgroups == nil {
		t.Skip("no cgroups here")
	}
	// 300 MB in one string, under a limit of 64 MB.
	cmd := exec.Command("/usr/bin/python3", "-c", "x = 'a' * (300 << 20); print('allocated')")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	p, err := s.Start(cmd, Spec{Name: "memory", Limits: Limits{MemoryMB: 64}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(); err == nil || strings.Contains(out.String(), "allocated") {
		t.Fatalf("allocated past the limit: %v\n%s", err, out.String())
	}
	if !p.OOMKilled() {
		t.Errorf("the kill was not seen as out of memory (exit: %v)", p.Err())
	}
}
