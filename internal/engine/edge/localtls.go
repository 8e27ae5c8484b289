package edge

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Apps written for Vercel build URLs as "https://" + $VERCEL_URL. Where the edge serves on a
// port of its own (127.0.0.1:3080), the URL variables carry that port, and the port answers
// TLS as well as plain HTTP: a connection that opens with a TLS handshake gets a certificate
// for its server name from a local certificate authority the engine keeps in its data dir,
// as Caddy's internal issuer does for localhost. Trust the authority's certificate (CACertName)
// to reach apps over https without a warning.

// Files of the local certificate authority.
const (
	CACertName = "ca.pem"
	caKeyName  = "ca.key"
)

const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 90 * 24 * time.Hour
	leafRenewal  = 30 * 24 * time.Hour // a cached certificate this close to its end is issued anew
	sniffTimeout = 10 * time.Second    // for a connection's first byte
	tlsHandshake = 0x16                // the first byte of every TLS connection (a handshake record)
)

// LocalCA issues certificates for the hostnames the edge serves.
type LocalCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey

	mu    sync.Mutex
	leafs map[string]*tls.Certificate
}

// LoadOrCreateCA loads the authority kept in dir, creating it on first use.
func LoadOrCreateCA(dir string) (*LocalCA, error) {
	certPath, keyPath := filepath.Join(dir, CACertName), filepath.Join(dir, caKeyName)
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	if errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist) {
		return createCA(dir, certPath, keyPath)
	}
	if err := errors.Join(certErr, keyErr); err != nil {
		return nil, fmt.Errorf("read the local certificate authority in %s (remove both %s and %s to make a new one): %w", dir, CACertName, caKeyName, err)
	}
	certBlock, _ := pem.Decode(certPEM)
	keyBlock, _ := pem.Decode(keyPEM)
	if certBlock == nil || keyBlock == nil {
		return nil, fmt.Errorf("the local certificate authority in %s is not PEM: remove %s and %s to make a new one", dir, CACertName, caKeyName)
	}
	cert, err := x509.ParseCertificate(certBlock.Bytes)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", certPath, err)
	}
	key, err := x509.ParseECPrivateKey(keyBlock.Bytes)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", keyPath, err)
	}
	return &LocalCA{cert: cert, key: key, leafs: map[string]*tls.Certificate{}}, nil
}

func createCA(dir, certPath, keyPath string) (*LocalCA, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	now := time.Now()
	cert, key, err := issue(&x509.Certificate{
		Subject:               pkix.Name{Organization: []string{"ferry"}, CommonName: "ferry local authority " + now.UTC().Format("2006-01-02")},
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}, nil, nil)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	// The key first: a certificate without its key is never left behind.
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644); err != nil {
		return nil, err
	}
	return &LocalCA{cert: cert, key: key, leafs: map[string]*tls.Certificate{}}, nil
}

// issue makes a new key and a certificate of template for it, signed by parent's key, or by
// itself when parent is nil. It fills in the serial number and the start of validity.
func issue(template, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	if template.SerialNumber, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127)); err != nil {
		return nil, nil, err
	}
	template.NotBefore = time.Now().Add(-time.Hour) // for clocks a little behind
	if parent == nil {
		parent, parentKey = template, key
	}
	der, err := x509.CreateCertificate(rand.Reader, template, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

// Pool is a certificate pool that trusts the authority, for clients.
func (ca *LocalCA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return pool
}

// certificate returns a certificate for host, issued once and cached until near its end.
func (ca *LocalCA) certificate(host string) (*tls.Certificate, error) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if leaf, ok := ca.leafs[host]; ok && time.Until(leaf.Leaf.NotAfter) > leafRenewal {
		return leaf, nil
	}
	leaf, key, err := issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: host},
		DNSNames:    []string{host},
		NotAfter:    time.Now().Add(leafValidity),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca.cert, ca.key)
	if err != nil {
		return nil, err
	}
	cert := &tls.Certificate{Certificate: [][]byte{leaf.Raw, ca.cert.Raw}, PrivateKey: key, Leaf: leaf}
	ca.leafs[host] = cert
	return cert, nil
}

// ServeTLSToo returns a listener whose connections that open with a TLS handshake are served
// with TLS, certificates from ca, and only for hostnames the router serves; the others are
// plain HTTP as before.
func (r *Router) ServeTLSToo(l net.Listener, ca *LocalCA) net.Listener {
	config := &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			host := strings.TrimSuffix(strings.ToLower(hello.ServerName), ".")
			if _, routed := r.table.Load().routes[host]; !routed {
				return nil, fmt.Errorf("no certificate for %q: it is not a deployment or domain of this engine", hello.ServerName)
			}
			return ca.certificate(host)
		},
	}
	s := &sniffingListener{Listener: l, config: config, conns: make(chan net.Conn), done: make(chan struct{}), acceptErr: make(chan error, 1)}
	go s.acceptLoop()
	return s
}

// sniffingListener tells TLS from plain HTTP by a connection's first byte, read in a goroutine
// of its own so that a slow client holds up no other.
type sniffingListener struct {
	net.Listener
	config    *tls.Config
	conns     chan net.Conn
	acceptErr chan error
	done      chan struct{}
	closeOnce sync.Once
}

func (s *sniffingListener) acceptLoop() {
	for {
		conn, err := s.Listener.Accept()
		if err != nil {
			var temporary interface{ Temporary() bool }
			if errors.As(err, &temporary) && temporary.Temporary() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			s.acceptErr <- err
			return
		}
		go s.sniff(conn)
	}
}

func (s *sniffingListener) sniff(conn net.Conn) {
	_ = conn.SetReadDeadline(time.Now().Add(sniffTimeout))
	reader := bufio.NewReader(conn)
	first, err := reader.Peek(1)
	_ = conn.SetReadDeadline(time.Time{})
	if err != nil {
		_ = conn.Close() // it sent nothing: nothing to answer
		return
	}
	var served net.Conn = &peekedConn{Conn: conn, reader: reader}
	if first[0] == tlsHandshake {
		served = tls.Server(served, s.config)
	}
	select {
	case s.conns <- served:
	case <-s.done:
		_ = conn.Close()
	}
}

func (s *sniffingListener) Accept() (net.Conn, error) {
	select {
	case conn := <-s.conns:
		return conn, nil
	case err := <-s.acceptErr:
		s.acceptErr <- err // every later Accept fails the same way
		return nil, err
	case <-s.done:
		return nil, net.ErrClosed
	}
}

func (s *sniffingListener) Close() error {
	s.closeOnce.Do(func() { close(s.done) })
	return s.Listener.Close()
}

// peekedConn is a connection whose first bytes were read ahead into reader.
type peekedConn struct {
	net.Conn
	reader *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.reader.Read(p) }
