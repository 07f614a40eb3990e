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

// Hold has Apply acknowledge changes into the items and their versions
// only, leaving Bleve as it is until the next Compact builds it from the
// items: a bulk feed (10^6 generated providers' catalogues) then indexes
// each item once, in a few large segments, rather than once per push and
// again in Compact. Until that Compact, searches see Bleve as it was
// before the hold, less the items deleted or replaced since (a match
// whose item changed shows the item as it is now). Call it before a feed
// that no one searches during (a start-up), never while serving.
func (m *Memory) Hold() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.held = true
}

// Compact rebuilds the Bleve index from the items in a few large
// segments, and swaps it in, ending a Hold. Scorch without a path never
// merges its segments, and every Apply adds one: after a bulk feed of many
// small pushes (10^4 providers of twenty items, a few hundred writes),
// every search would open its searchers on each of them. Apply and new
// searches wait while it runs; it costs about what indexing the items
// again costs, so call it after a bulk feed, not per push.
func (m *Memory) Compact(ctx context.Context) error {
	idx, err := bleve.NewUsing("", indexMapping(), scorch.Name, scorch.Name, nil)
	if err != nil {
		return fmt.Errorf("supply: compact: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]string, 0, len(m.items))
	for key := range m.items {
		keys = append(keys, key)
	}
	// The documents are built a write at a time: a million of them at
	// once would be most of the heap the rebuild needs.
	for lo := 0; lo < len(keys); lo += compactBatch {
		if err := ctx.Err(); err != nil {
			_ = idx.Close()
			return err
		}
		b := idx.NewBatch()
		for _, key := range keys[lo:min(lo+compactBatch, len(keys))] {
			if err := b.Index(key, bleveDoc(m.items[key])); err != nil {
				_ = idx.Close()
				return fmt.Errorf("supply: compact %s: %w", key, err)
			}
		}
		if err := idx.Batch(b); err != nil {
			_ = idx.Close()
			return fmt.Errorf("supply: compact: %w", err)
		}
	}
	old := m.idx
	m.idx, m.held = idx, false
	time.AfterFunc(retiredGrace, func() { _ = old.Close() })
	return nil
}

// current is the Bleve index searches outside the read lock use.
func (m *Memory) current() bleve.Index {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.idx
}
