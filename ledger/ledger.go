// Package ledger is the double-entry ledger behind providers' rewards,
// loans and payouts. Amounts are integer minor units (fen, cents). Every
// movement is an Entry whose postings sum to zero; entries are never changed
// or deleted (a correction is a new entry that reverses an old one). Each
// entry carries the key of the event that caused it (an order's completion,
// a loan's disbursement) and is posted at most once per key, however often
// the event is delivered. A provider's payable balance never goes negative:
// a debit that finds it spent books the rest to the provider's receivable
// account, which later credits pay back first.
//
// The rules live here, once; a Backend only stores entries and balances
// atomically per provider. Memory (the embedded default) and Postgres run
// the same contract tests (ledgertest).
package ledger

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Account names a ledger account. Provider accounts are per provider;
// platform accounts are shared.
type Account string

// Platform accounts. Running balances are kept for provider accounts only:
// every provider's entries touch these, so a balance row for them would
// serialise every posting on the platform; their balances are sums
// (Totals, reconciliation), read rarely.
const (
	// RewardsExpense is debited by every reward the platform grants.
	RewardsExpense Account = "platform:rewards"
	// Cash is credited when money leaves the platform (payouts, loan
	// disbursements) and debited when it comes back.
	Cash Account = "platform:cash"
	// LoanFees is credited with a loan's fee when it is disbursed.
	LoanFees Account = "platform:loan-fees"
)

// Payable is what the platform owes the provider (a liability: its balance
// is a credit, shown positive by Balances).
func Payable(provider string) Account { return Account("provider:" + provider + ":payable") }

// Receivable is what the provider owes the platform after a reversal found
// its payable spent (an asset, debit-normal).
func Receivable(provider string) Account { return Account("provider:" + provider + ":receivable") }

// Loan is the provider's outstanding loan: principal and fee (an asset).
func Loan(provider string) Account { return Account("provider:" + provider + ":loan") }

// Kind says what caused an entry.
type Kind string

// The kinds of entry.
const (
	KindReward       Kind = "REWARD"
	KindReversal     Kind = "REVERSAL"
	KindAdjustment   Kind = "ADJUSTMENT"
	KindDisbursement Kind = "DISBURSEMENT"
	KindRepayment    Kind = "REPAYMENT"
	KindPayout       Kind = "PAYOUT"
)

// Posting is one line of an entry: positive amounts are debits, negative
// ones credits.
type Posting struct {
	Account Account
	Amount  int64
}

// Entry is one immutable movement. A reversal of an event that was never
// posted is recorded with no postings, so that the event, should it arrive
// late, is not rewarded after all.
type Entry struct {
	Key      string
	Kind     Kind
	Provider string
	Currency string
	// Reverses is the key of the entry this one undoes (reversals).
	Reverses string
	Memo     string
	// Actor is who made a manual entry (operators' adjustments); empty
	// for entries caused by events.
	Actor string
	// City is where the causing event happened (an order's city), for the
	// analysts' totals by city; empty when the event has none. A reversal
	// carries its original's.
	City     string
	At       time.Time
	Postings []Posting
}

// Amount returns what e moved on account (0 when it did not touch it).
func (e Entry) Amount(a Account) int64 {
	var n int64
	for _, p := range e.Postings {
		if p.Account == a {
			n += p.Amount
		}
	}
	return n
}

// Backend stores entries. Update runs fn with the provider's accounts
// locked against every other Update for that provider, on every instance,
// and applies fn's inserts atomically when it returns nil.
type Backend interface {
	Update(ctx context.Context, provider string, fn func(Tx) error) error
	// Entries returns the provider's entries, newest first, at most limit.
	Entries(ctx context.Context, provider string, limit int) ([]Entry, error)
	// Entry returns the entry posted under key.
	Entry(ctx context.Context, key string) (Entry, bool, error)
	// Balance returns a provider account's balance (debits minus credits).
	Balance(ctx context.Context, a Account, currency string) (int64, error)
	// Totals returns the sum of every posting by currency: zero in a
	// balanced ledger.
	Totals(ctx context.Context) (map[string]int64, error)
	// Payables returns the providers whose payable holds money in
	// currency, in the order of their payable accounts' names after the
	// given provider's ("" first), at most limit: a payout run pages through
	// them (bounded by the providers owed, not by the
	// directory).
	Payables(ctx context.Context, currency, after string, limit int) ([]Owed, error)
	// EntriesOfKind returns the entries of kind posted in [from, to), by
	// key after the given one, at most limit (reconciliation's pages).
	EntriesOfKind(ctx context.Context, kind Kind, from, to time.Time, after string, limit int) ([]Entry, error)
	// Recount sums a provider account's postings afresh: reconciliation
	// compares it with the running Balance.
	Recount(ctx context.Context, a Account, currency string) (int64, error)
}

