// Package accesslog keeps the access log of each deployment: one JSON line per request the edge
// answered for it, in <dir>/<deployment id>.access.log, capped by the engine's housekeeping like
// the runtime logs (logrotate), and removed with its deployment.
//
// Serving must not wait on disk: Record hands the entry to one writer goroutine per engine
// through a bounded queue and drops it (counted) when the queue is full. The writer collects
// entries for up to flushEvery and appends them in one write per deployment.
package accesslog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/logrotate"
)

// Suffix ends the name of every access log.
const Suffix = ".access.log"

// queueLength bounds the entries waiting for the writer: about a second of a busy engine.
const queueLength = 16384

// flushEvery is how long an entry may wait in memory for others to be written with; a reader
// of the log has it written at once.
const flushEvery = 100 * time.Millisecond

// maxBatchBytes bounds what waits in memory to be written.
const maxBatchBytes = 1 << 20

// message is an entry to write, or an order for the writer: remove a deployment's log, tell a
// reader that everything queued before it is written, or stop.
type message struct {
	entry   api.RequestLogEntry
	remove  string
	written chan struct{}
	stop    bool
}

// Log is the access logs of one engine.
type Log struct {
	dir     string
	log     *slog.Logger
	queue   chan message
	done    chan struct{} // closed when the writer has stopped
	close   sync.Once
	dropped atomic.Int64
}

// New starts the writer of the access logs in dir; Close stops it.
func New(dir string, logger *slog.Logger) *Log {
	l := &Log{dir: dir, log: logger.With("component", "accesslog"), queue: make(chan message, queueLength), done: make(chan struct{})}
	go l.write()
	return l
}

// Path is the access log of a deployment.
func (l *Log) Path(deploymentID string) string {
	return filepath.Join(l.dir, deploymentID+Suffix)
}

// Record queues an entry; when the queue is full the entry is dropped rather than the request held.
func (l *Log) Record(e api.RequestLogEntry) {
	select {
	case l.queue <- message{entry: e}:
	default:
		l.dropped.Add(1)
	}
}

// Dropped is how many entries were dropped because the writer was behind (or stopped).
func (l *Log) Dropped() int64 { return l.dropped.Load() }

// Remove deletes a deployment's access log once the entries queued before are written, and
// drops the entries that come after.
func (l *Log) Remove(deploymentID string) {
	_ = l.await(context.Background(), message{remove: deploymentID, written: make(chan struct{})})
}

// await queues m and waits for the writer to have handled it (or to have stopped, or ctx).
func (l *Log) await(ctx context.Context, m message) error {
	select {
	case l.queue <- m:
	case <-l.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-m.written:
	case <-l.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// Read returns the newest limit entries of a deployment's log, oldest first, once the entries
// recorded before the call are written.
func (l *Log) Read(ctx context.Context, deploymentID string, limit int) ([]api.RequestLogEntry, error) {
	if err := l.await(ctx, message{written: make(chan struct{})}); err != nil {
		return nil, err
	}
	text, _, err := logrotate.Tail(l.Path(deploymentID), limit)
	if err != nil {
		return nil, err
	}
	entries := make([]api.RequestLogEntry, 0, limit)
	for line := range bytes.Lines(text) {
		var e api.RequestLogEntry
		if err := json.Unmarshal(line, &e); err != nil {
			continue // a line cut by a crash mid-write: the rest is readable
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// Close writes what is queued and stops the writer; entries recorded after are dropped.
func (l *Log) Close() {
	l.close.Do(func() { l.queue <- message{stop: true} })
	<-l.done
}

// writer is the state of the writer goroutine, which alone touches the files.
type writer struct {
	*Log
	removed    map[string]bool          // deployments deleted: entries still in flight for them are dropped
	batch      map[string]*bytes.Buffer // lines to append, by deployment
	batchBytes int
}

// write is the writer goroutine: it collects entries for up to flushEvery (or maxBatchBytes) and
// appends them in one write per deployment, so that a busy engine makes a few writes a second
// rather than one or more per request.
func (l *Log) write() {
	defer close(l.done)
	w := &writer{Log: l, removed: map[string]bool{}, batch: map[string]*bytes.Buffer{}}
	flush := time.NewTimer(flushEvery)
	flush.Stop()
	armed := false
	for {
		select {
		case <-flush.C:
			armed = false
			w.flush()
			continue
		case m := <-l.queue:
			switch {
			case m.stop:
				w.flush()
				return
			case m.remove != "":
				w.remove(m.remove)
				close(m.written)
			case m.written != nil: // a reader: it reads what was recorded before it
				w.flush()
				close(m.written)
			default:
				w.add(m.entry)
			}
		}
		if w.batchBytes >= maxBatchBytes {
			w.flush()
		}
		if len(w.batch) > 0 && !armed {
			flush.Reset(flushEvery)
			armed = true
		}
	}
}

func (w *writer) add(e api.RequestLogEntry) {
	if w.removed[e.DeploymentID] {
		return
	}
	buf := w.batch[e.DeploymentID]
	if buf == nil {
		buf = new(bytes.Buffer)
		w.batch[e.DeploymentID] = buf
	}
	before := buf.Len()
	line, _ := json.Marshal(e) // strings, numbers and a time: always encodes
	buf.Write(line)
	buf.WriteByte('\n')
	w.batchBytes += buf.Len() - before
}

// remove deletes a deployment's log, with what was recorded for it before, and drops the rest.
func (w *writer) remove(deploymentID string) {
	delete(w.batch, deploymentID)
	w.removed[deploymentID] = true
	for _, path := range []string{w.Path(deploymentID), w.Path(deploymentID) + logrotate.RotatedSuffix} {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			w.log.Warn("cannot remove a deleted deployment's access log", "deployment", deploymentID, "error", err)
		}
	}
}

// flush appends the batch to the logs and empties it.
func (w *writer) flush() {
	for id, buf := range w.batch {
		if err := appendTo(w.Path(id), buf.Bytes()); err != nil {
			w.log.Warn("cannot write an access log", "deployment", id, "error", err)
		}
		delete(w.batch, id)
	}
	w.batchBytes = 0
}

func appendTo(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return errors.Join(err, f.Close())
}
