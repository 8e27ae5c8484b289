package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const cgroupRoot = "/sys/fs/cgroup"

// cgroupTree is the engine's own part of the cgroup hierarchy: <controller>/ferry/<name>/ under
// cgroup v1, or ferry/<name>/ under a unified (v2) hierarchy.
type cgroupTree struct {
	version string   // "v1" or "v2"
	dirs    []string // v1: one dir per controller; v2: one dir
	home    []string // v1: the engine's own cgroup of each controller, where starting threads go back
	log     *slog.Logger
}

// v1Controllers are the cgroup v1 controllers a sandbox is put in.
var v1Controllers = []string{"memory", "pids", "cpu"}

// openCgroupTree prepares the engine's cgroups, or returns nil when it may not have any (not root,
// no delegation), in which case limits fall back to rlimits. Leftovers of an earlier run of the
// same engine are killed and removed.
func openCgroupTree(name string, log *slog.Logger) *cgroupTree {
	var t *cgroupTree
	if _, err := os.Stat(filepath.Join(cgroupRoot, "cgroup.controllers")); err == nil {
		dir := filepath.Join(cgroupRoot, "ferry", name)
		if enableV2Controllers(dir) == nil {
			t = &cgroupTree{version: "v2", dirs: []string{dir}, log: log}
		}
	} else {
		var dirs []string
		for _, controller := range v1Controllers {
			dir := filepath.Join(cgroupRoot, controller, "ferry", name)
			if os.MkdirAll(dir, 0o755) != nil {
				dirs = nil
				break
			}
			dirs = append(dirs, dir)
		}
		home, err := engineV1Cgroups()
		if len(dirs) == len(v1Controllers) && err == nil {
			t = &cgroupTree{version: "v1", dirs: dirs, home: home, log: log}
		}
	}
	if t != nil {
		t.removeAll()
	}
	return t
}

// engineV1Cgroups finds the engine's own cgroup of each of v1Controllers in /proc/self/cgroup.
func engineV1Cgroups() ([]string, error) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	home := make([]string, len(v1Controllers))
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.SplitN(line, ":", 3)
		if len(fields) != 3 {
			continue
		}
		for i, controller := range v1Controllers {
			for _, name := range strings.Split(fields[1], ",") {
				if name == controller {
					home[i] = filepath.Join(cgroupRoot, controller, fields[2])
				}
			}
		}
	}
	for i, dir := range home {
		if dir == "" {
			return nil, fmt.Errorf("the engine is in no %s cgroup", v1Controllers[i])
		}
	}
	return home, nil
}

// enableV2Controllers creates dir and lets its children use memory, pids and cpu.
func enableV2Controllers(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for d := cgroupRoot; ; {
		if err := os.WriteFile(filepath.Join(d, "cgroup.subtree_control"), []byte("+memory +pids +cpu"), 0); err != nil {
			return err
		}
		if d == dir {
			return nil
		}
		rel, _ := filepath.Rel(d, dir)
		d = filepath.Join(d, strings.Split(rel, string(filepath.Separator))[0])
	}
}

// remove kills and removes every sandbox cgroup of the tree, and the tree's own directories.
func (t *cgroupTree) remove() {
	t.removeAll()
	for _, dir := range t.dirs {
		if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOENT) {
			t.log.Warn("could not remove the engine's cgroup", "dir", dir, "error", err)
		}
	}
}

// removeAll kills and removes every sandbox cgroup of the tree.
func (t *cgroupTree) removeAll() {
	for _, dir := range t.dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.IsDir() {
				cg := t.at(e.Name())
				cg.killAll()
				cg.removeWhenEmpty(time.Second)
			}
		}
	}
}

// cgroup is one sandbox's cgroup (one dir per v1 controller).
type cgroup struct {
	tree         *cgroupTree
	dirs         []string
	fd           int // v2: the dir, for clone3 into it; -1 for v1
	limitsMemory bool
	// limitsProcesses: pids.max counts this sandbox's processes alone, where RLIMIT_NPROC would
	// count every process of its uid, that is of all the project's instances (and of any other
	// engine's sandboxes given the same uid).
	limitsProcesses bool
}

func (t *cgroupTree) at(name string) *cgroup {
	cg := &cgroup{tree: t, fd: -1}
	for _, dir := range t.dirs {
		cg.dirs = append(cg.dirs, filepath.Join(dir, name))
	}
	return cg
}

func (t *cgroupTree) create(name string, l Limits) (*cgroup, error) {
	cg := t.at(name)
	for _, dir := range cg.dirs {
		if err := os.Mkdir(dir, 0o755); err != nil {
			cg.remove()
			return nil, fmt.Errorf("create cgroup %s: %w", dir, err)
		}
	}
	if err := cg.setLimits(l); err != nil {
		cg.remove()
		return nil, err
	}
	if t.version == "v2" {
		fd, err := unix.Open(cg.dirs[0], unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			cg.remove()
			return nil, fmt.Errorf("open cgroup %s: %w", cg.dirs[0], err)
		}
		cg.fd = fd
	}
	return cg, nil
}

func (cg *cgroup) write(dir, file, value string) error {
	if err := os.WriteFile(filepath.Join(dir, file), []byte(value), 0); err != nil {
		return fmt.Errorf("set %s of the sandbox's cgroup: %w", file, err)
	}
	return nil
}

