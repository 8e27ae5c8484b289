package s3

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	smithymiddleware "github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts"
)

// claimTTL bounds how long Keep waits for a sweeper that claimed a blob: a
// claim older than that (by the server's clock) is taken for a sweeper that
// died. A sweeper deletes a blob only within half of it from claiming it.
const claimTTL = 30 * time.Second

// Sweep implements artifacts.Store, safely against Keep on other nodes.
//
// Listing first picks the candidates: unreferenced blobs that neither they
// nor their kept marker changed after cutoff. Then, per candidate, the two
// sides each write before they read, so at least one sees the other:
//
//	sweeper: put sweeping/D/ID, read kept/D and the blob again, delete the blob, remove the claim
//	Keep:    put kept/D, wait while sweeping/D/ holds a live claim, read the blob
//
// A sweeper that reads kept/D before Keep's mark lands has its claim seen
// by that Keep, which then waits and finds the blob gone (ErrNotFound, so
// the blob is uploaded again); otherwise the sweeper sees the mark and
// spares the blob.
func (s *Store) Sweep(ctx context.Context, keep map[string]bool, cutoff time.Time) (artifacts.Swept, error) {
	var done artifacts.Swept
	blobs, err := s.list(ctx, s.key("blobs")+"/")
	if err != nil {
		return done, err
	}
	kept, err := s.list(ctx, s.key("kept")+"/")
	if err != nil {
		return done, err
	}
	sweeper := newSweeperID()
	for digest, blob := range blobs {
		if !artifacts.ValidDigest(digest) || keep[digest] {
			continue
		}
		if usedAfter(blob.modified, cutoff) || usedAfter(kept[digest].modified, cutoff) {
			done.Young++
			continue
		}
		deleted, young, err := s.deleteUnused(ctx, sweeper, digest, cutoff)
		if err != nil {
			return done, err
		}
		switch {
		case deleted:
			done.Deleted++
			done.FreedBytes += blob.size
		case young:
			done.Young++
		}
	}
	// Keep leaves a marker even for a blob that is not stored.
	for digest, marker := range kept {
		if _, stored := blobs[digest]; stored || usedAfter(marker.modified, cutoff) {
			continue
		}
		if err := s.delete(ctx, s.keptKey(digest)); err != nil {
			return done, err
		}
	}
	if err := s.removeDeadClaims(ctx, cutoff); err != nil {
		return done, err
	}
	// Their parts' sizes are not counted in FreedBytes.
	aborted, err := s.abortStaleUploads(ctx, cutoff)
	done.Deleted += aborted
	return done, err
}

// usedAfter reports whether an object modified at t (zero: absent) changed
// after cutoff. Many servers give modification times in whole seconds,
// rounded down: a change in cutoff's second counts as after it.
func usedAfter(t time.Time, cutoff time.Time) bool {
	return !t.IsZero() && t.Add(time.Second).After(cutoff)
}

func newSweeperID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

func (s *Store) claimPrefix(digest string) string { return s.key("sweeping", digest) + "/" }

// deleteUnused deletes a blob the listing found unused, under a claim (see
// Sweep). young reports a blob kept or written again since the listing.
func (s *Store) deleteUnused(ctx context.Context, sweeper, digest string, cutoff time.Time) (deleted, young bool, err error) {
	claim := s.claimPrefix(digest) + sweeper
	claimed := time.Now()
	if _, err := s.client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket: aws.String(s.cfg.Bucket),
		Key:    aws.String(claim),
		Body:   strings.NewReader(""),
	}); err != nil {
		return false, false, fmt.Errorf("claim blob %s for deletion: %w", digest, err)
	}
	defer func() {
		// Also when ctx has ended: a claim left behind holds Keep back
		// until it is claimTTL old.
		release, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if rerr := s.delete(release, claim); err == nil {
			err = rerr
		}
	}()
	keptAt, _, err := s.modified(ctx, s.keptKey(digest))
	if err != nil || usedAfter(keptAt, cutoff) {
		return false, err == nil, err
	}
	writtenAt, stored, err := s.modified(ctx, s.blobKey(digest))
	if err != nil || !stored || usedAfter(writtenAt, cutoff) {
		// Not stored: another sweeper deleted it.
		return false, err == nil && stored, err
	}
	// Keep trusts a claim for claimTTL: no deletion may start later than this.
	deadline, cancel := context.WithDeadline(ctx, claimed.Add(claimTTL/2))
	defer cancel()
	if err := s.delete(deadline, s.blobKey(digest)); err != nil {
		if ctx.Err() == nil && deadline.Err() != nil {
			return false, false, fmt.Errorf("blob %s: its deletion did not start within %s of claiming it, so it was not attempted", digest, claimTTL/2)
		}
		return false, false, err
	}
	return true, false, s.delete(ctx, s.keptKey(digest))
}

