package apiserver

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/deploy"
)

func TestDeploymentSourceFiles(t *testing.T) {
	s := newInputServer(t, deploy.Limits{})
	p := s.project(t)
	app := []byte("app = None  # <b>\n")
	big := bytes.Repeat([]byte("x"), api.MaxSourceFileBytes+1)
	files := []api.File{withPath(s.upload(t, app), "src/app.py"), withPath(s.upload(t, big), "data.bin"), withPath(s.upload(t, []byte("a")), "a b.txt")}
	var d api.Deployment
	if status, e := call(t, s.srv, "POST", "/v1/deployments", api.DeploymentRequest{ProjectID: p.ID, Files: files}, &d); status != 201 {
		t.Fatalf("create: %d %+v", status, e)
	}

	var list api.DeploymentFiles
	if status, e := call(t, s.srv, "GET", "/v1/deployments/"+d.ID+"/files", nil, &list); status != 200 {
		t.Fatalf("list: %d %+v", status, e)
	}
	var paths []string
	for _, f := range list.Files {
		paths = append(paths, f.Path)
	}
	if strings.Join(paths, ",") != "a b.txt,data.bin,src/app.py" || list.Files[2].Size != int64(len(app)) || list.Files[2].Digest != files[0].Digest {
		t.Fatalf("files: %+v", list.Files)
	}

	get := func(path string) (int, string) {
		resp, err := http.Get(s.srv.URL + "/v1/deployments/" + d.ID + "/files/" + path)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if status, body := get("src/app.py"); status != 200 || body != string(app) {
		t.Errorf("src/app.py: %d %q", status, body)
	}
	if status, body := get("a%20b.txt"); status != 200 || body != "a" {
		t.Errorf("a b.txt: %d %q", status, body)
	}
	if status, body := get("data.bin"); status != http.StatusRequestEntityTooLarge || !strings.Contains(body, "served up to") {
		t.Errorf("a file over the cap: %d %s", status, body)
	}
	if status, body := get("src/missing.py"); status != 404 || !strings.Contains(body, "has no file") {
		t.Errorf("a missing file: %d %s", status, body)
	}
}