// Owed is what the platform owes one provider (its payable, positive).
type Owed struct {
	Provider string
	Amount   int64
}

// Tx is the view of the ledger inside Update.
type Tx interface {
	Entry(ctx context.Context, key string) (Entry, bool, error)
	// ReversalOf returns the entry that reverses the entry posted under key.
	ReversalOf(ctx context.Context, key string) (Entry, bool, error)
	Balance(ctx context.Context, a Account, currency string) (int64, error)
	// Insert stages e; Update applies it when fn returns nil.
	Insert(ctx context.Context, e Entry) error
}

// Errors the ledger returns; callers check them with errors.Is.
var (
	// ErrInvalid: an amount, currency or key the ledger refuses.
	ErrInvalid = errors.New("ledger: invalid")
	// ErrConflict: the movement is not possible now (a payout above the
	// payable balance, a key already used for another provider).
	ErrConflict = errors.New("ledger: conflict")
	// ErrNotFound: no entry under that key.
	ErrNotFound = errors.New("ledger: not found")
)

// MaxAmount bounds one movement (10^12 minor units: ten billion yuan), so
// sums of many movements stay far from int64 overflow.
const MaxAmount int64 = 1_000_000_000_000

var currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)

// Ledger applies the rules over a Backend.
type Ledger struct {
	b   Backend
	now func() time.Time
}

// New returns a ledger over b; now stamps entries (nil: time.Now).
func New(b Backend, now func() time.Time) *Ledger {
	if now == nil {
		now = time.Now
	}
	return &Ledger{b: b, now: now}
}

// Posted is the outcome of a movement.
type Posted struct {
	Entry Entry
	// Duplicate: the event had already been posted; Entry is that entry.
	Duplicate bool
	// Voided: the event had been reversed before it arrived, so nothing
	// was posted; Entry is the reversal.
	Voided bool
}

// Movement is a credit or debit to a provider caused by one event.
type Movement struct {
	Key      string
	Provider string
	Currency string
	// Amount is positive; Adjust takes a signed one.
	Amount int64
	Kind   Kind
	Memo   string
	Actor  string
	// City is the causing event's city (Entry.City).
	City string
}

func validate(m Movement, signed bool) error {
	switch {
	case m.Key == "" || len(m.Key) > 200:
		return fmt.Errorf("%w: key must be 1 to 200 characters", ErrInvalid)
	case m.Provider == "":
		return fmt.Errorf("%w: no provider", ErrInvalid)
	case !currencyPattern.MatchString(m.Currency):
		return fmt.Errorf("%w: currency %q is not an ISO 4217 code", ErrInvalid, m.Currency)
	case m.Amount == 0 || !signed && m.Amount < 0:
		return fmt.Errorf("%w: amount must be positive", ErrInvalid)
	case m.Amount > MaxAmount || m.Amount < -MaxAmount:
		return fmt.Errorf("%w: amount beyond %d", ErrInvalid, MaxAmount)
	}
	return nil
}

// Reward credits the provider's payable with m.Amount from the rewards
// expense, paying back its receivable first. Posted once per m.Key; if the
// event was reversed before it arrived, nothing is posted (Voided).
func (l *Ledger) Reward(ctx context.Context, m Movement) (Posted, error) {
	if m.Kind == "" {
		m.Kind = KindReward
	}
	if err := validate(m, false); err != nil {
		return Posted{}, err
	}
	return l.post(ctx, m, func(ctx context.Context, tx Tx) (Entry, error) { return l.credit(ctx, tx, m) })
}

