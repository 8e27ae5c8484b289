package sandbox

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
			os.WriteFile(secret, []byte("k"), 0o644)
			work := t.TempDir()
			os.Chmod(work, 0o777)
			os.Chmod(filepath.Dir(work), 0o755) // the test's temp root, so that a project uid can pass
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
