package recommend

import (
	"context"
	"sync"
	"time"
)

// MemoryParamStore keeps parameters in the process: right for a single
// gateway (go run . without Redis).
type MemoryParamStore struct {
	mu     sync.Mutex
	p      *Params
	locked bool
}

var _ ParamStore = (*MemoryParamStore)(nil)

// NewMemoryParamStore returns an empty store.
func NewMemoryParamStore() *MemoryParamStore { return &MemoryParamStore{} }

// Load implements ParamStore.
func (s *MemoryParamStore) Load(context.Context) (Params, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p == nil {
		return Params{}, false, nil
	}
	return *s.p, true, nil
}

// Save implements ParamStore.
func (s *MemoryParamStore) Save(_ context.Context, p Params) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.p = &p
	return nil
}

// TryLock implements ParamStore; in one process the lock needs no expiry.
func (s *MemoryParamStore) TryLock(context.Context, time.Duration) (func(), bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locked {
		return nil, false, nil
	}
	s.locked = true
	return func() {
		s.mu.Lock()
		s.locked = false
		s.mu.Unlock()
	}, true, nil
}
