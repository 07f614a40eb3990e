package growth

import (
	"context"
	"crypto/sha256"
	"slices"
	"strings"
	"sync"
	"time"
)

// Memory is the in-process Store of the embedded default.
type Memory struct {
	mu          sync.Mutex
	keys        map[string]Key
	digests     map[[sha256.Size]byte]string
	orders      map[[2]string]memOrder
	customers   map[[2]string]bool // (provider, user) with a completed order
	approvals   map[string]Approval
	counters    map[string]map[time.Time]Counters
	levels      map[string]Transition
	transitions map[string][]Transition
	loans       []Loan
	job         sync.Mutex
}

type memOrder struct {
	Order
	completed, cancelled time.Time
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{keys: map[string]Key{}, digests: map[[sha256.Size]byte]string{}, orders: map[[2]string]memOrder{}, customers: map[[2]string]bool{},
		approvals: map[string]Approval{}, counters: map[string]map[time.Time]Counters{}, levels: map[string]Transition{},
		transitions: map[string][]Transition{}}
}

// CreateKey implements Store.
func (m *Memory) CreateKey(_ context.Context, k Key, digest [sha256.Size]byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[k.ID], m.digests[digest] = k, k.ID
	return nil
}

// RevokeKey implements Store.
func (m *Memory) RevokeKey(_ context.Context, provider, id, actor string, at time.Time) (Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[id]
	if !ok || k.Provider != provider {
		return Key{}, errorf(NotFound, "id", "no such key")
	}
	if k.RevokedAt.IsZero() {
		k.RevokedAt, k.RevokedBy = at, actor
		m.keys[id] = k
	}
	return k, nil
}

// Keys implements Store.
func (m *Memory) Keys(_ context.Context, provider string) ([]Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Key
	for _, k := range m.keys {
		if k.Provider == provider {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b Key) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// LookupKey implements Store.
func (m *Memory) LookupKey(_ context.Context, digest [sha256.Size]byte) (string, string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.digests[digest]
	if !ok || !m.keys[id].RevokedAt.IsZero() {
		return "", "", false, nil
	}
	return m.keys[id].Provider, id, true, nil
}

// RecordOrder implements Store.
func (m *Memory) RecordOrder(_ context.Context, o Order) (OrderChange, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{o.Provider, o.ID}
	cur, ok := m.orders[k]
	ch := OrderChange{Previous: cur.Status}
	if ok && cur.Status == OrderCancelled {
		ch.Completed = cur.completed
		return ch, nil
	}
	if !ok {
		cur = memOrder{Order: o}
	}
	cur.Status, cur.Amount = o.Status, o.Amount
	switch o.Status {
	case OrderCompleted:
		if cur.completed.IsZero() {
			cur.completed = o.At
			if who := [2]string{o.Provider, o.User}; o.User != "" {
				ch.FirstForUser = !m.customers[who]
				m.customers[who] = true
			}
		}
	case OrderCancelled:
		cur.cancelled = o.At
	}
	m.orders[k] = cur
	ch.Completed = cur.completed
	return ch, nil
}

// CompletedOrders implements Store.
func (m *Memory) CompletedOrders(_ context.Context, from, to time.Time, after [2]string, limit int) ([]Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Order
	for k, o := range m.orders {
		if o.completed.IsZero() || o.completed.Before(from) || !o.completed.Before(to) || !keyAfter(k, after) {
			continue
		}
		out = append(out, o.Order)
	}
	slices.SortFunc(out, func(a, b Order) int {
		if a.Provider != b.Provider {
			return strings.Compare(a.Provider, b.Provider)
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out[:min(limit, len(out))], nil
}

func keyAfter(k, after [2]string) bool {
	return k[0] > after[0] || k[0] == after[0] && k[1] > after[1]
}

// Days implements Store.
func (m *Memory) Days(_ context.Context, provider, currency string, from, to time.Time) ([]Day, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	byDay := map[time.Time]*Day{}
	day := func(t time.Time) *Day {
		d := t.UTC().Truncate(24 * time.Hour)
		if byDay[d] == nil {
			byDay[d] = &Day{Day: d}
		}
		return byDay[d]
	}
	for k, o := range m.orders {
		if k[0] != provider || o.Currency != currency || o.completed.IsZero() && o.cancelled.IsZero() {
			continue
		}
		at := o.completed
		if at.IsZero() {
			at = o.cancelled
		}
		if at.Before(from) || !at.Before(to) {
			continue
		}
		d := day(at)
		if !o.completed.IsZero() {
			d.Completed++
		}
		if o.Status == OrderCancelled {
			d.Cancelled++
		} else {
			d.GMV += o.Amount
		}
	}
	out := make([]Day, 0, len(byDay))
	for _, d := range byDay {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b Day) int { return a.Day.Compare(b.Day) })
	return out, nil
}

// CreateApproval implements Store.
func (m *Memory) CreateApproval(_ context.Context, a Approval) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.approvals[a.ID] = a
	return nil
}

// Approval implements Store.
func (m *Memory) Approval(_ context.Context, id string) (Approval, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.approvals[id]
	if !ok {
		return Approval{}, errorf(NotFound, "id", "no such approval request")
	}
	return a, nil
}

// DecideApproval implements Store.
func (m *Memory) DecideApproval(_ context.Context, id, checker string, status ApprovalStatus, at time.Time) (Approval, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.approvals[id]
	switch {
	case !ok:
		return Approval{}, errorf(NotFound, "id", "no such approval request")
	case a.Status != ApprovalPending:
		return a, errorf(Conflict, "id", "the request was %s already", a.Status)
	}
	a.Status, a.Checker, a.DecidedAt = status, checker, at
	m.approvals[id] = a
	return a, nil
}

// Approvals implements Store.
func (m *Memory) Approvals(_ context.Context, status ApprovalStatus, limit int) ([]Approval, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Approval
	for _, a := range m.approvals {
		if a.Status == status {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b Approval) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out[:min(limit, len(out))], nil
}

// AddCounters implements Store.
func (m *Memory) AddCounters(_ context.Context, provider string, minute time.Time, c Counters) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counters[provider] == nil {
		m.counters[provider] = map[time.Time]Counters{}
	}
	cur := m.counters[provider][minute]
	cur.Calls, cur.Errors, cur.Slow = cur.Calls+c.Calls, cur.Errors+c.Errors, cur.Slow+c.Slow
	m.counters[provider][minute] = cur
	return nil
}

// CountersSince implements Store; it also drops older minutes, as the
// PostgreSQL store's retention does.
func (m *Memory) CountersSince(_ context.Context, since time.Time) (map[string]Counters, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]Counters{}
	for p, mins := range m.counters {
		for t, c := range mins {
			if t.Before(since) {
				delete(mins, t)
				continue
			}
			cur := out[p]
			cur.Calls, cur.Errors, cur.Slow = cur.Calls+c.Calls, cur.Errors+c.Errors, cur.Slow+c.Slow
			out[p] = cur
		}
		if len(mins) == 0 {
			delete(m.counters, p)
		}
	}
	return out, nil
}

// Level implements Store.
func (m *Memory) Level(_ context.Context, provider string) (Level, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.levels[provider]
	if !ok {
		return LevelOK, time.Time{}, nil
	}
	return t.To, t.At, nil
}

// Levels implements Store.
func (m *Memory) Levels(context.Context) (map[string]Level, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]Level{}
	for p, t := range m.levels {
		if t.To != LevelOK {
			out[p] = t.To
		}
	}
	return out, nil
}

// SetLevel implements Store.
func (m *Memory) SetLevel(_ context.Context, t Transition) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t.To == LevelOK {
		delete(m.levels, t.Provider)
	} else {
		m.levels[t.Provider] = t
	}
	m.transitions[t.Provider] = append(m.transitions[t.Provider], t)
	return nil
}

