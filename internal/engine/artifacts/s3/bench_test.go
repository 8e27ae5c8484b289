package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/artifactstest"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/localfs"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/s3/s3test"
)

// BenchmarkStores compares the S3 store on a local versitygw with the local
// file system store: what a node pays to check for, fetch and upload an
// artifact.
func BenchmarkStores(b *testing.B) {
	srv := s3test.Start(b)
	local, err := localfs.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	stores := []struct {
		name  string
		store artifacts.Store
	}{{"localfs", local}, {"s3", openStore(b, srv, "bench")}}
	ctx := context.Background()
	for _, size := range []int64{1 << 20, 50 << 20} {
		digest := artifactstest.ContentDigest(b, 1, size)
		for _, st := range stores {
			s := st.store
			if err := s.Write(ctx, digest, artifactstest.Content(1, size)); err != nil {
				b.Fatal(err)
			}
			prefix := fmt.Sprintf("%s/%dMB", st.name, size>>20)
			b.Run(prefix+"/Keep", func(b *testing.B) {
				for b.Loop() {
					if _, err := s.Keep(ctx, digest); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(prefix+"/Open", func(b *testing.B) {
				b.SetBytes(size)
				for b.Loop() {
					r, err := s.Open(ctx, digest)
					if err != nil {
						b.Fatal(err)
					}
					_, err = io.Copy(io.Discard, r)
					if err := errors.Join(err, r.Close()); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(prefix+"/Write", func(b *testing.B) {
				b.SetBytes(size)
				seed := uint64(100)
				for b.Loop() {
					b.StopTimer()
					seed++
					fresh := artifactstest.ContentDigest(b, seed, size)
					b.StartTimer()
					if err := s.Write(ctx, fresh, artifactstest.Content(seed, size)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
