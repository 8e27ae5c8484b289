package cli

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// parseAddresses reads a comma-separated list of IP addresses.
func parseAddresses(list string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, item := range strings.Split(list, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		addr, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address, such as 203.0.113.7 or 2001:db8::7", item)
		}
		out = append(out, addr.Unmap())
	}
	return out, nil
}

// parseResolvers reads a comma-separated list of DNS servers, HOST[:PORT];
// the port is 53 unless given.
func parseResolvers(list string) ([]string, error) {
	var out []string
	for _, item := range strings.Split(list, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		if addr, err := netip.ParseAddr(strings.Trim(item, "[]")); err == nil {
			out = append(out, net.JoinHostPort(addr.String(), "53"))
			continue
		}
		host, port, err := net.SplitHostPort(item)
		if err != nil || host == "" {
			return nil, fmt.Errorf("%q is not a DNS server address such as 1.1.1.1 or 127.0.0.1:5353", item)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%q has no valid port", item)
		}
		out = append(out, item)
	}
	return out, nil
}
