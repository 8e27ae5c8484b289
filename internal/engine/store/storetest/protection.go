package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

func testPreviewProtectionIsKeptAndRouted(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	createProject(t, s, "p1", "guarded")
	createProject(t, s, "p2", "open")
	if _, err := s.GetPreviewProtection(ctx, "p1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("protection of a new project: %v, want ErrNotFound", err)
	}
	if err := s.SetPreviewProtection(ctx, &store.PreviewProtection{ProjectID: "missing", SealedPassword: []byte("x"), PasswordDigest: "d", UpdatedAt: time.Now()}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("protecting a missing project: %v, want ErrNotFound", err)
	}
	before, err := s.RoutesVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	set := &store.PreviewProtection{ProjectID: "p1", SealedPassword: []byte("sealed pw"), PasswordDigest: "digest:pw", UpdatedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	if err := s.SetPreviewProtection(ctx, set); err != nil {
		t.Fatal(err)
	}
	set.SealedBypass, set.BypassDigest = []byte("sealed bypass"), "digest:bypass"
	if err := s.SetPreviewProtection(ctx, set); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetPreviewProtection(ctx, "p1")
	if err != nil || !bytes.Equal(got.SealedPassword, set.SealedPassword) || got.PasswordDigest != set.PasswordDigest ||
		!bytes.Equal(got.SealedBypass, set.SealedBypass) || got.BypassDigest != set.BypassDigest || !got.UpdatedAt.Equal(set.UpdatedAt) {
		t.Fatalf("protection: %+v, %v; want %+v", got, err, set)
	}
	after, err := s.RoutesVersion(ctx)
	if err != nil || after <= before {
		t.Fatalf("routes version %d -> %d (%v): the edge must learn of a protection", before, after, err)
	}
	routes, err := s.ReadRoutes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes.Routes {
		switch {
		case r.ProjectName == "guarded" && (r.Protection == nil || r.Protection.ProjectID != "p1" || !bytes.Equal(r.Protection.SealedBypass, set.SealedBypass)):
			t.Errorf("route %s: protection %+v, want the project's", r.Hostname, r.Protection)
		case r.ProjectName == "open" && r.Protection != nil:
			t.Errorf("route %s of an unprotected project: protection %+v", r.Hostname, r.Protection)
		}
	}
	if err := s.DeletePreviewProtection(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetPreviewProtection(ctx, "p1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v, want ErrNotFound", err)
	}
	if err := s.SetPreviewProtection(ctx, set); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteProject(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetPreviewProtection(ctx, "p1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("protection of a deleted project: %v, want ErrNotFound", err)
	}
}
