package sandbox

import (
	"fmt"
	"strings"
)

// macOS's sandbox: a profile in Apple's sandbox profile language (SBPL), applied by sandbox-exec
// to the command it then runs and to everything that command starts. This file only writes
// profiles and command lines, so that they are tested on every platform; sandbox_darwin.go
// runs them.

const (
	sandboxExecPath = "/usr/bin/sandbox-exec"
	shellPath       = "/bin/sh"
)

// seatbeltPolicy is what one sandbox may touch. Paths are as the kernel reports them: macOS
// links /tmp and /var into /private, and a profile naming the link matches nothing.
type seatbeltPolicy struct {
	dataDir   string   // the engine's: neither read nor written, but for what follows
	apiSocket string   // the engine's API: never connected to
	readOnly  []string // read: its deployment, the interpreter, the bootstrap
	writable  []string // read and written: its own directories
	noListen  bool     // no TCP or UDP port of its own: app instances serve through the engine
}

// privateTrees hold people's and other programs' files. Linux's Landlock lets a sandbox read the
// system directories only; on macOS the profile allows reading by default, which keeps the
// system's libraries and frameworks working without a list of them that only a Mac could check,
// and denies these instead.
var privateTrees = []string{
	"/Users",               // home directories: keys, credentials, documents
	"/Volumes",             // other disks
	"/private/var/folders", // per-user temporary and cache directories
	"/private/tmp",
	"/private/var/root", // root's home
}

// writableDevices can be written by every sandbox: the sinks shells redirect to.
var writableDevices = []string{"/dev/null", "/dev/zero"}

// profile is the SBPL text of the policy. In SBPL a later rule wins over an earlier one, so the
// denials come first and what the sandbox is given within them after.
func (p seatbeltPolicy) profile() (string, error) {
	var b strings.Builder
	var bad error
	// rule writes one rule over paths; it writes nothing for no paths, since a rule without a
	// filter would apply to everything.
	rule := func(action, filter string, paths []string) {
		var filters []string
		for _, path := range paths {
			if path == "" {
				continue
			}
			quoted, err := sbplString(path)
			if err != nil && bad == nil {
				bad = err
			}
			filters = append(filters, fmt.Sprintf("\n  (%s %s)", filter, quoted))
		}
		if len(filters) > 0 {
			fmt.Fprintf(&b, "(%s%s)\n", action, strings.Join(filters, ""))
		}
	}
	b.WriteString("(version 1)\n")
	b.WriteString("; A ferry sandbox. What no rule denies is allowed; a later rule wins over an earlier one.\n")
	b.WriteString("(allow default)\n")
	b.WriteString("; No reading people's files, other disks, temporary directories or the engine's data dir.\n")
	rule("deny file-read-data", "subpath", append(append([]string{}, privateTrees...), p.dataDir))
	b.WriteString("; No writing anywhere but below.\n")
	b.WriteString("(deny file-write*)\n")
	rule("allow file-write*", "literal", writableDevices)
	b.WriteString("; What this sandbox is given.\n")
	rule("allow file-read-data", "subpath", p.readOnly)
	rule("allow file-read-data file-write*", "subpath", p.writable)
	if p.apiSocket != "" {
		b.WriteString("; The engine's API.\n")
		quoted, err := sbplString(p.apiSocket)
		if err != nil && bad == nil {
			bad = err
		}
		fmt.Fprintf(&b, "(deny network-outbound\n  (remote unix-socket (path-literal %s)))\n", quoted)
	}
	b.WriteString("; Processes outside the sandbox: neither signaled nor inspected.\n")
	b.WriteString("(deny signal)\n(allow signal (target same-sandbox))\n")
	b.WriteString("(deny process-info*)\n(allow process-info* (target same-sandbox))\n")
	b.WriteString("; The user's clipboard.\n")
	b.WriteString("(deny mach-lookup (global-name \"com.apple.pasteboard.1\"))\n")
	if p.noListen {
		b.WriteString("; No ports of its own: app instances serve through the engine only.\n")
		b.WriteString("(deny network-bind (local ip \"*:*\"))\n")
	}
	if bad != nil {
		return "", bad
	}
	return b.String(), nil
}

// sbplString quotes s as an SBPL string literal.
func sbplString(s string) (string, error) {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("the path %q holds a control character, which a sandbox profile cannot name: use a path without one", s)
		}
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`, nil
}

// seatbeltCommand is the command line that runs path with args under profile, with the rlimits
// of l. macOS has no prlimit, and Go cannot run code in the child between fork and exec, so a
// shell inside the sandbox sets them and then execs the command, keeping its pid (the process
// group leader) and its environment.
func seatbeltCommand(profile string, l Limits, path string, args []string) []string {
	script := ulimitScript(l) + `exec "$0" "$@"`
	return append([]string{sandboxExecPath, "-p", profile, shellPath, "-c", script, path}, args...)
}

// ulimitScript sets the rlimits macOS can enforce: no core dumps, open files and file size (in
// the 512-byte blocks POSIX gives ulimit -f). Two it cannot: RLIMIT_NPROC counts every process
// of the user (a desktop session has hundreds), and macOS refuses to lower RLIMIT_AS.
func ulimitScript(l Limits) string {
	script := "ulimit -c 0 && "
	if l.OpenFiles > 0 {
		script += fmt.Sprintf("ulimit -n %d && ", l.OpenFiles)
	}
	if l.FileMB > 0 {
		script += fmt.Sprintf("ulimit -f %d && ", l.FileMB<<20/512)
	}
	return script
}
