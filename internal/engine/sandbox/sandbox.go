// Package sandbox confines what builds and app instances run, with what the operating system
// offers, and makes everything they start die with them.
//
// On Linux each process tree gets its own identity (a project uid when the engine is root, a
// user namespace otherwise), a PID namespace, a Landlock domain that lets it read the system and
// its own deployment and write only its own directories, and cgroup and rlimit limits. On macOS
// it runs under a sandbox-exec profile that keeps it out of the engine's data dir, its API
// socket and people's files and lets it write only its own directories, with rlimits.
//
// Each operating system's part is a confinement, in files named for it (_linux, _darwin); what
// is here is shared. A platform without its files does not build.
package sandbox

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Mode is how processes are isolated from each other and from the engine.
type Mode string

const (
	// ModeUIDs runs each project as an unprivileged uid of its own (the engine must be root),
	// in a PID namespace, under Landlock and cgroup limits. Linux only.
	ModeUIDs Mode = "uids"
	// ModeUserNS runs processes as the engine's own uid inside a user and PID namespace, under
	// Landlock and rlimits: what an engine that is not root can do. Linux only.
	ModeUserNS Mode = "userns"
	// ModeLandlock is the last resort where user namespaces are disabled: Landlock and rlimits
	// only. Linux only.
	ModeLandlock Mode = "landlock"
	// ModeSandboxExec runs processes under a sandbox-exec profile, with rlimits. macOS only.
	ModeSandboxExec Mode = "sandbox-exec"
)

// ParseMode reads a mode setting; "" and "auto" mean the strongest the engine can have.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case "", "auto":
		return "", nil
	case ModeUIDs, ModeUserNS, ModeLandlock, ModeSandboxExec:
		return m, nil
	}
	return "", fmt.Errorf("unknown sandbox mode %q: use auto, or on Linux %s, %s or %s, or on macOS %s", s, ModeUIDs, ModeUserNS, ModeLandlock, ModeSandboxExec)
}

// Default UID range of projects (ModeUIDs): far above the ids of system and login users.
const (
	DefaultFirstUID = 1_200_000
	DefaultLastUID  = 1_299_999
)

// Config configures a Sandbox.
type Config struct {
	Mode     Mode   // "" chooses the strongest mode the system allows
	FirstUID int    // ModeUIDs: project uids (and gids) come from [FirstUID, LastUID]; 0 -> defaults
	LastUID  int    //
	Name     string // names this engine's cgroups, unique per data dir
	Logger   *slog.Logger

	// The engine's own files. macOS's profile denies them by name; Linux's Landlock denies
	// everything a Spec does not allow, these included.
	DataDir   string // read and written by no sandboxed process, but for what its Spec gives it
	APISocket string // connected to by no sandboxed process
}

// Limits bound one sandboxed process tree. Zero means no limit of that kind.
type Limits struct {
	MemoryMB  int64   `json:"memory_mb,omitempty"`  // resident memory; past it the kernel kills
	CPU       float64 `json:"cpu,omitempty"`        // cores it may use at most (a quota), and its share
	Processes int64   `json:"processes,omitempty"`  // processes and threads
	OpenFiles int64   `json:"open_files,omitempty"` // per process
	FileMB    int64   `json:"file_mb,omitempty"`    // largest file it may write
}

// Identity is whom a process runs as in ModeUIDs (ignored otherwise).
type Identity struct {
	UID, GID int
}

// Spec says what one sandboxed command may do.
type Spec struct {
	Name       string   // names its cgroup; unique among running sandboxes of the engine
	Identity   Identity // ModeUIDs
	ReadOnly   []string // paths it may read and execute, besides the system's
	Writable   []string // paths it may read, write and create in
	NoListen   bool     // refuse binding TCP ports (app instances serve through the engine only)
	Limits     Limits
	ExtraPaths []string // read-only paths outside the system dirs that the interpreter needs
}

// Sandbox starts confined processes.
type Sandbox struct {
	mode        Mode
	firstUID    int
	lastUID     int
	confinement confinement
	log         *slog.Logger
}

// confinement is an operating system's way of confining process trees.
type confinement interface {
	// start starts cmd confined as spec says, in a process group of its own, and waits for
	// it in the background.
	start(cmd *exec.Cmd, spec Spec) (*Process, error)
	// describe says in one line what is enforced, for the engine's log.
	describe() string
	// close kills what is left of the engine's sandboxes and releases what they held.
	close()
}

// New checks what this system and user allow and returns a Sandbox of cfg.Mode, or of the
// strongest mode available when it is "". A mode that cannot be had is an error that says why.
func New(cfg Config) (*Sandbox, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.FirstUID == 0 && cfg.LastUID == 0 {
		cfg.FirstUID, cfg.LastUID = DefaultFirstUID, DefaultLastUID
	}
	if cfg.FirstUID <= 0 || cfg.LastUID < cfg.FirstUID {
		return nil, fmt.Errorf("sandbox uid range %d-%d is empty or starts at root: give a range of unused uids such as %d-%d", cfg.FirstUID, cfg.LastUID, DefaultFirstUID, DefaultLastUID)
	}
	c, mode, err := newConfinement(cfg)
	if err != nil {
		return nil, err
	}
	return &Sandbox{mode: mode, firstUID: cfg.FirstUID, lastUID: cfg.LastUID, confinement: c, log: cfg.Logger}, nil
}

