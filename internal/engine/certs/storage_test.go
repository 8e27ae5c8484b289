package certs

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"
)

// blockingStorage holds each Store until released.
type blockingStorage struct {
	certmagic.Storage
	entered, release chan struct{}
}

func (b *blockingStorage) Store(context.Context, string, []byte) error {
	b.entered <- struct{}{}
	<-b.release
	return nil
}

// Closing waits for a write under way (a renewal certmagic started before
// Close) and refuses every call after it.
func TestClosedStorageWaitsAndRefuses(t *testing.T) {
	inner := &blockingStorage{
		Storage: &certmagic.FileStorage{Path: t.TempDir()},
		entered: make(chan struct{}), release: make(chan struct{}),
	}
	s := &closableStorage{Storage: inner}
	stored := make(chan error, 1)
	go func() { stored <- s.Store(context.Background(), "a", []byte("x")) }()
	<-inner.entered

	closed := make(chan struct{})
	go func() {
		s.close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("close returned while a write was under way")
	case <-time.After(100 * time.Millisecond):
	}
	close(inner.release)
	<-closed
	if err := <-stored; err != nil {
		t.Fatalf("the write admitted before close: %v", err)
	}

	ctx := context.Background()
	if err := s.Store(ctx, "b", []byte("y")); !errors.Is(err, errStorageClosed) {
		t.Errorf("Store after close: %v", err)
	}
	if _, err := s.Load(ctx, "a"); !errors.Is(err, errStorageClosed) {
		t.Errorf("Load after close: %v", err)
	}
	if err := s.Lock(ctx, "a"); !errors.Is(err, errStorageClosed) {
		t.Errorf("Lock after close: %v", err)
	}
	if s.Exists(ctx, "a") {
		t.Error("Exists after close answered true")
	}
}
