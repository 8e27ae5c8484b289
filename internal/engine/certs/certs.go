// Package certs gives the edge's HTTPS listener its certificates: from
// ferry's own local CA for names no public CA certifies (.localhost, .test,
// .internal, private addresses), and from an ACME CA (Let's Encrypt or any
// compatible one) for public names, by the HTTP-01 or TLS-ALPN-01 challenge,
// which the edge's own listeners answer. certmagic obtains, stores (in the
// data dir: keys 0600, directories 0700) and renews them.
//
// No certificate is ever requested for a name this engine does not serve.
// Every handshake asks Permit first, before the cache, storage or a CA, as
// caddy's on-demand TLS asks its permission module: Permit answers from the
// edge's route table in memory, so a flood of handshakes for random names
// costs a map lookup each and reaches no CA.
package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/mholt/acmez/v3"
	"github.com/mholt/acmez/v3/acme"
	"golang.org/x/sync/singleflight"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// DefaultACMEDirectory is Let's Encrypt's production CA.
const DefaultACMEDirectory = certmagic.LetsEncryptProductionCA

// Permit says whether the engine serves name, and for which subject a
// certificate serves it: name itself, or the wildcard domain it falls under.
type Permit func(name string) (subject string, ok bool)

// ACME configures the CA that certifies public names.
type ACME struct {
	Directory string         // the CA's directory URL; "" is DefaultACMEDirectory
	Email     string         // the account's contact, for the CA's notices; optional
	Roots     *x509.CertPool // to trust the CA's own HTTPS (a private CA); nil: the system's
	Profile   string         // an ACME profile the CA offers; optional
	// Challenge types not to use; by default the CA picks among both.
	DisableHTTP01, DisableTLSALPN01 bool
}

// Status is where a subject's certificate stands.
type Status struct {
	State    string // api.TLSObtaining, api.TLSIssued or api.TLSFailed
	Issuer   string
	NotAfter *time.Time
	Error    string // for TLSFailed: the CA's own message
	Renewal  bool
}

// Config wires a Manager.
type Config struct {
	StorageDir string   // certificates, keys and ACME accounts
	LocalCA    *LocalCA // certifies names no public CA does
	ACME       ACME
	// The edge's listeners, host:port: they answer the CA's challenges
	// (HTTP-01 on HTTP, TLS-ALPN-01 on HTTPS), so certmagic starts none of its own.
	HTTPAddress, HTTPSAddress string
	Permit                    Permit
	// IPs a client may reach the HTTPS listener by, without a name; only
	// loopback and private ones, which the local CA may certify.
	IPs []netip.Addr
	// OnStatus hears of every change of a certificate's state. It is called
	// while a handshake or renewal waits: it must return quickly.
	OnStatus func(subject string, s Status)
	// RenewCheckInterval is how often certificates are checked for renewal;
	// 0 is certmagic's default (10 minutes).
	RenewCheckInterval time.Duration
	// RenewalWindowRatio is the part of a certificate's lifetime, at its end,
	// in which it is renewed; 0 is a third.
	RenewalWindowRatio float64
	Logger             *slog.Logger
}

// Retry waits of a certificate that could not be obtained: doubling from
// the first to the last, which stays within Let's Encrypt's limit of 5
// failed validations per name and hour.
const (
	firstRetry = time.Minute
	lastRetry  = time.Hour
)

// Manager obtains, serves and renews the edge's certificates.
type Manager struct {
	cfg        Config
	cache      *certmagic.Cache
	local      *certmagic.Config
	acme       *certmagic.Config
	acmeIssuer *certmagic.ACMEIssuer
	storage    *closableStorage
	obtaining  singleflight.Group
	ctx        context.Context // ends with Close
	stop       context.CancelFunc
	wg         sync.WaitGroup
	closing    sync.Once

	mu      sync.Mutex
	held    map[string]bool               // subjects whose certificate is cached and renewed
	managed map[string]context.CancelFunc // subjects obtained ahead of any handshake, by Manage
	failed  map[string]failure            // subjects whose last attempt failed, for handshakes to wait out
}

type failure struct {
	until time.Time
	wait  time.Duration
	err   error
}

