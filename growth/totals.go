package growth

// The analysts' totals: what each reward program posted and took back, and
// what the loans were offered, lent, repaid and left owing, by vertical and
// city over a date range. Money is read from the ledger and the loan
// records, never from analytics events.

import (
	"cmp"
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/ledger"
)

// Program is a reward program as the totals name it.
type Program string

// The programs. ProgramAdjustment is operators' manual adjustments
// (maker-checker), counted beside the programs so that the totals account
// for every movement of the rewards expense.
const (
	ProgramPerOrder   Program = "PER_ORDER"
	ProgramFirstOrder Program = "FIRST_ORDER"
	ProgramMonthlyOK  Program = "MONTHLY_OK"
	ProgramAdjustment Program = "ADJUSTMENT"
)

// programOf names the program of a reward, reversal or adjustment entry
// from its kind and the first segment of its key (a reversal's: of the key
// it reverses).
func programOf(kind ledger.Kind, prefix string) Program {
	switch {
	case kind == ledger.KindAdjustment:
		return ProgramAdjustment
	case prefix == prefixPerOrder:
		return ProgramPerOrder
	case prefix == prefixFirstOrder:
		return ProgramFirstOrder
	case prefix == prefixMonthlyOK:
		return ProgramMonthlyOK
	}
	return ProgramAdjustment // no other entry moves the rewards expense
}

// ProgramTotal is one program's postings in one vertical and city. The
// city is the order's for order rewards, the provider's first city in the
// directory for the monthly bonus, adjustments and orders that named none.
// Vertical is "" for a provider the directory no longer has.
type ProgramTotal struct {
	Program  Program
	Vertical string
	City     string
	Currency string
	// Postings credited providers with Posted in all.
	Postings int64
	Posted   int64
	// Reversals (cancelled orders, negative adjustments) took back
	// Reversed, whenever the entry they reverse was posted.
	Reversals int64
	Reversed  int64
}

// Net is what the program gave in the range: Posted less Reversed.
func (t ProgramTotal) Net() int64 { return t.Posted - t.Reversed }

// LoanTotal is the loan book of one vertical and city: the offers made and
// the loans disbursed in the range, and where those loans stand now. The
// city is the provider's first city in the directory (a loan is the
// provider's, not an order's).
type LoanTotal struct {
	Vertical string
	City     string
	Currency string
	// OffersMade is the offers stored (shown to providers) in the range,
	// Offered their most amounts; OffersAccepted those a loan took.
	OffersMade     int64
	OffersAccepted int64
	Offered        int64
	// Loans disbursed in the range, with their principal and fees.
	Loans     int64
	Principal int64
	Fees      int64
	// Outstanding is what those loans still owe (principal and fee) now.
	Outstanding int64
	// Arrears is how far behind their schedules they are now (Standing),
	// over InArrears loans.
	Arrears   int64
	InArrears int64
}

// Totals computes the analysts' totals. Memory and Postgres implement it
// and run one contract suite; the Service checks the range first.
type Totals interface {
	ProgramTotals(ctx context.Context, from, to time.Time) ([]ProgramTotal, error)
	// LoanTotals counts arrears as of now.
	LoanTotals(ctx context.Context, from, to, now time.Time) ([]LoanTotal, error)
}

// totalsSource is a store that can compute the totals over the ledger and
// the directory the service uses.
type totalsSource interface {
	Totals(l *ledger.Ledger, dir Directory) Totals
}

// MaxTotalsRange bounds the range of a totals query (a leap year): each
// reads the ledger's entries of the range, so an unbounded one could read
// all of them.
const MaxTotalsRange = 366 * 24 * time.Hour

func checkRange(from, to time.Time) error {
	switch {
	case !to.After(from):
		return errorf(Invalid, "to", "to must be after from")
	case to.Sub(from) > MaxTotalsRange:
		return errorf(Invalid, "to", "a range spans at most 366 days")
	}
	return nil
}

func (s *Service) totalsReader() (Totals, error) {
	if ts, ok := s.store.(totalsSource); ok {
		return ts.Totals(s.ledger, s.dir), nil
	}
	return nil, errorf(Unavailable, "", "this store keeps no totals")
}

// ProgramTotals returns each reward program's postings in [from, to) by
// vertical and city, ordered by program, vertical, city and currency.
// Invalid when to is not after from or the range exceeds MaxTotalsRange.
func (s *Service) ProgramTotals(ctx context.Context, from, to time.Time) ([]ProgramTotal, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	t, err := s.totalsReader()
	if err != nil {
		return nil, err
	}
	return t.ProgramTotals(ctx, from.UTC(), to.UTC())
}

// LoanTotals returns the offers made and loans disbursed in [from, to),
// and where those loans stand now, by vertical and city. Invalid as
// ProgramTotals.
func (s *Service) LoanTotals(ctx context.Context, from, to time.Time) ([]LoanTotal, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	t, err := s.totalsReader()
	if err != nil {
		return nil, err
	}
	return t.LoanTotals(ctx, from.UTC(), to.UTC(), s.now().UTC())
}

// arrears is how far l's repayments are behind its schedule at now, given
// what it still owes: MinimumDaily for each whole day since disbursement
// (at most the total cost), less what was repaid. Postgres.LoanTotals
// computes the same in SQL.
func arrears(l Loan, outstanding int64, now time.Time) int64 {
	if l.Status != LoanOpen {
		return 0
	}
	total := l.Principal + l.Fee
	days := int64(now.Sub(l.CreatedAt).Hours() / 24)
	due := min(total, l.MinimumDaily*days)
	return max(0, due-(total-outstanding))
}

// programTotals accumulates ProgramTotal rows by their dimensions.
type programTotals map[[4]string]*ProgramTotal

