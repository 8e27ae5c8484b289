package edge

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/workers"
)

// Headers that say who the client is. A client may send any of them, so the
// edge sets them itself; it keeps what came in only from a trusted proxy.
var forwardedHeaders = []string{
	"Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port", "X-Real-Ip",
}

// ParseTrustedProxies reads a comma-separated list of addresses and CIDR
// prefixes, such as "10.0.0.0/8, 192.168.1.7".
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if prefix, err := netip.ParsePrefix(item); err == nil {
			out = append(out, prefix.Masked())
			continue
		}
		addr, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR prefix (such as 10.0.0.0/8)", item)
		}
		out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
	}
	return out, nil
}

func (r *Router) trusted(addr netip.Addr) bool {
	for _, p := range r.cfg.TrustedProxies {
		if p.Contains(addr.Unmap()) {
			return true
		}
	}
	return false
}

// setForwarded replaces the client's forwarded headers with the edge's: the
// client's address, scheme and host, and the names apps written for Vercel
// read. Behind a trusted proxy, the proxy's X-Forwarded-* are kept and the
// client is the nearest address in X-Forwarded-For that is not a trusted one.
func (r *Router) setForwarded(req *http.Request, requestID, deploymentHost string) {
	chain, fromProxy := r.forwardedChain(req)
	proto, host := r.scheme(req), req.Host
	if fromProxy {
		if h := req.Header.Get("X-Forwarded-Host"); h != "" {
			host = h
		}
	}
	for _, name := range forwardedHeaders {
		req.Header.Del(name)
	}
	for name := range req.Header {
		if strings.HasPrefix(name, "X-Vercel-") {
			req.Header.Del(name)
		}
	}
	client := r.clientOf(chain)
	req.Header.Set("X-Forwarded-For", chain)
	req.Header.Set("X-Forwarded-Proto", proto)
	req.Header.Set("X-Forwarded-Host", host)
	req.Header.Set("X-Real-Ip", client)
	req.Header.Set("X-Vercel-Forwarded-For", client)
	req.Header.Set("X-Vercel-Id", requestID)
	req.Header.Set("X-Vercel-Deployment-Url", deploymentHost)
	req.Header.Set(workers.RequestIDHeader, requestID)
}

// forwardedChain is the X-Forwarded-For chain of req as the edge passes it on: a trusted
// proxy's chain, then the peer's address.
func (r *Router) forwardedChain(req *http.Request) (chain string, fromProxy bool) {
	peer := peerAddr(req.RemoteAddr)
	fromProxy = peer.IsValid() && r.trusted(peer)
	if fromProxy {
		chain = strings.Join(req.Header.Values("X-Forwarded-For"), ", ")
	}
	if peer.IsValid() {
		if chain != "" {
			chain += ", "
		}
		chain += peer.Unmap().String()
	}
	return chain, fromProxy
}

// clientAddress is the address of the client that sent req (see clientOf).
func (r *Router) clientAddress(req *http.Request) string {
	chain, _ := r.forwardedChain(req)
	return r.clientOf(chain)
}

// scheme is how the client reached the edge: what a trusted proxy in front
// says, else https when TLS ended here.
func (r *Router) scheme(req *http.Request) string {
	if peer := peerAddr(req.RemoteAddr); peer.IsValid() && r.trusted(peer) {
		if p := req.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
			return p
		}
	}
	if req.TLS != nil {
		return "https"
	}
	return "http"
}

// clientOf is the rightmost address of an X-Forwarded-For chain that is not
// a trusted proxy: addresses left of it were written by the client itself.
func (r *Router) clientOf(chain string) string {
	hops := strings.Split(chain, ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		addr, err := netip.ParseAddr(hop)
		if err != nil || !r.trusted(addr) || i == 0 {
			return hop
		}
	}
	return ""
}

func peerAddr(remoteAddr string) netip.Addr {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	addr, _ := netip.ParseAddr(host)
	return addr
}