// New returns a Manager. Close releases it.
func New(cfg Config) (*Manager, error) {
	if cfg.LocalCA == nil || cfg.Permit == nil || cfg.StorageDir == "" {
		return nil, errors.New("certs: a local CA, a permission check and a storage directory are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.OnStatus == nil {
		cfg.OnStatus = func(string, Status) {}
	}
	if cfg.ACME.Directory == "" {
		cfg.ACME.Directory = DefaultACMEDirectory
	}
	ctx, stop := context.WithCancel(context.Background())
	m := &Manager{
		cfg:     cfg,
		storage: &closableStorage{Storage: &certmagic.FileStorage{Path: cfg.StorageDir}},
		ctx:     ctx,
		stop:    stop,
		held:    map[string]bool{},
		managed: map[string]context.CancelFunc{},
		failed:  map[string]failure{},
	}
	logger := zapLogger(cfg.Logger)
	m.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert: func(c certmagic.Certificate) (*certmagic.Config, error) {
			if len(c.Names) == 0 {
				return nil, errors.New("a certificate without names")
			}
			return m.configFor(c.Names[0]), nil
		},
		RenewCheckInterval: cfg.RenewCheckInterval,
		Logger:             logger,
	})
	template := certmagic.Config{
		RenewalWindowRatio: cfg.RenewalWindowRatio,
		Storage:            m.storage,
		Logger:             logger,
		OnEvent:            m.onEvent,
	}
	if template.RenewalWindowRatio == 0 {
		template.RenewalWindowRatio = certmagic.DefaultRenewalWindowRatio
	}
	local := template
	local.Issuers = []certmagic.Issuer{cfg.LocalCA}
	local.OCSP = certmagic.OCSPConfig{DisableStapling: true} // the local CA has no responder
	m.local = certmagic.New(m.cache, local)

	m.acme = certmagic.New(m.cache, template)
	httpHost, httpPort, err := splitPort(cfg.HTTPAddress)
	if err != nil {
		return nil, fmt.Errorf("certs: HTTP address: %w", err)
	}
	_, httpsPort, err := splitPort(cfg.HTTPSAddress)
	if err != nil {
		return nil, fmt.Errorf("certs: HTTPS address: %w", err)
	}
	m.acmeIssuer = certmagic.NewACMEIssuer(m.acme, certmagic.ACMEIssuer{
		CA:     cfg.ACME.Directory,
		TestCA: cfg.ACME.Directory, // certmagic would retry with Let's Encrypt's staging CA otherwise
		Email:  cfg.ACME.Email,
		// Running with an ACME CA is agreeing to its subscriber agreement;
		// the README says so where the directory is configured.
		Agreed:                  true,
		TrustedRoots:            cfg.ACME.Roots,
		Profile:                 cfg.ACME.Profile,
		DisableHTTPChallenge:    cfg.ACME.DisableHTTP01,
		DisableTLSALPNChallenge: cfg.ACME.DisableTLSALPN01,
		// The edge listens there already; certmagic sees the port taken and
		// leaves the challenges to the edge's handlers.
		ListenHost:     httpHost,
		AltHTTPPort:    httpPort,
		AltTLSALPNPort: httpsPort,
		Logger:         logger,
	})
	m.acme.Issuers = []certmagic.Issuer{quietIssuer{m.acmeIssuer}}
	return m, nil
}

func splitPort(address string) (string, int, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(port)
	return host, n, err
}

// quietIssuer is the ACME issuer that never prompts: certmagic asks on
// stdin for an email address when it has none and runs interactively, and
// the engine has no one to ask.
type quietIssuer struct{ *certmagic.ACMEIssuer }

func (q quietIssuer) PreCheck(ctx context.Context, names []string, _ bool) error {
	return q.ACMEIssuer.PreCheck(ctx, names, false)
}

// configFor is the certmagic configuration that certifies subject.
func (m *Manager) configFor(subject string) *certmagic.Config {
	if api.LocalOnly(subject) {
		return m.local
	}
	return m.acme
}

