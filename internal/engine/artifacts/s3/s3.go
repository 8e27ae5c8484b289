// Package s3 is the artifact store in an S3-compatible bucket, shared by
// several engine nodes: one object per blob, named by its digest.
//
// Under the store's prefix:
//
//	blobs/DIGEST           the content
//	kept/DIGEST            empty; its modification time is the blob's last Keep
//	sweeping/DIGEST/ID     empty; a sweeper (ID) is about to delete the blob
//
// An object's modification time cannot be changed in place, hence the kept
// markers. Sweep and Keep run on different nodes with no lock between them;
// see Sweep for how they agree. That agreement needs a store whose reads
// follow the writes before them (AWS S3 has been so since 2020, and so is
// any single server over one directory).
package s3

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts"
)

const (
	// Blobs up to partSize go up in one request, larger ones in parts of
	// that size. uploadConcurrency parts are in flight at once, so a Write
	// holds at most (uploadConcurrency+1)*partSize in memory, whatever the
	// blob's size.
	partSize          = 8 << 20
	uploadConcurrency = 3
	// How long an upload that failed has to abort itself, even when the
	// failure was its context's end. What it cannot abort, Sweep does.
	abortTimeout = 30 * time.Second
)

// Store is an artifacts.Store in a bucket.
type Store struct {
	cfg     Config
	client  *awss3.Client
	uploads *transfermanager.Client
}

var _ artifacts.Store = (*Store)(nil)

// OpenURL opens the store at a URL ParseURL reads.
func OpenURL(ctx context.Context, raw string) (*Store, error) {
	cfg, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	return Open(ctx, cfg)
}

// Open returns the store cfg describes, after checking that its bucket
// answers with the credentials given.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("artifact store %s: AWS configuration: %w", cfg, err)
	}
	if awsCfg.Region == "" {
		return nil, fmt.Errorf("artifact store %s: no region: add ?region=... to the URL (us-east-1 suits most S3-compatible servers) or set AWS_REGION", cfg)
	}
	client := awss3.NewFromConfig(awsCfg, func(o *awss3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		// S3-compatible servers (an endpoint from the URL or from
		// AWS_ENDPOINT_URL) seldom have a DNS name per bucket.
		o.UsePathStyle = o.BaseEndpoint != nil
		// A multipart object has no whole-object checksum to check on GET;
		// that is expected here, not worth a warning per read.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	s := &Store{
		cfg:    cfg,
		client: client,
		uploads: transfermanager.New(client, func(o *transfermanager.Options) {
			o.PartSizeBytes = partSize
			o.MultipartUploadThreshold = partSize
			o.Concurrency = uploadConcurrency
			o.FailTimeout = abortTimeout
		}),
	}
	if _, err := client.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String(cfg.Bucket)}); err != nil {
		return nil, fmt.Errorf("artifact store %s: bucket %q does not answer (check that it exists, the endpoint and region are right and the credentials may use it): %w", cfg, cfg.Bucket, err)
	}
	return s, nil
}

func (s *Store) key(parts ...string) string {
	if s.cfg.Prefix != "" {
		parts = append([]string{s.cfg.Prefix}, parts...)
	}
	return strings.Join(parts, "/")
}

func (s *Store) blobKey(digest string) string { return s.key("blobs", digest) }
func (s *Store) keptKey(digest string) string { return s.key("kept", digest) }

func checkDigest(digest string) error {
	if !artifacts.ValidDigest(digest) {
		return fmt.Errorf("%q is not a sha256 digest (64 lowercase hex characters)", digest)
	}
	return nil
}

// isNotFound tells a missing object (NoSuchKey from GET, a bare 404 from
// HEAD) from other failures, a missing bucket among them.
func isNotFound(err error) bool { return hasErrorCode(err, "NoSuchKey", "NotFound") }

func hasErrorCode(err error, codes ...string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && slices.Contains(codes, apiErr.ErrorCode())
}

// Keep implements artifacts.Store: it marks the blob, then waits out any
// sweeper that claimed it before the mark, then looks for it.
func (s *Store) Keep(ctx context.Context, digest string) (int64, error) {
	if err := checkDigest(digest); err != nil {
		return 0, err
	}
	if _, err := s.client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket: aws.String(s.cfg.Bucket),
		Key:    aws.String(s.keptKey(digest)),
		Body:   strings.NewReader(""),
	}); err != nil {
		return 0, fmt.Errorf("keep blob %s: %w", digest, err)
	}
	if err := s.awaitSweepers(ctx, digest); err != nil {
		return 0, fmt.Errorf("keep blob %s: %w", digest, err)
	}
	head, err := s.client.HeadObject(ctx, &awss3.HeadObjectInput{
		Bucket: aws.String(s.cfg.Bucket),
		Key:    aws.String(s.blobKey(digest)),
	})
	if isNotFound(err) {
		return 0, fmt.Errorf("blob %s: %w", digest, artifacts.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("keep blob %s: %w", digest, err)
	}
	return aws.ToInt64(head.ContentLength), nil
}

// Open implements artifacts.Store. The reader streams from the server.
func (s *Store) Open(ctx context.Context, digest string) (io.ReadCloser, error) {
	if err := checkDigest(digest); err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &awss3.GetObjectInput{
		Bucket: aws.String(s.cfg.Bucket),
		Key:    aws.String(s.blobKey(digest)),
	})
	if isNotFound(err) {
		return nil, fmt.Errorf("blob %s: %w", digest, artifacts.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", digest, err)
	}
	return out.Body, nil
}

// Write implements artifacts.Store. The object appears whole or not at
// all: a single PUT, or a multipart upload that is completed only once the
// content has been read to its end and found to match its digest.
func (s *Store) Write(ctx context.Context, digest string, r io.Reader) error {
	if err := checkDigest(digest); err != nil {
		return err
	}
	if _, err := s.Keep(ctx, digest); err == nil {
		_, err := io.Copy(io.Discard, r)
		return err
	} else if !errors.Is(err, artifacts.ErrNotFound) {
		return err
	}
	body := &verifyingReader{r: r, hash: sha256.New(), digest: digest}
	_, err := s.uploads.UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket: aws.String(s.cfg.Bucket),
		Key:    aws.String(s.blobKey(digest)),
		Body:   body,
	})
	if body.mismatch != nil {
		return body.mismatch
	}
	if err != nil {
		return fmt.Errorf("upload blob %s: %w", digest, err)
	}
	return nil
}

// verifyingReader hashes what it reads and, at the end of the content,
// reports a mismatch instead of io.EOF, so that the upload fails before it
// is completed.
type verifyingReader struct {
	r        io.Reader
	hash     hash.Hash
	digest   string
	mismatch error
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.hash.Write(p[:n])
	if err == io.EOF {
		if got := hex.EncodeToString(v.hash.Sum(nil)); got != v.digest {
			v.mismatch = fmt.Errorf("%w: content hashes to %s, not %s: the upload was changed or cut short; upload it again", artifacts.ErrDigestMismatch, got, v.digest)
			return n, v.mismatch
		}
	}
	return n, err
}
