// Package growth is the merchant-growth product for providers: their API
// keys, rewards from order records into the ledger, operators'
// maker-checker approvals, service levels with graded consequences, and
// loan offers and applications. It knows nothing about GraphQL; its state
// lives behind Store (Memory for the embedded default, Postgres on the
// directory's database), and both run one contract suite.
package growth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"
)

// Code classifies an error for the client (the GraphQL extensions.code).
type Code string

// The codes.
const (
	Invalid     Code = "BAD_USER_INPUT"
	NotFound    Code = "NOT_FOUND"
	Conflict    Code = "CONFLICT"
	Forbidden   Code = "FORBIDDEN"
	Unavailable Code = "UNAVAILABLE"
)

// Error is an error a client may see: Message is written for it, Field
// names the input field at fault.
type Error struct {
	Code    Code
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s (%s): %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func errorf(code Code, field, format string, args ...any) error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of the first *Error in err's chain ("" if none).
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Key is a provider API key as listed: never the key itself.
type Key struct {
	ID        string
	Provider  string
	Label     string
	CreatedBy string
	CreatedAt time.Time
	RevokedAt time.Time // zero while live
	RevokedBy string
}

// OrderStatus is where an order record stands.
type OrderStatus string

// The statuses of a record. PLACED (a booking or order the gateway's own
// mutation made) moves no money; COMPLETED earns the rewards; CANCELLED
// reverses them. A status never moves back: PLACED < COMPLETED <
// CANCELLED.
const (
	OrderPlaced    OrderStatus = "PLACED"
	OrderCompleted OrderStatus = "COMPLETED"
	OrderCancelled OrderStatus = "CANCELLED"
)

var statusRank = map[OrderStatus]int{"": 0, OrderPlaced: 1, OrderCompleted: 2, OrderCancelled: 3}

// Order is an order or booking record as a provider's status webhook or
// the gateway's own mutation reports it.
type Order struct {
	Provider string
	ID       string
	User     string
	City     string
	Currency string
	Amount   int64
	Status   OrderStatus
	At       time.Time
}

// OrderChange is what recording an order changed.
type OrderChange struct {
	// Previous is the status before ("" for a new record).
	Previous OrderStatus
	// Completed is when the order completed (zero if it never did).
	Completed time.Time
	// FirstForUser: the order is the user's first completed one with the
	// provider. A store shared by processes (PostgreSQL) says so again
	// when the first order's completion is delivered again, so a bonus an
	// instance died before posting is posted then (under the user's key:
	// once).
	FirstForUser bool
	// Amount and User are the order's as stored after the change: a
	// record without them keeps what an earlier record gave.
	Amount int64
	User   string
	// City is the order's as the first record to name one gave it.
	City string
}

// Day is one day of a provider's order records.
type Day struct {
	Day       time.Time
	GMV       int64 // completed, not cancelled since
	Completed int
	Cancelled int // cancelled after completing (refunds) or before
}

// Approval is a maker-checker request.
type Approval struct {
	ID        string
	Kind      ApprovalKind
	Provider  string
	Currency  string
	Amount    int64
	Reason    string
	Maker     string
	Checker   string
	Status    ApprovalStatus
	CreatedAt time.Time
	DecidedAt time.Time
}

// ApprovalKind is what an approval would do.
type ApprovalKind string

// The kinds.
const (
	ApprovalAdjustment ApprovalKind = "LEDGER_ADJUSTMENT"
	ApprovalLift       ApprovalKind = "LIFT_SUSPENSION"
)

// ApprovalStatus is where an approval stands.
type ApprovalStatus string

// The statuses.
const (
	ApprovalPending  ApprovalStatus = "PENDING"
	ApprovalApproved ApprovalStatus = "APPROVED"
	ApprovalRejected ApprovalStatus = "REJECTED"
)

// Counters are a provider's call outcomes over some minutes.
type Counters struct {
	Calls  int64
	Errors int64 // errors and timeouts
	Slow   int64 // calls over the latency threshold (the p99 bound)
}

// Level is a service-level state.
type Level string

// The states, in order of severity.
const (
	LevelOK        Level = "OK"
	LevelWarning   Level = "WARNING"
	LevelDemoted   Level = "DEMOTED"
	LevelSuspended Level = "SUSPENDED"
)

// Transition is one recorded service-level move.
type Transition struct {
	Provider string
	From, To Level
	Reason   string
	At       time.Time
}

// LoanStatus is where an application stands.
type LoanStatus string

// The statuses. At most one OPEN application per provider.
const (
	LoanOpen   LoanStatus = "OPEN"
	LoanRepaid LoanStatus = "REPAID"
)

// Loan is an approved, disbursed loan application and its schedule.
type Loan struct {
	ID             string
	Provider       string
	IdempotencyKey string
	Currency       string
	Principal      int64
	Fee            int64
	TermDays       int
	// SharePercent of each day's settled GMV is collected, at least
	// MinimumDaily a day on average.
	SharePercent int
	MinimumDaily int64
	Status       LoanStatus
	// Consent is the terms the provider agreed to, as shown to it.
	Consent string
	// Offer is the stored offer the loan accepted.
	Offer     string
	CreatedAt time.Time
	DueAt     time.Time
}

// PayoutStatus is where a payout stands.
type PayoutStatus string

// The statuses. A payout is recorded PENDING, then its ledger entry is
// posted and it is PAID; VOID when the payable had shrunk below it by the
// time it was posted (a reversal in between), nothing paid.
const (
	PayoutPending PayoutStatus = "PENDING"
	PayoutPaid    PayoutStatus = "PAID"
	PayoutVoid    PayoutStatus = "VOID"
)

// Payout is one day's settlement of a provider's payable: the rewards
// credited since the last payout, less what went to its loan (Repaid).
type Payout struct {
	ID       string
	Provider string
	Currency string
	// Amount is what leaves the platform for the provider.
	Amount int64
	// Repaid is what the run moved from the payable to the provider's loan
	// first (its arrears), before Amount was paid out.
	Repaid    int64
	Day       time.Time
	Status    PayoutStatus
	CreatedAt time.Time
}

// StoredOffer is an offer as it was made to the provider: its terms, kept
// until it expires and accepted at most once.
type StoredOffer struct {
	ID string
	Offer
	Provider  string
	CreatedAt time.Time
	ExpiresAt time.Time
	// Loan is the loan that accepted it ("" while open).
	Loan string
}

// OrderCounts are a provider's order records over a window.
type OrderCounts struct {
	Orders    int64 // records first stored in the window
	Cancelled int64 // records cancelled in the window
}

// Window is a provider's service-level counters summed over the buckets
// not yet expired: the call minutes of the last Thresholds.Window and the
// order hours of the last CancelWindow, as of the job's last expiry. The
// stores keep it as buckets arrive, so a grading run reads one Window per
// provider, never the order records.
type Window struct {
	Calls  Counters
	Orders OrderCounts
}

// Mark is where a read of changed windows left off (store-defined; the
// zero Mark reads them all).
type Mark int64

// Facts are the service-level inputs that are not call counters.
type Facts struct {
	// CatalogAt is when the provider's catalogue last reached the supply
	// index (zero: never).
	CatalogAt time.Time
	// Conformance is the outcome of its last conformance run (PASSED or
	// FAILED; "" if none), at ConformanceAt.
	Conformance   string
	ConformanceAt time.Time
}

// Store keeps merchant growth's state. Every method is safe for
// concurrent use; Postgres shares it across instances.
type Store interface {
	CreateKey(ctx context.Context, k Key, digest [sha256.Size]byte) error
	// RevokeKey revokes the provider's key id; NotFound when the provider
	// has no such key (another provider's included).
	RevokeKey(ctx context.Context, provider, id, actor string, at time.Time) (Key, error)
	Keys(ctx context.Context, provider string) ([]Key, error)
	LookupKey(ctx context.Context, digest [sha256.Size]byte) (provider, id string, ok bool, err error)

	// RecordOrder stores o's status (a status never moves back from
	// CANCELLED) and says what changed.
	RecordOrder(ctx context.Context, o Order) (OrderChange, error)
	// OrderStatus returns the order's status as stored ("" when unknown).
	OrderStatus(ctx context.Context, provider, id string) (OrderStatus, error)
	// CompletedOrders pages through the orders of every provider completed
	// in [from, to), by (provider, id) after the given pair, at most limit.
	CompletedOrders(ctx context.Context, from, to time.Time, after [2]string, limit int) ([]Order, error)
	// Days returns the provider's order records by day in [from, to).
	Days(ctx context.Context, provider, currency string, from, to time.Time) ([]Day, error)

	CreateApproval(ctx context.Context, a Approval) error
	Approval(ctx context.Context, id string) (Approval, error)
	// DecideApproval moves a PENDING approval to status, by checker;
	// Conflict when it was decided already.
	DecideApproval(ctx context.Context, id, checker string, status ApprovalStatus, at time.Time) (Approval, error)
	Approvals(ctx context.Context, status ApprovalStatus, limit int) ([]Approval, error)

	// AddCounters adds c to provider's calls of minute, and to its window.
	AddCounters(ctx context.Context, provider string, minute time.Time, c Counters) error
	// ExpireCounters deletes the call minutes before calls and the order
	// hours before orders, taking them out of their providers' windows
	// (which count as changed).
	ExpireCounters(ctx context.Context, calls, orders time.Time) error
	// ChangedWindows calls fn with the window of every provider whose
	// window changed since mark (every provider with a window for the zero
	// Mark), and returns the mark to pass next time. A provider may come
	// again in the next read (marks leave a margin for writes in flight).
	// fn must not use the store: PostgreSQL streams the read on a pooled
	// connection while fn runs.
	ChangedWindows(ctx context.Context, since Mark, fn func(provider string, w Window) error) (Mark, error)
	// Windows returns the windows of providers (absent: nothing counted).
	Windows(ctx context.Context, providers []string) (map[string]Window, error)
	Level(ctx context.Context, provider string) (Level, time.Time, error)
	// Levels returns every provider not OK (the others are OK).
	Levels(ctx context.Context) (map[string]Level, error)
	SetLevel(ctx context.Context, t Transition) error
	Transitions(ctx context.Context, provider string, limit int) ([]Transition, error)
	// WithJobLock runs fn if no other instance's job holds the lock, and
	// reports whether it ran (the service-level job's lock).
	WithJobLock(ctx context.Context, fn func(context.Context) error) (bool, error)
	// WithNamedLock is WithJobLock for another job: each name is its own
	// lock, so the daily jobs never skip a turn for the service-level job.
	WithNamedLock(ctx context.Context, name string, fn func(context.Context) error) (bool, error)

	// CreateLoan stores l unless the provider applied with the same key
	// (returns that one, existing true) or has another OPEN loan
	// (Conflict).
	CreateLoan(ctx context.Context, l Loan) (out Loan, existing bool, err error)
	Loans(ctx context.Context, provider string) ([]Loan, error)
	SetLoanStatus(ctx context.Context, id string, status LoanStatus) error

	// SaveOffer stores an offer as made.
	SaveOffer(ctx context.Context, o StoredOffer) error
	// LatestOffer returns the provider's newest offer (ok false: none).
	LatestOffer(ctx context.Context, provider string) (StoredOffer, bool, error)
	// AcceptOffer marks the offer taken by loan; Conflict when another loan
	// took it.
	AcceptOffer(ctx context.Context, id, loan string) error

	// CreatePayout stores p unless its ID exists (returns that one,
	// existing true): one payout per provider and day.
	CreatePayout(ctx context.Context, p Payout) (out Payout, existing bool, err error)
	SetPayoutStatus(ctx context.Context, id string, status PayoutStatus) error
	// Payout returns the payout id (ok false: none).
	Payout(ctx context.Context, id string) (Payout, bool, error)
	// Payouts returns the provider's payouts, newest first.
	Payouts(ctx context.Context, provider string, limit int) ([]Payout, error)
	// PayoutsOn pages through the payouts of day by id.
	PayoutsOn(ctx context.Context, day time.Time, after string, limit int) ([]Payout, error)
	// PendingPayouts pages through the PENDING payouts of every day up to
	// through, by id (a run that stopped between recording and posting).
	PendingPayouts(ctx context.Context, through time.Time, after string, limit int) ([]Payout, error)
	SaveReconciliation(ctx context.Context, r Reconciliation) error
	// Reconciliations returns the stored runs, newest first.
	Reconciliations(ctx context.Context, limit int) ([]Reconciliation, error)

	// JobDone reports whether job finished its run for period.
	JobDone(ctx context.Context, job, period string) (bool, error)
	MarkJobDone(ctx context.Context, job, period string, at time.Time) error
	// SellingProviders pages through the providers with an order completed
	// in [from, to), by id after the given one.
	SellingProviders(ctx context.Context, from, to time.Time, after string, limit int) ([]string, error)

	SetCatalogAt(ctx context.Context, provider string, at time.Time) error
	SetConformance(ctx context.Context, provider, outcome string, at time.Time) error
	// TroubledFacts returns the facts of the providers whose catalogue is
	// older than staleBefore or whose last conformance run failed.
	TroubledFacts(ctx context.Context, staleBefore time.Time) (map[string]Facts, error)
}

// The outcomes of a conformance run as the service levels read them.
const (
	ConformancePassed = "PASSED"
	ConformanceFailed = "FAILED"
)