// Close stops obtaining and renewing certificates; once it returns, nothing
// reads or writes the storage directory. Later calls do nothing.
func (m *Manager) Close() {
	m.closing.Do(func() {
		m.mu.Lock()
		m.stop() // under the lock: Manage starts nothing once this is done
		m.mu.Unlock()
		m.wg.Wait()
		m.cache.Stop()
		m.storage.close()
	})
}

// TLSConfig is the configuration of the edge's HTTPS listener.
func (m *Manager) TLSConfig() *tls.Config {
	return &tls.Config{
		GetCertificate: m.getCertificate,
		NextProtos:     []string{"h2", "http/1.1", acmez.ACMETLS1Protocol},
		MinVersion:     tls.VersionTLS12,
	}
}

// HTTPChallengeHandler answers the CA's HTTP-01 challenges ahead of next.
func (m *Manager) HTTPChallengeHandler(next http.Handler) http.Handler {
	return m.acmeIssuer.HTTPChallengeHandler(next)
}

var errNotServed = errors.New("no deployment or domain of this engine has that name")

func (m *Manager) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	// A TLS-ALPN-01 challenge is answered from the challenges in progress.
	if len(hello.SupportedProtos) == 1 && hello.SupportedProtos[0] == acmez.ACMETLS1Protocol {
		return m.acme.GetCertificate(hello)
	}
	subject, ok := m.permit(hello)
	if !ok {
		return nil, fmt.Errorf("%w: %q", errNotServed, hello.ServerName)
	}
	cfg := m.configFor(subject)
	if cert, err := cfg.GetCertificate(hello); err == nil {
		return cert, nil
	}
	if err := m.ensure(hello.Context(), subject, true); err != nil {
		return nil, err
	}
	return cfg.GetCertificate(hello)
}

// permit checks a handshake's name before anything else is done for it.
func (m *Manager) permit(hello *tls.ClientHelloInfo) (string, bool) {
	name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	if name != "" {
		return m.cfg.Permit(name)
	}
	// No name: the client dialed an address.
	if hello.Conn == nil {
		return "", false
	}
	local, err := netip.ParseAddrPort(hello.Conn.LocalAddr().String())
	if err != nil {
		return "", false
	}
	ip := local.Addr().Unmap()
	for _, allowed := range m.cfg.IPs {
		if allowed.Unmap() == ip && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast()) {
			return ip.String(), true
		}
	}
	return "", false
}

