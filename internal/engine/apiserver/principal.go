package apiserver

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// Principal is who a request is made as: the operator (the engine's own token, its unix
// socket), or a team token.
type Principal struct {
	Operator bool
	Token    *store.Token // for a team token
	Team     *store.Team  // the token's team
}

// Operator is the principal of the engine's own token and of its unix socket: every team, and
// the engine's own endpoints.
var Operator = &Principal{Operator: true}

type principalKey struct{}

// WithPrincipal marks a request's context with who makes it.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// principalOf is who makes the request: the operator unless the API's guard said otherwise,
// for the unix socket and an embedded engine without a token reach the API unguarded.
func principalOf(ctx context.Context) *Principal {
	if p, ok := ctx.Value(principalKey{}).(*Principal); ok {
		return p
	}
	return Operator
}

// rank is how much the principal may do: the rank of its highest scope.
func (p *Principal) rank() int {
	if p.Operator {
		return len(api.Scopes)
	}
	best := -1
	for _, s := range p.Token.Scopes {
		best = max(best, api.ScopeRank(s))
	}
	return best
}

// allows says why the principal may not do what needs scope ("" for the operator only), or nil.
func (p *Principal) allows(scope string) error {
	if p.Operator {
		return nil
	}
	if scope == operatorOnly {
		return &api.Error{Code: api.CodeForbidden, Message: fmt.Sprintf("token %s (%s) of team %s may not call this: only the engine's operator token may; ask the engine's operator", p.Token.Name, p.Token.Prefix, p.Team.Name)}
	}
	if p.rank() < api.ScopeRank(scope) {
		return &api.Error{Code: api.CodeForbidden, Message: fmt.Sprintf("token %s (%s) has scopes %s: this call needs the %s scope; use a token of team %s with scope %s", p.Token.Name, p.Token.Prefix,
			strings.Join(p.Token.Scopes, ", "), scope, p.Team.Name, scope)}
	}
	return nil
}

// sees reports whether the principal may reach project p: a token sees its team's projects,
// only those it is limited to when it is.
func (p *Principal) sees(project *store.Project) bool {
	if p.Operator {
		return true
	}
	if project.TeamID != p.Team.ID {
		return false
	}
	return len(p.Token.Projects) == 0 || slices.Contains(p.Token.Projects, project.ID)
}

// teamID is the principal's team; "" for the operator.
func (p *Principal) teamID() string {
	if p.Operator {
		return ""
	}
	return p.Team.ID
}

// tokenBytes is the randomness of a token: 256 bits.
const tokenBytes = 32

// touchEvery bounds how often a token's last use is written: once a minute at most, not once
// a request.
const touchEvery = time.Minute

// newTokenValue returns a token's value and the hash it is kept by.
func newTokenValue() (value, hash string) {
	secret := make([]byte, tokenBytes)
	if _, err := rand.Read(secret); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	value = api.TokenPrefix + base64.RawURLEncoding.EncodeToString(secret)
	return value, hashToken(value)
}

// hashToken is what a token is stored as. One round of SHA-256 is right here, unlike for
// passwords: the value is 256 random bits, so there is nothing to guess from a stolen hash, and
// a fast hash keeps the check of every request cheap. A slow, salted hash would buy nothing.
func hashToken(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:])
}

// tokenDisplayPrefix is how much of a token's value is kept to tell it apart.
const tokenDisplayPrefix = len(api.TokenPrefix) + 6

// IsTeamToken reports whether a bearer value looks like a team token.
func IsTeamToken(value string) bool { return strings.HasPrefix(value, api.TokenPrefix) }

// Authenticate finds the team token of value. It refuses one unknown, revoked or expired with
// an *api.Error saying which (never echoing the value), and records its use, coarsely.
func (s *Server) Authenticate(ctx context.Context, value string) (*Principal, error) {
	tok, team, err := s.cfg.Store.TokenByHash(ctx, hashToken(value))
	if errors.Is(err, store.ErrNotFound) {
		return nil, &api.Error{Code: api.CodeUnauthorized, Message: "unknown token: it was never issued by this engine, or its team was deleted; send Authorization: Bearer <token> with a token of `ferry tokens create`"}
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	switch {
	case tok.RevokedAt != nil:
		return nil, &api.Error{Code: api.CodeUnauthorized, Message: fmt.Sprintf("token %s (%s) was revoked at %s: ask an admin of its team for a new one", tok.Name, tok.Prefix, tok.RevokedAt.Format(time.RFC3339))}
	case tok.ExpiresAt != nil && !now.Before(*tok.ExpiresAt):
		return nil, &api.Error{Code: api.CodeUnauthorized, Message: fmt.Sprintf("token %s (%s) expired at %s: ask an admin of its team for a new one", tok.Name, tok.Prefix, tok.ExpiresAt.Format(time.RFC3339))}
	}
	if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) >= touchEvery {
		if err := s.cfg.Store.TouchToken(ctx, tok.ID, now); err != nil {
			s.cfg.Logger.Warn("recording a token's use failed", "token", tok.ID, "error", err)
		}
	}
	return &Principal{Token: tok, Team: team}, nil
}

func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}
