package logrotate

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"sync"
)

// rotating keeps readers of a log (Tail, Follower.Next) from seeing a rotation half done: between
// the new older generation's rename and the cut of the live file, offsets mean nothing. Rotations
// and readers run in one engine process, so a lock is enough.
var rotating sync.RWMutex

// maxFollowRead bounds what one Follower.Next returns, so that a follower far behind catches up in steps.
const maxFollowRead = 1 << 20

// Follower reads what is appended to a log, across its rotations.
type Follower struct {
	path   string
	offset int64       // in the live file
	older  fs.FileInfo // the older generation when last read; nil when there was none
}

// tailChunk is how much Tail reads at a time, from the end back, until it has its lines.
const tailChunk = 64 << 10

// Tail returns the last n lines of the log at path (its older generation included when the live
// file holds fewer), and a Follower that reads on from there, so that nothing is lost or repeated
// between the two. A missing log is empty. It reads from the end back, no more than it needs.
func Tail(path string, n int) ([]byte, *Follower, error) {
	rotating.RLock()
	defer rotating.RUnlock()
	// The older generation, then the live file, read as one: a rotation cuts at a block
	// boundary, mid-line, so a line may start in one and end in the other.
	var log concatenation
	defer log.close()
	follower := &Follower{path: path}
	for _, p := range []string{path + RotatedSuffix, path} {
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		info, err := f.Stat()
		if err != nil {
			_ = f.Close()
			return nil, nil, err
		}
		log.parts = append(log.parts, part{f, info})
		if p == path {
			follower.offset = info.Size()
		} else {
			follower.older = info
		}
	}
	// Chunks from the end back, until they hold n newlines before the last line's own.
	var chunks [][]byte
	newlines := 0
	for end := log.size(); end > 0 && newlines <= n && n > 0; {
		start := max(end-tailChunk, 0)
		chunk := make([]byte, end-start)
		if err := log.readAt(chunk, start); err != nil {
			return nil, nil, err
		}
		newlines += bytes.Count(chunk, []byte{'\n'})
		chunks = append(chunks, chunk)
		end = start
	}
	slices.Reverse(chunks)
	tail, _ := lastLines(bytes.Join(chunks, nil), n)
	return tail, follower, nil
}

// part is one file of a concatenation, with its size when opened.
type part struct {
	file *os.File
	info fs.FileInfo
}

// concatenation reads files one after the other as one.
type concatenation struct{ parts []part }

func (c *concatenation) size() int64 {
	var n int64
	for _, p := range c.parts {
		n += p.info.Size()
	}
	return n
}

// readAt fills buf from offset off of the concatenation, which must hold that much.
func (c *concatenation) readAt(buf []byte, off int64) error {
	for _, p := range c.parts {
		if len(buf) == 0 {
			return nil
		}
		if off >= p.info.Size() {
			off -= p.info.Size()
			continue
		}
		n := min(int64(len(buf)), p.info.Size()-off)
		if _, err := p.file.ReadAt(buf[:n], off); err != nil {
			return err
		}
		buf, off = buf[n:], 0
	}
	return nil
}

func (c *concatenation) close() {
	for _, p := range c.parts {
		_ = p.file.Close() // read only
	}
}

// FollowFromStart returns a Follower that reads the log at path from the start of its live file.
func FollowFromStart(path string) *Follower {
	rotating.RLock()
	defer rotating.RUnlock()
	older, _ := os.Stat(path + RotatedSuffix) // none yet is fine
	return &Follower{path: path, older: older}
}

// Next returns what was appended to the log since the last call (at most maxFollowRead bytes).
func (f *Follower) Next() ([]byte, error) {
	rotating.RLock()
	defer rotating.RUnlock()
	var out []byte
	older, err := os.Stat(f.path + RotatedSuffix)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if older != nil && (f.older == nil || !os.SameFile(f.older, older)) {
		// Rotated since the last read: the older generation is what was cut from the head of the
		// live file, so what was not read yet of it comes first.
		cut := older.Size()
		if f.offset < cut {
			if out, err = readRange(f.path+RotatedSuffix, f.offset, cut); err != nil {
				return nil, err
			}
			f.offset = 0
		} else {
			f.offset -= cut
		}
	}
	f.older = older
	live, err := os.Open(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil // removed with its deployment, or not written yet
	}
	if err != nil {
		return nil, err
	}
	defer func() { _ = live.Close() }() // read only
	info, err := live.Stat()
	if err != nil {
		return nil, err
	}
	if info.Size() < f.offset {
		f.offset = 0 // emptied by something other than a rotation: start over
	}
	end := min(info.Size(), f.offset+maxFollowRead-int64(len(out)))
	if end > f.offset {
		more := make([]byte, end-f.offset)
		n, err := live.ReadAt(more, f.offset)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		out = append(out, more[:n]...)
		f.offset += int64(n)
	}
	return out, nil
}

// lastLines returns the last n lines of text, and how many of the n it lacks. A last line
// without its newline counts as a line.
func lastLines(text []byte, n int) ([]byte, int) {
	if n <= 0 {
		return nil, 0
	}
	end := len(text)
	if end > 0 && text[end-1] == '\n' {
		end--
	}
	start := end
	for found := 0; found < n; found++ {
		i := bytes.LastIndexByte(text[:start], '\n')
		if i < 0 {
			if len(text) == 0 {
				return nil, n
			}
			return text, n - found - 1
		}
		start = i
	}
	return text[start+1:], 0
}

func readRange(path string, from, to int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only
	data := make([]byte, to-from)
	n, err := f.ReadAt(data, from)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return data[:n], nil
}