// ensure gets subject a certificate that is cached and renewed: from the
// cache, from storage, or from its CA. Concurrent calls share one attempt.
// A handshake does not retry a subject whose last attempt failed until its
// retry wait is over.
func (m *Manager) ensure(ctx context.Context, subject string, handshake bool) error {
	if handshake {
		m.mu.Lock()
		f, failing := m.failed[subject]
		m.mu.Unlock()
		if failing && time.Now().Before(f.until) {
			return fmt.Errorf("the certificate of %s could not be obtained (%w); next attempt after %s", subject, f.err, f.until.UTC().Format(time.RFC3339))
		}
	}
	_, err, _ := m.obtaining.Do(subject, func() (any, error) {
		// Not the handshake's context: a client that hangs up must not cancel
		// the attempt the others wait for.
		ctx, cancel := context.WithTimeout(m.ctx, 3*time.Minute)
		defer cancel()
		err := m.configFor(subject).ManageSync(ctx, []string{subject})
		m.mu.Lock()
		defer m.mu.Unlock()
		if err != nil {
			wait := max(firstRetry, min(2*m.failed[subject].wait, lastRetry))
			m.failed[subject] = failure{until: time.Now().Add(wait), wait: wait, err: err}
			return nil, err
		}
		delete(m.failed, subject)
		m.held[subject] = true
		return nil, nil
	})
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// Manage obtains certificates for subjects ahead of any handshake, and
// keeps retrying those that fail (see firstRetry). Subjects no longer listed
// stop being retried, and certificates of names Permit no longer allows stop
// being renewed; their files stay in storage.
func (m *Manager) Manage(subjects []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ctx.Err() != nil {
		return // closed
	}
	wanted := map[string]bool{}
	for _, s := range subjects {
		wanted[s] = true
		if _, ok := m.managed[s]; !ok {
			ctx, cancel := context.WithCancel(m.ctx)
			m.managed[s] = cancel
			m.wg.Go(func() { m.keepObtaining(ctx, s) })
		}
	}
	for s, cancel := range m.managed {
		if !wanted[s] {
			cancel()
			delete(m.managed, s)
		}
	}
	var gone []certmagic.SubjectIssuer
	for s := range m.held {
		if _, ok := m.cfg.Permit(s); !ok && !m.isPermittedIP(s) {
			gone = append(gone, certmagic.SubjectIssuer{Subject: s})
			delete(m.held, s)
			delete(m.failed, s)
		}
	}
	if len(gone) > 0 {
		m.cache.RemoveManaged(gone)
	}
}

func (m *Manager) isPermittedIP(subject string) bool {
	ip, err := netip.ParseAddr(subject)
	if err != nil {
		return false
	}
	for _, allowed := range m.cfg.IPs {
		if allowed.Unmap() == ip {
			return true
		}
	}
	return false
}

func (m *Manager) keepObtaining(ctx context.Context, subject string) {
	wait := firstRetry
	for {
		err := m.ensure(ctx, subject, false)
		if err == nil || ctx.Err() != nil {
			return
		}
		m.cfg.Logger.Warn("obtaining a certificate failed; retrying", "subject", subject, "in", wait, "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, lastRetry)
	}
}

// onEvent turns certmagic's events into statuses.
func (m *Manager) onEvent(ctx context.Context, event string, data map[string]any) error {
	switch event {
	case "cert_obtaining":
		subject, _ := data["identifier"].(string)
		m.cfg.OnStatus(subject, Status{State: api.TLSObtaining})
	case "cert_obtained":
		subject, _ := data["identifier"].(string)
		renewal, _ := data["renewal"].(bool)
		path, _ := data["certificate_path"].(string)
		s := Status{State: api.TLSIssued, Renewal: renewal}
		if leaf, err := m.storedLeaf(ctx, path); err == nil {
			s.Issuer, s.NotAfter = issuerName(leaf), &leaf.NotAfter
		} else {
			m.cfg.Logger.Warn("reading a certificate just obtained", "subject", subject, "error", err)
		}
		m.cfg.Logger.Info("certificate obtained", "subject", subject, "issuer", s.Issuer, "not_after", s.NotAfter, "renewal", renewal)
		m.cfg.OnStatus(subject, s)
	case "cert_failed":
		subject, _ := data["identifier"].(string)
		renewal, _ := data["renewal"].(bool)
		err, _ := data["error"].(error)
		message := caMessage(err)
		m.cfg.Logger.Error("obtaining a certificate failed", "subject", subject, "renewal", renewal, "error", message)
		m.cfg.OnStatus(subject, Status{State: api.TLSFailed, Error: message, Renewal: renewal})
	case "cached_managed_cert":
		// Loaded from storage (at a start, or after another node renewed it).
		sans, _ := data["sans"].([]string)
		for _, subject := range sans {
			for _, c := range m.cache.AllMatchingCertificates(subject) {
				if c.Leaf != nil {
					notAfter := c.Leaf.NotAfter
					m.cfg.OnStatus(subject, Status{State: api.TLSIssued, Issuer: issuerName(c.Leaf), NotAfter: &notAfter})
					break
				}
			}
		}
	}
	return nil
}

func (m *Manager) storedLeaf(ctx context.Context, key string) (*x509.Certificate, error) {
	data, err := m.storage.Load(ctx, key)
	if err != nil {
		return nil, err
	}
	return parseCertificatePEM(data)
}

func issuerName(leaf *x509.Certificate) string {
	if leaf.Issuer.CommonName != "" {
		return leaf.Issuer.CommonName
	}
	return leaf.Issuer.String()
}

// caMessage is what the CA said, when it said something: the ACME
// problem's type and detail, rather than the layers of wrapping around it.
func caMessage(err error) string {
	if err == nil {
		return "unknown error"
	}
	var problem acme.Problem
	if errors.As(err, &problem) {
		return problem.Error()
	}
	return err.Error()
}
