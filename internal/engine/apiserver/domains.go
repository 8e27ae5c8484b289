package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// DomainVerifier looks a domain's DNS records up and records the outcome.
type DomainVerifier interface {
	Verify(ctx context.Context, d *store.Domain) (*store.Domain, error)
}

// domainVerifyTimeout bounds the DNS lookups of one POST PathDomainVerify.
const domainVerifyTimeout = 20 * time.Second

// decodeDomain reads a DomainRequest and validates it.
func decodeDomain(r *http.Request) (api.DomainRequest, error) {
	var req api.DomainRequest
	if err := decode(r, &req); err != nil {
		return req, err
	}
	return req, validateDomain(&req)
}

// validateDomain checks a request against the shared rules and puts its
// names in their canonical form.
func validateDomain(req *api.DomainRequest) error {
	name, problem := api.CanonicalDomain(req.Name)
	if problem != "" {
		return badRequest("name", "%s", problem)
	}
	req.Name = name
	if problem := api.GitBranchProblem(req.GitBranch); problem != "" {
		return badRequest("git_branch", "%s", problem)
	}
	switch {
	case req.Redirect == "" && req.RedirectStatusCode != 0:
		return badRequest("redirect_status_code", "redirect_status_code %d is set without redirect: set redirect to the domain to send visitors to, or remove the status", req.RedirectStatusCode)
	case req.Redirect == "":
		return nil
	case req.RedirectStatusCode == 0:
		req.RedirectStatusCode = api.DefaultRedirectStatusCode
	case !slices.Contains(api.RedirectStatusCodes, req.RedirectStatusCode):
		return badRequest("redirect_status_code", "redirect_status_code %d is not a redirect status a domain answers with: use 301, 302, 307 or 308", req.RedirectStatusCode)
	}
	target, problem := api.CanonicalDomain(req.Redirect)
	if problem != "" {
		return badRequest("redirect", "redirect: %s", problem)
	}
	if target == name {
		return badRequest("redirect", "domain %s redirects to itself: redirect it to another domain of the project", name)
	}
	req.Redirect = target
	return nil
}

// projectDomain loads the project and the domain the path names; the
// domain must be the project's.
func (s *Server) projectDomain(r *http.Request) (*store.Project, *store.Domain, error) {
	p, err := s.project(r.Context(), r)
	if err != nil {
		return nil, nil, err
	}
	name := r.PathValue("domain")
	if canonical, problem := api.CanonicalDomain(name); problem == "" {
		name = canonical
	}
	d, err := s.cfg.Store.GetDomain(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && d.ProjectID != p.ID) {
		return nil, nil, notFound("project %s has no domain %q", p.Name, name)
	}
	return p, d, err
}

func (s *Server) toAPIDomain(d *store.Domain) api.Domain {
	health := s.cfg.Health()
	out := api.Domain{
		ProjectID: d.ProjectID, Name: d.Name, GitBranch: d.GitBranch, Redirect: d.Redirect, RedirectStatusCode: d.RedirectStatus,
		Records:    api.DomainRecords(d.Name, health.BaseDomain, health.PublicAddresses, d.Token),
		Verified:   d.VerifiedAt != nil,
		VerifiedAt: d.VerifiedAt, Verification: d.Verification,
		URL:       s.cfg.URL(d.Name),
		CreatedAt: d.CreatedAt,
	}
	if out.Records == nil {
		out.Records = []api.DNSRecord{}
	}
	c := d.Certificate
	switch {
	case health.HTTPSAddress == "":
		out.TLS = api.DomainTLS{Status: api.TLSDisabled}
	case d.VerifiedAt == nil:
		out.TLS = api.DomainTLS{Status: api.TLSWaiting}
	case c.Status == "":
		out.TLS = api.DomainTLS{Status: api.TLSObtaining}
	default:
		out.TLS = api.DomainTLS{Status: c.Status, Issuer: c.Issuer, NotAfter: c.NotAfter, Error: c.Error}
	}
	if out.TLS.Status == api.TLSIssued {
		out.URL = s.cfg.HTTPSURL(d.Name)
	}
	return out
}

func (s *Server) listDomains(r *http.Request) (int, any, error) {
	p, err := s.project(r.Context(), r)
	if err != nil {
		return 0, nil, err
	}
	domains, err := s.cfg.Store.ListDomains(r.Context(), p.ID)
	if err != nil {
		return 0, nil, err
	}
	out := api.DomainList{Domains: []api.Domain{}}
	for _, d := range domains {
		out.Domains = append(out.Domains, s.toAPIDomain(d))
	}
	return http.StatusOK, out, nil
}

