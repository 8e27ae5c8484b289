package workers

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/sandbox"
)

//go:embed bootstrap.py
var bootstrapSource []byte

// bootstrapFileName carries a digest of the source, so engines of different versions sharing a RunDir
// never run each other's bootstrap.
var bootstrapFileName = func() string {
	sum := sha256.Sum256(bootstrapSource)
	return "ferry-bootstrap-" + hex.EncodeToString(sum[:6]) + ".py"
}()

const (
	readyTimeout    = 30 * time.Second
	stopGracePeriod = 10 * time.Second
	logTailLines    = 30
	logTailBytes    = 4 << 10
	// The longest socket path: sun_path (108 bytes on Linux, 104 on macOS) less its NUL.
	maxSocketPath = len(unix.RawSockaddrUnix{}.Path) - 1
)

// deployment is one start of an app's process group, from launch until it exits.
type deployment struct {
	m           *Manager
	app         App
	log         *slog.Logger
	socketPaths []string
	runDir      string // this start's sockets and private temporary directory; removed when it stops
	pool        *pool

	ready    chan struct{} // closed when starting is over; then startErr says how it went
	startErr error

	// A parked start (Manager.Prewarm) launches the process ahead of any request; it waits, with the
	// app's dependencies imported, until resume tells it to go on.
	park     bool
	parked   chan struct{} // closed when parking is over; then parkErr says how it went
	parkErr  error
	parkedAt time.Time

	inUse    atomic.Int64 // requests holding the deployment, including those waiting for it to start
	lastUsed atomic.Int64 // unix nanoseconds of the last request's end

	mu       sync.Mutex
	proc     *sandbox.Process // nil before launch
	stopping bool
	control  net.Conn // our end of the bootstrap's fd 3: the parent kills its group when it closes
	logStart int64    // size of the log when the process started: what it wrote since explains a failed start

	sockets map[*webSocketSession]struct{} // open WebSockets, ended with 1001 when d stops; under mu

	outOfMemory sync.Once
	recycling   sync.Once
}

// startError is why a deployment could not start, with the end of its output.
type startError struct {
	reason string
	output string
}

func (e *startError) Error() string {
	msg := "the app failed to start: " + e.reason
	if e.output != "" {
		msg += "\n\nLast lines of its output:\n" + e.output
	}
	return msg
}

func (m *Manager) newDeployment(app App) *deployment {
	start := strconv.FormatUint(m.starts.Add(1), 36)
	idSum := sha256.Sum256([]byte(app.ID + "\x00" + app.function))
	prefix := hex.EncodeToString(idSum[:4]) + "-" + start
	runDir := filepath.Join(m.cfg.RunDir, prefix)
	paths := make([]string, ownOr(app.Workers, m.cfg.Workers))
	for i := range paths {
		paths[i] = filepath.Join(runDir, strconv.Itoa(i)+".sock")
	}
	d := &deployment{
		m:           m,
		app:         app,
		log:         m.log.With("deployment", app.ID),
		socketPaths: paths,
		runDir:      runDir,
		ready:       make(chan struct{}),
	}
	d.pool = newPool(paths, d.threads(), m.cfg.MaxQueue)
	if app.function != "" {
		d.log = d.log.With("function", app.function)
	}
	d.lastUsed.Store(time.Now().UnixNano())
	return d
}

func (d *deployment) release() {
	d.lastUsed.Store(time.Now().UnixNano())
	d.inUse.Add(-1)
}

// started reports whether d started successfully (it may have stopped since).
func (d *deployment) started() bool {
	select {
	case <-d.ready:
		return d.startErr == nil
	default:
		return false
	}
}

func (d *deployment) alive() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc == nil {
		return false
	}
	select {
	case <-d.proc.Done():
		return false
	default:
		return true
	}
}

func (d *deployment) start() {
	began := time.Now()
	d.m.clock.begin(d, began)
	err := d.launch()
	if err == nil {
		err = d.awaitLine("ready\n")
	}
	d.finishStart(err, began)
}

// prepare launches a parked start and waits until it has parked.
func (d *deployment) prepare() {
	err := d.launch()
	if err == nil {
		err = d.awaitLine("parked\n")
	}
	if err != nil {
		d.m.forget(d)
		d.pool.close()
		d.mu.Lock()
		dropped := d.stopping // by the engine, not a failure
		d.mu.Unlock()
		d.kill()
		if !dropped {
			d.log.Warn("could not prepare the deployment's next start; its next request starts it in full", "reason", err)
		}
	}
	d.parkErr = err
	close(d.parked)
}

