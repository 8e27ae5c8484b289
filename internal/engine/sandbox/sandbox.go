// Package sandbox confines what builds and app instances run: each process
// tree gets its own identity (a project uid when the engine is root, a user
// namespace otherwise), a PID namespace, a Landlock domain that lets it read
// the system and its own deployment and write only its own directories, and
// cgroup and rlimit limits. Everything it starts dies with it or with the
// engine.
//
// There is no helper process: a goroutine locked to a fresh OS thread joins
// the sandbox's cgroups (v1) and Landlock domain itself, forks the command
// from that thread (so the child inherits both) and stays there waiting for
// it, so that the thread, its domain and the child's parent-death signal go
// away together. Go creates no other threads from a locked one, so the
// domain never leaks into the rest of the engine.
package sandbox

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Mode is how processes are isolated from each other and from the engine.
type Mode string

const (
	// ModeUIDs runs each project as an unprivileged uid of its own (the engine must be root),
	// in a PID namespace, under Landlock and cgroup limits.
	ModeUIDs Mode = "uids"
	// ModeUserNS runs processes as the engine's own uid inside a user and PID namespace, under
	// Landlock and rlimits: what an engine that is not root can do.
	ModeUserNS Mode = "userns"
	// ModeLandlock is the last resort where user namespaces are disabled: Landlock and rlimits only.
	ModeLandlock Mode = "landlock"
)

// ParseMode reads a mode setting; "" and "auto" mean the strongest the engine can have.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case "", "auto":
		return "", nil
	case ModeUIDs, ModeUserNS, ModeLandlock:
		return m, nil
	}
	return "", fmt.Errorf("unknown sandbox mode %q: use auto, %s, %s or %s", s, ModeUIDs, ModeUserNS, ModeLandlock)
}

// Default UID range of projects (ModeUIDs): far above the ids of system and login users.
const (
	DefaultFirstUID = 1_200_000
	DefaultLastUID  = 1_299_999
)

// Config configures a Sandbox.
type Config struct {
	Mode     Mode   // "" chooses: ModeUIDs as root, else ModeUserNS, else ModeLandlock
	FirstUID int    // ModeUIDs: project uids (and gids) come from [FirstUID, LastUID]; 0 -> defaults
	LastUID  int    //
	Name     string // names this engine's cgroups, unique per data dir
	Logger   *slog.Logger
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
	mode     Mode
	firstUID int
	lastUID  int
	landlock landlockSupport
	cgroups  *cgroupTree // nil when the engine may not create cgroups
	// directRlimits: the engine sets rlimits on a started process itself, rather than through
	// a prlimit(1) exec in front of the command.
	directRlimits bool
	started       atomic.Uint64
	log           *slog.Logger
}

// New checks what this kernel and user allow and returns a Sandbox of cfg.Mode, or of the
// strongest mode available when it is "". A mode that cannot be had is an error that says why.
func New(cfg Config) (*Sandbox, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Sandbox{mode: cfg.Mode, firstUID: cfg.FirstUID, lastUID: cfg.LastUID, log: logger}
	if s.firstUID == 0 && s.lastUID == 0 {
		s.firstUID, s.lastUID = DefaultFirstUID, DefaultLastUID
	}
	if s.firstUID <= 0 || s.lastUID < s.firstUID {
		return nil, fmt.Errorf("sandbox uid range %d-%d is empty or starts at root: give a range of unused uids such as %d-%d", s.firstUID, s.lastUID, DefaultFirstUID, DefaultLastUID)
	}
	var err error
	if s.landlock, err = probeLandlock(); err != nil {
		return nil, err
	}
	root := os.Geteuid() == 0
	switch {
	case s.mode == "" && root:
		s.mode = ModeUIDs
	case s.mode == "" && userNamespacesWork():
		s.mode = ModeUserNS
	case s.mode == "":
		s.mode = ModeLandlock
	case s.mode == ModeUIDs && !root:
		return nil, errors.New("sandbox mode uids needs the engine to run as root: run it as root, or use sandbox mode auto")
	case s.mode == ModeUserNS && !userNamespacesWork():
		return nil, errors.New("sandbox mode userns needs user namespaces, which this kernel refuses (see sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone): enable them, or use sandbox mode landlock")
	}
	if cfg.Name != "" {
		s.cgroups = openCgroupTree(cfg.Name, logger)
	}
	s.directRlimits = canSetRlimitsDirectly(s.mode)
	return s, nil
}

