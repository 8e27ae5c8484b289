package freeport

import (
	"net"
	"strconv"
	"testing"
)

func TestFindGivesDistinctListenablePortsOutsideTheEphemeralRange(t *testing.T) {
	addresses, err := Find("127.0.0.1", 5)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, address := range addresses {
		if seen[address] {
			t.Errorf("%s given twice", address)
		}
		seen[address] = true
		_, port, _ := net.SplitHostPort(address)
		if n, _ := strconv.Atoi(port); n < lowest || n >= highest {
			t.Errorf("%s: port outside %d..%d", address, lowest, highest)
		}
		l, err := net.Listen("tcp", address)
		if err != nil {
			t.Fatalf("listen on a port found free: %v", err)
		}
		_ = l.Close()
	}
}

func TestFindFailsClearlyWhenNothingIsFree(t *testing.T) {
	// 192.0.2.1 (TEST-NET-1) is no address of this machine: no port of it can be listened on.
	if _, err := Find("192.0.2.1", 1); err == nil {
		t.Fatal("Find on a foreign address succeeded")
	}
}
