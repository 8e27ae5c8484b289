package builder

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// offlineWheel is a package pip installs without an index: the requirements point pip at the
// wheel shipped in the source.
const offlineRequirements = "--no-index\n--find-links wheels\nferry-testpkg==1.0\n"

const wheelName = "ferry_testpkg-1.0-py3-none-any.whl"

const appOfTheWheel = `import ferry_testpkg


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [ferry_testpkg.VALUE.encode()]
`

// cachedSpec is a build of an app that needs the offline wheel, with the build cache in cache.
func cachedSpec(t *testing.T, cache, requirements string) (Spec, *bytes.Buffer) {
	t.Helper()
	wheel, err := os.ReadFile(filepath.Join("testdata", "wheels", wheelName))
	if err != nil {
		t.Fatal(err)
	}
	spec, log := newSpec(t, map[string]string{
		"app.py":              appOfTheWheel,
		"requirements.txt":    requirements,
		"wheels/" + wheelName: string(wheel),
	})
	spec.HomeDir = t.TempDir()
	spec.CacheDir, spec.UseCache = cache, true
	return spec, log
}

func TestBuildCacheInstallsOnce(t *testing.T) {
	t.Parallel()
	requirePython(t, "pip")
	cache := t.TempDir()

	first, log := cachedSpec(t, cache, offlineRequirements)
	mustBuild(t, first, log)
	assertContains(t, "first build's log", log.String(), "running pip install -r requirements.txt", "installed packages kept in the build cache as")

	second, log := cachedSpec(t, cache, offlineRequirements)
	result := mustBuild(t, second, log)
	assertContains(t, "second build's log", log.String(), "requirements.txt is unchanged since an earlier build: reusing its installed packages", "nothing to install")
	if strings.Contains(log.String(), "running pip install") {
		t.Errorf("the second build ran pip:\n%s", log)
	}
	script, err := os.ReadFile(filepath.Join(second.VenvDir, "bin", "ferry-testpkg"))
	if err != nil || !bytes.HasPrefix(script, []byte("#!"+result.Python+"\n")) {
		t.Errorf("the package's script starts %.80q (%v), want the deployment's interpreter %s", script, err, result.Python)
	}
	assertSealed(t, filepath.Join(cache, cacheEnvsDir))

	// Without the cache, a build installs anew and replaces the entry; the deployments built
	// before keep their packages.
	clean, log := cachedSpec(t, cache, offlineRequirements)
	clean.UseCache = false
	mustBuild(t, clean, log)
	assertContains(t, "log of a build without the cache", log.String(), "the build cache is off for this deployment: installing from scratch", "running pip install")
	if _, err := os.Stat(filepath.Join(first.VenvDir, "bin", "ferry-testpkg")); err != nil {
		t.Errorf("the first deployment lost its packages: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(cache, cacheEnvsDir))
	if len(entries) != 1 {
		t.Errorf("the cache holds %d entries after a replacement, want 1", len(entries))
	}
}

func TestCacheKeyFollowsTheSpecAndTheInterpreter(t *testing.T) {
	deps := converted("requirements.txt", []string{"flask"})
	b := &builder{spec: Spec{CacheDir: t.TempDir()}, python: Interpreter{Path: "/usr/bin/python3", Version: "3.11.2"}, deps: deps}
	key := b.cacheKey()
	for name, change := range map[string]func(*builder){
		"another spec":        func(b *builder) { b.deps = converted("requirements.txt", []string{"flask==2.2.2"}) },
		"another interpreter": func(b *builder) { b.python.Version = "3.12.1" },
		"another index":       func(b *builder) { b.env = []string{"PIP_INDEX_URL=https://example.com/simple"} },
	} {
		changed := *b
		change(&changed)
		if changed.cacheKey() == key {
			t.Errorf("%s keeps the cache key", name)
		}
	}
	if again := *b; again.cacheKey() != key {
		t.Error("the same build gets another cache key")
	}
}

func TestFailedInstallLeavesNothingInTheCache(t *testing.T) {
	t.Parallel()
	requirePython(t, "pip")
	cache := t.TempDir()
	spec, log := cachedSpec(t, cache, "--no-index\n--find-links wheels\nferry-testpkg==2.0\n")
	err := mustFail(t, spec, log, StepInstall)
	assertContains(t, "message", err.Message, "pip could not install what requirements.txt needs: ferry-testpkg==2.0 (not installed)")
	entries, _ := os.ReadDir(filepath.Join(cache, cacheEnvsDir))
	if len(entries) != 0 {
		t.Errorf("a failed install left %d entries in the cache", len(entries))
	}
}

// assertSealed fails when a file or directory under dir is not the engine's, or is writable by
// others than the engine.
func assertSealed(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, entry fs.DirEntry, err error) error {
		if err != nil || path == dir || entry.Type()&fs.ModeSymlink != 0 {
			return err
		}
		info, err := entry.Info()
		if err != nil {
			return err
		}
		stat, ok := info.Sys().(*syscall.Stat_t)
		if !ok || info.Mode().Perm()&0o022 != 0 || int(stat.Uid) != os.Getuid() {
			t.Errorf("%s in the build cache is writable by others (%s, %+v)", path, info.Mode(), info.Sys())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The engine adds cached files to a venv its build's user owns: a link the build planted
// there must not lead the engine to write elsewhere.
func TestCachedFilesAreNotWrittenThroughLinks(t *testing.T) {
	cached, venv, elsewhere := t.TempDir(), t.TempDir(), t.TempDir()
	writeFiles(t, cached, map[string]string{
		cacheRecordName: `{"built_in": "/nowhere"}`,
		"lib/python3.11/site-packages/pkg/__init__.py": "VALUE = 1\n",
	})
	if err := os.MkdirAll(filepath.Join(venv, "lib", "python3.11"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(venv, "lib", "python3.11", "site-packages")); err != nil {
		t.Fatal(err)
	}
	b := &builder{venvDir: venv, log: newBuildLog(nil)}
	if err := b.installCached(cached); err == nil {
		t.Error("cached files were added through a symbolic link")
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("the engine wrote %d entries where the link led", len(entries))
	}
}
