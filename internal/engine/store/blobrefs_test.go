package store

import (
	"context"
	"testing"
)

func TestReferencedDigestsListsEveryDeploymentsFiles(t *testing.T) {
	s, ctx := openTest(t), context.Background()
	if err := s.CreateProject(ctx, &Project{ID: "p1", Name: "hello", Framework: "auto", RootDirectory: "."}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	lists := map[string]string{
		"d1": `[{"path":"app.py","digest":"aa","size":1,"mode":420},{"path":"b.py","digest":"bb","size":1,"mode":420}]`,
		"d2": `[{"path":"app.py","digest":"aa","size":1,"mode":420},{"path":"c.py","digest":"cc","size":1,"mode":420}]`,
	}
	for id, files := range lists {
		d := &Deployment{ID: id, ProjectID: "p1", Target: "preview", State: "QUEUED", Hostname: "hello-" + id + ".localhost", Files: []byte(files), SealedEnv: []byte("x")}
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
