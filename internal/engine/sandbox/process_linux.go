package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// configure sets how cmd's first process is created: its own process group, namespaces and
// identity, killed when the engine thread that started it dies.
func (c *linuxConfinement) configure(cmd *exec.Cmd, spec Spec, cg *cgroup) error {
	attr := &unix.SysProcAttr{Setpgid: true, Pdeathsig: unix.SIGKILL}
	cmd.SysProcAttr = attr
	if c == nil {
		return nil
	}
	if !c.directRlimits {
		if err := withRlimits(cmd, spec.Limits, cg); err != nil {
			return err
		}
	}
	switch c.mode {
	case ModeUIDs:
		id := spec.Identity
		if id.UID < c.firstUID || id.UID > c.lastUID || id.GID < c.firstUID || id.GID > c.lastUID {
			return fmt.Errorf("sandbox identity %d:%d is outside the sandbox uid range %d-%d", id.UID, id.GID, c.firstUID, c.lastUID)
		}
		attr.Credential = &syscall.Credential{Uid: uint32(id.UID), Gid: uint32(id.GID), Groups: []uint32{}}
		attr.Cloneflags = unix.CLONE_NEWPID
	case ModeUserNS:
		// No uid map: the process keeps the engine's uid for file access and has no identity,
		// and so no capability, inside its namespace. (Writing a map would also take a write
		// to /proc that the thread's Landlock domain refuses.)
		attr.Cloneflags = unix.CLONE_NEWUSER | unix.CLONE_NEWPID
	}
	if cg != nil && cg.fd >= 0 {
		attr.UseCgroupFD = true
		attr.CgroupFD = cg.fd
	}
	return nil
}

// threadStart is how starting a command went, and from which thread.
type threadStart struct {
	thread int
	err    error
}

// run starts p's command from a thread of its own that carries the sandbox, reports the start on
// started, then waits for the command. The thread is never unlocked: it ends with this goroutine,
// taking its Landlock domain and cgroup membership with it, and its end is what the child's
// parent-death signal watches. What follows the exit runs elsewhere (finish): this thread may
// no longer read the cgroup files.
func (c *linuxConfinement) run(p *Process, spec Spec, cg *cgroup, started chan<- threadStart) {
	runtime.LockOSThread()
	thread := unix.Gettid()
	var err error
	if c != nil {
		err = c.confineThread(spec, cg)
	}
	if err == nil {
		err = p.cmd.Start()
	}
	if err == nil && c != nil && c.directRlimits {
		if err = setRlimits(p.cmd.Process.Pid, spec.Limits, cg); err != nil {
			_ = signalGroup(p.cmd.Process.Pid, os.Kill)
			_ = p.cmd.Wait()
		}
	}
	started <- threadStart{thread: thread, err: err}
	if err != nil {
		return
	}
	go p.finish(p.cmd.Wait())
}

// confineThread puts the calling (locked) thread into the sandbox's cgroups (v1, where
// membership is per thread) and Landlock domain, so that what it forks starts inside both.
func (c *linuxConfinement) confineThread(spec Spec, cg *cgroup) error {
	if cg != nil {
		if err := cg.joinThread(unix.Gettid()); err != nil {
			return err
		}
	}
	return c.landlock.restrictThread(spec)
}

// rlimit is one resource limit a sandbox sets.
type rlimit struct {
	resource int
	flag     string // prlimit(1)'s name for it
	value    uint64
}

// rlimits are the limits that cgroups do not (or, without cgroups, cannot) give; children
// inherit them.
func rlimits(l Limits, cg *cgroup) []rlimit {
	out := []rlimit{{unix.RLIMIT_CORE, "core", 0}}
	add := func(resource int, flag string, value int64) {
		if value > 0 {
			out = append(out, rlimit{resource, flag, uint64(value)})
		}
	}
	add(unix.RLIMIT_NOFILE, "nofile", l.OpenFiles)
	if cg == nil || !cg.limitsProcesses {
		add(unix.RLIMIT_NPROC, "nproc", l.Processes)
	}
	add(unix.RLIMIT_FSIZE, "fsize", l.FileMB<<20)
	if (cg == nil || !cg.limitsMemory) && l.MemoryMB > 0 {
		// Address space is a blunt stand-in for memory, so it gets headroom for thread stacks
		// and mappings that are reserved but never used.
		add(unix.RLIMIT_AS, "as", (l.MemoryMB+512)<<20)
	}
	return out
}

// setRlimits sets the limits on the started process, before it can have started much: an
// exec that the engine's interpreter or shell has barely begun. Cgroups, where the engine has
// them, hold memory and processes from the first instruction.
func setRlimits(pid int, l Limits, cg *cgroup) error {
	for _, r := range rlimits(l, cg) {
		lim := unix.Rlimit{Cur: r.value, Max: r.value}
		if err := unix.Prlimit(pid, r.resource, &lim, nil); err != nil {
			return fmt.Errorf("set the sandbox's %s limit: %w", r.flag, err)
		}
	}
	return nil
}

// withRlimits makes cmd run through prlimit(1), which sets the limits on itself and then execs
// the command: for an engine that may not set them on a process of another uid (prlimit(2)
// takes CAP_SYS_RESOURCE then), since rlimits set before the fork would be the whole engine's.
func withRlimits(cmd *exec.Cmd, l Limits, cg *cgroup) error {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		return errors.New("the sandbox needs prlimit (util-linux) to set resource limits: install util-linux")
	}
	args := []string{prlimit}
	for _, r := range rlimits(l, cg) {
		args = append(args, fmt.Sprintf("--%s=%d", r.flag, r.value))
	}
	cmd.Args = append(append(args, "--", cmd.Path), cmd.Args[1:]...)
	cmd.Path = prlimit
	return nil
}

// canSetRlimitsDirectly reports whether the engine may set rlimits on its sandboxes' processes:
// they are of its own uid, or it has CAP_SYS_RESOURCE.
func canSetRlimitsDirectly(mode Mode) bool {
	if mode != ModeUIDs {
		return true
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(status), "\n") {
		if hex, ok := strings.CutPrefix(line, "CapEff:\t"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			return err == nil && caps&(1<<unix.CAP_SYS_RESOURCE) != 0
		}
	}
	return false
}

// userNamespacesWork tries what ModeUserNS needs: a child in new user and PID namespaces.
func userNamespacesWork() bool {
	path, err := exec.LookPath("true")
	if err != nil {
		return false
	}
	cmd := exec.Command(path)
	cmd.SysProcAttr = &unix.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER | unix.CLONE_NEWPID}
	return cmd.Run() == nil
}
