package builder

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/sandbox"
)

// hostEnvNames are the engine's own variables a build may see: what tools need
// to run (PATH, HOME, locale, temp dir) and how this machine reaches package
// indexes. Anything else of the engine's environment (its tokens, for one)
// stays out of user code.
var hostEnvNames = []string{
	"PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR",
	"SSL_CERT_FILE", "SSL_CERT_DIR",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
}

// hostEnvPrefixes: pip's own configuration (PIP_INDEX_URL, PIP_FIND_LINKS, ...).
var hostEnvPrefixes = []string{"PIP_"}

// ProcessEnv is the environment of everything a build runs, and of the app
// when it serves (so the import check sees what production sees): the allowed host
// variables, overridden by the deployment's frozen env, inside the venv.
func ProcessEnv(frozen []string, venvDir string) []string {
	values := map[string]string{}
	var order []string
	set := func(key, value string) {
		if _, seen := values[key]; !seen {
			order = append(order, key)
		}
		values[key] = value
	}
	for _, kv := range os.Environ() {
		key, value, _ := strings.Cut(kv, "=")
		if allowedHostVariable(key) {
			set(key, value)
		}
	}
	for _, kv := range frozen {
		if key, value, ok := strings.Cut(kv, "="); ok && key != "" {
			set(key, value)
		}
	}
	path := values["PATH"]
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	set("PATH", filepath.Join(venvDir, "bin")+string(os.PathListSeparator)+path)
	set("VIRTUAL_ENV", venvDir)
	// As the venv's activate script does: a PYTHONHOME would point the venv's
	// interpreter at another installation's standard library.
	delete(values, "PYTHONHOME")

	env := make([]string, 0, len(order))
	for _, key := range order {
		if value, ok := values[key]; ok {
			env = append(env, key+"="+value)
		}
	}
	return env
}

func allowedHostVariable(key string) bool {
	for _, name := range hostEnvNames {
		if key == name {
			return true
		}
	}
	for _, prefix := range hostEnvPrefixes {
		if strings.HasPrefix(key, prefix) {
			return true
		}
	}
	return false
}

// killGraceDelay bounds how long a finished or killed command's leftover
// children may hold the log pipe open.
const killGraceDelay = 3 * time.Second

// run runs a command in dir with the build's environment, its output going to
// the build log, inside the build's sandbox. The command and everything it
// started are killed when ctx ends, and leftovers are killed when it exits:
// nothing a build starts outlives it.
func (b *builder) run(ctx context.Context, dir string, name string, args ...string) error {
	return b.runWritable(ctx, b.writable(), dir, name, args...)
}

// runWritable is run with the paths the command may write.
func (b *builder) runWritable(ctx context.Context, writable []string, dir string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	if cmd.Err != nil {
		return cmd.Err
	}
	cmd.Dir = dir
	cmd.Env = b.env
	cmd.Stdout = b.log
	cmd.Stderr = b.log
	cmd.WaitDelay = killGraceDelay
	b.commands++
	proc, err := b.spec.Sandbox.Start(cmd, sandbox.Spec{
		Name:       fmt.Sprintf("%s-%d", b.spec.Name, b.commands),
		Identity:   b.spec.Identity,
		Writable:   writable,
		Limits:     b.spec.Limits,
		ExtraPaths: sandbox.InterpreterPaths(b.python.Path),
	})
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, proc.Kill)
	err = proc.Wait()
	stop()
	proc.Kill()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// writable is what a build may change: its source, its environment and its home.
func (b *builder) writable() []string {
	paths := []string{b.spec.SrcDir, b.spec.VenvDir}
	if b.spec.HomeDir != "" {
		paths = append(paths, b.spec.HomeDir)
	}
	return paths
}

// shell runs a user's install or build command.
func (b *builder) shell(ctx context.Context, command string) error {
	return b.run(ctx, b.appDir, "sh", "-c", command)
}

func (b *builder) runBuildCommand(ctx context.Context) error {
	command := *b.buildCommand
	b.log.printf("running build command: %s", command)
	if err := b.shell(ctx, command); err != nil {
		return failure("the build command failed (%v): fix it or change build_command (or buildCommand in vercel.json); its output is below", err)
	}
	return nil
}