// Adjust is an operator's manual movement: a positive Amount credits the
// provider like a reward, a negative one debits it like a reversal.
func (l *Ledger) Adjust(ctx context.Context, m Movement) (Posted, error) {
	m.Kind = KindAdjustment
	if err := validate(m, true); err != nil {
		return Posted{}, err
	}
	return l.post(ctx, m, func(ctx context.Context, tx Tx) (Entry, error) {
		if m.Amount > 0 {
			return l.credit(ctx, tx, m)
		}
		m.Amount = -m.Amount
		return l.debit(ctx, tx, m, "")
	})
}

// Reverse undoes the entry posted under original with a new entry under
// key. The debit takes the provider's payable down to zero at most; the rest
// is booked to its receivable. A reversal of an event not (yet) posted is
// recorded empty, and the event is then never posted. Reversing twice (under
// another key) returns the first reversal as a duplicate.
func (l *Ledger) Reverse(ctx context.Context, key, provider, currency, original, memo string) (Posted, error) {
	m := Movement{Key: key, Provider: provider, Currency: currency, Amount: 1, Kind: KindReversal, Memo: memo}
	if err := validate(m, false); err != nil {
		return Posted{}, err
	}
	if original == "" {
		return Posted{}, fmt.Errorf("%w: no original to reverse", ErrInvalid)
	}
	var out Posted
	err := l.b.Update(ctx, provider, func(tx Tx) error {
		if e, ok, err := tx.Entry(ctx, key); err != nil || ok {
			out = Posted{Entry: e, Duplicate: ok}
			return err
		}
		if e, ok, err := tx.ReversalOf(ctx, original); err != nil || ok {
			out = Posted{Entry: e, Duplicate: ok}
			return err
		}
		orig, ok, err := tx.Entry(ctx, original)
		if err != nil {
			return err
		}
		if !ok {
			e := Entry{Key: key, Kind: KindReversal, Provider: provider, Currency: currency, Reverses: original, Memo: memo, At: l.now()}
			// Not posted (yet): its city is unknown and moves nothing.
			out = Posted{Entry: e}
			return tx.Insert(ctx, e)
		}
		if orig.Provider != provider || orig.Currency != currency {
			return fmt.Errorf("%w: %s is not %s's in %s", ErrConflict, original, provider, currency)
		}
		gross := orig.Amount(RewardsExpense)
		if gross <= 0 {
			return fmt.Errorf("%w: %s is not a credit that can be reversed", ErrConflict, original)
		}
		m.Amount, m.City = gross, orig.City
		e, err := l.debit(ctx, tx, m, original)
		if err != nil {
			return err
		}
		out = Posted{Entry: e}
		return tx.Insert(ctx, e)
	})
	return out, err
}

// post runs build under the provider's lock unless m.Key was posted (a
// duplicate) or reversed before it arrived (voided).
func (l *Ledger) post(ctx context.Context, m Movement, build func(context.Context, Tx) (Entry, error)) (Posted, error) {
	var out Posted
	err := l.b.Update(ctx, m.Provider, func(tx Tx) error {
		if e, ok, err := tx.Entry(ctx, m.Key); err != nil || ok {
			if ok && e.Provider != m.Provider {
				return fmt.Errorf("%w: key %s belongs to another provider", ErrConflict, m.Key)
			}
			out = Posted{Entry: e, Duplicate: ok}
			return err
		}
		if e, ok, err := tx.ReversalOf(ctx, m.Key); err != nil || ok {
			out = Posted{Entry: e, Voided: ok}
			return err
		}
		e, err := build(ctx, tx)
		if err != nil {
			return err
		}
		out = Posted{Entry: e}
		if len(e.Postings) == 0 {
			return nil // nothing to move: nothing posted, the key stays free
		}
		return tx.Insert(ctx, e)
	})
	return out, err
}

// credit moves m.Amount from the rewards expense to the provider, its
// receivable paid back first.
func (l *Ledger) credit(ctx context.Context, tx Tx, m Movement) (Entry, error) {
	owed, err := tx.Balance(ctx, Receivable(m.Provider), m.Currency)
	if err != nil {
		return Entry{}, err
	}
	recovered := min(max(owed, 0), m.Amount)
	e := l.entry(m, "")
	e.Postings = lines(
		Posting{RewardsExpense, m.Amount},
		Posting{Receivable(m.Provider), -recovered},
		Posting{Payable(m.Provider), -(m.Amount - recovered)},
	)
	return e, nil
}

