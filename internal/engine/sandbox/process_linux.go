package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// configure sets how cmd's first process is created: its own process group, namespaces and
// identity, killed when the engine thread that started it dies.
func (s *Sandbox) configure(cmd *exec.Cmd, spec Spec, cg *cgroup) error {
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.SysProcAttr = attr
	if s == nil {
		return nil
	}
	if err := withRlimits(cmd, spec.Limits, cg); err != nil {
		return err
	}
	switch s.mode {
	case ModeUIDs:
		id := spec.Identity
		if id.UID < s.firstUID || id.UID > s.lastUID || id.GID < s.firstUID || id.GID > s.lastUID {
			return fmt.Errorf("sandbox identity %d:%d is outside the sandbox uid range %d-%d", id.UID, id.GID, s.firstUID, s.lastUID)
		}
		attr.Credential = &syscall.Credential{Uid: uint32(id.UID), Gid: uint32(id.GID), Groups: []uint32{}}
		attr.Cloneflags = syscall.CLONE_NEWPID
	case ModeUserNS:
		// No uid map: the process keeps the engine's uid for file access and has no identity,
		// and so no capability, inside its namespace. (Writing a map would also take a write
		// to /proc that the thread's Landlock domain refuses.)
		attr.Cloneflags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWPID
	}
	if cg != nil && cg.fd >= 0 {
		attr.UseCgroupFD = true
		attr.CgroupFD = cg.fd
	}
	return nil
}

// run starts p's command from a thread of its own that carries the sandbox, reports the start on
// started, then waits for the command. The thread is never unlocked: it ends with this goroutine,
// taking its Landlock domain and cgroup membership with it, and its end is what the child's
// parent-death signal watches. What follows the exit runs elsewhere (finish): this thread may
// no longer read the cgroup files.
func (s *Sandbox) run(p *Process, spec Spec, started chan<- error) {
	runtime.LockOSThread()
	p.starterThread = unix.Gettid()
	var err error
	if s != nil {
		err = s.confineThread(spec, p.cgroup)
	}
	if err == nil {
		err = p.cmd.Start()
	}
	started <- err
	if err != nil {
		return
	}
	exited := make(chan error, 1)
	go p.finish(exited)
	exited <- p.cmd.Wait()
}

// finish cleans up after the command has exited with err.
func (p *Process) finish(exited <-chan error) {
	p.err = <-exited
	// With a PID namespace its first process took the rest with it; without one, this catches
	// what stayed in its group.
	_ = signalGroup(p.cmd.Process.Pid, os.Kill)
	p.oomKilledAtExit = p.cgroup != nil && p.cgroup.oomKills() > 0 // the cgroup goes away next
	close(p.done)
	p.cgroup.removeWhenEmpty(releaseDelay)
}

// confineThread puts the calling (locked) thread into the sandbox's cgroups (v1, where
// membership is per thread) and Landlock domain, so that what it forks starts inside both.
func (s *Sandbox) confineThread(spec Spec, cg *cgroup) error {
	if cg != nil {
		if err := cg.joinThread(unix.Gettid()); err != nil {
			return err
		}
	}
	return s.landlock.restrictThread(spec)
}

// withRlimits makes cmd run through prlimit(1), which sets the limits that cgroups do not (or,
// without cgroups, cannot) give, then execs the command; its children inherit them. The engine
// cannot set them itself: prlimit(2) on a process of another uid takes CAP_SYS_RESOURCE, and
// rlimits set before the fork would be the whole engine's.
func withRlimits(cmd *exec.Cmd, l Limits, cg *cgroup) error {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		return errors.New("the sandbox needs prlimit (util-linux) to set resource limits: install util-linux")
	}
	args := []string{prlimit, "--core=0"}
	add := func(flag string, value int64) {
		if value > 0 {
			args = append(args, fmt.Sprintf("--%s=%d", flag, value))
		}
	}
	add("nofile", l.OpenFiles)
	add("nproc", l.Processes)
	add("fsize", l.FileMB<<20)
	if (cg == nil || !cg.limitsMemory) && l.MemoryMB > 0 {
		// Address space is a blunt stand-in for memory, so it gets headroom for thread stacks
		// and mappings that are reserved but never used.
		add("as", (l.MemoryMB+512)<<20)
	}
	cmd.Args = append(append(args, "--", cmd.Path), cmd.Args[1:]...)
	cmd.Path = prlimit
	return nil
}

func signalGroup(pid int, sig os.Signal) error {
	s, ok := sig.(syscall.Signal)
	if !ok {
		return fmt.Errorf("unsupported signal %v", sig)
	}
	return unix.Kill(-pid, s)
}

// userNamespacesWork tries what ModeUserNS needs: a child in new user and PID namespaces.
func userNamespacesWork() bool {
	path, err := exec.LookPath("true")
	if err != nil {
		return false
	}
	cmd := exec.Command(path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWPID}
	return cmd.Run() == nil
}
