// Package artifacts defines where the engine keeps content: the files of
// uploaded sources, each named by the sha256 of its content. Implementations
// live in packages of their own (localfs, the embedded default; an S3 store
// for several engine nodes); artifactstest holds the conformance suite every
// one passes.
package artifacts

import (
	"context"
	"errors"
	"io"
	"regexp"
	"time"
)

// ErrNotFound is returned for a blob that is not stored.
var ErrNotFound = errors.New("blob not found")

// ErrDigestMismatch means content does not hash to the digest it was written
// under: an input error, unlike the I/O errors Write may return.
var ErrDigestMismatch = errors.New("content does not match its digest")

var digestPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ValidDigest reports whether d is a lowercase hex sha256.
func ValidDigest(d string) bool { return digestPattern.MatchString(d) }

// Store keeps blobs by digest.
type Store interface {
	// Keep returns a stored blob's size and marks it as just used, so that
	// Sweep spares it for a grace period: long enough for the deployment that
	// asked to be created and to reference it. ErrNotFound when it is absent.
	Keep(ctx context.Context, digest string) (int64, error)
	// Open returns a reader of a blob's content; ErrNotFound when it is absent.
	Open(ctx context.Context, digest string) (io.ReadCloser, error)
	// Write stores what r yields under digest, refusing content that does not
	// hash to it (ErrDigestMismatch). Nobody ever reads a partial blob.
	// Writing a blob that is already stored keeps it.
	Write(ctx context.Context, digest string, r io.Reader) error
	// Sweep deletes the blobs that keep does not name and that were neither
	// written nor kept after cutoff, and what writes that stopped before
	// cutoff left behind. A blob Keep found is never deleted by a Sweep whose
	// cutoff is earlier than that Keep.
	Sweep(ctx context.Context, keep map[string]bool, cutoff time.Time) (Swept, error)
}

// Swept counts what one Sweep did.
type Swept struct {
	Deleted    int   // unreferenced blobs and stale uploads removed
	FreedBytes int64 // their size
	Young      int   // unreferenced blobs spared because they were used after the cutoff
}
