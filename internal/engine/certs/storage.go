package certs

import (
	"context"
	"errors"
	"sync"

	"github.com/caddyserver/certmagic"
)

var errStorageClosed = errors.New("certs: the certificate manager is closed")

// closableStorage is the certificate storage that Close can shut: certmagic
// renews in jobs of its own that stopping its cache does not wait for, and
// a job finishing after Close would write certificates under a data dir
// another engine (after a handover) or a test's cleanup already owns. Once
// closed, every write and read is refused; close waits for the ones under way.
type closableStorage struct {
	certmagic.Storage

	mu       sync.Mutex
	closed   bool
	inFlight sync.WaitGroup
}

// enter admits one call, or refuses it once the storage is closed.
func (s *closableStorage) enter() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errStorageClosed
	}
	s.inFlight.Add(1)
	return nil
}

func (s *closableStorage) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.inFlight.Wait()
}

func (s *closableStorage) Lock(ctx context.Context, name string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inFlight.Done()
	return s.Storage.Lock(ctx, name)
}

// Unlock always passes: it releases what a call admitted before close took.

func (s *closableStorage) Store(ctx context.Context, key string, value []byte) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inFlight.Done()
	return s.Storage.Store(ctx, key, value)
}

func (s *closableStorage) Load(ctx context.Context, key string) ([]byte, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.inFlight.Done()
	return s.Storage.Load(ctx, key)
}

func (s *closableStorage) Delete(ctx context.Context, key string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inFlight.Done()
	return s.Storage.Delete(ctx, key)
}

func (s *closableStorage) Exists(ctx context.Context, key string) bool {
	if s.enter() != nil {
		return false
	}
	defer s.inFlight.Done()
	return s.Storage.Exists(ctx, key)
}

func (s *closableStorage) List(ctx context.Context, path string, recursive bool) ([]string, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.inFlight.Done()
	return s.Storage.List(ctx, path, recursive)
}

func (s *closableStorage) Stat(ctx context.Context, key string) (certmagic.KeyInfo, error) {
	if err := s.enter(); err != nil {
		return certmagic.KeyInfo{}, err
	}
	defer s.inFlight.Done()
	return s.Storage.Stat(ctx, key)
}