// debit moves m.Amount back to the rewards expense: from the payable as far
// as it goes, the rest to the receivable.
func (l *Ledger) debit(ctx context.Context, tx Tx, m Movement, reverses string) (Entry, error) {
	bal, err := tx.Balance(ctx, Payable(m.Provider), m.Currency)
	if err != nil {
		return Entry{}, err
	}
	fromPayable := min(max(-bal, 0), m.Amount)
	e := l.entry(m, reverses)
	e.Postings = lines(
		Posting{RewardsExpense, -m.Amount},
		Posting{Payable(m.Provider), fromPayable},
		Posting{Receivable(m.Provider), m.Amount - fromPayable},
	)
	return e, nil
}

func (l *Ledger) entry(m Movement, reverses string) Entry {
	return Entry{Key: m.Key, Kind: m.Kind, Provider: m.Provider, Currency: m.Currency, Reverses: reverses,
		Memo: m.Memo, Actor: m.Actor, City: m.City, At: l.now()}
}

// lines drops zero postings (a posting moves something).
func lines(ps ...Posting) []Posting {
	out := ps[:0]
	for _, p := range ps {
		if p.Amount != 0 {
			out = append(out, p)
		}
	}
	return out
}

// Disburse pays a loan out: the provider's loan account is debited with
// principal plus fee, cash credited with the principal, fee income with the
// fee. Posted once per key.
func (l *Ledger) Disburse(ctx context.Context, key, provider, currency string, principal, fee int64) (Posted, error) {
	m := Movement{Key: key, Provider: provider, Currency: currency, Amount: principal, Kind: KindDisbursement}
	if err := validate(m, false); err != nil {
		return Posted{}, err
	}
	if fee < 0 || fee > MaxAmount {
		return Posted{}, fmt.Errorf("%w: fee out of range", ErrInvalid)
	}
	return l.post(ctx, m, func(context.Context, Tx) (Entry, error) {
		e := l.entry(m, "")
		e.Postings = lines(Posting{Loan(provider), principal + fee}, Posting{Cash, -principal}, Posting{LoanFees, -fee})
		return e, nil
	})
}

// Repay moves up to limit from the provider's payable to its loan: never
// more than the payable holds nor than the loan owes. Nothing to move posts
// nothing (Entry has no postings). Posted once per key.
func (l *Ledger) Repay(ctx context.Context, key, provider, currency string, limit int64) (Posted, error) {
	m := Movement{Key: key, Provider: provider, Currency: currency, Amount: limit, Kind: KindRepayment}
	if err := validate(m, false); err != nil {
		return Posted{}, err
	}
	return l.post(ctx, m, func(ctx context.Context, tx Tx) (Entry, error) {
		pay, err := tx.Balance(ctx, Payable(provider), currency)
		if err != nil {
			return Entry{}, err
		}
		loan, err := tx.Balance(ctx, Loan(provider), currency)
		if err != nil {
			return Entry{}, err
		}
		e := l.entry(m, "")
		if n := min(limit, max(-pay, 0), max(loan, 0)); n > 0 {
			e.Postings = []Posting{{Payable(provider), n}, {Loan(provider), -n}}
		}
		return e, nil
	})
}

// Collect records money collected towards the provider's loan from outside
// its payable (a share of its settled orders withheld, an early
// repayment): cash is debited and the loan credited, never more than the
// loan owes. Nothing owed posts nothing. Posted once per key.
func (l *Ledger) Collect(ctx context.Context, key, provider, currency string, limit int64) (Posted, error) {
	m := Movement{Key: key, Provider: provider, Currency: currency, Amount: limit, Kind: KindRepayment}
	if err := validate(m, false); err != nil {
		return Posted{}, err
	}
	return l.post(ctx, m, func(ctx context.Context, tx Tx) (Entry, error) {
		loan, err := tx.Balance(ctx, Loan(provider), currency)
		if err != nil {
			return Entry{}, err
		}
		e := l.entry(m, "")
		if n := min(limit, max(loan, 0)); n > 0 {
			e.Postings = []Posting{{Cash, n}, {Loan(provider), -n}}
		}
		return e, nil
	})
}

