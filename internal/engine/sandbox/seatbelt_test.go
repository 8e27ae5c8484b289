package sandbox

import (
	"os/exec"
	"strings"
	"testing"
)

// No Mac runs these tests: they pin the profile text that macOS's sandbox-exec is given.

const (
	macDataDir = "/Users/dev/.local/share/ferry"
	macSocket  = macDataDir + "/engine.sock"
	macDeploy  = macDataDir + "/deployments/dpl_1"
	macPython  = "/opt/homebrew/Cellar/python@3.12/3.12.4/Frameworks/Python.framework/Versions/3.12"
)

func TestSeatbeltProfileOfAnAppInstance(t *testing.T) {
	policy := seatbeltPolicy{
		dataDir:   macDataDir,
		apiSocket: macSocket,
		readOnly:  []string{macDeploy, macDataDir + "/run/ferry-bootstrap-0a1b2c.py", macPython},
		writable:  []string{macDataDir + "/run/5f3e-1"},
		noListen:  true,
	}
	got, err := policy.profile()
	if err != nil {
		t.Fatal(err)
	}
	want := `(version 1)
; A ferry sandbox. What no rule denies is allowed; a later rule wins over an earlier one.
(allow default)
; No reading people's files, other disks, temporary directories or the engine's data dir.
(deny file-read-data
  (subpath "/Users")
  (subpath "/Volumes")
  (subpath "/private/var/folders")
  (subpath "/private/tmp")
  (subpath "/private/var/root")
  (subpath "/Users/dev/.local/share/ferry"))
; No writing anywhere but below.
(deny file-write*)
(allow file-write*
  (literal "/dev/null")
  (literal "/dev/zero"))
; What this sandbox is given.
(allow file-read-data
  (subpath "/Users/dev/.local/share/ferry/deployments/dpl_1")
  (subpath "/Users/dev/.local/share/ferry/run/ferry-bootstrap-0a1b2c.py")
  (subpath "/opt/homebrew/Cellar/python@3.12/3.12.4/Frameworks/Python.framework/Versions/3.12"))
(allow file-read-data file-write*
  (subpath "/Users/dev/.local/share/ferry/run/5f3e-1"))
; The engine's API.
(deny network-outbound
  (remote unix-socket (path-literal "/Users/dev/.local/share/ferry/engine.sock")))
; Processes outside the sandbox: neither signaled nor inspected.
(deny signal)
(allow signal (target same-sandbox))
(deny process-info*)
(allow process-info* (target same-sandbox))
; The user's clipboard.
(deny mach-lookup (global-name "com.apple.pasteboard.1"))
; No ports of its own: app instances serve through the engine only.
(deny network-bind (local ip "*:*"))
`
	if got != want {
		t.Errorf("profile:\n%s\nwant:\n%s", got, want)
	}
	assertBalanced(t, got)
}

func TestSeatbeltProfileOfABuild(t *testing.T) {
	src, venv, home := macDeploy+"/src", macDeploy+"/venv", macDataDir+"/tmp/build-dpl_1"
	got, err := seatbeltPolicy{dataDir: macDataDir, apiSocket: macSocket, readOnly: []string{macPython}, writable: []string{src, venv, home}}.profile()
	if err != nil {
		t.Fatal(err)
	}
	wantGiven := `(allow file-read-data
  (subpath "` + macPython + `"))
(allow file-read-data file-write*
  (subpath "` + src + `")
  (subpath "` + venv + `")
  (subpath "` + home + `"))
`
	if !strings.Contains(got, wantGiven) {
		t.Errorf("the build is not given its source, environment and home:\n%s", got)
	}
	// A build may listen (a test server in build_command); only app instances may not.
	if strings.Contains(got, "network-bind") {
		t.Errorf("a build's profile denies listening:\n%s", got)
	}
	// Later rules win: what the build is given must come after the denial of the data dir
	// that holds it, and the socket's denial after anything that could allow it.
	denyData := strings.Index(got, `(subpath "`+macDataDir+`"))`)
	allowSrc := strings.Index(got, `(subpath "`+src+`")`)
	denySocket := strings.Index(got, `(path-literal "`+macSocket+`")`)
	if denyData < 0 || allowSrc < denyData || denySocket < allowSrc {
		t.Errorf("rules out of order (data dir denied at %d, source allowed at %d, socket denied at %d):\n%s", denyData, allowSrc, denySocket, got)
	}
	assertBalanced(t, got)
}

func TestSeatbeltProfileWithNothingGivenAllowsNothingMore(t *testing.T) {
	got, err := seatbeltPolicy{dataDir: macDataDir}.profile()
	if err != nil {
		t.Fatal(err)
	}
	// A rule without a filter applies to every path: one for empty lists would undo the denials.
	for _, unfiltered := range []string{"(allow file-read-data)", "(allow file-read-data file-write*)", "(allow file-read-data\n)"} {
		if strings.Contains(got, unfiltered) {
			t.Errorf("profile has %q:\n%s", unfiltered, got)
		}
	}
	if strings.Count(got, "(allow file-") != 1 { // the null devices only
		t.Errorf("profile allows files beyond the null devices:\n%s", got)
	}
	if strings.Contains(got, "unix-socket") || strings.Contains(got, `""`) {
		t.Errorf("profile names an empty socket or path:\n%s", got)
	}
}

func TestSeatbeltProfileQuotesPaths(t *testing.T) {
	got, err := seatbeltPolicy{dataDir: macDataDir, writable: []string{`/Users/dev/My "apps"\ferry`}}.profile()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, `(subpath "/Users/dev/My \"apps\"\\ferry")`) {
		t.Errorf("path not quoted:\n%s", got)
	}
	assertBalanced(t, got)
	if _, err := (seatbeltPolicy{dataDir: macDataDir, readOnly: []string{"/Users/dev/a\nb"}}).profile(); err == nil {
		t.Error("a path with a newline made a profile")
	}
}

// assertBalanced checks that every parenthesis outside strings and comments is closed, as
// sandbox-exec's parser requires.
func assertBalanced(t *testing.T, profile string) {
	t.Helper()
	depth, inString, inComment := 0, false, false
	for i := 0; i < len(profile); i++ {
		switch c := profile[i]; {
		case inComment:
			inComment = c != '\n'
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == ';':
			inComment = true
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth < 0 {
				t.Fatalf("unbalanced ')' at byte %d:\n%s", i, profile)
			}
		}
	}
	if depth != 0 || inString {
		t.Fatalf("profile ends inside a form or string (depth %d):\n%s", depth, profile)
	}
}

// The command line's shell part runs here as on a Mac (sandbox-exec aside): it must set the
// limits and then run the command with its arguments intact.
func TestSeatbeltCommandSetsLimitsAndKeepsArguments(t *testing.T) {
	args := seatbeltCommand("(version 1)", Limits{OpenFiles: 321, FileMB: 3, MemoryMB: 64, Processes: 8},
		"/bin/sh", []string{"-c", `ulimit -n; ulimit -f; ulimit -c; printf '[%s]' "$@"`, "arg0", "two words", `a "quoted" \ one`})
	if args[0] != sandboxExecPath || args[1] != "-p" || args[2] != "(version 1)" {
		t.Fatalf("not run by sandbox-exec with the profile: %q", args[:3])
	}
	out, err := exec.Command(args[3], args[4:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := "321\n6144\n0\n[two words][a \"quoted\" \\ one]"
	if string(out) != want {
		t.Errorf("output %q, want %q (open files, file size in 512-byte blocks, core size, arguments)", out, want)
	}
}
