package builder

// PythonCandidates are where DefaultPython looks: Debian's and Ubuntu's interpreter, which sees
// the system's packages.
func PythonCandidates() []string {
	return []string{"/usr/bin/python3"}
}
