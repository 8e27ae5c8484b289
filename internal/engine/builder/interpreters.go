package builder

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	pep440 "github.com/aquasecurity/go-pep440-version"
)

// Interpreter is a Python installation that builds may choose.
type Interpreter struct {
	Path    string // as configured or found
	Version string // "3.11.2"
	// Unusable says why builds cannot use it ("" when they can), for the messages that list
	// the interpreters an engine knows.
	Unusable string

	sitePackages []string // where it finds the packages it has, which a venv of it sees too
}

func (i Interpreter) String() string {
	if i.Unusable != "" {
		return fmt.Sprintf("%s at %s (unusable: %s)", i.Version, i.Path, i.Unusable)
	}
	return fmt.Sprintf("%s at %s", i.Version, i.Path)
}

// minimumPython is the oldest Python a deployment may run on: Vercel's oldest.
var minimumPython = pep440.MustParse("3.9")

// FindInterpreters returns the interpreters builds may choose from: the configured ones,
// first the engine's default, then those found on PATH and under pyenv's versions, newest
// first. shared says that each project runs as a user of its own, who must be able to
// reach the interpreter.
func FindInterpreters(configured []string, shared bool) []Interpreter {
	var found []Interpreter
	seen := map[string]bool{}
	add := func(path string) {
		resolved, err := filepath.EvalSymlinks(path)
		if err != nil || seen[resolved] {
			return
		}
		seen[resolved] = true
		if i, ok := probeInterpreter(path, resolved); ok {
			if shared && i.Unusable == "" {
				i.Unusable = unreachableByOthers(resolved)
			}
			found = append(found, i)
		}
	}
	for _, path := range configured {
		if resolved, err := exec.LookPath(path); err == nil {
			add(resolved)
		}
	}
	configuredCount := len(found)
	for _, path := range discoverInterpreters() {
		add(path)
	}
	discovered := found[configuredCount:]
	sort.SliceStable(discovered, func(a, b int) bool {
		return pep440.MustParse(discovered[a].Version).GreaterThan(pep440.MustParse(discovered[b].Version))
	})
	return found
}

// pythonName matches the names interpreters go by: python3, python3.12.
var pythonName = regexp.MustCompile(`^python3(\.\d+)?$`)

// discoverInterpreters lists candidate interpreters on PATH and in pyenv's versions.
func discoverInterpreters() []string {
	var candidates []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		// pyenv's shims are scripts that pick a version by the caller's settings: its versions are
		// listed below instead.
		if dir == "" || filepath.Base(dir) == "shims" {
			continue
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, entry := range entries {
			if pythonName.MatchString(entry.Name()) {
				candidates = append(candidates, filepath.Join(dir, entry.Name()))
			}
		}
	}
	root := os.Getenv("PYENV_ROOT")
	if root == "" {
		if home, err := os.UserHomeDir(); err == nil {
			root = filepath.Join(home, ".pyenv")
		}
	}
	if root != "" {
		versions, _ := filepath.Glob(filepath.Join(root, "versions", "*", "bin", "python3"))
		candidates = append(candidates, versions...)
	}
	return candidates
}

// probeTimeout bounds asking an interpreter its version.
const probeTimeout = 10 * time.Second

type probeKey struct {
	resolved string
	size     int64
	mtime    time.Time
}

var (
	probesMu sync.Mutex
	probes   = map[probeKey]probeResult{} // an interpreter is asked once while its binary stays the same
)

type probeResult struct {
	version      string
	sitePackages []string
	unusable     string
	ok           bool // a Python 3 that answered
}

// probeInterpreter asks the interpreter at path (resolved, once its links are followed) its
// version and whether it can create virtual environments. ok is false for what is not a
// Python 3 at all.
func probeInterpreter(path, resolved string) (Interpreter, bool) {
	info, err := os.Stat(resolved)
	if err != nil || !info.Mode().IsRegular() {
		return Interpreter{}, false
	}
	key := probeKey{resolved: resolved, size: info.Size(), mtime: info.ModTime()}
	probesMu.Lock()
	result, cached := probes[key]
	probesMu.Unlock()
	if !cached {
		result = runProbe(path)
		probesMu.Lock()
		probes[key] = result
		probesMu.Unlock()
	}
	return Interpreter{Path: path, Version: result.version, Unusable: result.unusable, sitePackages: result.sitePackages}, result.ok
}

func runProbe(path string) probeResult {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-I", "-c",
		"import site, sys; print('%d.%d.%d' % sys.version_info[:3]); print('\\n'.join(site.getsitepackages())); import venv")
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	out, err := cmd.Output()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	version := strings.TrimSpace(lines[0])
	parsed, parseErr := pep440.Parse(version)
	if parseErr != nil || !strings.HasPrefix(version, "3.") {
		return probeResult{}
	}
	result := probeResult{version: version, sitePackages: lines[1:], ok: true}
	switch {
	case parsed.LessThan(minimumPython):
		result.unusable = "older than Python " + minimumPython.String()
	case err != nil:
		result.unusable = "it has no venv module (on Debian or Ubuntu: apt-get install python3-venv)"
	}
	return result
}

// unreachableByOthers says why users other than the owner cannot run the interpreter at
// resolved, or "" when they can: every directory above it must let them pass.
func unreachableByOthers(resolved string) string {
	info, err := os.Stat(resolved)
	if err != nil {
		return err.Error()
	}
	if info.Mode().Perm()&0o001 == 0 {
		return "other users may not run it"
	}
	for dir := filepath.Dir(resolved); ; dir = filepath.Dir(dir) {
		info, err := os.Stat(dir)
		if err != nil {
			return err.Error()
		}
		if info.Mode().Perm()&0o001 == 0 {
			return fmt.Sprintf("the projects' users cannot enter %s (mode %o)", dir, info.Mode().Perm())
		}
		if dir == filepath.Dir(dir) {
			return ""
		}
	}
}
