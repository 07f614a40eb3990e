package growth

import (
	"context"
	"fmt"
	"math"
	"time"
)

// LoanPolicy is the documented offer formula's constants (README, "For
// providers: growth"):
//
//	offer = 25% of trailing-90-day GMV
//	      × trend        clamp(GMV of the last 30 days ÷ (GMV90 ÷ 3), 0.8, 1.2)
//	      × stability    clamp(1 − CV of the 13 weekly GMVs ÷ 2, 0.5, 1)
//	      × tenure       min(1, days on Plaza ÷ 180); 0 under 30 days (since
//	                     registration or the first order record, if earlier)
//	      × reliability  clamp(1 − 3 × cancellation-and-refund rate, 0, 1)
//	      × service      OK 1, WARNING 0.7, DEMOTED 0.3, SUSPENDED 0
//
// rounded down to 100 minor units and capped at Cap; below Min there is no
// offer. The fee is FeePer30Days (basis points) per started 30 days of
// term; repayments take SharePercent of each day's settled GMV, at least
// the total cost ÷ term a day on average.
type LoanPolicy struct {
	// OfferValidity is how long an offer, once made and stored, holds:
	// the provider applies against the terms it was shown.
	OfferValidity time.Duration
	BaseShare     float64
	Cap, Min      int64
	MinTermDays   int
	MaxTermDays   int
	FeePer30Days  int64 // basis points
	SharePercent  int
}

// DefaultLoanPolicy is the policy without configuration.
var DefaultLoanPolicy = LoanPolicy{OfferValidity: 7 * 24 * time.Hour, BaseShare: 0.25, Cap: 500_000_000, Min: 100_000, MinTermDays: 30, MaxTermDays: 180,
	FeePer30Days: 150, SharePercent: 10}

var levelFactor = map[Level]float64{LevelOK: 1, LevelWarning: 0.7, LevelDemoted: 0.3, LevelSuspended: 0}

// Factor is one term of an offer's formula, explained.
type Factor struct {
	Name  string
	Value float64
	// Explanation says what the value comes from and what would raise it.
	Explanation string
}

