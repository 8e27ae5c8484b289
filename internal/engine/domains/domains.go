// Package domains verifies custom domains: it looks up their DNS records
// with the engine's resolvers, and records on each domain what it found. A
// domain is verified once its TXT record holds its ownership token and its
// name leads to this engine (a CNAME to the base domain, or addresses that
// are the engine's own); until then the edge does not serve it, and no
// certificate is requested for it.
package domains

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// DefaultInterval is how often unverified domains are looked up again.
const DefaultInterval = time.Minute

// lookupTimeout bounds one query to one resolver.
const lookupTimeout = 3 * time.Second

// Config wires a Verifier.
type Config struct {
	Store store.Domains
	// Resolvers are the DNS servers asked, host:port, in order: the next is
	// asked when one does not answer. See SystemResolvers.
	Resolvers       []string
	BaseDomain      string       // a CNAME to it (or to a name under it) leads to the engine
	PublicAddresses []netip.Addr // as do A and AAAA records with these
	Interval        time.Duration
	Logger          *slog.Logger
	// SyncRoutes returns once the edge serves what the store says: a domain
	// just verified is served when Verify returns.
	SyncRoutes func(context.Context) error
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Verifier looks domains' DNS records up.
type Verifier struct {
	cfg    Config
	client *dns.Client
}

// New returns a Verifier; Run checks unverified domains periodically.
func New(cfg Config) *Verifier {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.BaseDomain = strings.ToLower(strings.TrimSuffix(cfg.BaseDomain, "."))
	return &Verifier{cfg: cfg, client: &dns.Client{Timeout: lookupTimeout}}
}

// SystemResolvers are the name servers of /etc/resolv.conf.
func SystemResolvers() ([]string, error) {
	conf, err := dns.ClientConfigFromFile("/etc/resolv.conf")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, server := range conf.Servers {
		out = append(out, net.JoinHostPort(server, conf.Port))
	}
	return out, nil
}

// Run checks every unverified domain each interval, until ctx is done.
func (v *Verifier) Run(ctx context.Context) {
	tick := time.NewTicker(v.cfg.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		pending, err := v.cfg.Store.ListDomains(ctx, "")
		if err != nil {
			v.cfg.Logger.Error("list domains to verify", "error", err)
			continue
		}
		for _, d := range pending {
			if d.VerifiedAt != nil {
				continue
			}
			if _, err := v.Verify(ctx, d); err != nil && ctx.Err() == nil {
				v.cfg.Logger.Error("verify domain", "domain", d.Name, "error", err)
			}
		}
	}
}

// Verify looks d's records up unless it is verified already, records what
// was found, and returns the domain as stored afterwards.
func (v *Verifier) Verify(ctx context.Context, d *store.Domain) (*store.Domain, error) {
	if d.VerifiedAt != nil {
		return d, nil
	}
	problem := v.Check(ctx, d)
	if err := v.cfg.Store.RecordVerification(ctx, d.Name, v.cfg.Now(), problem); err != nil {
		return nil, err
	}
	if problem == "" {
		v.cfg.Logger.Info("domain verified", "domain", d.Name, "project", d.ProjectID)
		if err := v.cfg.SyncRoutes(ctx); err != nil {
			return nil, err
		}
	}
	return v.cfg.Store.GetDomain(ctx, d.Name)
}

// Check looks up d's records and says what is missing or wrong, or "" when
// they prove d is meant for this engine.
func (v *Verifier) Check(ctx context.Context, d *store.Domain) string {
	if api.Loopback(d.Name) {
		return ""
	}
	if len(v.cfg.Resolvers) == 0 {
		return "the engine has no DNS resolver to look the records up with: start it with --dns-resolvers"
	}
	var problems []string
	if p := v.checkOwnership(ctx, d); p != "" {
		problems = append(problems, p)
	}
	if p := v.checkDestination(ctx, d.Name); p != "" {
		problems = append(problems, p)
	}
	return strings.Join(problems, "; ")
}

func (v *Verifier) checkOwnership(ctx context.Context, d *store.Domain) string {
	name, want := api.VerificationRecordName(d.Name), api.VerificationValue(d.Token)
	answers, err := v.lookup(ctx, name, dns.TypeTXT)
	if err != nil {
		return fmt.Sprintf("looking up TXT %s: %v", name, err)
	}
	var found []string
	for _, rr := range answers {
		if txt, ok := rr.(*dns.TXT); ok {
			value := strings.Join(txt.Txt, "")
			if value == want {
				return ""
			}
			found = append(found, fmt.Sprintf("%q", value))
		}
	}
	if len(found) == 0 {
		return fmt.Sprintf("no TXT record %s was found: create it with the value %q", name, want)
	}
	return fmt.Sprintf("TXT %s holds %s, not %q: set it to that value", name, strings.Join(found, ", "), want)
}

// checkDestination checks that name leads here: a CNAME to the base domain
// or a name under it, or addresses among the engine's public ones.
func (v *Verifier) checkDestination(ctx context.Context, name string) string {
	var addresses []string
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		answers, err := v.lookup(ctx, name, qtype)
		if err != nil {
			return fmt.Sprintf("looking up %s %s: %v", dns.TypeToString[qtype], name, err)
		}
		for _, rr := range answers {
			switch rr := rr.(type) {
			case *dns.CNAME:
				if v.underBaseDomain(rr.Target) {
					return ""
				}
			case *dns.A:
				addresses = append(addresses, rr.A.String())
			case *dns.AAAA:
				addresses = append(addresses, rr.AAAA.String())
			}
		}
	}
	for _, a := range addresses {
		if ip, err := netip.ParseAddr(a); err == nil && slices.Contains(v.cfg.PublicAddresses, ip.Unmap()) {
			return ""
		}
	}
	want := v.destinationAdvice(name)
	if len(addresses) == 0 {
		return fmt.Sprintf("%s has no A, AAAA or CNAME record leading to this engine: %s", name, want)
	}
	return fmt.Sprintf("%s resolves to %s, which is not this engine: %s", name, strings.Join(addresses, ", "), want)
}

