package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
)

// linuxConfinement confines with the kernel's own mechanisms.
//
// There is no helper process: a goroutine locked to a fresh OS thread joins the sandbox's
// cgroups (v1) and Landlock domain itself, forks the command from that thread (so the child
// inherits both) and stays there waiting for it, so that the thread, its domain and the child's
// parent-death signal go away together. Go creates no other threads from a locked one, so the
// domain never leaks into the rest of the engine.
type linuxConfinement struct {
	mode     Mode
	firstUID int
	lastUID  int
	landlock landlockSupport
	cgroups  *cgroupTree // nil when the engine may not create cgroups
	// directRlimits: the engine sets rlimits on a started process itself, rather than through
	// a prlimit(1) exec in front of the command.
	directRlimits bool
	started       atomic.Uint64
}

func newConfinement(cfg Config) (confinement, Mode, error) {
	c := &linuxConfinement{mode: cfg.Mode, firstUID: cfg.FirstUID, lastUID: cfg.LastUID}
	var err error
	if c.landlock, err = probeLandlock(); err != nil {
		return nil, "", err
	}
	root := os.Geteuid() == 0
	switch {
	case c.mode == "" && root:
		c.mode = ModeUIDs
	case c.mode == "" && userNamespacesWork():
		c.mode = ModeUserNS
	case c.mode == "":
		c.mode = ModeLandlock
	case c.mode == ModeSandboxExec:
		return nil, "", fmt.Errorf("sandbox mode %s is macOS's: on Linux use auto, %s, %s or %s", ModeSandboxExec, ModeUIDs, ModeUserNS, ModeLandlock)
	case c.mode == ModeUIDs && !root:
		return nil, "", errors.New("sandbox mode uids needs the engine to run as root: run it as root, or use sandbox mode auto")
	case c.mode == ModeUserNS && !userNamespacesWork():
		return nil, "", errors.New("sandbox mode userns needs user namespaces, which this kernel refuses (see sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone): enable them, or use sandbox mode landlock")
	}
	if cfg.Name != "" {
		c.cgroups = openCgroupTree(cfg.Name, cfg.Logger)
	}
	c.directRlimits = canSetRlimitsDirectly(c.mode)
	return c, c.mode, nil
}

func (c *linuxConfinement) describe() string {
	parts := []string{"mode " + string(c.mode)}
	if c.mode != ModeLandlock {
		parts = append(parts, "PID namespace")
	}
	parts = append(parts, fmt.Sprintf("Landlock ABI %d", c.landlock.abi))
	if c.cgroups != nil {
		parts = append(parts, "cgroup "+c.cgroups.version)
	} else {
		parts = append(parts, "rlimits (no cgroups)")
	}
	return strings.Join(parts, ", ")
}

func (c *linuxConfinement) close() {
	if c.cgroups != nil {
		c.cgroups.remove()
	}
}

// startUnconfined starts cmd in a process group of its own that dies with the engine.
func startUnconfined(cmd *exec.Cmd) (*Process, error) {
	var none *linuxConfinement
	return none.start(cmd, Spec{})
}

// start starts cmd from a thread of its own; a nil c confines nothing.
func (c *linuxConfinement) start(cmd *exec.Cmd, spec Spec) (*Process, error) {
	var cg *cgroup
	if c != nil && c.cgroups != nil && spec.Name != "" {
		var err error
		// Numbered: a name may come again before the cgroup of its last use is gone.
		name := spec.Name + "-" + strconv.FormatUint(c.started.Add(1), 36)
		if cg, err = c.cgroups.create(name, spec.Limits); err != nil {
			return nil, err
		}
	}
	if err := c.configure(cmd, spec, cg); err != nil {
		cg.remove()
		return nil, err
	}
	p := newProcess(cmd)
	if cg != nil {
		p.tree = cg
	}
	started := make(chan threadStart, 1)
	go c.run(p, spec, cg, started)
	result := <-started
	err := result.err
	// The starting thread is in the cgroup (v1) and may not leave it by itself: its Landlock
	// domain forbids it the cgroup files.
	if releaseErr := cg.releaseThread(result.thread); releaseErr != nil && err == nil {
		p.Kill()
		err = releaseErr
	}
	if err != nil {
		go cg.removeWhenEmpty(releaseDelay)
		return nil, err
	}
	return p, nil
}
