package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/gitsource"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
	"github.com/ferryhq/terraform-provider-ferry/internal/gittest"
)

// requirePython skips a test that builds when the builds' interpreter is missing.
func requirePython(t *testing.T) {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import venv").Run(); err != nil {
		t.Skipf("/usr/bin/python3 with venv is needed to build: %v", err)
	}
}

func TestBuildKeyCoversTheWholeBuildInput(t *testing.T) {
	empty, install := "", "pip install ."
	base := BuildInput{SourceDigest: "s", RootDirectory: ".", Framework: "auto", Python: "/usr/bin/python3", Engine: "1.0.0"}
	key := BuildKey(base)
	if BuildKey(base) != key {
		t.Fatal("the key is not stable")
	}
	for name, change := range map[string]func(*BuildInput){
		"source":               func(in *BuildInput) { in.SourceDigest = "t" },
		"root directory":       func(in *BuildInput) { in.RootDirectory = "api" },
		"framework":            func(in *BuildInput) { in.Framework = "flask" },
		"install command":      func(in *BuildInput) { in.InstallCommand = &install },
		"install command skip": func(in *BuildInput) { in.InstallCommand = &empty }, // "" skips, nil is the default
		"build command":        func(in *BuildInput) { in.BuildCommand = &install },
		"python":               func(in *BuildInput) { in.Python = "/usr/bin/python3.12" },
		"engine":               func(in *BuildInput) { in.Engine = "1.0.1" },
	} {
		in := base
		change(&in)
		if BuildKey(in) == key {
			t.Errorf("a change of the %s keeps the build key", name)
		}
	}
}

