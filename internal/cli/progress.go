package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
)

// How often the progress display redraws, and how often it asks the engine for the state.
const (
	redrawInterval = 200 * time.Millisecond
	pollInterval   = time.Second
)

// buildProgress shows a build as it runs. On a terminal it redraws one line: the state, the
// time so far and the build log's last line; elsewhere it prints the state when it changes and
// the build log's lines as they come. It owns what it writes: the log follower and the
// display loop write under its lock.
type buildProgress struct {
	out      io.Writer
	terminal bool
	width    int

	mu       sync.Mutex
	partial  []byte // a log line not ended yet
	lastLine string
	state    string
}

func (con *console) newBuildProgress() *buildProgress {
	p := &buildProgress{out: con.stdout, width: 80}
	if f, ok := con.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.terminal = true
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 20 {
			p.width = w
		}
	}
	return p
}

// Write takes the build log as it streams.
func (p *buildProgress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.partial = append(p.partial, b...)
	for {
		i := bytes.IndexByte(p.partial, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := string(p.partial[:i])
		p.partial = p.partial[i+1:]
		if strings.TrimSpace(line) != "" {
			p.lastLine = line
		}
		if !p.terminal {
			if _, err := fmt.Fprintln(p.out, line); err != nil {
				return len(b), err
			}
		}
	}
}

// show records the state and, on a terminal, redraws the line.
func (p *buildProgress) show(state string, elapsed time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	changed := state != p.state
	p.state = state
	if !p.terminal {
		if changed {
			_, _ = fmt.Fprintf(p.out, "ferry: %s\n", state) // the final line reports failures
		}
		return
	}
	status := fmt.Sprintf("%-8s %5s  ", state, elapsed.Round(time.Second))
	room := max(p.width-len(status)-1, 0)
	last := []rune(strings.TrimSpace(p.lastLine))
	if len(last) > room {
		last = last[:room]
	}
	_, _ = fmt.Fprintf(p.out, "\r\x1b[K%s%s", status, string(last))
}

// finish ends the display with the deployment's final line.
func (p *buildProgress) finish(d *api.Deployment, took time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal {
		_, _ = io.WriteString(p.out, "\r\x1b[K")
	} else if len(p.partial) > 0 {
		_, _ = fmt.Fprintln(p.out, string(p.partial))
	}
	_, _ = fmt.Fprintf(p.out, "%s %s in %s: %s (%s)\n", d.ID, d.State, took.Round(100*time.Millisecond), d.URL, d.Target)
}

// watchBuild shows the build of d until it has ended and returns the deployment as it ended;
// an error when it did not end READY.
func (con *console) watchBuild(ctx context.Context, c *client.Client, d *api.Deployment) (*api.Deployment, error) {
	began := time.Now()
	p := con.newBuildProgress()
	if d.State == api.StateQueued || d.State == api.StateBuilding {
		followCtx, stopFollowing := context.WithCancel(ctx)
		defer stopFollowing()
		followed := make(chan struct{})
		go func() {
			defer close(followed)
			// A broken stream only blanks the display: the polled state says how the build ends.
			_ = c.FollowDeploymentLog(followCtx, d.ID, p)
		}()
		redraw := time.NewTicker(redrawInterval)
		defer redraw.Stop()
		lastPoll := time.Now()
		for d.State == api.StateQueued || d.State == api.StateBuilding {
			p.show(d.State, time.Since(began))
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-followed:
				followed = nil // the log ended with the build; the state says how
				lastPoll = time.Time{}
			case <-redraw.C:
			}
			if time.Since(lastPoll) >= pollInterval {
				lastPoll = time.Now()
				now, err := c.GetDeployment(ctx, d.ID)
				if err != nil {
					return nil, err
				}
				d = now
			}
		}
		if followed != nil {
			// The log ends with the build: its last lines are on their way.
			select {
			case <-followed:
			case <-time.After(2 * time.Second):
				stopFollowing()
				<-followed // the follower has stopped writing
			}
		}
	}
	p.finish(d, time.Since(began))
	if d.State != api.StateReady {
		return d, buildFailed(d, nil)
	}
	return d, nil
}
