package sandbox

import (
	"net"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// guardListener refuses peers in another PID namespace than the engine's (every sandbox but
// ModeLandlock has its own), or, in ModeLandlock, peers with no_new_privs set, as every
// sandboxed process has. File permissions already keep other uids out; this covers the modes
// where apps run as the engine's uid.
func (s *Sandbox) guardListener(l net.Listener) net.Listener {
	return &guardedListener{Listener: l, sandbox: s}
}

type guardedListener struct {
	net.Listener
	sandbox *Sandbox
}

func (g *guardedListener) Accept() (net.Conn, error) {
	for {
		conn, err := g.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if g.sandbox.fromSandbox(conn) {
			g.sandbox.log.Warn("refused an API connection from a sandboxed process")
			_ = conn.Close()
			continue
		}
		return conn, nil
	}
}

func (s *Sandbox) fromSandbox(conn net.Conn) bool {
	unixConn, ok := conn.(*net.UnixConn)
	if !ok {
		return false
	}
	raw, err := unixConn.SyscallConn()
	if err != nil {
		return true
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil || credErr != nil {
		return true
	}
	if int(cred.Pid) == os.Getpid() {
		return false
	}
	peer := "/proc/" + strconv.Itoa(int(cred.Pid))
	own, err1 := os.Readlink("/proc/self/ns/pid")
	theirs, err2 := os.Readlink(peer + "/ns/pid")
	if err1 != nil || err2 != nil || own != theirs {
		return true
	}
	if s.mode == ModeLandlock {
		status, err := os.ReadFile(peer + "/status")
		return err != nil || strings.Contains(string(status), "\nNoNewPrivs:\t1\n")
	}
	return false
}
