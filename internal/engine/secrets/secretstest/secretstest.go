// Package secretstest is the conformance suite of secrets.Keeper.
package secretstest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets"
)

// Run runs the suite. open returns a new keeper with a key of its own.
func Run(t *testing.T, open func(t *testing.T) secrets.Keeper) {
	t.Run("SealOpen", func(t *testing.T) { testSealOpen(t, open(t)) })
	t.Run("OtherKeyCannotOpen", func(t *testing.T) { testOtherKeyCannotOpen(t, open(t), open(t)) })
	t.Run("DigestIsKeyed", func(t *testing.T) { testDigestIsKeyed(t, open(t), open(t)) })
}

func testSealOpen(t *testing.T, k secrets.Keeper) {
	ctx := context.Background()
	secret := []byte("postgres://admin:s3cret@db")
	sealed, err := k.Seal(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("s3cret")) {
		t.Fatal("the sealed value contains the plaintext")
	}
	again, err := k.Seal(ctx, secret)
	if err != nil || bytes.Equal(again, sealed) {
		t.Fatalf("sealing twice gave the same result (%v): equal values would show in the store", err)
	}
	for _, s := range [][]byte{sealed, again} {
		plain, err := k.Open(ctx, s)
		if err != nil || !bytes.Equal(plain, secret) {
			t.Fatalf("Open = %q, %v", plain, err)
		}
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	for _, bad := range [][]byte{tampered, sealed[:3], nil} {
		if _, err := k.Open(ctx, bad); !errors.Is(err, secrets.ErrWrongKey) {
			t.Errorf("Open of a damaged value: %v, want ErrWrongKey", err)
		}
	}
}

func testOtherKeyCannotOpen(t *testing.T, a, b secrets.Keeper) {
	ctx := context.Background()
	sealed, err := a.Seal(ctx, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Open(ctx, sealed); !errors.Is(err, secrets.ErrWrongKey) {
		t.Fatalf("another key's value: %v, want ErrWrongKey", err)
	}
}

func testDigestIsKeyed(t *testing.T, a, b secrets.Keeper) {
	ctx := context.Background()
	digest := func(k secrets.Keeper, v string) string {
		t.Helper()
		d, err := k.Digest(ctx, []byte(v))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	da := digest(a, "s3cret")
	if !strings.HasPrefix(da, api.DigestPrefix) || len(da) < len(api.DigestPrefix)+32 {
		t.Fatalf("digest %q: want %s and at least 32 hex characters", da, api.DigestPrefix)
	}
	if strings.Contains(da, "s3cret") {
		t.Fatal("the digest contains the value")
	}
	if da != digest(a, "s3cret") || da == digest(a, "s3cret2") || da == digest(b, "s3cret") {
		t.Error("a digest must depend on the value and the key, and only on them")
	}
}