// Transitions implements Store (newest first).
func (m *Memory) Transitions(_ context.Context, provider string, limit int) ([]Transition, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.transitions[provider]
	out := make([]Transition, 0, min(limit, len(ts)))
	for i := len(ts) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, ts[i])
	}
	return out, nil
}

// WithJobLock implements Store.
func (m *Memory) WithJobLock(ctx context.Context, fn func(context.Context) error) (bool, error) {
	if !m.job.TryLock() {
		return false, nil
	}
	defer m.job.Unlock()
	return true, fn(ctx)
}

// CreateLoan implements Store.
func (m *Memory) CreateLoan(_ context.Context, l Loan) (Loan, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range m.loans {
		if x.Provider == l.Provider && x.IdempotencyKey == l.IdempotencyKey {
			return x, true, nil
		}
	}
	for _, x := range m.loans {
		if x.Provider == l.Provider && x.Status == LoanOpen {
			return Loan{}, false, errOpenLoan
		}
	}
	m.loans = append(m.loans, l)
	return l, false, nil
}

var errOpenLoan = errorf(Conflict, "input.idempotencyKey", "a loan is open already; repay it before applying again")

// Loans implements Store (newest first).
func (m *Memory) Loans(_ context.Context, provider string) ([]Loan, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Loan
	for i := len(m.loans) - 1; i >= 0; i-- {
		if m.loans[i].Provider == provider {
			out = append(out, m.loans[i])
		}
	}
	return out, nil
}

// SetLoanStatus implements Store.
func (m *Memory) SetLoanStatus(_ context.Context, id string, status LoanStatus) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.loans {
		if m.loans[i].ID == id {
			m.loans[i].Status = status
			return nil
		}
	}
	return errorf(NotFound, "id", "no such loan")
}
