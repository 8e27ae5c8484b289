package store

import (
	"context"
	"testing"
)

func TestSealedSampleAndUnkeyedDigests(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if sample, err := s.SealedSample(ctx); err != nil || sample != nil {
		t.Fatalf("empty store: %q, %v", sample, err)
	}
	if err := s.CreateProject(ctx, &Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	for id, digest := range map[string]string{"e1": "hmac-sha256:abcd", "e2": "0123abcd"} {
		v := &EnvVar{ID: id, ProjectID: "p1", Key: "K_" + id, SealedValue: []byte("sealed-" + id), ValueDigest: digest, Targets: []string{"production"}}
		if err := s.CreateEnvVar(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	if sample, err := s.SealedSample(ctx); err != nil || len(sample) == 0 {
		t.Fatalf("store with env vars: %q, %v", sample, err)
	}
	if err := s.ForgetUnkeyedDigests(ctx, "hmac-sha256:"); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"e1": "hmac-sha256:abcd", "e2": ""} {
		v, err := s.GetEnvVar(ctx, "p1", id)
		if err != nil || v.ValueDigest != want {
			t.Errorf("%s: digest %q, %v; want %q", id, v.ValueDigest, err, want)
		}
	}
}
