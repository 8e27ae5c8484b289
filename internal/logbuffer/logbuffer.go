// Package logbuffer is a log destination that the goroutines of a service
// under test write and the test reads: a bytes.Buffer would race.
package logbuffer

import (
	"bytes"
	"sync"
)

// Buffer collects what is written to it. Its zero value is ready to use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
