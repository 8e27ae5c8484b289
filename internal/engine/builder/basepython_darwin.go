package builder

import "os"

// PythonCandidates are where DefaultPython looks, in order.
func PythonCandidates() []string {
	home, _ := os.UserHomeDir() // without a home, pyenv's Python is not looked for
	return macOSPythons(home, os.Getenv("PYENV_ROOT"))
}
