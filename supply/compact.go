package supply

import (
	"context"
	"fmt"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
)

// compactBatch is how many items one write of Compact holds: a segment
// each. Large enough that a 10^6-item index is a few dozen segments.
const compactBatch = 50_000

// retiredGrace is how long an index replaced by Compact stays open, for
// the searches that started on it (they hold no lock once their reader
// is open).
const retiredGrace = time.Minute

// Compact rebuilds the Bleve index from the items in a few large
// segments, and swaps it in. Scorch without a path never merges its
// segments, and every Apply adds one: after a bulk feed of many small
// pushes (10^4 providers of twenty items, a few hundred writes), every
// search would open its searchers on each of them. Apply waits while it
// runs (searches do not); it costs about what indexing the items again
// costs, so call it after a bulk feed, not per push.
func (m *Memory) Compact(ctx context.Context) error {
	m.mu.RLock()
	keys := make([]string, 0, len(m.items))
	docs := make([]map[string]any, 0, len(m.items))
	for key, it := range m.items {
		keys, docs = append(keys, key), append(docs, bleveDoc(it))
	}
	m.mu.RUnlock()
	idx, err := bleve.NewUsing("", indexMapping(), scorch.Name, scorch.Name, nil)
	if err != nil {
		return fmt.Errorf("supply: compact: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.items) != len(keys) {
		// An Apply ran between the copy and the lock: keep what is, a
		// later Compact will do.
		_ = idx.Close()
		return nil
	}
	for lo := 0; lo < len(keys); lo += compactBatch {
		if err := ctx.Err(); err != nil {
			_ = idx.Close()
			return err
		}
		b := idx.NewBatch()
		for i := lo; i < min(lo+compactBatch, len(keys)); i++ {
			if err := b.Index(keys[i], docs[i]); err != nil {
				_ = idx.Close()
				return fmt.Errorf("supply: compact %s: %w", keys[i], err)
			}
		}
		if err := idx.Batch(b); err != nil {
			_ = idx.Close()
			return fmt.Errorf("supply: compact: %w", err)
		}
	}
	old := m.idx
	m.idx = idx
	time.AfterFunc(retiredGrace, func() { _ = old.Close() })
	return nil
}

// current is the Bleve index searches outside the read lock use.
func (m *Memory) current() bleve.Index {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.idx
}