func (s *Server) getDomain(r *http.Request) (int, any, error) {
	_, d, err := s.projectDomain(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.toAPIDomain(d), nil
}

func (s *Server) createDomain(r *http.Request) (int, any, error) {
	p, err := s.project(r.Context(), r)
	if err != nil {
		return 0, nil, err
	}
	req, err := decodeDomain(r)
	if err != nil {
		return 0, nil, err
	}
	if dashboard := s.cfg.Hosts.ProductionHost(api.DashboardHostLabel); req.Name == dashboard {
		return 0, nil, badRequest("name", "%s is the engine's dashboard: choose another domain name", dashboard)
	}
	if s.cfg.Plans != nil {
		held, err := s.cfg.Store.ListDomains(r.Context(), p.ID)
		if err != nil {
			return 0, nil, err
		}
		if err := s.cfg.Plans.CheckDomains(r.Context(), p.TeamID, len(held)); err != nil {
			return 0, nil, err
		}
	}
	token, err := s.ownershipToken(r.Context(), p.ID, req.Name)
	if err != nil {
		return 0, nil, err
	}
	d := &store.Domain{Name: req.Name, ProjectID: p.ID, GitBranch: req.GitBranch, Redirect: req.Redirect, RedirectStatus: req.RedirectStatusCode, Token: token}
	err = s.cfg.Store.CreateDomain(r.Context(), d)
	switch {
	case errors.Is(err, store.ErrHostnameTaken):
		return 0, nil, s.domainTaken(r.Context(), p, d.Name)
	case errors.Is(err, store.ErrNotFound):
		return 0, nil, redirectNotADomain(p, d.Redirect)
	case err != nil:
		return 0, nil, err
	}
	s.cfg.Logger.Info("domain added", "project", p.Name, "domain", d.Name)
	if api.Loopback(d.Name) {
		// Nothing to look up: .localhost names lead to this machine by definition.
		if d, err = s.cfg.Domains.Verify(r.Context(), d); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusCreated, s.toAPIDomain(d), nil
}

// ownershipToken is what a domain's TXT record must hold: a keyed digest of
// the project and the name, so that only this engine can tell it, it differs
// per project, and a domain removed and added again keeps its records.
func (s *Server) ownershipToken(ctx context.Context, projectID, name string) (string, error) {
	digest, err := s.cfg.Secrets.Digest(ctx, []byte("domain ownership\x00"+projectID+"\x00"+name))
	if err != nil {
		return "", err
	}
	token := strings.TrimPrefix(digest, api.DigestPrefix)
	if len(token) < 32 {
		return "", fmt.Errorf("the secret keeper's digest %q is too short for an ownership token", token)
	}
	return token[:32], nil
}

// domainTaken says who holds a name that a domain cannot take.
func (s *Server) domainTaken(ctx context.Context, p *store.Project, name string) error {
	holder, err := s.cfg.Store.GetDomain(ctx, name)
	switch {
	case err == nil && holder.ProjectID == p.ID:
		return &api.Error{Code: api.CodeConflict, Field: "name", Message: fmt.Sprintf("project %s already has the domain %s: import it (terraform import ferry_domain.NAME %s/%s) rather than adding it twice", p.Name, name, p.Name, name)}
	case err == nil:
		// Another team's project is not named: a token learns nothing of it.
		owner := "another project"
		if other, err := s.cfg.Store.GetProject(ctx, holder.ProjectID); err == nil && principalOf(ctx).sees(other) {
			owner = "project " + other.Name
		}
		return &api.Error{Code: api.CodeConflict, Field: "name", Message: fmt.Sprintf("the domain %s is already used by %s: a domain serves one project; remove it there first", name, owner)}
	case errors.Is(err, store.ErrNotFound):
		return &api.Error{Code: api.CodeConflict, Field: "name", Message: fmt.Sprintf("%s is already the host of a project or a deployment of this engine, so it cannot be a custom domain: choose another name", name)}
	}
	return err
}

func redirectNotADomain(p *store.Project, target string) error {
	return &api.Error{Code: api.CodeNotFound, Field: "redirect", Message: fmt.Sprintf("redirect %q is not a domain of project %s: add that domain to the project first (a ferry_domain, referenced here by its name so that it is created first)", target, p.Name)}
}

func (s *Server) updateDomain(r *http.Request) (int, any, error) {
	p, d, err := s.projectDomain(r)
	if err != nil {
		return 0, nil, err
	}
	req, err := decodeDomain(r)
	if err != nil {
		return 0, nil, err
	}
	if req.Name != d.Name {
		return 0, nil, badRequest("name", "the domain %s cannot be renamed to %s: add %s as a domain of its own", d.Name, req.Name, req.Name)
	}
	d.GitBranch, d.Redirect, d.RedirectStatus = req.GitBranch, req.Redirect, req.RedirectStatusCode
	err = s.cfg.Store.UpdateDomain(r.Context(), d)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, redirectNotADomain(p, d.Redirect)
	}
	if err != nil {
		return 0, nil, err
	}
	s.cfg.Logger.Info("domain changed", "project", p.Name, "domain", d.Name, "redirect", d.Redirect)
	return http.StatusOK, s.toAPIDomain(d), nil
}

func (s *Server) deleteDomain(r *http.Request) (int, any, error) {
	p, d, err := s.projectDomain(r)
	if err != nil {
		return 0, nil, err
	}
	err = s.cfg.Store.DeleteDomain(r.Context(), p.ID, d.Name)
	var redirected *store.RedirectedError
	switch {
	case errors.As(err, &redirected):
		return 0, nil, &api.Error{Code: api.CodeConflict, Message: fmt.Sprintf("%s redirect(s) to %s: delete those domains or change their redirect first", strings.Join(redirected.From, ", "), d.Name)}
	case errors.Is(err, store.ErrNotFound):
		return 0, nil, notFound("project %s has no domain %q", p.Name, d.Name)
	case err != nil:
		return 0, nil, err
	}
	s.cfg.Logger.Info("domain removed", "project", p.Name, "domain", d.Name)
	return http.StatusNoContent, nil, nil
}

func (s *Server) verifyDomain(r *http.Request) (int, any, error) {
	_, d, err := s.projectDomain(r)
	if err != nil {
		return 0, nil, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), domainVerifyTimeout)
	defer cancel()
	if d, err = s.cfg.Domains.Verify(ctx, d); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.toAPIDomain(d), nil
}
