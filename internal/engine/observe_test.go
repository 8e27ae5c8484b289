package engine_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
)

// lockedBuffer collects a followed stream while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// writePrintingApp writes a Flask app that prints a line naming each request's path.
func writePrintingApp(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "app.py"), `from flask import Flask, request
app = Flask(__name__)

@app.get("/")
@app.get("/<path:path>")
def index(path=""):
    print("served /" + path, flush=True)
    if path == "fail":
        return "broken\n", 503
    return "hello " + path + "\n"
`)
	writeFile(t, filepath.Join(dir, "requirements.txt"), "flask\n")
	return dir
}

// What an app prints is in its runtime log, read whole or followed, per deployment and per
// project; a deleted deployment's log is gone and its follow ends.
func TestRuntimeLogThroughTheAPI(t *testing.T) {
	needFlask(t)
	c, addr := startEngine(t)
	ctx := context.Background()
	p := newProject(t, c, "printer")
	d := deploy(t, c, p.ID, writePrintingApp(t))
	if d.State != api.StateReady {
		t.Fatalf("deployment: %s %s", d.State, d.ErrorMessage)
	}

	var followed, projectFollowed lockedBuffer
	followCtx, stopFollowing := context.WithCancel(ctx)
	defer stopFollowing()
	followEnded := make(chan error, 1)
	go func() { followEnded <- c.FollowRuntimeLog(followCtx, d.ID, 10, &followed) }()
	projectEnded := make(chan error, 1)
	go func() { projectEnded <- c.FollowProjectRuntimeLog(followCtx, p.Name, 10, true, &projectFollowed) }()

	if status, body := get(t, addr, at(d, "/first")); status != 200 {
		t.Fatalf("GET /first: %d %q", status, body)
	}
	waitFor(t, "the line in the followed log", func() string {
		if !strings.Contains(followed.String(), "served /first\n") {
			return "followed so far: " + followed.String()
		}
		return ""
	})
	waitFor(t, "the prefixed line in the project's followed log", func() string {
		if !strings.Contains(projectFollowed.String(), d.ID+" served /first\n") {
			return "followed so far: " + projectFollowed.String()
		}
		return ""
	})
	if status, _ := get(t, addr, at(d, "/second")); status != 200 {
		t.Fatalf("GET /second: %d", status)
	}
	waitFor(t, "the second line in the followed log", func() string {
		if !strings.Contains(followed.String(), "served /first\nserved /second\n") {
			return "followed so far: " + followed.String()
		}
		return ""
	})

	text, err := c.RuntimeLog(ctx, d.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if text != "served /second\n" {
		t.Errorf("tail=1: %q, want the last line only", text)
	}
	var project bytes.Buffer
	if err := c.FollowProjectRuntimeLog(ctx, p.ID, 0, false, &project); err != nil {
		t.Fatal(err)
	}
	if want := d.ID + " served /first\n" + d.ID + " served /second\n"; !strings.Contains(project.String(), want) {
		t.Errorf("project runtime log %q lacks %q", project.String(), want)
	}

	if err := c.DeleteDeployment(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-followEnded:
		if err != nil {
			t.Errorf("follow of a deleted deployment ended with %v, want a clean end", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the follow of a deleted deployment did not end")
	}
	var apiErr *client.Error
	if _, err := c.RuntimeLog(ctx, d.ID, 0); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Errorf("runtime log of a deleted deployment: %v, want 404", err)
	}
	project.Reset()
	if err := c.FollowProjectRuntimeLog(ctx, p.ID, 100, false, &project); err != nil {
		t.Fatal(err)
	}
	if project.Len() != 0 {
		t.Errorf("the project's runtime log still shows a deleted deployment: %q", project.String())
	}
	stopFollowing()
	if err := <-projectEnded; err != nil {
		t.Errorf("project follow ended by its caller: %v", err)
	}
}
