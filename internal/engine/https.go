package engine

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/certs"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// Directories of a data dir that hold TLS material.
const (
	CADirName           = "ca"           // the local CA; see LocalCACertificate
	CertificatesDirName = "certificates" // certificates, their keys and ACME accounts
)

// DefaultHTTPSAddress is where `ferry serve` serves apps over HTTPS unless told otherwise.
const DefaultHTTPSAddress = "127.0.0.1:3443"

// LocalCACertificate is the path of the local CA's certificate in a data
// dir, the one clients trust to reach *.localhost apps over HTTPS.
func LocalCACertificate(dataDir string) string {
	return filepath.Join(dataDir, CADirName, certs.RootCertName)
}

// readCertPool reads the PEM certificates of path into a pool.
func readCertPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// listenerAddresses are the specific IPs the listeners are bound to: by
// default, where custom domains' A and AAAA records point.
func listenerAddresses(listeners ...net.Listener) []netip.Addr {
	var out []netip.Addr
	for _, l := range listeners {
		if l == nil {
			continue
		}
		ap, err := netip.ParseAddrPort(l.Addr().String())
		if err != nil || ap.Addr().IsUnspecified() {
			continue
		}
		if ip := ap.Addr().Unmap(); !slices.Contains(out, ip) {
			out = append(out, ip)
		}
	}
	return out
}

// certificateRecorder keeps each custom domain's certificate state in the
// store as the certificate manager reports it. A renewal that fails, or is
// under way, leaves a certificate that still serves shown as issued, with
// the failure beside it.
func certificateRecorder(st store.Domains, logger *slog.Logger) func(string, certs.Status) {
	return func(subject string, s certs.Status) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		d, err := st.GetDomain(ctx, subject)
		if errors.Is(err, store.ErrNotFound) {
			return // a deployment's or project's own host
		}
		if err != nil {
			logger.Error("reading a domain to record its certificate", "domain", subject, "error", err)
			return
		}
		c := d.Certificate
		serving := c.Status == api.TLSIssued && c.NotAfter != nil && time.Now().Before(*c.NotAfter)
		switch s.State {
		case api.TLSIssued:
			c = store.Certificate{Status: api.TLSIssued, Issuer: s.Issuer, NotAfter: s.NotAfter}
		case api.TLSObtaining:
			if !serving {
				c.Status = api.TLSObtaining
			}
		case api.TLSFailed:
			c.Error = s.Error
			if !serving {
				c.Status = api.TLSFailed
			}
		}
		if err := st.RecordCertificate(ctx, subject, c); err != nil {
			logger.Error("recording a domain's certificate", "domain", subject, "error", err)
		}
	}
}

// handshakeErrorFilter is the HTTPS server's error log: it drops failed
// handshakes, which clients cause (a refused name, a client that does not
// trust the CA) and which would let anyone fill the log, and logs the rest.
type handshakeErrorFilter struct{ logger *slog.Logger }

func newServerErrorLog(logger *slog.Logger) *log.Logger {
	return log.New(handshakeErrorFilter{logger}, "", 0)
}

func (f handshakeErrorFilter) Write(p []byte) (int, error) {
	if !bytes.Contains(p, []byte("TLS handshake error")) {
		f.logger.Warn(string(bytes.TrimSpace(p)))
	}
	return len(p), nil
}