// isParked reports whether d is a parked start that is ready to go on.
func (d *deployment) isParked() bool {
	select {
	case <-d.parked:
		return d.parkErr == nil && d.alive()
	default:
		return false
	}
}

// resume tells a parked start to load the app and serve.
func (d *deployment) resume() {
	began := time.Now()
	d.m.clock.begin(d, began)
	_, err := d.control.Write([]byte("go\n"))
	if err == nil {
		err = d.awaitLine("ready\n")
	}
	d.finishStart(err, began)
}

func (d *deployment) finishStart(err error, began time.Time) {
	if err != nil {
		d.m.clock.end(d, time.Now()) // an instance that never served is not counted past here
		d.m.forget(d)
		d.pool.close()
		d.kill()
		var startErr *startError
		if !errors.As(err, &startErr) {
			startErr = &startError{reason: err.Error()}
			err = startErr
		}
		d.log.Warn("deployment failed to start", "reason", startErr.reason)
	} else {
		d.log.Info("deployment started", "duration", time.Since(began), "parked", d.park, "kind", d.app.Kind, "entrypoint", d.app.Entrypoint)
		go d.followWorkers()
		go d.tellScale()
	}
	d.startErr = err
	close(d.ready)
}

// followWorkers reads what the parent says of its workers once serving, "up I" and "down I", until
// the control socket closes.
func (d *deployment) followWorkers() {
	lines := bufio.NewScanner(d.control)
	for lines.Scan() {
		verb, arg, _ := strings.Cut(lines.Text(), " ")
		index, err := strconv.Atoi(arg)
		switch {
		case err != nil:
			d.log.Warn("unknown line from the app's parent process", "line", lines.Text())
		case verb == "up":
			d.pool.up(index)
		case verb == "down":
			d.pool.down(index)
		default:
			d.log.Warn("unknown line from the app's parent process", "line", lines.Text())
		}
	}
}

// tellScale tells the parent how many workers to run, each time the pool changes it, until d stops.
func (d *deployment) tellScale() {
	told := 1
	for {
		select {
		case <-d.pool.stopped:
			return
		case <-d.pool.scaled:
		}
		n := d.pool.scale()
		if n == told {
			continue
		}
		if _, err := fmt.Fprintf(d.control, "scale %d\n", n); err != nil {
			return // the parent is gone: watch cleans up
		}
		d.log.Info("instance scaled", "workers", n, "from", told)
		told = n
	}
}

