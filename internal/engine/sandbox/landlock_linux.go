package sandbox

import (
	"errors"
	"fmt"
	"os"

	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// landlockSupport is what the kernel's Landlock can enforce.
type landlockSupport struct {
	abi        int
	handledFS  uint64
	handledNet uint64
	scoped     uint64
}

func probeLandlock() (landlockSupport, error) {
	abi, err := ll.LandlockGetABIVersion()
	if err != nil || abi < 1 {
		return landlockSupport{}, errors.New("the kernel has no Landlock (Linux 5.13 or later with CONFIG_SECURITY_LANDLOCK and landlock in the lsm= boot list): the engine refuses to run untrusted apps without it")
	}
	l := landlockSupport{abi: abi}
	l.handledFS = ll.AccessFSExecute | ll.AccessFSWriteFile | ll.AccessFSReadFile | ll.AccessFSReadDir |
		ll.AccessFSRemoveDir | ll.AccessFSRemoveFile | ll.AccessFSMakeChar | ll.AccessFSMakeDir |
		ll.AccessFSMakeReg | ll.AccessFSMakeSock | ll.AccessFSMakeFifo | ll.AccessFSMakeBlock | ll.AccessFSMakeSym
	if abi >= 2 {
		l.handledFS |= ll.AccessFSRefer
	}
	if abi >= 3 {
		l.handledFS |= ll.AccessFSTruncate
	}
	if abi >= 5 {
		l.handledFS |= ll.AccessFSIoctlDev
	}
	if abi >= 4 {
		l.handledNet = ll.AccessNetBindTCP
	}
	if abi >= 6 {
		l.scoped = ll.ScopeAbstractUnixSocket | ll.ScopeSignal
	}
	return l, nil
}

// Access rights of rules; those the kernel does not handle are masked off when rules are added.
const (
	readOnlyAccess = ll.AccessFSExecute | ll.AccessFSReadFile | ll.AccessFSReadDir
	deviceAccess   = ll.AccessFSReadFile | ll.AccessFSWriteFile | ll.AccessFSTruncate | ll.AccessFSIoctlDev
	fileAccessMask = ll.AccessFSExecute | ll.AccessFSReadFile | ll.AccessFSWriteFile | ll.AccessFSTruncate | ll.AccessFSIoctlDev
)

// systemReadOnly is what every sandboxed process reads: programs, libraries, configuration,
// and the CPU topology that os.cpu_count() reads. /proc is not among them: with it, a process
// could read other processes' environment.
var systemReadOnly = []string{
	"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt",
	"/sys/devices/system/cpu", "/dev/random", "/dev/urandom",
	"/run/systemd/resolve", // /etc/resolv.conf often points here
}

// systemDevices can be written: the null sinks every shell redirects to.
var systemDevices = []string{"/dev/null", "/dev/zero", "/dev/full"}

// restrictThread makes the calling thread's Landlock domain the sandbox of spec. It cannot be undone:
// the caller's thread must be locked and must die with its goroutine.
func (l landlockSupport) restrictThread(spec Spec) error {
	attr := ll.RulesetAttr{HandledAccessFS: l.handledFS, Scoped: l.scoped}
	if spec.NoListen {
		attr.HandledAccessNet = l.handledNet
	}
	ruleset, err := ll.LandlockCreateRuleset(&attr, 0)
	if err != nil {
		return fmt.Errorf("create the Landlock ruleset: %w", err)
	}
	defer func() { _ = unix.Close(ruleset) }() // only read by the kernel; restrict_self has taken it in
	add := func(path string, access uint64, required bool) error {
		fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			if !required && errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return fmt.Errorf("sandbox path %s: %w", path, err)
		}
		defer func() { _ = unix.Close(fd) }() // an O_PATH descriptor
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return fmt.Errorf("sandbox path %s: %w", path, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			access &= fileAccessMask
		}
		rule := ll.PathBeneathAttr{AllowedAccess: access & l.handledFS, ParentFd: fd}
		if err := ll.LandlockAddPathBeneathRule(ruleset, &rule, 0); err != nil {
			return fmt.Errorf("allow %s in the sandbox: %w", path, err)
		}
		return nil
	}
	for _, path := range systemReadOnly {
		if err := add(path, readOnlyAccess, false); err != nil {
			return err
		}
	}
	for _, path := range systemDevices {
		if err := add(path, deviceAccess, false); err != nil {
			return err
		}
	}
	for _, path := range append(spec.ExtraPaths, spec.ReadOnly...) {
		if err := add(path, readOnlyAccess, true); err != nil {
			return err
		}
	}
	for _, path := range spec.Writable {
		if err := add(path, l.handledFS, true); err != nil {
			return err
		}
	}
	// The domain must hold for the command even when it execs a set-uid program.
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	if err := ll.LandlockRestrictSelf(ruleset, 0); err != nil {
		return fmt.Errorf("enter the Landlock domain: %w", err)
	}
	return nil
}
