package apiserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// previewProtectionOf returns a project's protection; nil when it has none.
func (s *Server) previewProtectionOf(ctx context.Context, projectID string) (*store.PreviewProtection, error) {
	p, err := s.cfg.Store.GetPreviewProtection(ctx, projectID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return p, err
}

// previewProtectionOut is what answers say of a protection: digests only.
func previewProtectionOut(p *store.PreviewProtection) *api.PreviewProtection {
	if p == nil {
		return nil
	}
	return &api.PreviewProtection{PasswordDigest: p.PasswordDigest, BypassDigest: p.BypassDigest}
}

// validatePreviewProtection refuses a request that could not be applied, before anything
// changes; current is the project's protection now (nil for none, or a new project). Its
// messages never quote a secret.
func validatePreviewProtection(req *api.PreviewProtectionRequest, current *store.PreviewProtection) error {
	if req == nil {
		return nil
	}
	bad := func(field, format string, args ...any) error {
		return &api.Error{Code: api.CodeBadRequest, Field: "preview_protection." + field, Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case req.Password == "" && current == nil:
		return bad("password", "preview protection needs a password: give one of %d to %d characters", api.MinPreviewPasswordLength, api.MaxPreviewSecretLength)
	case req.Password != "" && (len(req.Password) < api.MinPreviewPasswordLength || len(req.Password) > api.MaxPreviewSecretLength):
		return bad("password", "the preview password holds %d bytes: give %d to %d", len(req.Password), api.MinPreviewPasswordLength, api.MaxPreviewSecretLength)
	case strings.IndexFunc(req.Password, unicode.IsControl) >= 0:
		return bad("password", "the preview password holds a control character (a newline, a tab...), which a password form cannot send: leave them out")
	case req.NoBypass && req.BypassSecret != "":
		return bad("bypass_secret", "a bypass secret and no_bypass were both given: give one or the other")
	case req.BypassSecret != "" && (len(req.BypassSecret) < api.MinBypassSecretLength || len(req.BypassSecret) > api.MaxPreviewSecretLength):
		return bad("bypass_secret", "the bypass secret holds %d bytes: give %d to %d, such as `openssl rand -hex 32` prints", len(req.BypassSecret), api.MinBypassSecretLength, api.MaxPreviewSecretLength)
	case strings.IndexFunc(req.BypassSecret, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0:
		return bad("bypass_secret", "the bypass secret holds a character a header cannot carry (a space, a control or non-ASCII character): use letters, digits and punctuation, such as `openssl rand -hex 32` prints")
	}
	return nil
}

// applyPreviewProtection protects a project's previews as req says (nil: not at all), keeping
// from current what req leaves out.
func (s *Server) applyPreviewProtection(ctx context.Context, projectID string, req *api.PreviewProtectionRequest, current *store.PreviewProtection) error {
	if req == nil {
		if current == nil {
			return nil
		}
		return s.cfg.Store.DeletePreviewProtection(ctx, projectID)
	}
	next := &store.PreviewProtection{ProjectID: projectID, UpdatedAt: time.Now().UTC()}
	if current != nil {
		next.SealedPassword, next.PasswordDigest = current.SealedPassword, current.PasswordDigest
		next.SealedBypass, next.BypassDigest = current.SealedBypass, current.BypassDigest
	}
	var err error
	if req.Password != "" {
		if next.SealedPassword, next.PasswordDigest, err = s.sealWithDigest(ctx, req.Password); err != nil {
			return err
		}
	}
	switch {
	case req.NoBypass:
		next.SealedBypass, next.BypassDigest = nil, ""
	case req.BypassSecret != "":
		if next.SealedBypass, next.BypassDigest, err = s.sealWithDigest(ctx, req.BypassSecret); err != nil {
			return err
		}
	}
	if current != nil && next.PasswordDigest == current.PasswordDigest && next.BypassDigest == current.BypassDigest {
		return nil // the same secrets: no route change, and signed-in browsers stay signed in
	}
	return s.cfg.Store.SetPreviewProtection(ctx, next)
}

func (s *Server) sealWithDigest(ctx context.Context, value string) (sealed []byte, digest string, err error) {
	if sealed, err = s.cfg.Secrets.Seal(ctx, []byte(value)); err != nil {
		return nil, "", err
	}
	digest, err = s.cfg.Secrets.Digest(ctx, []byte(value))
	return sealed, digest, err
}