// awaitSweepers returns once no live sweeper claims the blob.
func (s *Store) awaitSweepers(ctx context.Context, digest string) error {
	pause := 20 * time.Millisecond
	for {
		out, err := s.client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{
			Bucket: aws.String(s.cfg.Bucket),
			Prefix: aws.String(s.claimPrefix(digest)),
		})
		if err != nil {
			return fmt.Errorf("look for sweepers: %w", err)
		}
		now := serverTime(out.ResultMetadata)
		live := false
		for _, claim := range out.Contents {
			live = live || now.Sub(aws.ToTime(claim.LastModified)) < claimTTL
		}
		if !live {
			return nil
		}
		timer := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		pause = min(2*pause, time.Second)
	}
}

// serverTime is the Date of a response, so that a claim's age is measured
// on the clock that dated it; the local clock if the server sent none.
func serverTime(metadata smithymiddleware.Metadata) time.Time {
	if resp, ok := awsmiddleware.GetRawResponse(metadata).(*smithyhttp.Response); ok {
		if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			return t
		}
	}
	return time.Now()
}

// removeDeadClaims deletes the claims of sweepers that died holding them.
func (s *Store) removeDeadClaims(ctx context.Context, cutoff time.Time) error {
	claims, err := s.list(ctx, s.key("sweeping")+"/")
	if err != nil {
		return err
	}
	for name, claim := range claims {
		if usedAfter(claim.modified, cutoff) || time.Since(claim.modified) < 2*claimTTL {
			continue
		}
		if err := s.delete(ctx, s.key("sweeping", name)); err != nil {
			return err
		}
	}
	return nil
}

// abortStaleUploads aborts the multipart uploads of blobs begun before
// cutoff: what a Write that died midway leaves behind.
func (s *Store) abortStaleUploads(ctx context.Context, cutoff time.Time) (int, error) {
	aborted := 0
	pages := awss3.NewListMultipartUploadsPaginator(s.client, &awss3.ListMultipartUploadsInput{
		Bucket: aws.String(s.cfg.Bucket),
		Prefix: aws.String(s.key("blobs") + "/"),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return aborted, fmt.Errorf("list uploads: %w", err)
		}
		for _, upload := range page.Uploads {
			if usedAfter(aws.ToTime(upload.Initiated), cutoff) {
				continue
			}
			if _, err := s.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{
				Bucket:   aws.String(s.cfg.Bucket),
				Key:      upload.Key,
				UploadId: upload.UploadId,
			}); err != nil && !hasErrorCode(err, "NoSuchUpload") {
				return aborted, fmt.Errorf("abort upload of %s: %w", aws.ToString(upload.Key), err)
			}
			aborted++
		}
	}
	return aborted, nil
}

type object struct {
	size     int64
	modified time.Time
}

// list returns the objects under prefix, by the rest of their keys.
func (s *Store) list(ctx context.Context, prefix string) (map[string]object, error) {
	found := map[string]object{}
	pages := awss3.NewListObjectsV2Paginator(s.client, &awss3.ListObjectsV2Input{
		Bucket: aws.String(s.cfg.Bucket),
		Prefix: aws.String(prefix),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		for _, obj := range page.Contents {
			found[strings.TrimPrefix(aws.ToString(obj.Key), prefix)] = object{
				size:     aws.ToInt64(obj.Size),
				modified: aws.ToTime(obj.LastModified),
			}
		}
	}
	return found, nil
}

// modified returns when the object at key was last written, if it exists.
func (s *Store) modified(ctx context.Context, key string) (time.Time, bool, error) {
	head, err := s.client.HeadObject(ctx, &awss3.HeadObjectInput{
		Bucket: aws.String(s.cfg.Bucket),
		Key:    aws.String(key),
	})
	if isNotFound(err) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("look at %s: %w", key, err)
	}
	return aws.ToTime(head.LastModified), true, nil
}

func (s *Store) delete(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{
		Bucket: aws.String(s.cfg.Bucket),
		Key:    aws.String(key),
	})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}
