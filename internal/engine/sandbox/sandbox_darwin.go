package sandbox

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// seatbeltConfinement runs each command under a sandbox-exec profile written for it (see
// seatbelt.go), in a process group of its own.
type seatbeltConfinement struct {
	dataDir   string
	apiSocket string
}

func newConfinement(cfg Config) (confinement, Mode, error) {
	switch cfg.Mode {
	case "", ModeSandboxExec:
	default:
		return nil, "", fmt.Errorf("sandbox mode %s needs Linux: on macOS the engine supports auto and %s (a sandbox-exec profile with rlimits)", cfg.Mode, ModeSandboxExec)
	}
	if cfg.DataDir == "" {
		return nil, "", errors.New("the macOS sandbox needs the engine's data dir, to deny it to apps")
	}
	c := &seatbeltConfinement{dataDir: realPath(cfg.DataDir), apiSocket: realPath(cfg.APISocket)}
	if err := c.check(); err != nil {
		return nil, "", err
	}
	return c, ModeSandboxExec, nil
}

// check runs a profile of the kind apps get, so that a system where sandbox-exec is missing,
// refuses the profile, or cannot apply it (it cannot nest: an engine that is itself sandboxed)
// stops the engine at start rather than every build.
func (c *seatbeltConfinement) check() error {
	spec := Spec{ReadOnly: []string{"/usr"}, Writable: []string{os.TempDir()}, NoListen: true}
	profile, err := c.policy(spec).profile()
	if err != nil {
		return err
	}
	args := seatbeltCommand(profile, Limits{OpenFiles: 256, FileMB: 1}, "/usr/bin/true", nil)
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("sandbox-exec could not run a sandboxed command (%v: %s): the engine refuses to run untrusted apps without it; run the engine outside any other sandbox", err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (c *seatbeltConfinement) policy(spec Spec) seatbeltPolicy {
	p := seatbeltPolicy{dataDir: c.dataDir, apiSocket: c.apiSocket, noListen: spec.NoListen}
	for _, path := range append(append([]string{}, spec.ReadOnly...), spec.ExtraPaths...) {
		p.readOnly = append(p.readOnly, realPath(path))
	}
	for _, path := range spec.Writable {
		p.writable = append(p.writable, realPath(path))
	}
	return p
}

func (c *seatbeltConfinement) start(cmd *exec.Cmd, spec Spec) (*Process, error) {
	profile, err := c.policy(spec).profile()
	if err != nil {
		return nil, err
	}
	args := seatbeltCommand(profile, spec.Limits, cmd.Path, cmd.Args[1:])
	cmd.Path, cmd.Args = args[0], args
	return startUnconfined(cmd)
}

func (c *seatbeltConfinement) describe() string {
	return "mode sandbox-exec; holds: no reading the data dir, home or temporary directories, writes to its own directories only, " +
		"no connecting to the API socket, no listening ports for apps, no signalling or inspecting other processes, " +
		"rlimits on open files and file size; not on macOS: a PID namespace, memory, CPU and process limits, " +
		"the end of processes that leave their group (setsid), and of a build step when the engine is killed"
}

// close has nothing to release: each sandbox is its process group, killed when it ends.
func (c *seatbeltConfinement) close() {}

// guardListener has no way to tell a sandboxed peer from another process of the engine's uid
// (macOS has no PID namespaces); the profile denies sandboxes the socket instead.
func (s *Sandbox) guardListener(l net.Listener) net.Listener { return l }

// startUnconfined starts cmd in a process group of its own. macOS has no parent-death signal:
// app instances end when their control socket to the engine closes, and builds when the engine
// kills them.
func startUnconfined(cmd *exec.Cmd) (*Process, error) {
	cmd.SysProcAttr = &unix.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := newProcess(cmd)
	go func() { p.finish(cmd.Wait()) }()
	return p, nil
}

// realPath is path with its links resolved, as a profile must name it; a path that does not
// exist yet gets its directory resolved.
func realPath(path string) string {
	if path == "" {
		return ""
	}
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		return resolved
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(path)); err == nil {
		return filepath.Join(dir, filepath.Base(path))
	}
	return filepath.Clean(path)
}