// Mode is the mode in force.
func (s *Sandbox) Mode() Mode { return s.mode }

// UIDRange is the range project uids are allocated from.
func (s *Sandbox) UIDRange() (first, last int) { return s.firstUID, s.lastUID }

// SeparateIdentities reports whether each project runs as a uid of its own.
func (s *Sandbox) SeparateIdentities() bool { return s != nil && s.mode == ModeUIDs }

// Describe says in one line what the sandbox enforces, for the engine's log.
func (s *Sandbox) Describe() string {
	parts := []string{"mode " + string(s.mode)}
	if s.mode != ModeLandlock {
		parts = append(parts, "PID namespace")
	}
	parts = append(parts, fmt.Sprintf("Landlock ABI %d", s.landlock.abi))
	if s.cgroups != nil {
		parts = append(parts, "cgroup "+s.cgroups.version)
	} else {
		parts = append(parts, "rlimits (no cgroups)")
	}
	return strings.Join(parts, ", ")
}

// Close kills what is left in the engine's cgroups and removes them.
func (s *Sandbox) Close() {
	if s.cgroups != nil {
		s.cgroups.remove()
	}
}

// Process is a running sandboxed command.
type Process struct {
	cmd    *exec.Cmd
	cgroup *cgroup
	done   chan struct{} // closed once the command has been waited for
	err    error         // the command's Wait error, once done

	oomKilledAtExit bool // once done: whether the kernel killed one of its processes for memory
	starterThread   int  // the engine thread that started it

	killOnce sync.Once
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
		return p.cgroup != nil && p.cgroup.oomKills() > 0
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
		if p.cgroup != nil {
			p.cgroup.killAll()
		}
	})
}

// releaseDelay bounds how long a finished sandbox's cgroup may stay busy (its thread exiting).
const releaseDelay = 5 * time.Second

// Start starts cmd in a sandbox made from spec. cmd must not have been started, and its
// SysProcAttr is the sandbox's to set. The caller waits through the returned Process, not cmd.
// A nil Sandbox confines nothing: it only puts cmd in a process group of its own that dies with
// the engine, for benchmarks and tests of the serving path.
func (s *Sandbox) Start(cmd *exec.Cmd, spec Spec) (*Process, error) {
	if cmd.Path == "" || !filepath.IsAbs(cmd.Path) {
		return nil, fmt.Errorf("sandboxed command %q needs an absolute path", cmd.Path)
	}
	var cg *cgroup
	if s != nil && s.cgroups != nil && spec.Name != "" {
		var err error
		// Numbered: a name may come again before the cgroup of its last use is gone.
		name := spec.Name + "-" + strconv.FormatUint(s.started.Add(1), 36)
		if cg, err = s.cgroups.create(name, spec.Limits); err != nil {
			return nil, err
		}
	}
	if err := s.configure(cmd, spec, cg); err != nil {
		cg.remove()
		return nil, err
	}
	p := &Process{cmd: cmd, cgroup: cg, done: make(chan struct{})}
	started := make(chan error, 1)
	go s.run(p, spec, started)
	err := <-started
	// The starting thread is in the cgroup (v1) and may not leave it by itself: its Landlock
	// domain forbids it the cgroup files.
	if releaseErr := cg.releaseThread(p.starterThread); releaseErr != nil && err == nil {
		p.Kill()
		err = releaseErr
	}
	if err != nil {
		go cg.removeWhenEmpty(releaseDelay)
		return nil, err
	}
	return p, nil
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
