package live

import (
	"context"
	"sync"
)

// MemoryBus is the bus of a gateway of one instance (no Redis): Publish
// hands the change straight to the deliver func of Run.
type MemoryBus struct {
	mu      sync.RWMutex
	deliver func(Change)
}

var _ Bus = (*MemoryBus)(nil)

// NewMemoryBus returns an in-process bus.
func NewMemoryBus() *MemoryBus { return &MemoryBus{} }

// Publish delivers c to this instance's hub. Before Run, and after it
// ended, changes go nowhere (as on Redis with no subscriber).
func (b *MemoryBus) Publish(_ context.Context, c Change) error {
	b.mu.RLock()
	d := b.deliver
	b.mu.RUnlock()
	if d != nil {
		d(stamp(c))
	}
	return nil
}

// Run delivers published changes to deliver until ctx ends.
func (b *MemoryBus) Run(ctx context.Context, deliver func(Change)) error {
	b.mu.Lock()
	b.deliver = deliver
	b.mu.Unlock()
	<-ctx.Done()
	b.mu.Lock()
	b.deliver = nil
	b.mu.Unlock()
	return nil
}
