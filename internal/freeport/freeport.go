// Package freeport finds TCP ports that tests can listen on.
//
// A port the kernel hands out for "port 0" comes from its ephemeral range
// (32768-60999 on Linux, 49152-65535 on macOS), the range every outgoing
// connection's local port comes from too: on a busy machine, a port found
// free that way is often taken by a client connection before the test
// listens on it ("address already in use"). The ports here are drawn at
// random below both ranges, where only listeners that chose them live.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"testing"
)

// lowest and highest bound the ports drawn: above the registered services
// tests meet (PostgreSQL's 5432, the pooler's 6543, 8080...) and below the
// ephemeral ranges.
const (
	lowest  = 20000
	highest = 32000
)

// Find returns n distinct host:port addresses free now on host.
func Find(host string, n int) ([]string, error) {
	addresses := make([]string, 0, n)
	var held []net.Listener
	defer func() {
		for _, l := range held {
			_ = l.Close() // held until all are found, so that they differ
		}
	}()
	for attempt := 0; len(addresses) < n; attempt++ {
		if attempt == 200 {
			return nil, fmt.Errorf("found only %d free ports of %s between %d and %d in %d tries", len(addresses), host, lowest, highest, attempt)
		}
		address := net.JoinHostPort(host, strconv.Itoa(lowest+rand.IntN(highest-lowest)))
		l, err := net.Listen("tcp", address)
		if err != nil {
			continue
		}
		held = append(held, l)
		addresses = append(addresses, address)
	}
	return addresses, nil
}

// Loopback returns a host:port address free now on 127.0.0.1.
func Loopback(t testing.TB) string {
	t.Helper()
	addresses, err := Find("127.0.0.1", 1)
	if err != nil {
		t.Fatal(err)
	}
	return addresses[0]
}