func (d *deployment) launch() error {
	app, cfg := d.app, d.m.cfg
	switch {
	case app.Kind != runspec.KindWSGI && app.Kind != runspec.KindASGI && app.Kind != runspec.KindHandler:
		return fmt.Errorf("unknown app kind %q (want %q, %q or %q)", app.Kind, runspec.KindWSGI, runspec.KindASGI, runspec.KindHandler)
	case app.Python == "":
		return errors.New("no Python interpreter configured")
	case len(d.socketPaths[0]) > maxSocketPath:
		return fmt.Errorf("socket path %s is longer than unix sockets allow (%d bytes): use a shorter run directory", d.socketPaths[0], maxSocketPath)
	}
	if app.Fetch != nil {
		if err := app.Fetch(context.Background()); err != nil {
			return err
		}
	}
	if err := d.m.ensureBootstrap(); err != nil {
		return err
	}
	tmpDir := filepath.Join(d.runDir, "tmp")
	if err := d.makeRunDir(tmpDir); err != nil {
		return err
	}
	logFile, err := openLog(cfg.LogDir, app.ID)
	if err != nil {
		return err
	}
	defer func() { _ = logFile.Close() }() // ours is only for Stat; the process writes through its own descriptor
	logInfo, err := logFile.Stat()
	if err != nil {
		return err
	}
	engineEnd, appEnd, err := socketPair()
	if err != nil {
		return err
	}
	defer func() { _ = appEnd.Close() }() // the process has its copy once started
	control, err := net.FileConn(engineEnd)
	_ = engineEnd.Close() // control holds a duplicate
	if err != nil {
		return err
	}

	args := []string{d.m.bootstrapPath}
	if d.park {
		args = append(args, "--park")
	}
	args = append(append(args, app.Kind, app.Entrypoint, strconv.Itoa(d.threads())), d.socketPaths...)
	cmd := exec.Command(app.Python, args...)
	cmd.Dir = app.Dir
	cmd.Env = workerEnv(app.Env, tmpDir)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.ExtraFiles = []*os.File{appEnd} // fd 3
	root := app.Root
	if root == "" {
		root = app.Dir
	}
	spec := sandbox.Spec{
		Name:       "app-" + filepath.Base(d.runDir),
		Identity:   app.Identity,
		ReadOnly:   []string{root, d.m.bootstrapPath},
		Writable:   []string{d.runDir},
		NoListen:   true,
		Limits:     app.Limits,
		ExtraPaths: sandbox.InterpreterPaths(app.Python),
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopping {
		_ = control.Close() // never used
		return errDeploymentStopped
	}
	proc, err := d.m.cfg.Sandbox.Start(cmd, spec)
	if err != nil {
		_ = control.Close() // never used; the start error is the one to report
		return err
	}
	d.proc = proc
	d.control = control
	d.logStart = logInfo.Size()
	go d.watch()
	return nil
}

// workerEnv is the app's environment plus what the bootstrap needs; it is never logged. The
// private temporary directory is the only place an instance may write, so it is also HOME.
func workerEnv(appEnv []string, tmpDir string) []string {
	env := make([]string, 0, len(appEnv)+3) // never nil: nil would mean the engine's own environment
	for _, kv := range appEnv {
		if !strings.HasPrefix(kv, "TMPDIR=") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	env = append(env, "TMPDIR="+tmpDir, "HOME="+tmpDir)
	if !hasKey(env, "PYTHONUNBUFFERED") {
		env = append(env, "PYTHONUNBUFFERED=1") // output reaches the log as it happens
	}
	return env
}

// makeRunDir creates this start's directory and its temporary directory, both the instance's own.
func (d *deployment) makeRunDir(tmpDir string) error {
	if err := os.MkdirAll(tmpDir, 0o700); err != nil {
		return err
	}
	return d.m.cfg.Sandbox.HandOver(d.app.Identity, d.runDir)
}

func hasKey(env []string, key string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			return true
		}
	}
	return false
}

func socketPair() (engineEnd, appEnd *os.File, err error) {
	fds, err := socketPairCloseOnExec()
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	return os.NewFile(uintptr(fds[0]), "ferry-control"), os.NewFile(uintptr(fds[1]), "ferry-control"), nil
}

func (m *Manager) ensureBootstrap() error {
	if _, err := os.Stat(m.bootstrapPath); err == nil {
		return nil
	}
	tmp, err := os.CreateTemp(m.cfg.RunDir, ".bootstrap-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone once renamed; otherwise a best-effort cleanup
	if _, err := tmp.Write(bootstrapSource); err != nil {
		_ = tmp.Close() // the write error is the one to report
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// Instances read it under their own uid.
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), m.bootstrapPath)
}

func logPath(dir, id string) string {
	safe := strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9') {
			return r
		}
		return '_'
	}, id)
	if strings.Trim(safe, ".") == "" {
		safe = "_" + safe
	}
	return filepath.Join(dir, safe+".log")
}