func (cg *cgroup) setLimits(l Limits) error {
	// A short period: a sandbox that spins on every core is held back in slices of a few
	// milliseconds, not 100 ms bursts that delay everyone else's requests.
	const period = 10_000 // microseconds
	quota := int64(l.CPU * period)
	if cg.tree.version == "v2" {
		dir := cg.dirs[0]
		if l.MemoryMB > 0 {
			if err := cg.write(dir, "memory.max", strconv.FormatInt(l.MemoryMB<<20, 10)); err != nil {
				return err
			}
			_ = cg.write(dir, "memory.swap.max", "0") // absent without swap accounting
			_ = cg.write(dir, "memory.oom.group", "1")
			cg.limitsMemory = true
		}
		if l.Processes > 0 {
			if err := cg.write(dir, "pids.max", strconv.FormatInt(l.Processes, 10)); err != nil {
				return err
			}
			cg.limitsProcesses = true
		}
		if quota > 0 {
			if err := cg.write(dir, "cpu.max", fmt.Sprintf("%d %d", quota, period)); err != nil {
				return err
			}
		}
		return nil
	}
	memory, pids, cpu := cg.dirs[0], cg.dirs[1], cg.dirs[2]
	if l.MemoryMB > 0 {
		if err := cg.write(memory, "memory.limit_in_bytes", strconv.FormatInt(l.MemoryMB<<20, 10)); err != nil {
			return err
		}
		// Without it the limit could be met by swapping; absent when swap is not accounted.
		_ = cg.write(memory, "memory.memsw.limit_in_bytes", strconv.FormatInt(l.MemoryMB<<20, 10))
		cg.limitsMemory = true
	}
	if l.Processes > 0 {
		// +1: the engine thread that starts the sandbox passes through it.
		if err := cg.write(pids, "pids.max", strconv.FormatInt(l.Processes+1, 10)); err != nil {
			return err
		}
		cg.limitsProcesses = true
	}
	if quota > 0 {
		if err := cg.write(cpu, "cpu.cfs_period_us", strconv.Itoa(period)); err != nil {
			return err
		}
		if err := cg.write(cpu, "cpu.cfs_quota_us", strconv.FormatInt(quota, 10)); err != nil {
			return err
		}
	}
	return nil
}

// joinThread moves one thread into the cgroup (v1 only: there, membership is per thread; v2
// places the child with clone3 instead).
func (cg *cgroup) joinThread(tid int) error {
	if cg.tree.version != "v1" {
		return nil
	}
	for _, dir := range cg.dirs {
		if err := cg.write(dir, "tasks", strconv.Itoa(tid)); err != nil {
			return err
		}
	}
	return nil
}

// releaseThread moves a thread that joined the cgroup to start a process back where the engine's
// threads belong, so that the cgroup holds the sandbox's processes only (v1).
func (cg *cgroup) releaseThread(tid int) error {
	if cg == nil || cg.tree.version != "v1" {
		return nil
	}
	for _, dir := range cg.tree.home {
		// ESRCH: the thread is gone already (a short command), and with it from the cgroup.
		if err := cg.write(dir, "tasks", strconv.Itoa(tid)); err != nil && !errors.Is(err, unix.ESRCH) {
			return err
		}
	}
	return nil
}

// oomKills counts the processes the kernel killed for passing the memory limit.
func (cg *cgroup) oomKills() int {
	file, key := "memory.oom_control", "oom_kill"
	if cg.tree.version == "v2" {
		file = "memory.events"
	}
	f, err := os.Open(filepath.Join(cg.dirs[0], file))
	if err != nil {
		return 0
	}
	defer func() { _ = f.Close() }() // read-only
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		name, value, _ := strings.Cut(scanner.Text(), " ")
		if name == key {
			n, _ := strconv.Atoi(strings.TrimSpace(value))
			return n
		}
	}
	return 0
}

// killAll kills every process in the cgroup.
func (cg *cgroup) killAll() {
	if cg == nil {
		return
	}
	if cg.tree.version == "v2" {
		if cg.write(cg.dirs[0], "cgroup.kill", "1") == nil {
			return
		}
	}
	for _, dir := range cg.dirs {
		data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil {
			continue
		}
		for _, field := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(field); err == nil && pid != os.Getpid() {
				_ = unix.Kill(pid, unix.SIGKILL)
			}
		}
	}
}

// removeWhenEmpty removes the cgroup once its last task is gone, trying for up to wait.
func (cg *cgroup) removeWhenEmpty(wait time.Duration) {
	if cg == nil {
		return
	}
	cg.closeFD()
	deadline := time.Now().Add(wait)
	for {
		err := cg.removeDirs()
		if err == nil || time.Now().After(deadline) {
			if err != nil {
				cg.tree.log.Warn("could not remove a sandbox cgroup", "error", err)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (cg *cgroup) removeDirs() error {
	var errs []error
	for _, dir := range cg.dirs {
		if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("%s: %w", dir, err))
		}
	}
	return errors.Join(errs...)
}

// remove removes a cgroup that never had a task.
func (cg *cgroup) remove() {
	if cg == nil {
		return
	}
	cg.closeFD()
	_ = cg.removeDirs()
}

func (cg *cgroup) closeFD() {
	if cg.fd >= 0 {
		_ = unix.Close(cg.fd)
		cg.fd = -1
	}
}