// add counts amount, the entry's movement of the rewards expense (positive
// when it credited the provider).
func (ts programTotals) add(p Program, vertical, city, currency string, count, amount int64) {
	k := [4]string{string(p), vertical, city, currency}
	t := ts[k]
	if t == nil {
		t = &ProgramTotal{Program: p, Vertical: vertical, City: city, Currency: currency}
		ts[k] = t
	}
	if amount > 0 {
		t.Postings, t.Posted = t.Postings+count, t.Posted+amount
	} else {
		t.Reversals, t.Reversed = t.Reversals+count, t.Reversed-amount
	}
}

func (ts programTotals) sorted() []ProgramTotal {
	out := make([]ProgramTotal, 0, len(ts))
	for _, t := range ts {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b ProgramTotal) int {
		return cmp.Or(cmp.Compare(a.Program, b.Program), cmp.Compare(a.Vertical, b.Vertical), cmp.Compare(a.City, b.City),
			cmp.Compare(a.Currency, b.Currency))
	})
	return out
}

func sortLoanTotals(out []LoanTotal) []LoanTotal {
	slices.SortFunc(out, func(a, b LoanTotal) int {
		return cmp.Or(cmp.Compare(a.Vertical, b.Vertical), cmp.Compare(a.City, b.City), cmp.Compare(a.Currency, b.Currency))
	})
	return out
}

// memoryTotals computes the totals of the embedded default in process:
// the ledger's entries of the range, page by page, and the store's loans
// and offers, with each provider's vertical and first city from the
// directory.
type memoryTotals struct {
	m      *Memory
	ledger *ledger.Ledger
	dir    Directory
}

// Totals implements totalsSource.
func (m *Memory) Totals(l *ledger.Ledger, dir Directory) Totals {
	return &memoryTotals{m: m, ledger: l, dir: dir}
}

// homes remembers, for one query, each provider's vertical and first city
// ("" for a provider the directory does not have).
type homes struct {
	dir  Directory
	seen map[string][2]string
}

func (h homes) of(ctx context.Context, provider string) ([2]string, error) {
	if w, ok := h.seen[provider]; ok {
		return w, nil
	}
	var w [2]string
	p, err := h.dir.Get(ctx, provider)
	switch {
	case errors.Is(err, directory.ErrNotFound):
	case err != nil:
		return w, err
	default:
		w[0] = string(p.Vertical)
		if len(p.Cities) > 0 {
			w[1] = p.Cities[0]
		}
	}
	h.seen[provider] = w
	return w, nil
}

// ProgramTotals implements Totals.
func (t *memoryTotals) ProgramTotals(ctx context.Context, from, to time.Time) ([]ProgramTotal, error) {
	home := homes{dir: t.dir, seen: map[string][2]string{}}
	acc := programTotals{}
	for _, kind := range []ledger.Kind{ledger.KindReward, ledger.KindReversal, ledger.KindAdjustment} {
		// One page: the in-process ledger scans every entry per call, so
		// pages would cost a scan each; what it returns is already in memory.
		es, err := t.ledger.EntriesOfKind(ctx, kind, from, to, "", math.MaxInt32)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			amount := e.Amount(ledger.RewardsExpense)
			if amount == 0 {
				continue // a reversal that arrived first moved nothing
			}
			w, err := home.of(ctx, e.Provider)
			if err != nil {
				return nil, err
			}
			key := e.Key
			if e.Reverses != "" {
				key = e.Reverses
			}
			prefix, _, _ := strings.Cut(key, ":")
			acc.add(programOf(e.Kind, prefix), w[0], cmp.Or(e.City, w[1]), e.Currency, 1, amount)
		}
	}
	return acc.sorted(), nil
}

// LoanTotals implements Totals.
func (t *memoryTotals) LoanTotals(ctx context.Context, from, to, now time.Time) ([]LoanTotal, error) {
	home := homes{dir: t.dir, seen: map[string][2]string{}}
	in := func(at time.Time) bool { return !at.Before(from) && at.Before(to) }
	t.m.mu.Lock()
	var offers []StoredOffer
	var loans []Loan
	for _, o := range t.m.offers {
		if in(o.CreatedAt) {
			offers = append(offers, o)
		}
	}
	for _, l := range t.m.loans {
		if in(l.CreatedAt) {
			loans = append(loans, l)
		}
	}
	t.m.mu.Unlock()
	acc := map[[3]string]*LoanTotal{}
	row := func(provider, currency string) (*LoanTotal, error) {
		w, err := home.of(ctx, provider)
		if err != nil {
			return nil, err
		}
		k := [3]string{w[0], w[1], currency}
		if acc[k] == nil {
			acc[k] = &LoanTotal{Vertical: w[0], City: w[1], Currency: currency}
		}
		return acc[k], nil
	}
	for _, o := range offers {
		r, err := row(o.Provider, o.Currency)
		if err != nil {
			return nil, err
		}
		r.OffersMade++
		r.Offered += o.Max
		if o.Loan != "" {
			r.OffersAccepted++
		}
	}
	for _, l := range loans {
		r, err := row(l.Provider, l.Currency)
		if err != nil {
			return nil, err
		}
		var owed int64
		if l.Status == LoanOpen {
			b, err := t.ledger.Balances(ctx, l.Provider, l.Currency)
			if err != nil {
				return nil, err
			}
			owed = b.Loan
		}
		r.Loans++
		r.Principal += l.Principal
		r.Fees += l.Fee
		r.Outstanding += owed
		if a := arrears(l, owed, now); a > 0 {
			r.Arrears += a
			r.InArrears++
		}
	}
	out := make([]LoanTotal, 0, len(acc))
	for _, r := range acc {
		out = append(out, *r)
	}
	return sortLoanTotals(out), nil
}
