// Package s3test runs a real S3 server for tests: versitygw over a
// temporary directory, on a free loopback port.
package s3test

import (
	"context"
	"errors"
	"fmt"
	"go/build"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
	"github.com/ferryhq/terraform-provider-ferry/internal/logbuffer"
)

// Install is how to get the server; `make deps` runs it.
const Install = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// The server's only account.
const (
	AccessKeyID     = "ferrytest"
	SecretAccessKey = "ferrytest-secret"
	Region          = "us-east-1"
)

// Server is a running versitygw.
type Server struct {
	// Endpoint is the server's base URL.
	Endpoint string
	// Client is signed in as the server's account.
	Client *awss3.Client
	// The buckets, a directory each, their objects files in them.
	dir string
}

// Start runs a server until the test ends. A missing binary fails the test,
// saying how to install it: the S3 store must not go untested unnoticed.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := binary()
	if err != nil {
		tb.Fatalf("versitygw, the S3 server the tests run against, is not installed (%v): run `%s` or `make deps`", err, Install)
	}
	dir := tb.TempDir()
	// Another process may take the port between our probe and versitygw's
	// listen; a few tries get past that.
	var failures []string
	for range 3 {
		srv, err := start(tb, bin, dir)
		if err == nil {
			return srv
		}
		failures = append(failures, err.Error())
	}
	tb.Fatalf("versitygw did not start:\n%s", strings.Join(failures, "\n"))
	return nil
}

func binary() (string, error) {
	if path, err := exec.LookPath("versitygw"); err == nil {
		return path, nil
	}
	gobin := os.Getenv("GOBIN")
	if gobin == "" {
		gobin = filepath.Join(build.Default.GOPATH, "bin")
	}
	path := filepath.Join(gobin, "versitygw")
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("not on PATH nor in %s", gobin)
	}
	return path, nil
}

func start(tb testing.TB, bin, dir string) (*Server, error) {
	addresses, err := freeport.Find("127.0.0.1", 1)
	if err != nil {
		return nil, err
	}
	addr := addresses[0]
	cmd := exec.Command(bin,
		"--access", AccessKeyID, "--secret", SecretAccessKey, "--region", Region,
		"--port", addr, "--quiet",
		"posix", dir)
	output := &logbuffer.Buffer{}
	cmd.Stdout, cmd.Stderr = output, output
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // the exit shows in the output
		close(exited)
	}()
	stop := func() {
		_ = cmd.Process.Kill() // it may have exited already
		<-exited
	}
	endpoint := "http://" + addr
	if err := awaitListening(endpoint, exited); err != nil {
		stop()
		return nil, fmt.Errorf("%v; its output:\n%s", err, output.String())
	}
	tb.Cleanup(stop)
	return &Server{Endpoint: endpoint, Client: newClient(endpoint), dir: dir}, nil
}

// awaitListening returns once the server answers HTTP, or fails once it has
// exited or a minute has gone by (a loaded machine is slow, not broken).
func awaitListening(endpoint string, exited <-chan struct{}) error {
	deadline := time.Now().Add(time.Minute)
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		resp, err := client.Get(endpoint)
		if err == nil {
			_ = resp.Body.Close()
			return nil
		}
		select {
		case <-exited:
			return errors.New("versitygw exited")
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("versitygw does not answer at %s: %v", endpoint, err)
		}
	}
}

func newClient(endpoint string) *awss3.Client {
	return awss3.New(awss3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
	})
}

// Bucket creates a bucket with a name unique on the server.
func (s *Server) Bucket(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("ferry-%d", buckets.Add(1))
	if _, err := s.Client.CreateBucket(context.Background(), &awss3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		tb.Fatalf("create bucket %s: %v", name, err)
	}
	return name
}

// URL is the address of a store in bucket, under prefix, with the server's
// credentials.
func (s *Server) URL(bucket, prefix string) string {
	return fmt.Sprintf("s3://%s:%s@%s/%s?endpoint=%s&region=%s", AccessKeyID, SecretAccessKey, bucket, prefix, s.Endpoint, Region)
}

var buckets atomic.Int64

// Age dates the last change of an object age ago, as if it had been written
// then: the server takes an object's modification time from its file.
func (s *Server) Age(tb testing.TB, bucket, key string, age time.Duration) {
	tb.Helper()
	then := time.Now().Add(-age)
	if err := os.Chtimes(filepath.Join(s.dir, bucket, filepath.FromSlash(key)), then, then); err != nil {
		tb.Fatal(err)
	}
}
