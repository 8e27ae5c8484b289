package engine

import (
	"net"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Handing a listener over leaves it non-blocking: in blocking mode its accept, woken for a
// connection the other engine took first, would wait in the kernel, and closing it would hang.
func TestSendingAListenerKeepsItNonBlocking(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	tcp, ok := l.(*net.TCPListener)
	if !ok {
		t.Fatalf("a %T, not a TCP listener", l)
	}
	copied, err := tcp.File()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = copied.Close() }()
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	ends := make([]*net.UnixConn, 2)
	for i, fd := range pair {
		f := os.NewFile(uintptr(fd), "handover")
		c, err := net.FileConn(f)
		_ = f.Close()
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		unixConn, ok := c.(*net.UnixConn)
		if !ok {
			t.Fatalf("a %T, not a unix connection", c)
		}
		ends[i] = unixConn
	}
	if err := (handoverConn{ends[0]}).send(map[string]string{"step": "state"}, copied); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	received, err := (handoverConn{ends[1]}).receive(&got)
	closeAll(received)
	if err != nil || len(received) != 1 {
		t.Fatalf("received %d files, %v", len(received), err)
	}
	raw, err := tcp.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags int
	var flagsErr error
	if err := raw.Control(func(fd uintptr) { flags, flagsErr = unix.FcntlInt(fd, syscall.F_GETFL, 0) }); err != nil || flagsErr != nil {
		t.Fatal(err, flagsErr)
	}
	if flags&unix.O_NONBLOCK == 0 {
		t.Error("the listener is in blocking mode after it was sent")
	}
}
