package api

import (
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// MaxDomainLength is the longest DNS name, in its ASCII form.
const MaxDomainLength = 253

// LocalOnlySuffixes are the names no public CA certifies: reserved for
// loopback (RFC 6761), testing and documentation (RFC 2606), local and
// private networks (RFC 6762, RFC 8375, ICANN's .internal).
var LocalOnlySuffixes = []string{"localhost", "test", "example", "invalid", "local", "internal", "home.arpa"}

// LocalOnly reports whether a canonical name (or an IP address) can get no
// certificate from a public CA; ferry's own local CA certifies it instead.
func LocalOnly(name string) bool {
	if _, err := netip.ParseAddr(name); err == nil {
		return true
	}
	name = strings.TrimPrefix(name, "*.")
	for _, suffix := range LocalOnlySuffixes {
		if name == suffix || strings.HasSuffix(name, "."+suffix) {
			return true
		}
	}
	return false
}

// Loopback reports whether a canonical name always resolves to the loopback
// address (RFC 6761 .localhost): it needs no DNS records, and is verified at once.
func Loopback(name string) bool {
	name = strings.TrimPrefix(name, "*.")
	return name == "localhost" || strings.HasSuffix(name, ".localhost")
}

// CanonicalDomain returns the form ferry keeps a domain name in: lowercase
// ASCII, internationalized labels in their IDNA (xn--) form, no trailing
// dot. When name cannot be a custom domain it returns a problem instead.
func CanonicalDomain(name string) (canonical, problem string) {
	trimmed := strings.TrimSuffix(strings.TrimSpace(name), ".")
	if trimmed == "" {
		return "", "The domain name is empty: give a name such as www.example.com."
	}
	if _, err := netip.ParseAddr(strings.Trim(trimmed, "[]")); err == nil {
		return "", fmt.Sprintf("%q is an IP address: a custom domain is a DNS name, such as www.example.com, whose records point at the engine.", name)
	}
	wildcard := strings.HasPrefix(trimmed, "*.")
	rest := strings.TrimPrefix(trimmed, "*.")
	if strings.Contains(rest, "*") {
		return "", fmt.Sprintf("%q has a * that is not the whole first label: a wildcard domain is written *.example.test.", name)
	}
	ascii, err := idna.Lookup.ToASCII(rest)
	if err != nil {
		return "", fmt.Sprintf("%q is not a valid domain name (%v): labels are letters, digits and hyphens, or internationalized names in their IDNA form.", name, err)
	}
	labels := strings.Split(ascii, ".")
	for _, label := range labels {
		if problem := labelProblem(name, label); problem != "" {
			return "", problem
		}
	}
	if wildcard {
		ascii = "*." + ascii
	}
	if len(ascii) > MaxDomainLength {
		return "", fmt.Sprintf("%q is %d characters long in its ASCII form; DNS allows at most %d.", name, len(ascii), MaxDomainLength)
	}
	if len(labels) < 2 {
		return "", fmt.Sprintf("%q has a single label: a custom domain has at least two, such as example.com or shop.test.", name)
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "", fmt.Sprintf("%q ends in a numeric label, which no top-level domain is.", name)
	}
	if !LocalOnly(ascii) {
		if _, err := publicsuffix.EffectiveTLDPlusOne(strings.TrimPrefix(ascii, "*.")); err != nil {
			return "", fmt.Sprintf("%q is a public suffix (like com or co.uk), under which anyone can register names: use a domain registered under it.", name)
		}
		if wildcard {
			return "", fmt.Sprintf("%q is a wildcard under a public name: its certificate would need the DNS-01 challenge, which needs access to the domain's DNS provider, "+
				"while ferry obtains certificates by HTTP-01 and TLS-ALPN-01. Add each subdomain as a domain of its own; wildcards are allowed under names that ferry's local CA certifies (%s).", name, strings.Join(LocalOnlySuffixes, ", "))
		}
	}
	return ascii, ""
}

func labelProblem(name, label string) string {
	switch {
	case label == "":
		return fmt.Sprintf("%q has an empty label (two dots in a row, or a leading dot).", name)
	case len(label) > 63:
		return fmt.Sprintf("%q has a label of %d characters (%s...); DNS allows at most 63 per label.", name, len(label), label[:20])
	case strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-"):
		return fmt.Sprintf("%q has a label that starts or ends with a hyphen (%q).", name, label)
	}
	for _, r := range label {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return fmt.Sprintf("%q contains %q: a domain's labels hold letters, digits and hyphens only.", name, r)
		}
	}
	return ""
}

// DomainNameProblem says what keeps name from being written as a custom
// domain, or "" when nothing does. Beyond CanonicalDomain's rules, the name
// must already be in its canonical form: Terraform compares names as
// written, so a name the engine would rewrite would show as a change forever.
func DomainNameProblem(name string) string {
	canonical, problem := CanonicalDomain(name)
	if problem != "" {
		return problem
	}
	if canonical != name {
		return fmt.Sprintf("Write %q as %q: domain names are kept in lowercase ASCII, internationalized labels in their IDNA (xn--) form, without a trailing dot.", name, canonical)
	}
	return ""
}

// DomainIsApex reports whether a canonical name is a registered domain
// itself (example.com), rather than a name under one (www.example.com). An
// apex cannot be a CNAME, so it points at the engine with A and AAAA records.
func DomainIsApex(name string) bool {
	apex, err := publicsuffix.EffectiveTLDPlusOne(name)
	return err == nil && apex == name
}

// VerificationRecordName is the TXT record proving a domain's ownership.
func VerificationRecordName(domain string) string {
	return "_ferry." + strings.TrimPrefix(domain, "*.")
}

// VerificationValue is the TXT value of a domain's ownership token.
func VerificationValue(token string) string { return "ferry-verification=" + token }

// DomainRecords are the DNS records that make a canonical domain name
// verifiable and point it at an engine: a TXT record with the domain's
// ownership token, then a CNAME to the engine's base domain, or A and AAAA
// records with its public addresses for an apex, or when the base domain
// is a name public DNS cannot lead to. .localhost names need none.
func DomainRecords(domain, baseDomain string, publicAddresses []string, token string) []DNSRecord {
	if Loopback(domain) {
		return nil
	}
	records := []DNSRecord{{Type: "TXT", Name: VerificationRecordName(domain), Value: VerificationValue(token)}}
	if !DomainIsApex(domain) && !LocalOnly(baseDomain) {
		return append(records, DNSRecord{Type: "CNAME", Name: domain, Value: baseDomain})
	}
	for _, address := range publicAddresses {
		ip, err := netip.ParseAddr(address)
		if err != nil {
			continue
		}
		kind := "A"
		if ip.Is6() && !ip.Is4In6() {
			kind = "AAAA"
		}
		records = append(records, DNSRecord{Type: kind, Name: domain, Value: ip.Unmap().String()})
	}
	return records
}
