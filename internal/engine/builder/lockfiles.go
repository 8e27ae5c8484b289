package builder

import (
	"regexp"
	"sort"
	"strings"
)

const (
	uvLockName = "uv.lock"
	pylockName = "pylock.toml"

	// exportAdvice is how to turn a lock pip cannot read into one it can.
	exportAdvice = "export a requirements file from it (`uv export --no-hashes -o requirements.txt`) and deploy that instead of the lock"

	// maxMarkersPerPackage bounds the environment markers kept for a package reached by many
	// paths of a uv.lock; past it the package is installed everywhere, as pip would resolve it.
	maxMarkersPerPackage = 8
)

// uvLock is what the build reads of a uv.lock: its packages and their dependency edges.
type uvLock struct {
	Packages []uvPackage `toml:"package"`
}

type uvPackage struct {
	Name                 string                    `toml:"name"`
	Version              string                    `toml:"version"`
	Source               map[string]any            `toml:"source"`
	Dependencies         []uvDependency            `toml:"dependencies"`
	OptionalDependencies map[string][]uvDependency `toml:"optional-dependencies"`
}

type uvDependency struct {
	Name    string   `toml:"name"`
	Version string   `toml:"version"`
	Marker  string   `toml:"marker"`
	Extra   []string `toml:"extra"`
}

// isProject reports whether p is the project the lock is for (or a workspace member of it).
func (p *uvPackage) isProject() bool {
	for _, kind := range []string{"editable", "virtual"} {
		if _, ok := p.Source[kind]; ok {
			return true
		}
	}
	return false
}

// readUVLock is what uv sync would install from uv.lock, as pinned pip requirements with
// their environment markers; nil without a uv.lock.
func readUVLock(appDir string) (*dependencySpec, error) {
	var lock uvLock
	if found, err := decodeTOMLFile(appDir, uvLockName, &lock, "Regenerate it with `uv lock`"); !found {
		return nil, err
	}
	walk := uvWalk{lock: &lock, markers: map[*uvPackage]map[string]bool{}}
	for i := range lock.Packages {
		if project := &lock.Packages[i]; project.isProject() {
			if err := walk.follow(project, project.Dependencies, ""); err != nil {
				return nil, err
			}
		}
	}
	return walk.requirements()
}

// uvWalk follows a uv.lock's dependency edges from the project, collecting for each package
// the markers of the paths that reach it ("" for a path without any: installed everywhere).
type uvWalk struct {
	lock    *uvLock
	markers map[*uvPackage]map[string]bool
}

func (w *uvWalk) follow(from *uvPackage, edges []uvDependency, pathMarker string) error {
	for _, edge := range edges {
		to, err := w.resolve(from, edge)
		if err != nil {
			return err
		}
		if to.isProject() {
			continue
		}
		marker := andMarkers(pathMarker, edge.Marker)
		if !w.add(to, marker) {
			continue
		}
		if err := w.follow(to, to.Dependencies, marker); err != nil {
			return err
		}
		for _, extra := range edge.Extra {
			if err := w.follow(to, to.OptionalDependencies[extra], marker); err != nil {
				return err
			}
		}
	}
	return nil
}

// add records that marker's path reaches p; false when that adds nothing.
func (w *uvWalk) add(p *uvPackage, marker string) bool {
	seen := w.markers[p]
	if seen == nil {
		seen = map[string]bool{}
		w.markers[p] = seen
	}
	if seen[""] || seen[marker] {
		return false
	}
	if len(seen) >= maxMarkersPerPackage {
		marker = ""
	}
	if marker == "" {
		clear(seen)
	}
	seen[marker] = true
	return true
}

// resolve finds the package an edge leads to: by name, and by version where the lock holds several.
func (w *uvWalk) resolve(from *uvPackage, edge uvDependency) (*uvPackage, error) {
	var found []*uvPackage
	for i := range w.lock.Packages {
		p := &w.lock.Packages[i]
		if normalizeName(p.Name) == normalizeName(edge.Name) && (edge.Version == "" || p.Version == edge.Version) {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return nil, failure("%s lists %s as a dependency of %s but has no package %s: regenerate it with `uv lock`", uvLockName, edge.Name, from.Name, edge.Name)
	case 1:
		return found[0], nil
	}
	return nil, failure("%s resolves %s to several versions for different platforms, which ferry cannot pick between: %s", uvLockName, edge.Name, exportAdvice)
}

// requirements turns the packages reached into pinned requirement lines.
func (w *uvWalk) requirements() (*dependencySpec, error) {
	lines := make([]string, 0, len(w.markers))
	for p, markers := range w.markers {
		if _, fromIndex := p.Source["registry"]; !fromIndex {
			return nil, failure("%s installs %s from %s, not from a package index, which ferry cannot install from the lock: %s", uvLockName, p.Name, describeSource(p.Source), exportAdvice)
		}
		line := p.Name + "==" + p.Version
		if !markers[""] {
			line += " ; " + orMarkers(markers)
		}
		lines = append(lines, line)
	}
	sort.Strings(lines)
	return converted(uvLockName, lines), nil
}

// pylock is what the build reads of a pylock.toml (PEP 751).
type pylock struct {
	Packages []struct {
		Name      string         `toml:"name"`
		Version   string         `toml:"version"`
		Marker    string         `toml:"marker"`
		VCS       map[string]any `toml:"vcs"`
		Directory map[string]any `toml:"directory"`
		Archive   map[string]any `toml:"archive"`
	} `toml:"packages"`
}

// lockOnlyMarker finds markers on extras and dependency groups, which PEP 751 added and pip's
// packaging library cannot evaluate.
var lockOnlyMarker = regexp.MustCompile(`\b(extras|dependency_groups)\b`)

// readPylock is the packages of a pylock.toml as pinned requirements; nil without one.
func readPylock(appDir string) (*dependencySpec, error) {
	var lock pylock
	if found, err := decodeTOMLFile(appDir, pylockName, &lock, "Regenerate the lock"); !found {
		return nil, err
	}
	lines := make([]string, 0, len(lock.Packages))
	for _, p := range lock.Packages {
		switch {
		case p.VCS != nil || p.Directory != nil || p.Archive != nil:
			return nil, failure("%s installs %s from a repository, directory or archive, which ferry cannot install from the lock: %s", pylockName, p.Name, exportAdvice)
		case p.Version == "":
			return nil, failure("%s lists %s without a version: regenerate the lock", pylockName, p.Name)
		case lockOnlyMarker.MatchString(p.Marker):
			return nil, failure("%s selects %s by extras or dependency groups (marker %q), which pip cannot evaluate: lock the default dependencies only, or %s", pylockName, p.Name, p.Marker, exportAdvice)
		}
		line := p.Name + "==" + p.Version
		if p.Marker != "" {
			line += " ; " + p.Marker
		}
		lines = append(lines, line)
	}
	return converted(pylockName, lines), nil
}

// normalizeName is a distribution name in PEP 503's normal form.
func normalizeName(name string) string {
	return strings.ToLower(strings.NewReplacer("_", "-", ".", "-").Replace(name))
}

func andMarkers(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return "(" + a + ") and (" + b + ")"
}

func orMarkers(markers map[string]bool) string {
	parts := make([]string, 0, len(markers))
	for marker := range markers {
		parts = append(parts, "("+marker+")")
	}
	sort.Strings(parts)
	return strings.Join(parts, " or ")
}

func describeSource(source map[string]any) string {
	for _, kind := range []string{"git", "url", "path", "directory", "editable"} {
		if where, ok := source[kind]; ok {
			return kind + " " + describeTOML(where)
		}
	}
	return "an unknown source"
}