// Mode is the mode in force.
func (s *Sandbox) Mode() Mode { return s.mode }

// UIDRange is the range project uids are allocated from.
func (s *Sandbox) UIDRange() (first, last int) { return s.firstUID, s.lastUID }

// SeparateIdentities reports whether each project runs as a uid of its own.
func (s *Sandbox) SeparateIdentities() bool { return s != nil && s.mode == ModeUIDs }

// Describe says in one line what the sandbox enforces, for the engine's log.
func (s *Sandbox) Describe() string { return s.confinement.describe() }

// Close kills what is left of the engine's sandboxes and releases what they held.
func (s *Sandbox) Close() { s.confinement.close() }

// GuardListener refuses connections to the engine's API socket from sandboxed processes, where
// the system lets the engine tell them apart.
func (s *Sandbox) GuardListener(l net.Listener) net.Listener { return s.guardListener(l) }

// Start starts cmd in a sandbox made from spec. cmd must not have been started, and its
// SysProcAttr is the sandbox's to set. The caller waits through the returned Process, not cmd.
// A nil Sandbox confines nothing: it only puts cmd in a process group of its own that dies with
// the engine, for benchmarks and tests of the serving path.
func (s *Sandbox) Start(cmd *exec.Cmd, spec Spec) (*Process, error) {
	if cmd.Path == "" || !filepath.IsAbs(cmd.Path) {
		return nil, fmt.Errorf("sandboxed command %q needs an absolute path", cmd.Path)
	}
	if s == nil {
		return startUnconfined(cmd)
	}
	return s.confinement.start(cmd, spec)
}

// Process is a running sandboxed command.
type Process struct {
	cmd  *exec.Cmd
	tree processTree   // nil where the system keeps no such record
	done chan struct{} // closed once the command has been waited for
	err  error         // the command's Wait error, once done

	oomKilledAtExit bool // once done: whether the kernel killed one of its processes for memory

	killOnce sync.Once
}

// processTree is the kernel's record of a sandbox's processes (a cgroup), which, unlike their
// process group, they cannot leave.
type processTree interface {
	killAll()
	oomKills() int
	removeWhenEmpty(wait time.Duration)
}

func newProcess(cmd *exec.Cmd) *Process {
	return &Process{cmd: cmd, done: make(chan struct{})}
}

// Done is closed when the command has exited and been reaped; then Err says how it ended.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the command's Wait error; valid once Done is closed.
func (p *Process) Err() error { return p.err }

// Wait waits for the command to exit and returns how it ended.
func (p *Process) Wait() error {
	<-p.done
	return p.err
}

// OOMKilled reports whether the kernel killed a process of the sandbox for passing its memory limit.
func (p *Process) OOMKilled() bool {
	select {
	case <-p.done:
		return p.oomKilledAtExit
	default:
		return p.tree != nil && p.tree.oomKills() > 0
	}
}

// Signal sends sig to the command's process group (which the whole sandbox dies with).
func (p *Process) Signal(sig os.Signal) error {
	return signalGroup(p.cmd.Process.Pid, sig)
}

// Kill ends every process of the sandbox at once.
func (p *Process) Kill() {
	p.killOnce.Do(func() {
		_ = signalGroup(p.cmd.Process.Pid, os.Kill)
		if p.tree != nil {
			p.tree.killAll()
		}
	})
}

// releaseDelay bounds how long a finished sandbox's cgroup may stay busy (its thread exiting).
const releaseDelay = 5 * time.Second

// finish cleans up after the command has exited with err.
func (p *Process) finish(err error) {
	p.err = err
	// With a PID namespace its first process took the rest with it; without one, this catches
	// what stayed in its group.
	_ = signalGroup(p.cmd.Process.Pid, os.Kill)
	if p.tree != nil {
		p.oomKilledAtExit = p.tree.oomKills() > 0 // the cgroup goes away next
	}
	close(p.done)
	if p.tree != nil {
		p.tree.removeWhenEmpty(releaseDelay)
	}
}

func signalGroup(pid int, sig os.Signal) error {
	s, ok := sig.(unix.Signal)
	if !ok {
		return fmt.Errorf("unsupported signal %v", sig)
	}
	return unix.Kill(-pid, s)
}

// InterpreterPaths are the directories a Python interpreter needs to read beyond the system's:
// the installation it resolves to (a pyenv or Homebrew Python lives outside /usr).
func InterpreterPaths(python string) []string {
	resolved, err := filepath.EvalSymlinks(python)
	if err != nil {
		return nil
	}
	return []string{filepath.Dir(filepath.Dir(resolved))}
}