func openLog(dir, id string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return os.OpenFile(logPath(dir, id), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
}

// awaitLine waits for the bootstrap to write want ("parked\n" or "ready\n") on the control socket. The
// bootstrap writes nothing after either until the engine speaks, so no read here takes more than a line.
func (d *deployment) awaitLine(want string) error {
	// A deadline fails to set only on a closed socket, whose read then fails.
	_ = d.control.SetReadDeadline(time.Now().Add(readyTimeout))
	line, err := bufio.NewReader(d.control).ReadString('\n')
	_ = d.control.SetReadDeadline(time.Time{})
	if err == nil && line == want {
		return nil
	}
	reason := "it exited during startup"
	if errors.Is(err, os.ErrDeadlineExceeded) {
		reason = fmt.Sprintf("it was not ready within %s", readyTimeout)
	} else {
		// EOF: the parent is exiting; let it, so its exit status tells how.
		select {
		case <-d.proc.Done():
		case <-time.After(5 * time.Second):
		}
	}
	d.kill()
	<-d.proc.Done()
	var exit *exec.ExitError
	if errors.As(d.proc.Err(), &exit) && exit.Exited() {
		reason += fmt.Sprintf(" (exit status %d)", exit.ExitCode())
	}
	if d.proc.OOMKilled() {
		reason += fmt.Sprintf(" (killed for passing its memory limit of %d MB)", d.app.Limits.MemoryMB)
	}
	return &startError{reason: reason, output: logTail(d.m.cfg.LogDir, d.app.ID, d.logStart)}
}

// watch reaps the parent process and cleans up after it, however it ended.
func (d *deployment) watch() {
	err := d.proc.Wait()
	d.m.clock.end(d, time.Now())
	d.mu.Lock()
	stopping := d.stopping
	d.mu.Unlock()
	d.m.forget(d)
	d.pool.close()
	d.proc.Kill() // workers, and anything the app started, go too
	_ = d.control.Close()
	if err := os.RemoveAll(d.runDir); err != nil {
		d.log.Warn("could not remove an instance's directory", "error", err)
	}
	d.stopIfOutOfMemory()
	if !stopping && d.started() {
		d.log.Warn("app process exited unexpectedly; the next request starts it again", "error", err)
	}
}

// stopIfOutOfMemory reports whether the kernel killed a process of d for passing its memory
// limit; if so it says so in the deployment's log and stops d, so that the next request gets a
// fresh instance rather than one that lost a worker halfway through its work.
func (d *deployment) stopIfOutOfMemory() bool {
	if d.proc == nil || !d.proc.OOMKilled() {
		return false
	}
	d.outOfMemory.Do(func() {
		reason := fmt.Sprintf("ferry: the instance passed its memory limit of %d MB and was stopped; the next request starts a new one\n", d.app.Limits.MemoryMB)
		if f, err := openLog(d.m.cfg.LogDir, d.app.ID); err == nil {
			_, _ = f.WriteString(reason)
			_ = f.Close()
		}
		d.log.Warn("instance out of memory: stopped", "memory_mb", d.app.Limits.MemoryMB)
		d.kill()
	})
	return true
}

// kill ends the process group at once.
func (d *deployment) kill() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopping = true
	if d.proc != nil {
		d.proc.Kill()
	}
}

// parkedGracePeriod is how long a parked start has to exit on SIGTERM before SIGKILL: it serves
// no request that a longer one would let finish, and one still preparing does not heed SIGTERM.
const parkedGracePeriod = time.Second

// end stops a parked start and waits for its processes to exit.
func (d *deployment) end() {
	ctx, cancel := context.WithTimeout(context.Background(), parkedGracePeriod)
	defer cancel()
	d.terminate(ctx)
}

// terminate stops d: SIGTERM to its process group so requests in progress can finish, SIGKILL if it is
// still running when ctx ends. It reports whether the processes ended before ctx did.
func (d *deployment) terminate(ctx context.Context) bool {
	d.mu.Lock()
	d.stopping = true
	proc := d.proc
	d.mu.Unlock()
	d.pool.close()
	d.closeSockets()
	if proc == nil {
		return true
	}
	_ = proc.Signal(unix.SIGTERM)
	// Counted until its processes are gone, by the time terminate returns (watch would count it too, a moment later).
	defer func() { d.m.clock.end(d, time.Now()) }()
	select {
	case <-proc.Done():
		return true
	case <-ctx.Done():
		proc.Kill()
		<-proc.Done()
		return false
	}
}

// logTail returns the last lines the log got after offset.
func logTail(dir, id string, offset int64) string {
	f, err := os.Open(logPath(dir, id))
	if err != nil {
		return ""
	}
	defer func() { _ = f.Close() }() // read-only
	info, err := f.Stat()
	if err != nil {
		return ""
	}
	offset = max(offset, info.Size()-logTailBytes)
	data, err := io.ReadAll(io.NewSectionReader(f, offset, info.Size()-offset))
	if err != nil {
		return ""
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > logTailLines {
		lines = lines[len(lines)-logTailLines:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// recycle replaces d after a request ran past its maximum duration: the app's thread is still busy
// with it, and may stay so. New requests go to a new instance at once; d gets SIGTERM, so that its
// other requests may finish within the grace period, then SIGKILL.
func (d *deployment) recycle(requestID string) {
	d.recycling.Do(func() {
		reason := fmt.Sprintf("ferry: request %s ran past the maximum duration of %s and got 504; the instance is replaced by a new one\n", requestID, d.maxDuration())
		if f, err := openLog(d.m.cfg.LogDir, d.app.ID); err == nil {
			_, _ = f.WriteString(reason)
			_ = f.Close()
		}
		d.log.Warn("request past the maximum duration: instance recycled", "request_id", requestID, "max_duration", d.maxDuration())
		d.m.forget(d)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), stopGracePeriod)
			defer cancel()
			d.terminate(ctx)
			d.m.Prewarm(d.app)
		}()
	})
}
