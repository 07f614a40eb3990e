package ledger

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Memory is the in-process Backend of the embedded default (`go run .`).
// One mutex orders every Update: the embedded gateway is one instance.
type Memory struct {
	mu         sync.Mutex
	entries    []Entry
	byKey      map[string]int
	reversalOf map[string]int // original key -> index of its reversal
	byProvider map[string][]int
	balances   map[balanceKey]int64
}

type balanceKey struct {
	account  Account
	currency string
}

var _ Backend = (*Memory)(nil)

// NewMemory returns an empty in-process ledger backend.
func NewMemory() *Memory {
	return &Memory{byKey: map[string]int{}, reversalOf: map[string]int{}, byProvider: map[string][]int{},
		balances: map[balanceKey]int64{}}
}

// Update implements Backend.
func (m *Memory) Update(ctx context.Context, provider string, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	tx := &memoryTx{m: m}
	if err := fn(tx); err != nil {
		return err
	}
	for _, e := range tx.staged {
		if _, dup := m.byKey[e.Key]; dup {
			return fmt.Errorf("%w: key %s already posted", ErrConflict, e.Key)
		}
	}
	for _, e := range tx.staged {
		e.Postings = slices.Clone(e.Postings)
		i := len(m.entries)
		m.entries = append(m.entries, e)
		m.byKey[e.Key] = i
		if e.Reverses != "" {
			m.reversalOf[e.Reverses] = i
		}
		m.byProvider[e.Provider] = append(m.byProvider[e.Provider], i)
		for _, p := range e.Postings {
			m.balances[balanceKey{p.Account, e.Currency}] += p.Amount
		}
	}
	return nil
}

type memoryTx struct {
	m      *Memory
	staged []Entry
}

func (t *memoryTx) Entry(_ context.Context, key string) (Entry, bool, error) {
	i, ok := t.m.byKey[key]
	if !ok {
		return Entry{}, false, nil
	}
	return t.m.entries[i], true, nil
}

func (t *memoryTx) ReversalOf(_ context.Context, key string) (Entry, bool, error) {
	i, ok := t.m.reversalOf[key]
	if !ok {
		return Entry{}, false, nil
	}
	return t.m.entries[i], true, nil
}

func (t *memoryTx) Balance(_ context.Context, a Account, currency string) (int64, error) {
	if !provider(a) {
		return 0, fmt.Errorf("%w: %s has no running balance", ErrInvalid, a)
	}
	return t.m.balances[balanceKey{a, currency}], nil
}

func (t *memoryTx) Insert(_ context.Context, e Entry) error {
	if err := checkBalanced(e); err != nil {
		return err
	}
	t.staged = append(t.staged, e)
	return nil
}

// Entries implements Backend.
func (m *Memory) Entries(_ context.Context, provider string, limit int) ([]Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	idx := m.byProvider[provider]
	out := make([]Entry, 0, min(limit, len(idx)))
	for i := len(idx) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, m.entries[idx[i]])
	}
	return out, nil
}

// Entry implements Backend.
func (m *Memory) Entry(ctx context.Context, key string) (Entry, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return (&memoryTx{m: m}).Entry(ctx, key)
}

// Balance implements Backend. Platform accounts are summed like the
// PostgreSQL backend's, which keeps no running balance for them.
func (m *Memory) Balance(ctx context.Context, a Account, currency string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return (&memoryTx{m: m}).Balance(ctx, a, currency)
}

// Totals implements Backend.
func (m *Memory) Totals(context.Context) (map[string]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int64{}
	for _, e := range m.entries {
		for _, p := range e.Postings {
			out[e.Currency] += p.Amount
		}
	}
	return out, nil
}

// Payables implements Backend by a scan of the balances: the embedded
// gateway's ledger is small.
func (m *Memory) Payables(_ context.Context, currency, after string, limit int) ([]Owed, error) {
	m.mu.Lock()
	var out []Owed
	for k, v := range m.balances {
		p := ProviderOf(k.account)
		if k.currency == currency && v < 0 && k.account == Payable(p) && (after == "" || k.account > Payable(after)) {
			out = append(out, Owed{Provider: p, Amount: -v})
		}
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return Payable(out[i].Provider) < Payable(out[j].Provider) })
	return out[:min(limit, len(out))], nil
}

// EntriesOfKind implements Backend.
func (m *Memory) EntriesOfKind(_ context.Context, kind Kind, from, to time.Time, after string, limit int) ([]Entry, error) {
	m.mu.Lock()
	var out []Entry
	for _, e := range m.entries {
		if e.Kind == kind && !e.At.Before(from) && e.At.Before(to) && e.Key > after {
			out = append(out, e)
		}
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Key, b.Key) })
	return out[:min(limit, len(out))], nil
}

// Recount implements Backend over the provider's entries.
func (m *Memory) Recount(_ context.Context, a Account, currency string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, i := range m.byProvider[ProviderOf(a)] {
		if e := m.entries[i]; e.Currency == currency {
			n += e.Amount(a)
		}
	}
	return n, nil
}
