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
	counters    map[string]map[time.Time]Counters    // provider -> minute
	orderHours  map[string]map[time.Time]OrderCounts // provider -> hour
	windows     map[string]memWindow
	changes     int64 // numbers the windows' changes (the Mark)
	levels      map[string]Transition
	transitions map[string][]Transition
	loans       []Loan
	job         sync.Mutex
	named       sync.Map // name -> *sync.Mutex (a few fixed names)
	offers      []StoredOffer
	payouts     []Payout
	recons      []Reconciliation
	jobRuns     map[[2]string]time.Time
	facts       map[string]Facts
}

// memWindow is a provider's window and the number of its last change.
type memWindow struct {
	Window
	changed int64
}

type memOrder struct {
	Order
	completed, cancelled, updated time.Time
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{keys: map[string]Key{}, digests: map[[sha256.Size]byte]string{}, orders: map[[2]string]memOrder{}, customers: map[[2]string]bool{},
		approvals: map[string]Approval{}, counters: map[string]map[time.Time]Counters{}, orderHours: map[string]map[time.Time]OrderCounts{},
		windows: map[string]memWindow{}, levels: map[string]Transition{},
		transitions: map[string][]Transition{}, jobRuns: map[[2]string]time.Time{}, facts: map[string]Facts{}}
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
	ch := OrderChange{Previous: cur.Status, Amount: cur.Amount, City: cur.City}
	if ok && (cur.Status == OrderCancelled || statusRank[o.Status] < statusRank[cur.Status]) {
		ch.Completed = cur.completed
		return ch, nil
	}
	if !ok {
		cur = memOrder{Order: o}
	}
	if cur.User != "" {
		o.User = cur.User // the first record to name the user (PLACED, by the gateway) decides
	}
	cur.User, ch.User = o.User, o.User
	if cur.City == "" {
		cur.City = o.City
	}
	ch.City = cur.City
	if o.Amount != 0 || !ok {
		cur.Amount, cur.Currency = o.Amount, o.Currency
	}
	var counted OrderCounts
	if !ok {
		counted.Orders++
	}
	if o.Status == OrderCancelled && ch.Previous != OrderCancelled {
		counted.Cancelled++
	}
	m.countOrders(o.Provider, o.At.UTC().Truncate(time.Hour), counted)
	cur.Status, cur.updated = o.Status, o.At
	ch.Amount = cur.Amount
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

// OrderStatus implements Store.
func (m *Memory) OrderStatus(_ context.Context, provider, id string) (OrderStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.orders[[2]string{provider, id}].Status, nil
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
	m.counters[provider][minute] = m.counters[provider][minute].plus(c, 1)
	m.addWindow(provider, Window{Calls: c}, 1)
	return nil
}

// countOrders adds c to provider's order hour and window (m.mu held), as
// the trigger on growth_orders does in PostgreSQL.
func (m *Memory) countOrders(provider string, hour time.Time, c OrderCounts) {
	if c == (OrderCounts{}) {
		return
	}
	if m.orderHours[provider] == nil {
		m.orderHours[provider] = map[time.Time]OrderCounts{}
	}
	m.orderHours[provider][hour] = m.orderHours[provider][hour].plus(c, 1)
	m.addWindow(provider, Window{Orders: c}, 1)
}

// addWindow adds sign·w to provider's window, dropping a window that sums
// to nothing (m.mu held).
func (m *Memory) addWindow(provider string, w Window, sign int64) {
	m.changes++
	cur := m.windows[provider]
	cur.Calls, cur.Orders, cur.changed = cur.Calls.plus(w.Calls, sign), cur.Orders.plus(w.Orders, sign), m.changes
	if cur.Window == (Window{}) {
		delete(m.windows, provider)
		return
	}
	m.windows[provider] = cur
}

func (c Counters) plus(d Counters, sign int64) Counters {
	return Counters{Calls: c.Calls + sign*d.Calls, Errors: c.Errors + sign*d.Errors, Slow: c.Slow + sign*d.Slow}
}

func (c OrderCounts) plus(d OrderCounts, sign int64) OrderCounts {
	return OrderCounts{Orders: c.Orders + sign*d.Orders, Cancelled: c.Cancelled + sign*d.Cancelled}
}

// ExpireCounters implements Store.
func (m *Memory) ExpireCounters(_ context.Context, calls, orders time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for p, mins := range m.counters {
		for t, c := range mins {
			if t.Before(calls) {
				delete(mins, t)
				m.addWindow(p, Window{Calls: c}, -1)
			}
		}
		if len(mins) == 0 {
			delete(m.counters, p)
		}
	}
	for p, hours := range m.orderHours {
		for t, c := range hours {
			if t.Before(orders) {
				delete(hours, t)
				m.addWindow(p, Window{Orders: c}, -1)
			}
		}
		if len(hours) == 0 {
			delete(m.orderHours, p)
		}
	}
	return nil
}

// ChangedWindows implements Store: the mark is the number of the last
// change read (exact: the store changes under one lock).
func (m *Memory) ChangedWindows(_ context.Context, since Mark, fn func(string, Window) error) (Mark, error) {
	m.mu.Lock()
	type changed struct {
		provider string
		w        Window
	}
	var out []changed
	for p, w := range m.windows {
		if w.changed > int64(since) {
			out = append(out, changed{p, w.Window})
		}
	}
	mark := Mark(m.changes)
	m.mu.Unlock()
	for _, c := range out {
		if err := fn(c.provider, c.w); err != nil {
			return since, err
		}
	}
	return mark, nil
}

// Windows implements Store.
func (m *Memory) Windows(_ context.Context, providers []string) (map[string]Window, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]Window, len(providers))
	for _, p := range providers {
		if w, ok := m.windows[p]; ok {
			out[p] = w.Window
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

// WithNamedLock implements Store.
func (m *Memory) WithNamedLock(ctx context.Context, name string, fn func(context.Context) error) (bool, error) {
	mu, _ := m.named.LoadOrStore(name, new(sync.Mutex))
	if !mu.(*sync.Mutex).TryLock() {
		return false, nil
	}
	defer mu.(*sync.Mutex).Unlock()
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

// SaveOffer implements Store.
func (m *Memory) SaveOffer(_ context.Context, o StoredOffer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.offers = append(m.offers, o)
	return nil
}

// LatestOffer implements Store.
func (m *Memory) LatestOffer(_ context.Context, provider string) (StoredOffer, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.offers) - 1; i >= 0; i-- {
		if m.offers[i].Provider == provider {
			return m.offers[i], true, nil
		}
	}
	return StoredOffer{}, false, nil
}

// AcceptOffer implements Store.
func (m *Memory) AcceptOffer(_ context.Context, id, loan string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.offers {
		if m.offers[i].ID != id {
			continue
		}
		if m.offers[i].Loan != "" && m.offers[i].Loan != loan {
			return errOfferTaken
		}
		m.offers[i].Loan = loan
		return nil
	}
	return errorf(NotFound, "offer", "no such offer")
}

// CreatePayout implements Store.
func (m *Memory) CreatePayout(_ context.Context, p Payout) (Payout, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range m.payouts {
		if x.ID == p.ID {
			return x, true, nil
		}
	}
	m.payouts = append(m.payouts, p)
	return p, false, nil
}

// SetPayoutStatus implements Store.
func (m *Memory) SetPayoutStatus(_ context.Context, id string, status PayoutStatus) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.payouts {
		if m.payouts[i].ID == id {
			m.payouts[i].Status = status
			return nil
		}
	}
	return errorf(NotFound, "id", "no such payout")
}

// Payouts implements Store.
func (m *Memory) Payouts(_ context.Context, provider string, limit int) ([]Payout, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Payout
	for i := len(m.payouts) - 1; i >= 0 && len(out) < limit; i-- {
		if m.payouts[i].Provider == provider {
			out = append(out, m.payouts[i])
		}
	}
	return out, nil
}

// PayoutsOn implements Store.
func (m *Memory) PayoutsOn(_ context.Context, day time.Time, after string, limit int) ([]Payout, error) {
	m.mu.Lock()
	var out []Payout
	for _, p := range m.payouts {
		if p.Day.Equal(day) && p.ID > after {
			out = append(out, p)
		}
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Payout) int { return strings.Compare(a.ID, b.ID) })
	return out[:min(limit, len(out))], nil
}

