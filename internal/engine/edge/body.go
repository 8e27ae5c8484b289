package edge

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"time"
)

// memoryBodyLimit is how much of a request body is buffered in memory;
// beyond it the body goes to a file.
const memoryBodyLimit = 1 << 20

// bufferBody reads the whole request body before any worker of the app is
// involved, so that a client sending slowly holds up nobody but itself, and
// replaces req.Body with the buffered copy. Its status is non-zero when the
// body was refused; the returned closer releases the buffer.
func (r *Router) bufferBody(req *http.Request, rc *http.ResponseController) (io.Closer, int) {
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength == 0 {
		return io.NopCloser(nil), 0
	}
	limit := r.cfg.MaxBodySize
	if req.ContentLength > limit {
		return nil, http.StatusRequestEntityTooLarge
	}
	_ = rc.SetReadDeadline(time.Now().Add(r.cfg.BodyTimeout))
	defer func() { _ = rc.SetReadDeadline(time.Time{}) }()

	src := clientReader{io.LimitReader(req.Body, limit+1)}
	var inMemory bytes.Buffer
	n, err := io.Copy(&inMemory, io.LimitReader(src, memoryBodyLimit))
	if err != nil {
		return nil, r.readFailure(err)
	}
	buffered := io.NopCloser(bytes.NewReader(inMemory.Bytes()))
	if n == memoryBodyLimit {
		file, err := r.spill(inMemory.Bytes(), src)
		if err != nil {
			return nil, r.readFailure(err)
		}
		info, err := file.Stat()
		if err != nil {
			_ = file.Close() // unlinked: closing frees it
			return nil, r.readFailure(err)
		}
		n = info.Size()
		if n > limit {
			_ = file.Close() // unlinked: closing frees it
			return nil, http.StatusRequestEntityTooLarge
		}
		buffered = file
	}
	req.Body = buffered
	req.ContentLength = n
	req.TransferEncoding = nil
	return buffered, 0
}

// spill writes head and the rest of src to an unlinked temporary file,
// which disappears with its last descriptor, even if the engine dies.
func (r *Router) spill(head []byte, src io.Reader) (*os.File, error) {
	file, err := os.CreateTemp(r.cfg.SpillDir, "request-body-")
	if err != nil {
		return nil, err
	}
	if err := os.Remove(file.Name()); err != nil {
		_ = file.Close() // unlinked: closing frees it
		return nil, err
	}
	if _, err := file.Write(head); err != nil {
		_ = file.Close() // unlinked: closing frees it
		return nil, err
	}
	if _, err := io.Copy(file, src); err != nil {
		_ = file.Close() // unlinked: closing frees it
		return nil, err
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		_ = file.Close() // unlinked: closing frees it
		return nil, err
	}
	return file, nil
}

// clientReader marks errors reading from the client, to tell them from
// failures of the engine's own files.
type clientReader struct{ r io.Reader }

func (c clientReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		err = &readError{err}
	}
	return n, err
}

type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// readFailure is the status for a body that could not be buffered.
func (r *Router) readFailure(err error) int {
	var fromClient *readError
	switch {
	case !errors.As(err, &fromClient):
		r.cfg.Logger.Error("buffer a request body", "error", err)
		return http.StatusInternalServerError
	case errors.Is(err, os.ErrDeadlineExceeded):
		return http.StatusRequestTimeout
	}
	return http.StatusBadRequest
}
