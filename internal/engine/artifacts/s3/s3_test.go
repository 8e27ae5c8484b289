package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/artifactstest"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/s3/s3test"
)

// openStore opens a store in a new bucket of srv.
func openStore(t testing.TB, srv *s3test.Server, prefix string) *Store {
	t.Helper()
	return openURL(t, srv.URL(srv.Bucket(t), prefix))
}

func openURL(t testing.TB, raw string) *Store {
	t.Helper()
	s, err := OpenURL(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The server's modification times are whole seconds.
const resolution = 1100 * time.Millisecond

func TestConformance(t *testing.T) {
	srv := s3test.Start(t)
	artifactstest.Run(t, func(t *testing.T) artifacts.Store { return openStore(t, srv, "artifacts") }, resolution)
}

// Without a prefix, keys start at the bucket's root.
func TestConformanceWithoutPrefix(t *testing.T) {
	srv := s3test.Start(t)
	artifactstest.Run(t, func(t *testing.T) artifacts.Store { return openStore(t, srv, "") }, resolution)
}

// Two stores under different prefixes of one bucket do not see or sweep
// each other's blobs.
func TestPrefixesAreSeparate(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.Bucket(t)
	one, other := openURL(t, srv.URL(bucket, "one")), openURL(t, srv.URL(bucket, "two/nested"))
	d := artifactstest.Write(t, one, "in one")
	if artifactstest.Stored(t, other, d) {
		t.Fatal("a blob of one prefix is seen under another")
	}
	if _, err := other.Sweep(context.Background(), nil, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !artifactstest.Stored(t, one, d) {
		t.Fatal("a sweep under another prefix deleted the blob")
	}
}

// Keep on two nodes racing Sweep on a third, on old unreferenced blobs:
// whenever Keep finds a blob, it is still there afterwards.
func TestSweepNeverDeletesABlobKeepJustFoundOnAnotherNode(t *testing.T) {
	srv := s3test.Start(t)
	url := srv.URL(srv.Bucket(t), "shared")
	sweeper := openURL(t, url)
	// Widen the gap between the sweeper's last look at a blob and its
	// deletion, where a Keep that nothing held back would be lost.
	sweeper.client = awss3.New(sweeper.client.Options(), func(o *awss3.Options) {
		o.HTTPClient = slowDeletes{o.HTTPClient}
	})
	const blobs = 60
	digests := make([]string, blobs)
	for i := range digests {
		digests[i] = artifactstest.Write(t, sweeper, fmt.Sprintf("blob %d", i))
	}
	time.Sleep(resolution)
	cutoff := time.Now()
	ctx := context.Background()
	// The keepers go through the blobs one after the other, from either
	// end, while the sweep goes through them in its own order: some Keeps
	// land before the sweep looks at their blob, some while it deletes it,
	// some after.
	errs := make([]error, blobs)
	var wg sync.WaitGroup
	for _, order := range [][]int{{0, 2}, {blobs - 1, -2}} {
		keeper := openURL(t, url)
		wg.Go(func() {
			for i := order[0]; i >= 0 && i < blobs; i += order[1] {
				_, errs[i] = keeper.Keep(ctx, digests[i])
				// Paced to spread the Keeps over the sweep's run.
				time.Sleep(40 * time.Millisecond)
			}
		})
	}
	swept, err := sweeper.Sweep(ctx, nil, cutoff)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for i, err := range errs {
		switch {
		case err == nil:
			found++
			if !artifactstest.Stored(t, sweeper, digests[i]) {
				t.Errorf("blob %d: Keep found it, then Sweep deleted it", i)
			}
		case !errors.Is(err, artifacts.ErrNotFound):
			t.Errorf("blob %d: %v", i, err)
		}
	}
	t.Logf("of %d blobs, Keep found %d; the sweep deleted %d and spared %d as young", blobs, found, swept.Deleted, swept.Young)
}

type slowDeletes struct{ awss3.HTTPClient }

func (c slowDeletes) Do(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodDelete && strings.Contains(req.URL.Path, "/blobs/") {
		time.Sleep(20 * time.Millisecond)
	}
	return c.HTTPClient.Do(req)
}

// Keep waits while a sweeper holds a claim on the blob, and reports the
// blob as the sweeper left it.
func TestKeepWaitsForASweeper(t *testing.T) {
	srv := s3test.Start(t)
	s := openStore(t, srv, "p")
	ctx := context.Background()
	digest := artifactstest.Write(t, s, "claimed")
	claim := s.claimPrefix(digest) + "sweeper1"
	put(t, s, claim)
	kept := make(chan error, 1)
	go func() {
		_, err := s.Keep(ctx, digest)
		kept <- err
	}()
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-kept:
		t.Fatalf("Keep returned (%v) while a sweeper claimed the blob", err)
	default:
	}
	// The sweeper deletes the blob, then releases its claim.
	for _, key := range []string{s.blobKey(digest), claim} {
		if err := s.delete(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-kept; !errors.Is(err, artifacts.ErrNotFound) {
		t.Fatalf("Keep after the sweeper deleted the blob: %v, want ErrNotFound", err)
	}
}

// The claim of a sweeper that died holds Keep back no longer than claimTTL,
// and a later sweep removes it; a live claim stays.
func TestDeadSweepersClaimIsIgnoredAndRemoved(t *testing.T) {
	srv := s3test.Start(t)
	s := openStore(t, srv, "p")
	ctx := context.Background()
	digest := artifactstest.Write(t, s, "claimed long ago")
	dead, live := s.claimPrefix(digest)+"dead", s.claimPrefix(digest)+"live"
	put(t, s, dead)
	srv.Age(t, s.cfg.Bucket, dead, 2*claimTTL)
	if size, err := s.Keep(ctx, digest); err != nil || size != int64(len("claimed long ago")) {
		t.Fatalf("Keep beside a dead claim: %d, %v", size, err)
	}
	put(t, s, live)
	if _, err := s.Sweep(ctx, map[string]bool{digest: true}, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, exists, err := s.modified(ctx, dead); err != nil || exists {
		t.Errorf("the dead claim is still there (%v)", err)
	}
	if _, exists, err := s.modified(ctx, live); err != nil || !exists {
		t.Errorf("a live claim was removed (%v)", err)
	}
}

// A multipart upload that its writer abandoned is aborted by a sweep once
// it began before the cutoff; one in progress is left alone.
func TestSweepAbortsAbandonedUploads(t *testing.T) {
	srv := s3test.Start(t)
	s := openStore(t, srv, "p")
	ctx := context.Background()
	begin := func(content string) {
		t.Helper()
		if _, err := s.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
			Bucket: aws.String(s.cfg.Bucket), Key: aws.String(s.blobKey(artifactstest.Digest(content))),
		}); err != nil {
			t.Fatal(err)
		}
	}
	begin("abandoned")
	time.Sleep(resolution)
	cutoff := time.Now()
	time.Sleep(resolution)
	begin("in progress")
	swept, err := s.Sweep(ctx, nil, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if swept.Deleted != 1 {
		t.Errorf("swept %+v, want the abandoned upload only", swept)
	}
	uploads, err := s.client.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: aws.String(s.cfg.Bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, u := range uploads.Uploads {
		left = append(left, aws.ToString(u.Key))
	}
	if want := s.blobKey(artifactstest.Digest("in progress")); len(left) != 1 || left[0] != want {
		t.Errorf("uploads left: %v, want %s", left, want)
	}
}

// Keep of an absent blob leaves a marker; a sweep removes it once old.
func TestSweepRemovesMarkersOfAbsentBlobs(t *testing.T) {
	srv := s3test.Start(t)
	s := openStore(t, srv, "p")
	ctx := context.Background()
	absent := artifactstest.Digest("never written")
	if _, err := s.Keep(ctx, absent); !errors.Is(err, artifacts.ErrNotFound) {
		t.Fatalf("Keep of an absent blob: %v", err)
	}
	if _, err := s.Sweep(ctx, nil, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, exists, err := s.modified(ctx, s.keptKey(absent)); err != nil || !exists {
		t.Fatalf("a young marker was removed (%v)", err)
	}
	if _, err := s.Sweep(ctx, nil, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, exists, err := s.modified(ctx, s.keptKey(absent)); err != nil || exists {
		t.Fatalf("an old marker of an absent blob was kept (%v)", err)
	}
}

// A store whose bucket does not answer is refused at once, saying which
// bucket, and never showing the secret.
func TestOpenRefusesABucketThatDoesNotAnswer(t *testing.T) {
	srv := s3test.Start(t)
	for name, raw := range map[string]string{
		"missing bucket": srv.URL("no-such-bucket", "p"),
		"wrong secret": strings.Replace(srv.URL(srv.Bucket(t), "p"),
			s3test.SecretAccessKey, "wrong-secret-value", 1),
	} {
		_, err := OpenURL(context.Background(), raw)
		if err == nil {
			t.Errorf("%s: opened", name)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "bucket") || strings.Contains(msg, s3test.SecretAccessKey) || strings.Contains(msg, "wrong-secret-value") {
			t.Errorf("%s: %s", name, msg)
		}
	}
}

// Without credentials in the URL, the AWS chain supplies them.
func TestCredentialsFromTheEnvironment(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.Bucket(t)
	t.Setenv("AWS_ACCESS_KEY_ID", s3test.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3test.SecretAccessKey)
	t.Setenv("AWS_REGION", s3test.Region)
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	s := openURL(t, "s3://"+bucket+"/env?endpoint="+srv.Endpoint)
	d := artifactstest.Write(t, s, "signed with the environment's keys")
	if !artifactstest.Stored(t, s, d) {
		t.Fatal("blob not stored")
	}
}

func put(t *testing.T, s *Store, key string) {
	t.Helper()
	if _, err := s.client.PutObject(context.Background(), &awss3.PutObjectInput{
		Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key), Body: strings.NewReader(""),
	}); err != nil {
		t.Fatal(err)
	}
}
