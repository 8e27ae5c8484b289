package builder

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

const (
	pipfileName     = "Pipfile"
	pipfileLockName = "Pipfile.lock"
)

// pipfileLock is what the build reads of a Pipfile.lock: its default (not develop) packages.
type pipfileLock struct {
	Meta struct {
		Requires struct {
			PythonVersion     string `json:"python_version"`
			PythonFullVersion string `json:"python_full_version"`
		} `json:"requires"`
	} `json:"_meta"`
	Default map[string]pipfilePackage `json:"default"`
}

// pipfilePackage is one package of a Pipfile.lock, or the table form of one in a Pipfile.
type pipfilePackage struct {
	Version  string   `json:"version" toml:"version"`
	Extras   []string `json:"extras" toml:"extras"`
	Markers  string   `json:"markers" toml:"markers"`
	Git      string   `json:"git" toml:"git"`
	Ref      string   `json:"ref" toml:"ref"`
	Path     string   `json:"path" toml:"path"`
	File     string   `json:"file" toml:"file"`
	Editable bool     `json:"editable" toml:"editable"`
}

// pipfile is what the build reads of a Pipfile.
type pipfile struct {
	Packages map[string]any `toml:"packages"`
	Requires struct {
		PythonVersion     string `toml:"python_version"`
		PythonFullVersion string `toml:"python_full_version"`
	} `toml:"requires"`
}

func loadPipfileLock(appDir string) (*pipfileLock, error) {
	data, err := readSourceFile(appDir, pipfileLockName)
	if err != nil {
		return nil, err
	}
	var lock pipfileLock
	if err := json.Unmarshal(data, &lock); err != nil {
		return nil, failure("%s is not a valid Pipfile lock (%v): regenerate it with `pipenv lock`", pipfileLockName, err)
	}
	return &lock, nil
}

// loadPipfile reads a Pipfile; nil without one.
func loadPipfile(appDir string) (*pipfile, error) {
	var p pipfile
	found, err := decodeTOMLFile(appDir, pipfileName, &p, "Fix it")
	if !found {
		return nil, err
	}
	return &p, nil
}

// readPipfileLock is the default packages of Pipfile.lock, pinned; nil without one.
func readPipfileLock(appDir string) (*dependencySpec, error) {
	lock, err := loadPipfileLock(appDir)
	if errors.Is(err, errAbsent) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	lines := make([]string, 0, len(lock.Default))
	for _, name := range sortedNames(lock.Default) {
		line, err := pipfileRequirement(pipfileLockName, name, lock.Default[name])
		if err != nil {
			return nil, err
		}
		if line != "" {
			lines = append(lines, line)
		}
	}
	return converted(pipfileLockName, lines), nil
}

// readPipfile is the [packages] of a Pipfile; nil without one.
func readPipfile(appDir string) (*dependencySpec, error) {
	p, err := loadPipfile(appDir)
	if p == nil {
		return nil, err
	}
	lines := make([]string, 0, len(p.Packages))
	for _, name := range sortedNames(p.Packages) {
		var pkg pipfilePackage
		switch value := p.Packages[name].(type) {
		case string:
			pkg.Version = value
		case map[string]any:
			if err := decodeTOMLTable(value, &pkg); err != nil {
				return nil, failure("%s: [packages] %s: %v", pipfileName, name, err)
			}
		default:
			return nil, failure("%s: [packages] %s is %s; give a version such as \"*\" or \"==3.0\", or a table such as {version = \"*\", extras = [\"async\"]}", pipfileName, name, describeTOML(value))
		}
		line, err := pipfileRequirement(pipfileName, name, pkg)
		if err != nil {
			return nil, err
		}
		if line != "" {
			lines = append(lines, line)
		}
	}
	return converted(pipfileName, lines), nil
}

// pipfileRequirement is a package of a Pipfile or Pipfile.lock as a pip requirement line; ""
// for the project itself (an editable install of ".").
func pipfileRequirement(file, name string, pkg pipfilePackage) (string, error) {
	requirement := name
	if len(pkg.Extras) > 0 {
		requirement += "[" + strings.Join(pkg.Extras, ",") + "]"
	}
	switch {
	case pkg.Git != "":
		requirement += " @ git+" + strings.TrimPrefix(pkg.Git, "git+")
		if pkg.Ref != "" {
			requirement += "@" + pkg.Ref
		}
	case pkg.Path == "." || pkg.Path == "./":
		return "", nil
	case pkg.Path != "" || pkg.File != "":
		return "", failure("%s installs %s from %s, a path or file that pip cannot be pointed at from a lock: install it with install_command instead, or publish it to a package index", file, name, pkg.Path+pkg.File)
	case pkg.Version != "" && pkg.Version != "*":
		requirement += pkg.Version
	}
	if pkg.Markers != "" {
		requirement += " ; " + pkg.Markers
	}
	return requirement, nil
}

// decodeTOMLTable decodes a table already read as a map into out.
func decodeTOMLTable(table map[string]any, out any) error {
	data, err := json.Marshal(table)
	if err != nil {
		return err
	}
	// Other keys (index, os_name, ...) choose where to install from, not what.
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
