package certs

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
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
	"time"

	"github.com/caddyserver/certmagic"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// Files of a local CA's directory.
const (
	RootCertName = "root.crt"
	rootKeyName  = "root.key"
)

// DefaultLeafValidity is how long a certificate of the local CA is valid;
// it is renewed when a third of that is left.
const DefaultLeafValidity = 7 * 24 * time.Hour

const rootValidity = 10 * 365 * 24 * time.Hour

// localIssuerKey names the local CA's certificates in storage.
const localIssuerKey = "ferry-local-ca"

// privateRanges are the addresses the local CA may certify, besides names:
// loopback, private and link-local networks, where no public CA reaches.
var privateRanges = []string{"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "::1/128", "fc00::/7", "fe80::/10"}

// LocalCA is ferry's own certificate authority, for names no public CA
// certifies (.localhost, .test, .internal, private addresses). Its root is
// name-constrained to those, so that trusting it in a browser cannot let
// anyone holding its key impersonate a public site.
type LocalCA struct {
	root    *x509.Certificate
	rootPEM []byte
	key     crypto.Signer
	// LeafValidity is how long the certificates it issues are valid.
	LeafValidity time.Duration
}

var _ certmagic.Issuer = (*LocalCA)(nil)

// OpenLocalCA loads the CA kept in dir, creating it on first use. The
// directory is the engine's alone (0700), the root key 0600.
func OpenLocalCA(dir string) (*LocalCA, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, err
	}
	certPEM, err := os.ReadFile(filepath.Join(dir, RootCertName))
	if errors.Is(err, fs.ErrNotExist) {
		return createLocalCA(dir)
	}
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, rootKeyName))
	if err != nil {
		return nil, fmt.Errorf("the local CA's certificate is in %s but its key cannot be read: %w", dir, err)
	}
	root, err := parseCertificatePEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("local CA certificate %s: %w", filepath.Join(dir, RootCertName), err)
	}
	key, err := certmagic.PEMDecodePrivateKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("local CA key %s: %w", filepath.Join(dir, rootKeyName), err)
	}
	return &LocalCA{root: root, rootPEM: certPEM, key: key, LeafValidity: DefaultLeafValidity}, nil
}

func createLocalCA(dir string) (*LocalCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	var ranges []*net.IPNet
	for _, cidr := range privateRanges {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			return nil, err
		}
		ranges = append(ranges, n)
	}
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber:                randomSerial(),
		Subject:                     pkix.Name{CommonName: "ferry local CA " + now.UTC().Format("2006-01-02 15:04:05"), Organization: []string{"ferry"}},
		NotBefore:                   now.Add(-time.Hour),
		NotAfter:                    now.Add(rootValidity),
		IsCA:                        true,
		BasicConstraintsValid:       true,
		MaxPathLenZero:              true,
		KeyUsage:                    x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         api.LocalOnlySuffixes,
		PermittedIPRanges:           ranges,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.Public(), key)
	if err != nil {
		return nil, err
	}
	root, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyPEM, err := certmagic.PEMEncodePrivateKey(key)
	if err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	// The key first: the certificate's presence is what marks the CA as made.
	if err := writeFile(filepath.Join(dir, rootKeyName), keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(dir, RootCertName), certPEM, 0o644); err != nil {
		return nil, err
	}
	return &LocalCA{root: root, rootPEM: certPEM, key: key, LeafValidity: DefaultLeafValidity}, nil
}

// RootPEM is the CA's certificate, for clients to trust.
func (ca *LocalCA) RootPEM() []byte { return ca.rootPEM }

// Root is the CA's certificate.
func (ca *LocalCA) Root() *x509.Certificate { return ca.root }

// IssuerKey implements certmagic.Issuer.
func (ca *LocalCA) IssuerKey() string { return localIssuerKey }

// Issue implements certmagic.Issuer: it signs a server certificate for the
// names of csr, which must all be names only a local CA certifies.
func (ca *LocalCA) Issue(_ context.Context, csr *x509.CertificateRequest) (*certmagic.IssuedCertificate, error) {
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("the certificate request's signature: %w", err)
	}
	for _, name := range csr.DNSNames {
		if !api.LocalOnly(name) {
			return nil, fmt.Errorf("the local CA certifies only names no public CA does (%v), not %s", api.LocalOnlySuffixes, name)
		}
	}
	now := time.Now()
	notAfter := now.Add(ca.LeafValidity)
	if notAfter.After(ca.root.NotAfter) {
		notAfter = ca.root.NotAfter
	}
	template := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: firstName(csr)},
		DNSNames:     csr.DNSNames,
		IPAddresses:  csr.IPAddresses,
		// Backdated, so that a client whose clock is slightly behind accepts it,
		// but by little of its life: renewal is timed by the share left of it.
		NotBefore:   now.Add(-min(time.Minute, ca.LeafValidity/10)),
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, ca.root, csr.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	return &certmagic.IssuedCertificate{Certificate: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

func firstName(csr *x509.CertificateRequest) string {
	if len(csr.DNSNames) > 0 {
		return csr.DNSNames[0]
	}
	if len(csr.IPAddresses) > 0 {
		return csr.IPAddresses[0].String()
	}
	return ""
}

func randomSerial() *big.Int {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return serial
}

func parseCertificatePEM(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("not a PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

// writeFile writes data to path and gives it mode, whatever mode an earlier file there had.
func writeFile(path string, data []byte, mode fs.FileMode) error {
	if err := os.WriteFile(path, data, mode); err != nil {
		return err
	}
	return os.Chmod(path, mode)
}
