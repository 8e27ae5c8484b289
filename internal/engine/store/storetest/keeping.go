package storetest

import (
	"context"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

func testReferencedDigestsListsEveryDeploymentsFiles(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	if err := s.CreateProject(ctx, &store.Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	lists := map[string]string{
		"d1": `[{"path":"app.py","digest":"aa","size":1,"mode":420},{"path":"b.py","digest":"bb","size":1,"mode":420}]`,
		"d2": `[{"path":"app.py","digest":"aa","size":1,"mode":420},{"path":"c.py","digest":"cc","size":1,"mode":420}]`,
	}
	for id, files := range lists {
		d := &store.Deployment{ID: id, ProjectID: "p1", Target: "preview", State: "QUEUED", Hostname: "hello-" + id + ".localhost", Files: []byte(files), SealedEnv: []byte("x")}
		if err := s.EnqueueDeployment(ctx, d, 1000); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ReferencedDigests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !got["aa"] || !got["bb"] || !got["cc"] {
		t.Fatalf("referenced %v, want aa, bb and cc", got)
	}

	// A build output shared with other nodes is kept while a deployment's run spec names it.
	built := &store.Deployment{ID: "d3", ProjectID: "p1", Target: "preview", Hostname: "hello-d3.localhost", Files: []byte("[]"), SealedEnv: []byte("x"),
		Run: &runspec.Spec{AppDir: "src", Python: "venv/bin/python", Entrypoint: "app:app", Kind: runspec.KindWSGI, Output: "oo"}}
	if err := s.InsertReady(ctx, built, store.Moves{}); err != nil {
		t.Fatal(err)
	}
	if got, err = s.ReferencedDigests(ctx); err != nil || !got["oo"] {
		t.Fatalf("referenced %v, %v; want the build output oo among them", got, err)
	}
	if err := s.DeleteDeployment(ctx, "d3"); err != nil {
		t.Fatal(err)
	}

	if err := s.DeleteDeployment(ctx, "d2"); err != nil {
		t.Fatal(err)
	}
	got, err = s.ReferencedDigests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["cc"] {
		t.Fatalf("after deleting d2, referenced %v, want aa and bb", got)
	}
}

func testSealedSampleAndUnkeyedDigests(t *testing.T, s store.Store, _ func(*testing.T) store.Store) {
	ctx := context.Background()
	if sample, err := s.SealedSample(ctx); err != nil || sample != nil {
		t.Fatalf("empty store: %q, %v", sample, err)
	}
	if err := s.CreateProject(ctx, &store.Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	for id, digest := range map[string]string{"e1": "hmac-sha256:abcd", "e2": "0123abcd"} {
		v := &store.EnvVar{ID: id, ProjectID: "p1", Key: "K_" + id, SealedValue: []byte("sealed-" + id), ValueDigest: digest, Targets: []string{"production"}}
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