// PendingPayouts implements Store.
func (m *Memory) PendingPayouts(_ context.Context, through time.Time, after string, limit int) ([]Payout, error) {
	m.mu.Lock()
	var out []Payout
	for _, p := range m.payouts {
		if p.Status == PayoutPending && !p.Day.After(through) && p.ID > after {
			out = append(out, p)
		}
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Payout) int { return strings.Compare(a.ID, b.ID) })
	return out[:min(limit, len(out))], nil
}

// SaveReconciliation implements Store.
func (m *Memory) SaveReconciliation(_ context.Context, r Reconciliation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recons = append(m.recons, r)
	return nil
}

// Reconciliations implements Store.
func (m *Memory) Reconciliations(_ context.Context, limit int) ([]Reconciliation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Reconciliation
	for i := len(m.recons) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, m.recons[i])
	}
	return out, nil
}

// JobDone implements Store.
func (m *Memory) JobDone(_ context.Context, job, period string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.jobRuns[[2]string{job, period}]
	return ok, nil
}

// MarkJobDone implements Store.
func (m *Memory) MarkJobDone(_ context.Context, job, period string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.jobRuns[[2]string{job, period}] = at
	return nil
}

// SellingProviders implements Store.
func (m *Memory) SellingProviders(_ context.Context, from, to time.Time, after string, limit int) ([]string, error) {
	m.mu.Lock()
	seen := map[string]bool{}
	for k, o := range m.orders {
		if k[0] > after && !o.completed.IsZero() && !o.completed.Before(from) && o.completed.Before(to) {
			seen[k[0]] = true
		}
	}
	m.mu.Unlock()
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out[:min(limit, len(out))], nil
}

// SetCatalogAt implements Store.
func (m *Memory) SetCatalogAt(_ context.Context, provider string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.facts[provider]
	if at.After(f.CatalogAt) {
		f.CatalogAt = at
	}
	m.facts[provider] = f
	return nil
}

// SetConformance implements Store.
func (m *Memory) SetConformance(_ context.Context, provider, outcome string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.facts[provider]
	f.Conformance, f.ConformanceAt = outcome, at
	m.facts[provider] = f
	return nil
}

// TroubledFacts implements Store.
func (m *Memory) TroubledFacts(_ context.Context, staleBefore time.Time) (map[string]Facts, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]Facts{}
	for p, f := range m.facts {
		if !f.CatalogAt.IsZero() && f.CatalogAt.Before(staleBefore) || f.Conformance == ConformanceFailed {
			out[p] = f
		}
	}
	return out, nil
}

// Payout implements Store.
func (m *Memory) Payout(_ context.Context, id string) (Payout, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.payouts {
		if p.ID == id {
			return p, true, nil
		}
	}
	return Payout{}, false, nil
}