func (v *Verifier) destinationAdvice(name string) string {
	records := api.DomainRecords(name, v.cfg.BaseDomain, addressStrings(v.cfg.PublicAddresses), "")
	var want []string
	for _, r := range records {
		if r.Type != "TXT" {
			want = append(want, r.Type+" "+r.Value)
		}
	}
	if len(want) == 0 {
		return "the engine has no public address for A and AAAA records: start it with --public-address"
	}
	return "create " + strings.Join(want, " and ")
}

func (v *Verifier) underBaseDomain(target string) bool {
	target = strings.ToLower(strings.TrimSuffix(target, "."))
	return v.cfg.BaseDomain != "" && (target == v.cfg.BaseDomain || strings.HasSuffix(target, "."+v.cfg.BaseDomain))
}

func addressStrings(addresses []netip.Addr) []string {
	out := make([]string, len(addresses))
	for i, a := range addresses {
		out[i] = a.String()
	}
	return out
}

// lookup asks the resolvers in turn for name's records of qtype, until one
// answers. A name that does not exist answers with no records.
func (v *Verifier) lookup(ctx context.Context, name string, qtype uint16) ([]dns.RR, error) {
	query := new(dns.Msg)
	query.SetQuestion(dns.Fqdn(name), qtype)
	query.SetEdns0(4096, false)
	var failures []string
	for _, resolver := range v.cfg.Resolvers {
		reply, _, err := v.client.ExchangeContext(ctx, query, resolver)
		if err == nil && reply.Truncated {
			tcp := &dns.Client{Net: "tcp", Timeout: lookupTimeout}
			reply, _, err = tcp.ExchangeContext(ctx, query, resolver)
		}
		switch {
		case err != nil:
			failures = append(failures, fmt.Sprintf("%s: %v", resolver, err))
		case reply.Rcode == dns.RcodeSuccess || reply.Rcode == dns.RcodeNameError:
			return reply.Answer, nil
		default:
			failures = append(failures, fmt.Sprintf("%s answered %s", resolver, dns.RcodeToString[reply.Rcode]))
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return nil, fmt.Errorf("no resolver answered (%s)", strings.Join(failures, "; "))
}