// Offer is a provider's pre-approved loan offer.
type Offer struct {
	Currency string
	// Max is the most the provider may borrow now (0: no offer).
	Max          int64
	GMV90        int64
	Factors      []Factor
	MinTermDays  int
	MaxTermDays  int
	FeePer30Days int64 // basis points
	SharePercent int
	// Terms is the wording the provider consents to when applying.
	Terms string
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

// tenureFullDays is the tenure that counts fully in an offer.
const tenureFullDays = 180

// Offer computes provider's offer from its own order records, tenure and
// service level.
func (s *Service) Offer(ctx context.Context, provider string) (Offer, error) {
	p, err := s.Provider(ctx, provider)
	if err != nil {
		return Offer{}, err
	}
	now := s.now().UTC()
	today := now.Truncate(24 * time.Hour)
	// 180 days: the tenure's full credit. GMV and rates read the last 90.
	days, err := s.store.Days(ctx, provider, s.programs.Currency, today.AddDate(0, 0, -tenureFullDays), today)
	if err != nil {
		return Offer{}, err
	}
	since := p.CreatedAt
	if len(days) > 0 && days[0].Day.Before(since) {
		since = days[0].Day // on Plaza before this registration (an import into a new directory)
	}
	level, _, err := s.store.Level(ctx, provider)
	if err != nil {
		return Offer{}, err
	}
	pol := s.loans
	var gmv90, gmv30 int64
	var weeks [13]float64
	var completed, cancelled int
	for _, d := range days {
		age := int(today.Sub(d.Day).Hours() / 24) // 1..180
		if age > 90 {
			continue
		}
		gmv90 += d.GMV
		if age <= 30 {
			gmv30 += d.GMV
		}
		if w := (age - 1) / 7; w >= 0 && w < len(weeks) {
			weeks[w] += float64(d.GMV)
		}
		completed += d.Completed
		cancelled += d.Cancelled
	}
	trend := 1.0
	if gmv90 > 0 {
		trend = float64(gmv30) / (float64(gmv90) / 3)
	}
	mean, sq := 0.0, 0.0
	for _, w := range weeks {
		mean += w / float64(len(weeks))
	}
	for _, w := range weeks {
		sq += (w - mean) * (w - mean) / float64(len(weeks))
	}
	cv := 0.0
	if mean > 0 {
		cv = math.Sqrt(sq) / mean
	}
	tenure := now.Sub(since).Hours() / 24
	tenureF := math.Min(1, tenure/tenureFullDays)
	if tenure < 30 {
		tenureF = 0
	}
	rate := 0.0
	if completed+cancelled > 0 {
		rate = float64(cancelled) / float64(completed+cancelled)
	}
	factors := []Factor{
		{"trend", clamp(trend, 0.8, 1.2), fmt.Sprintf("the last 30 days sold %.2f× the 90-day monthly average (counted from 0.8 to 1.2): growing sales raise it", trend)},
		{"stability", clamp(1-cv/2, 0.5, 1), fmt.Sprintf("weekly sales vary by %.0f%% (coefficient of variation): steadier weeks raise it", 100*cv)},
		{"tenure", tenureF, fmt.Sprintf("%.0f days on Plaza, since your registration or your first order record if earlier (full credit at 180, none under 30)", tenure)},
		{"reliability", clamp(1-3*rate, 0, 1), fmt.Sprintf("%.1f%% of orders cancelled or refunded: fewer raise it", 100*rate)},
		{"service level", levelFactor[level], fmt.Sprintf("service level %s: OK counts fully", level)},
	}
	amount := pol.BaseShare * float64(gmv90)
	for _, f := range factors {
		amount *= f.Value
	}
	most := min(int64(amount)/100*100, pol.Cap)
	if most < pol.Min {
		most = 0
	}
	o := Offer{Currency: s.programs.Currency, Max: most, GMV90: gmv90, Factors: factors, MinTermDays: pol.MinTermDays,
		MaxTermDays: pol.MaxTermDays, FeePer30Days: pol.FeePer30Days, SharePercent: pol.SharePercent}
	o.Terms = fmt.Sprintf("Fee %.2f%% of the amount per started 30 days of term, paid with it; Plaza collects %d%% of each day's settled GMV "+
		"until the amount and the fee are repaid, at least (amount + fee) ÷ term days a day on average; early repayment at any time without extra cost.",
		float64(pol.FeePer30Days)/100, pol.SharePercent)
	return o, nil
}

// Fee is the fee of borrowing amount for termDays under the policy.
func (pol LoanPolicy) Fee(amount int64, termDays int) int64 {
	periods := int64((termDays + 29) / 30)
	return (amount*pol.FeePer30Days*periods + 9_999) / 10_000
}

// Application is what a provider submits.
type Application struct {
	Amount         int64
	Currency       string
	TermDays       int
	IdempotencyKey string
	Consent        bool
}

// Apply checks an application against the provider's offer and, when it
// fits, records the loan, posts its disbursement and returns it. The same
// idempotency key returns the same loan (and completes its disbursement if
// an earlier call stopped half-way); another key while a loan is open is a
// CONFLICT. Nothing changes on a refusal.
func (s *Service) Apply(ctx context.Context, provider string, a Application) (Loan, error) {
	pol := s.loans
	switch {
	case a.IdempotencyKey == "" || len(a.IdempotencyKey) > 64:
		return Loan{}, errorf(Invalid, "input.idempotencyKey", "an idempotency key has 1 to 64 characters")
	case !a.Consent:
		return Loan{}, errorf(Invalid, "input.consent", "applying needs your explicit consent to the offer's terms")
	case a.Currency != s.programs.Currency:
		return Loan{}, errorf(Invalid, "input.amount.currency", "loans are made in %s", s.programs.Currency)
	case a.Amount <= 0:
		return Loan{}, errorf(Invalid, "input.amount.amount", "the amount must be positive (minor units)")
	case a.TermDays < pol.MinTermDays || a.TermDays > pol.MaxTermDays:
		return Loan{}, errorf(Invalid, "input.termDays", "the term is %d to %d days", pol.MinTermDays, pol.MaxTermDays)
	}
	loans, err := s.store.Loans(ctx, provider)
	if err != nil {
		return Loan{}, err
	}
	for _, l := range loans {
		if l.IdempotencyKey == a.IdempotencyKey {
			return l, s.disburse(ctx, l)
		}
	}
	for _, l := range loans {
		if l.Status == LoanOpen {
			return Loan{}, errOpenLoan
		}
	}
	offer, err := s.CurrentOffer(ctx, provider)
	if err != nil {
		return Loan{}, err
	}
	if a.Amount > offer.Max {
		return Loan{}, errorf(Invalid, "input.amount.amount", "the amount is above your offer of %d %s", offer.Max, offer.Currency)
	}
	if a.TermDays < offer.MinTermDays || a.TermDays > offer.MaxTermDays {
		return Loan{}, errorf(Invalid, "input.termDays", "the offer's term is %d to %d days", offer.MinTermDays, offer.MaxTermDays)
	}
	now := s.now().UTC()
	fee := LoanPolicy{FeePer30Days: offer.FeePer30Days}.Fee(a.Amount, a.TermDays)
	l := Loan{ID: newID("loan_"), Provider: provider, IdempotencyKey: a.IdempotencyKey, Currency: a.Currency, Principal: a.Amount,
		Fee: fee, TermDays: a.TermDays, SharePercent: offer.SharePercent, MinimumDaily: (a.Amount + fee + int64(a.TermDays) - 1) / int64(a.TermDays),
		Status: LoanOpen, Consent: offer.Terms, Offer: offer.ID, CreatedAt: now, DueAt: now.AddDate(0, 0, a.TermDays)}
	l, _, err = s.store.CreateLoan(ctx, l)
	if err != nil {
		return Loan{}, err
	}
	return l, s.disburse(ctx, l)
}

// disburse takes the loan's offer and posts its disbursement: both once,
// so a retried application (the same key) finishes what a failed one
// began.
func (s *Service) disburse(ctx context.Context, l Loan) error {
	if l.Offer != "" {
		if err := s.store.AcceptOffer(ctx, l.Offer, l.ID); err != nil {
			return err
		}
	}
	_, err := s.ledger.Disburse(ctx, "loan:"+l.ID+":disbursed", l.Provider, l.Currency, l.Principal, l.Fee)
	return err
}

// errOfferTaken: another loan accepted the offer (each is accepted once).
var errOfferTaken = errorf(Conflict, "input.idempotencyKey", "this offer was accepted by another application")

// CurrentOffer returns the provider's offer as stored: the newest one while
// it holds (not expired, not accepted), else a fresh one computed from its
// records now and stored with its terms and expiry. An offer of nothing
// (Max 0) is not stored: there is nothing to accept.
func (s *Service) CurrentOffer(ctx context.Context, provider string) (StoredOffer, error) {
	now := s.now().UTC()
	if o, ok, err := s.store.LatestOffer(ctx, provider); err != nil {
		return StoredOffer{}, err
	} else if ok && o.Loan == "" && now.Before(o.ExpiresAt) {
		return o, nil
	}
	fresh, err := s.Offer(ctx, provider)
	if err != nil {
		return StoredOffer{}, err
	}
	o := StoredOffer{Offer: fresh, Provider: provider, CreatedAt: now, ExpiresAt: now.Add(s.loans.OfferValidity)}
	if fresh.Max == 0 {
		return o, nil
	}
	o.ID = newID("offer_")
	return o, s.store.SaveOffer(ctx, o)
}

// Loans lists provider's loans, newest first.
func (s *Service) Loans(ctx context.Context, provider string) ([]Loan, error) {
	return s.store.Loans(ctx, provider)
}

// Loan returns provider's loan id; NotFound for another provider's.
func (s *Service) Loan(ctx context.Context, provider, id string) (Loan, error) {
	loans, err := s.store.Loans(ctx, provider)
	if err != nil {
		return Loan{}, err
	}
	for _, l := range loans {
		if l.ID == id {
			return l, nil
		}
	}
	return Loan{}, errorf(NotFound, "id", "no such loan")
}

// Repay repays up to amount of provider's loan id early, once per key;
// NotFound for another provider's loan.
func (s *Service) Repay(ctx context.Context, provider, id string, amount int64, key string) (Loan, error) {
	l, err := s.Loan(ctx, provider, id)
	if err != nil {
		return Loan{}, err
	}
	if amount <= 0 {
		return Loan{}, errorf(Invalid, "amount", "the amount must be positive (minor units)")
	}
	if key == "" || len(key) > 64 {
		return Loan{}, errorf(Invalid, "idempotencyKey", "an idempotency key has 1 to 64 characters")
	}
	if _, err := s.ledger.Collect(ctx, "loan:"+id+":repay:"+key, provider, l.Currency, amount); err != nil {
		return Loan{}, err
	}
	return s.settle(ctx, l)
}

// collect takes the loan's share of a completed order.
func (s *Service) collect(ctx context.Context, o Order) error {
	loans, err := s.store.Loans(ctx, o.Provider)
	if err != nil {
		return err
	}
	for _, l := range loans {
		if l.Status != LoanOpen || o.Amount == 0 {
			continue
		}
		share := o.Amount * int64(l.SharePercent) / 100
		if share == 0 {
			return nil
		}
		if _, err := s.ledger.Collect(ctx, "loan:"+l.ID+":share:"+o.ID, o.Provider, l.Currency, share); err != nil {
			return err
		}
		_, err := s.settle(ctx, l)
		return err
	}
	return nil
}

// settle marks the loan REPAID once the ledger says nothing is owed.
func (s *Service) settle(ctx context.Context, l Loan) (Loan, error) {
	b, err := s.ledger.Balances(ctx, l.Provider, l.Currency)
	if err != nil {
		return Loan{}, err
	}
	if b.Loan == 0 && l.Status == LoanOpen {
		if err := s.store.SetLoanStatus(ctx, l.ID, LoanRepaid); err != nil {
			return Loan{}, err
		}
		l.Status = LoanRepaid
	}
	return l, nil
}

// Outstanding returns what the provider owes on its loans.
func (s *Service) Outstanding(ctx context.Context, provider string) (int64, error) {
	b, err := s.ledger.Balances(ctx, provider, s.programs.Currency)
	return b.Loan, err
}

// Standing is where a loan stands against its schedule.
type Standing struct {
	Outstanding int64
	// Arrears is how far repayments are behind MinimumDaily a day since
	// disbursement (capped at the total cost); 0 when on schedule.
	Arrears int64
}

// Standing reads l's outstanding amount from the ledger. A provider has
// at most one open loan and repaid every earlier one, so its loan account
// is the open loan's.
func (s *Service) Standing(ctx context.Context, l Loan) (Standing, error) {
	if l.Status != LoanOpen {
		return Standing{}, nil
	}
	b, err := s.ledger.Balances(ctx, l.Provider, l.Currency)
	if err != nil {
		return Standing{}, err
	}
	return Standing{Outstanding: b.Loan, Arrears: arrears(l, b.Loan, s.now())}, nil
}