// Payout records money paid to the provider from its payable. ErrConflict
// when the payable holds less than amount. Posted once per key.
func (l *Ledger) Payout(ctx context.Context, key, provider, currency string, amount int64) (Posted, error) {
	m := Movement{Key: key, Provider: provider, Currency: currency, Amount: amount, Kind: KindPayout}
	if err := validate(m, false); err != nil {
		return Posted{}, err
	}
	return l.post(ctx, m, func(ctx context.Context, tx Tx) (Entry, error) {
		pay, err := tx.Balance(ctx, Payable(provider), currency)
		if err != nil {
			return Entry{}, err
		}
		if -pay < amount {
			return Entry{}, fmt.Errorf("%w: payout of %d above the payable balance %d", ErrConflict, amount, -pay)
		}
		e := l.entry(m, "")
		e.Postings = []Posting{{Payable(provider), amount}, {Cash, -amount}}
		return e, nil
	})
}

// Balances are a provider's balances in one currency, each shown positive
// when it is owed (the payable to the provider, the receivable and the loan
// by it).
type Balances struct {
	Currency   string
	Payable    int64
	Receivable int64
	Loan       int64
}

// Balances returns the provider's balances in currency.
func (l *Ledger) Balances(ctx context.Context, provider, currency string) (Balances, error) {
	out := Balances{Currency: currency}
	for _, b := range []struct {
		a    Account
		sign int64
		dst  *int64
	}{{Payable(provider), -1, &out.Payable}, {Receivable(provider), 1, &out.Receivable}, {Loan(provider), 1, &out.Loan}} {
		v, err := l.b.Balance(ctx, b.a, currency)
		if err != nil {
			return Balances{}, err
		}
		*b.dst = b.sign * v
	}
	return out, nil
}

// Entries returns the provider's entries, newest first, at most limit.
func (l *Ledger) Entries(ctx context.Context, provider string, limit int) ([]Entry, error) {
	return l.b.Entries(ctx, provider, limit)
}

// Entry returns the entry posted under key (ErrNotFound if none).
func (l *Ledger) Entry(ctx context.Context, key string) (Entry, error) {
	e, ok, err := l.b.Entry(ctx, key)
	if err == nil && !ok {
		err = fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return e, err
}

// Totals returns the sum of all postings by currency (zero when balanced).
func (l *Ledger) Totals(ctx context.Context) (map[string]int64, error) { return l.b.Totals(ctx) }

// Payables pages through the providers owed money in currency (Backend).
func (l *Ledger) Payables(ctx context.Context, currency, after string, limit int) ([]Owed, error) {
	return l.b.Payables(ctx, currency, after, limit)
}

// EntriesOfKind pages through the entries of kind posted in [from, to).
func (l *Ledger) EntriesOfKind(ctx context.Context, kind Kind, from, to time.Time, after string, limit int) ([]Entry, error) {
	return l.b.EntriesOfKind(ctx, kind, from, to, after, limit)
}

// Drift is a provider account whose running balance differs from the sum
// of its postings.
type Drift struct {
	Account  Account
	Currency string
	Running  int64
	Posted   int64
}

// Audit compares each of provider's accounts' running balance with the
// sum of its postings and returns those that differ (none in a sound
// ledger: a difference means a balance row was changed outside Update).
func (l *Ledger) Audit(ctx context.Context, provider, currency string) ([]Drift, error) {
	var out []Drift
	for _, a := range []Account{Payable(provider), Receivable(provider), Loan(provider)} {
		running, err := l.b.Balance(ctx, a, currency)
		if err != nil {
			return nil, err
		}
		posted, err := l.b.Recount(ctx, a, currency)
		if err != nil {
			return nil, err
		}
		if running != posted {
			out = append(out, Drift{Account: a, Currency: currency, Running: running, Posted: posted})
		}
	}
	return out, nil
}

// ProviderOf returns the provider of a provider account ("" for platform
// accounts).
func ProviderOf(a Account) string {
	s, ok := strings.CutPrefix(string(a), "provider:")
	if !ok {
		return ""
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[:i]
	}
	return ""
}

// checkBalanced refuses an entry whose postings do not sum to zero: the
// backends call it before storing anything.
func checkBalanced(e Entry) error {
	var sum int64
	for _, p := range e.Postings {
		sum += p.Amount
	}
	if sum != 0 {
		return fmt.Errorf("ledger: entry %s does not balance (%d)", e.Key, sum)
	}
	return nil
}
