package builder

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// dependencySpec is what a build installs, from whichever file of the project declares it.
type dependencySpec struct {
	source string // the file it comes from, for messages: "requirements.txt", "uv.lock", ...
	// requirementsFile is a pip requirements file to install as it is, relative to the root
	// directory; "" when lines were converted from another format.
	requirementsFile string
	lines            []string // requirement lines converted from source
	digest           [32]byte // identifies the spec, for the build cache
}

// requirementsFiles are the pip requirements files Vercel installs, in its order of preference.
var requirementsFiles = []string{
	"requirements.frozen.txt", "requirements-frozen.txt", "requirements.txt", "requirements.in", "requirements/prod.txt",
}

// dependencySources names every file findDependencies looks at, for messages.
const dependencySources = "pyproject.toml ([project] dependencies, with uv.lock or pylock.toml beside it), Pipfile.lock, Pipfile, pylock.toml or requirements.txt"

// findDependencies reads the project's dependencies from the first file that declares them,
// in Vercel's order: pyproject.toml (its lock file first), Pipfile.lock, Pipfile, then a
// requirements file. nil when the project declares none.
func findDependencies(appDir string, project *pyproject) (*dependencySpec, error) {
	if project != nil && project.Project != nil && project.Project.Dependencies != nil {
		if spec, err := lockedDependencies(appDir); spec != nil || err != nil {
			return spec, err
		}
		return converted(pyprojectFile, project.Project.Dependencies), nil
	}
	if spec, err := readPipfileLock(appDir); spec != nil || err != nil {
		return spec, err
	}
	if spec, err := readPipfile(appDir); spec != nil || err != nil {
		return spec, err
	}
	if spec, err := readPylock(appDir); spec != nil || err != nil {
		return spec, err
	}
	for _, name := range requirementsFiles {
		if sourceFileExists(appDir, filepath.FromSlash(name)) {
			digest, err := requirementsDigest(appDir, name)
			if err != nil {
				return nil, err
			}
			return &dependencySpec{source: name, requirementsFile: name, digest: digest}, nil
		}
	}
	if project != nil && project.Tool.Poetry != nil && len(project.Tool.Poetry.Dependencies) > 1 {
		return nil, failure("%s declares its dependencies in [tool.poetry.dependencies], which ferry does not read: list them under [project] dependencies (PEP 621), or export them with `poetry export -o requirements.txt`", pyprojectFile)
	}
	return nil, nil
}

// lockedDependencies reads uv.lock or pylock.toml beside a pyproject.toml; nil when neither is there.
func lockedDependencies(appDir string) (*dependencySpec, error) {
	if spec, err := readUVLock(appDir); spec != nil || err != nil {
		return spec, err
	}
	return readPylock(appDir)
}

// converted is a spec of requirement lines read from source.
func converted(source string, lines []string) *dependencySpec {
	h := sha256.New() // writing to a hash never fails
	_, _ = fmt.Fprintf(h, "%s\n", source)
	for _, line := range lines {
		_, _ = fmt.Fprintf(h, "%s\n", line)
	}
	spec := &dependencySpec{source: source, lines: lines}
	copy(spec.digest[:], h.Sum(nil))
	return spec
}

// requirementsDigest identifies a requirements file with the files it includes (-r, -c).
func requirementsDigest(appDir, name string) ([32]byte, error) {
	h := sha256.New() // writing to a hash never fails
	seen := map[string]bool{}
	var add func(rel string) error
	add = func(rel string) error {
		clean := filepath.Clean(rel)
		if seen[clean] {
			return nil
		}
		seen[clean] = true
		data, err := readSourceFile(appDir, clean)
		if errors.Is(err, errAbsent) {
			_, _ = fmt.Fprintf(h, "%s absent\n", clean) // pip says what is missing
			return nil
		}
		if err != nil {
			return err
		}
		_, _ = fmt.Fprintf(h, "%s %d\n", clean, len(data))
		_, _ = h.Write(data)
		for _, included := range includedFiles(data) {
			// Files outside the root directory are pip's to read, inside the sandbox.
			if path := filepath.Join(filepath.Dir(clean), included); filepath.IsLocal(path) {
				if err := add(path); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var digest [32]byte
	if err := add(name); err != nil {
		return digest, err
	}
	copy(digest[:], h.Sum(nil))
	return digest, nil
}

// includedFiles are the relative paths a requirements file includes with -r or -c.
func includedFiles(data []byte) []string {
	var files []string
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		fields := strings.Fields(strings.ReplaceAll(scanner.Text(), "=", " "))
		if len(fields) < 2 {
			continue
		}
		switch fields[0] {
		case "-r", "--requirement", "-c", "--constraint":
			if !strings.Contains(fields[1], "://") {
				files = append(files, fields[1])
			}
		}
	}
	return files
}
