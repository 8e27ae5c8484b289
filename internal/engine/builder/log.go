package builder

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
)

const (
	tailLines     = 40
	tailLineBytes = 1000 // a minified blob printed by a build must not fill the error

	// MaxLogBytes caps what a build's commands write to its log: a build that
	// prints without end must not fill the disk. The last lines are still
	// remembered, for the error of a failed build.
	MaxLogBytes = 16 << 20
)

// buildLog copies what the build's commands print to the user's log, up to
// MaxLogBytes, and remembers the last lines of the current step, for
// Error.LogTail. ferry's own narration is always written.
type buildLog struct {
	mu        sync.Mutex // commands killed on timeout may still be writing when the step reports
	out       io.Writer
	lines     []string
	partial   []byte
	written   int64 // bytes of command output written to out
	truncated bool
}

func newBuildLog(out io.Writer) *buildLog {
	if out == nil {
		out = io.Discard
	}
	return &buildLog{out: out}
}

func (l *buildLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.remember(p)
	room := MaxLogBytes - l.written
	switch {
	case l.truncated:
	case int64(len(p)) <= room:
		l.written += int64(len(p))
		// A broken log writer must not fail the build it describes.
		_, _ = l.out.Write(p)
	default:
		l.written = MaxLogBytes
		l.truncated = true
		_, _ = l.out.Write(p[:room])
		_, _ = fmt.Fprintf(l.out, "\nferry: the build's output passed %d MiB; the rest is not written to this log\n", MaxLogBytes>>20)
	}
	return len(p), nil
}

// printf writes one line of ferry's own narration, which the cap never cuts.
func (l *buildLog) printf(format string, args ...any) {
	line := fmt.Sprintf("ferry: "+format+"\n", args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.remember([]byte(line))
	_, _ = io.WriteString(l.out, line)
}

func (l *buildLog) remember(p []byte) {
	for len(p) > 0 {
		line, rest, complete := bytes.Cut(p, []byte("\n"))
		if room := tailLineBytes - len(l.partial); room > 0 {
			l.partial = append(l.partial, line[:min(len(line), room)]...)
		}
		p = rest
		if !complete {
			return
		}
		l.lines = append(l.lines, strings.TrimRight(string(l.partial), "\r"))
		l.partial = l.partial[:0]
		if len(l.lines) > tailLines {
			l.lines = l.lines[len(l.lines)-tailLines:]
		}
	}
}

func (l *buildLog) resetTail() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines, l.partial = nil, nil
}

// tail is the current step's last lines, including an unfinished one.
func (l *buildLog) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := l.lines
	if len(l.partial) > 0 {
		lines = append(lines[:len(lines):len(lines)], string(l.partial))
	}
	return strings.Join(lines, "\n")
}
