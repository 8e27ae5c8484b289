package builder

import (
	"os"
	"path/filepath"
	"strings"
)

// DefaultPython is the base interpreter of builds when none is configured: the first of
// PythonCandidates that exists, or "" when none does.
func DefaultPython() string {
	for _, candidate := range PythonCandidates() {
		if info, err := os.Stat(candidate); err == nil && !info.IsDir() {
			return candidate
		}
	}
	return ""
}

// macOSPythons are where Python 3 is installed on a Mac, the most deliberate choice first:
// pyenv's global version (set by its user), Homebrew's (Apple silicon, then Intel, where
// python.org's installer also links its own), python.org's, and Apple's from the Command Line
// Tools (/usr/bin/python3 is only a stub that offers to install them). pyenvRoot is $PYENV_ROOT,
// or "" for ~/.pyenv.
func macOSPythons(home, pyenvRoot string) []string {
	var candidates []string
	if pyenvRoot == "" && home != "" {
		pyenvRoot = filepath.Join(home, ".pyenv")
	}
	if version := pyenvGlobalVersion(pyenvRoot); version != "" {
		candidates = append(candidates, filepath.Join(pyenvRoot, "versions", version, "bin", "python3"))
	}
	return append(candidates,
		"/opt/homebrew/bin/python3",
		"/usr/local/bin/python3",
		"/Library/Frameworks/Python.framework/Versions/Current/bin/python3",
		"/Library/Developer/CommandLineTools/usr/bin/python3",
	)
}

// pyenvGlobalVersion reads the version `pyenv global` set: the first name in $PYENV_ROOT/version,
// unless it is "system" (pyenv's word for the Python it did not install).
func pyenvGlobalVersion(pyenvRoot string) string {
	if pyenvRoot == "" {
		return ""
	}
	data, err := os.ReadFile(filepath.Join(pyenvRoot, "version"))
	if err != nil {
		return ""
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 || fields[0] == "system" || strings.ContainsRune(fields[0], os.PathSeparator) {
		return ""
	}
	return fields[0]
}
