// Package dnstest is a DNS server for tests: it answers from records the
// test sets, on a UDP port of 127.0.0.1, so that domain verification and an
// ACME server's validation run offline against names the test controls.
package dnstest

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Server answers queries from its records, as a recursive resolver would:
// a query for an address of a name that is a CNAME gets the CNAME and the
// target's addresses; a name without records of its own matches a wildcard
// (*.parent) record.
type Server struct {
	addr    string
	mu      sync.Mutex
	records map[string][]dns.RR // by fully qualified, lowercase name
}

// Start starts a server on one port of 127.0.0.1, over UDP and TCP (which
// some resolvers use), stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	udp, tcp := listenBoth(t)
	s := &Server{addr: udp.LocalAddr().String(), records: map[string][]dns.RR{}}
	for _, srv := range []*dns.Server{
		{PacketConn: udp, Handler: dns.HandlerFunc(s.answer)},
		{Listener: tcp, Handler: dns.HandlerFunc(s.answer)},
	} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		served := make(chan error, 1)
		go func() { served <- srv.ActivateAndServe() }()
		select {
		case <-started:
		case err := <-served:
			t.Fatalf("DNS server: %v", err)
		}
		t.Cleanup(func() {
			if err := srv.Shutdown(); err != nil {
				t.Errorf("stopping the DNS server: %v", err)
			}
			if err := <-served; err != nil {
				t.Errorf("DNS server: %v", err)
			}
		})
	}
	return s
}

// listenBoth finds a port of 127.0.0.1 free for both UDP and TCP.
func listenBoth(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	var lastErr error
	for range 20 {
		udp, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		tcp, err := net.Listen("tcp", udp.LocalAddr().String())
		if err == nil {
			return udp, tcp
		}
		lastErr = err
		_ = udp.Close() // the port is taken over TCP: try another
	}
	t.Fatalf("no port free for DNS over both UDP and TCP: %v", lastErr)
	return nil, nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

// Set replaces the records of one type of a name with values, such as
// Set("www.example.com", "CNAME", "example.com") or Set("example.com", "A",
// "127.0.0.1"); no values removes them.
func (s *Server) Set(name, rrType string, values ...string) {
	fqdn := dns.Fqdn(strings.ToLower(name))
	var rrs []dns.RR
	for _, v := range values {
		switch rrType {
		case "TXT":
			v = fmt.Sprintf("%q", v)
		case "CNAME":
			v = dns.Fqdn(v)
		}
		rr, err := dns.NewRR(fmt.Sprintf("%s 60 IN %s %s", fqdn, rrType, v))
		if err != nil {
			panic(fmt.Sprintf("dnstest: record %s %s %s: %v", name, rrType, v, err))
		}
		rrs = append(rrs, rr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := rrs
	for _, rr := range s.records[fqdn] {
		if dns.TypeToString[rr.Header().Rrtype] != rrType {
			kept = append(kept, rr)
		}
	}
	s.records[fqdn] = kept
}

func (s *Server) answer(w dns.ResponseWriter, query *dns.Msg) {
	reply := new(dns.Msg)
	reply.SetReply(query)
	reply.RecursionAvailable = true
	if len(query.Question) == 1 {
		q := query.Question[0]
		s.mu.Lock()
		answers, exists := s.lookup(strings.ToLower(q.Name), q.Qtype, 8)
		s.mu.Unlock()
		reply.Answer = answers
		if !exists {
			reply.Rcode = dns.RcodeNameError
		}
	}
	_ = w.WriteMsg(reply) // a client gone is its own problem
}

// lookup finds the records of qtype at name, following CNAMEs for at most
// depth steps, and says whether the name exists at all.
func (s *Server) lookup(name string, qtype uint16, depth int) ([]dns.RR, bool) {
	rrs := s.records[name]
	if len(rrs) == 0 {
		if _, parent, ok := strings.Cut(name, "."); ok {
			rrs = s.records["*."+parent]
		}
	}
	var out []dns.RR
	for _, rr := range rrs {
		rr = dns.Copy(rr)
		rr.Header().Name = name // a wildcard answers in the name asked
		cname, isCNAME := rr.(*dns.CNAME)
		switch {
		case rr.Header().Rrtype == qtype:
			out = append(out, rr)
		case isCNAME && depth > 0:
			more, _ := s.lookup(cname.Target, qtype, depth-1)
			out = append(append(out, rr), more...)
		}
	}
	return out, len(rrs) > 0
}