// setEnv sets a production and preview env var of a project, as the API does.
func setEnv(t *testing.T, svc *Service, projectID, id, key, value string) {
	t.Helper()
	ctx := context.Background()
	sealed, err := svc.cfg.Secrets.Seal(ctx, []byte(value))
	if err != nil {
		t.Fatal(err)
	}
	v := &store.EnvVar{ID: id, ProjectID: projectID, Key: key, SealedValue: sealed, Targets: []string{"preview", "production"}}
	err = svc.cfg.Store.UpdateEnvVar(ctx, v)
	if errors.Is(err, store.ErrNotFound) {
		err = svc.cfg.Store.CreateEnvVar(ctx, v)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func frozenValue(t *testing.T, svc *Service, d *store.Deployment, key string) string {
	t.Helper()
	env, err := OpenEnv(context.Background(), svc.cfg.Secrets, d)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	return "<unset>"
}

func TestRedeployServesTheBuildOutputWithANewEnv(t *testing.T) {
	requirePython(t)
	svc, st, bl := newService(t)
	ctx := context.Background()
	skip := ""
	if err := st.CreateProject(ctx, &store.Project{ID: "prj_1", Name: "hello", Framework: "auto", RootDirectory: ".", InstallCommand: &skip}, "hello.localhost"); err != nil {
		t.Fatal(err)
	}
	app := upload(t, bl, "from http.server import BaseHTTPRequestHandler\n\n\nclass handler(BaseHTTPRequestHandler):\n    pass\n")
	app.Path = "api/index.py"
	files := []api.File{app}
	setEnv(t, svc, "prj_1", "env_1", "GREETING", "hello")

	first, err := svc.Create(ctx, api.DeploymentRequest{ProjectID: "prj_1", Files: files, Production: true})
	if err != nil {
		t.Fatal(err)
	}
	built := waitState(t, st, first.ID, api.StateReady, api.StateError)
	if built.State != api.StateReady {
		t.Fatalf("first build: %s %s", built.State, built.ErrorMessage)
	}

	setEnv(t, svc, "prj_1", "env_1", "GREETING", "bonjour")
	again, err := svc.Create(ctx, api.DeploymentRequest{ProjectID: "prj_1", Files: files, Production: true})
	if err != nil {
		t.Fatal(err)
	}
	if again.State != api.StateReady || again.BuildOf != first.ID || again.Run == nil || again.Run.Entrypoint != built.Run.Entrypoint {
		t.Fatalf("redeploy: %+v, want READY at once on %s's build", again, first.ID)
	}
	if again.EnvDigest == built.EnvDigest {
		t.Error("the env digest did not change with the env")
	}
	stored, err := st.GetDeployment(ctx, again.ID)
	if err != nil || stored.State != api.StateReady || stored.BuildOf != first.ID {
		t.Fatalf("redeploy as stored: %+v, %v", stored, err)
	}
	if got := frozenValue(t, svc, stored, "GREETING"); got != "bonjour" {
		t.Errorf("redeploy's GREETING = %q, want bonjour", got)
	}
	if id, _ := st.ProductionDeploymentID(ctx, "prj_1"); id != again.ID {
		t.Errorf("production serves %s, want the redeploy %s", id, again.ID)
	}
	log, err := os.ReadFile(svc.LogPath(again.ID))
	if err != nil || !strings.Contains(string(log), "no build step ran") {
		t.Errorf("redeploy log %q, %v", log, err)
	}
	if _, err := os.Stat(filepath.Join(svc.Dir(again.ID), "venv")); !errors.Is(err, os.ErrNotExist) {
		t.Error("the redeploy built a venv of its own")
	}

	// A redeploy of a redeploy still points at the directory that holds the output.
	third, err := svc.Create(ctx, api.DeploymentRequest{ProjectID: "prj_1", Files: files})
	if err != nil || third.BuildOf != first.ID {
		t.Fatalf("second redeploy: %+v, %v", third, err)
	}

	// Without the build cache, or with another build setting, it builds.
	noCache := false
	fresh, err := svc.Create(ctx, api.DeploymentRequest{ProjectID: "prj_1", Files: files, UseBuildCache: &noCache})
	if err != nil || fresh.State != api.StateQueued || fresh.BuildOf != "" {
		t.Fatalf("use_build_cache = false: %+v, %v; want a queued build", fresh, err)
	}
	project, _ := st.GetProject(ctx, "prj_1")
	project.RootDirectory = "api"
	if err := st.UpdateProject(ctx, project, "hello.localhost", func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	rebuilt, err := svc.Create(ctx, api.DeploymentRequest{ProjectID: "prj_1", Files: files})
	if err != nil || rebuilt.State != api.StateQueued {
		t.Fatalf("after a settings change: %+v, %v; want a queued build", rebuilt, err)
	}
	waitState(t, st, fresh.ID, api.StateReady, api.StateError)
	waitState(t, st, rebuilt.ID, api.StateReady, api.StateError)

	// The first deployment's directory outlives it while redeploys serve its output.
	if err := svc.Delete(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(svc.Dir(first.ID), "venv")); err != nil {
		t.Fatalf("the build output went with its first deployment while redeploys serve it: %v", err)
	}
	for _, id := range []string{again.ID, third.ID} {
		if err := svc.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{first.ID, again.ID, third.ID} {
		if _, err := os.Stat(svc.Dir(id)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s's directory is left once nothing serves it: %v", id, err)
		}
	}
}

func TestGitDeploymentRecordsItsCommit(t *testing.T) {
	repo := gittest.New(t)
	sha := repo.Commit("Add the app", map[string]string{"app.py": "app = None\n", ".vercelignore": "tests/\n", "tests/test_app.py": "x"})
	svc, st, _ := newStoppedService(t, func(c *Config) {
		c.Git = gitsource.New(t.TempDir())
		c.URLHost = func(host string) string { return host + ":3080" }
	})
	ctx := context.Background()
	if err := st.CreateProject(ctx, &store.Project{ID: "prj_1", Name: "shop", Framework: "auto", RootDirectory: ".",
		GitRepositoryURL: repo.Dir, ProductionBranch: "main"}, "shop.localhost"); err != nil {
		t.Fatal(err)
	}
	// No URL and no ref: the project's repository and production branch.
	d, err := svc.Create(ctx, api.DeploymentRequest{ProjectID: "prj_1", Git: &api.GitSource{}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Git == nil || d.Git.SHA != sha || d.GitBranch != "main" || d.State != api.StateQueued {
		t.Fatalf("git deployment: %+v", d)
	}
	var files []api.File
	stored, _ := st.GetDeployment(ctx, d.ID)
	if err := json.Unmarshal(stored.Files, &files); err != nil || len(files) != 2 || files[0].Path != ".vercelignore" || files[1].Path != "app.py" {
		t.Errorf("files: %+v, %v (tests/ is in .vercelignore)", files, err)
	}
	for key, want := range map[string]string{
		"VERCEL_GIT_COMMIT_SHA":     sha,
		"VERCEL_GIT_COMMIT_REF":     "main",
		"VERCEL_GIT_COMMIT_MESSAGE": "Add the app",
		"VERCEL_GIT_PROVIDER":       "local",
		"VERCEL_BRANCH_URL":         "shop-git-main.localhost:3080",
		"VERCEL_URL":                d.Hostname + ":3080",
		"CI":                        "<unset>", // set while building only
	} {
		if got := frozenValue(t, svc, stored, key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}

	for _, src := range []api.GitSource{
		{URL: repo.Dir, Ref: "no-such-branch"},
		{URL: filepath.Join(repo.Dir, "nope")},
		{URL: repo.Dir, Commit: strings.Repeat("a", 40)},
	} {
		_, err := svc.Create(ctx, api.DeploymentRequest{ProjectID: "prj_1", Git: &src})
		var input *InputError
		if !errors.As(err, &input) || input.Code != api.CodeBadRequest || !strings.HasPrefix(input.Field, "git.") {
			t.Errorf("%+v: %v, want a bad request on a git field", src, err)
		}
	}
	if list, _ := st.ListDeployments(ctx, "prj_1"); len(list) != 1 {
		t.Errorf("refused git sources left deployments: %d, want 1", len(list))
	}
	if _, err := svc.Create(ctx, api.DeploymentRequest{ProjectID: "prj_1", Git: &api.GitSource{}, Files: files}); err == nil {
		t.Error("a deployment of both files and git was accepted")
	}
	if !slices.IsSortedFunc(files, func(a, b api.File) int { return strings.Compare(a.Path, b.Path) }) {
		t.Error("git files are not sorted")
	}
}
