package growth

import (
	"context"
	"errors"
	"fmt"

	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/ledger"
)

// Maker-checker: a manual ledger adjustment and the lifting of a
// service-level suspension are requested by one operator and take effect
// when a second one approves. Both steps are recorded (maker, checker,
// when), and the adjustment's ledger entry names both.

// RequestAdjustment records maker's request to move amount (signed minor
// units: positive credits the provider) in the programs' currency.
func (s *Service) RequestAdjustment(ctx context.Context, provider string, amount int64, currency, reason, maker string) (Approval, error) {
	switch {
	case amount == 0 || amount > ledger.MaxAmount || amount < -ledger.MaxAmount:
		return Approval{}, errorf(Invalid, "input.amount", "amount must be non-zero and at most %d minor units either way", ledger.MaxAmount)
	case currency != s.programs.Currency:
		return Approval{}, errorf(Invalid, "input.currency", "the ledger keeps providers' balances in %s", s.programs.Currency)
	case reason == "" || len(reason) > 500:
		return Approval{}, errorf(Invalid, "input.reason", "give a reason of at most 500 characters")
	}
	if _, err := s.Provider(ctx, provider); err != nil {
		return Approval{}, err
	}
	return s.request(ctx, Approval{Kind: ApprovalAdjustment, Provider: provider, Currency: currency, Amount: amount, Reason: reason, Maker: maker})
}

// RequestLift records maker's request to lift provider's service-level
// suspension.
func (s *Service) RequestLift(ctx context.Context, provider, reason, maker string) (Approval, error) {
	if reason == "" || len(reason) > 500 {
		return Approval{}, errorf(Invalid, "reason", "give a reason of at most 500 characters")
	}
	if level, _, err := s.store.Level(ctx, provider); err != nil {
		return Approval{}, err
	} else if level != LevelSuspended {
		return Approval{}, errorf(Conflict, "provider", "the provider is not suspended for its service level")
	}
	return s.request(ctx, Approval{Kind: ApprovalLift, Provider: provider, Reason: reason, Maker: maker})
}

func (s *Service) request(ctx context.Context, a Approval) (Approval, error) {
	a.ID, a.Status, a.CreatedAt = newID("apr_"), ApprovalPending, s.now().UTC()
	if err := s.store.CreateApproval(ctx, a); err != nil {
		return Approval{}, err
	}
	return a, nil
}

// Decide approves or rejects a pending request as checker, who must not
// be its maker (FORBIDDEN). An approval takes effect before it is
// recorded, idempotently, so a checker whose call fails half-way can
// approve again.
func (s *Service) Decide(ctx context.Context, id, checker string, approve bool) (Approval, error) {
	a, err := s.store.Approval(ctx, id)
	if err != nil {
		return Approval{}, err
	}
	switch {
	case a.Status != ApprovalPending:
		return a, errorf(Conflict, "id", "the request was %s already", a.Status)
	case a.Maker == checker:
		return a, errorf(Forbidden, "id", "a second operator must decide a request: you made this one")
	}
	status := ApprovalRejected
	if approve {
		status = ApprovalApproved
		if err := s.apply(ctx, a, checker); err != nil {
			return a, err
		}
	}
	return s.store.DecideApproval(ctx, id, checker, status, s.now().UTC())
}

func (s *Service) apply(ctx context.Context, a Approval, checker string) error {
	switch a.Kind {
	case ApprovalAdjustment:
		_, err := s.ledger.Adjust(ctx, ledger.Movement{Key: "adjustment:" + a.ID, Provider: a.Provider, Currency: a.Currency,
			Amount: a.Amount, Memo: a.Reason, Actor: a.Maker + ", approved by " + checker})
		return err
	case ApprovalLift:
		reason := fmt.Sprintf("service level suspension lifted: %s (requested by %s, approved by %s)", a.Reason, a.Maker, checker)
		p, err := s.Provider(ctx, a.Provider)
		if err != nil {
			return err
		}
		if p.Lifecycle == directory.Suspended {
			if _, err := s.dir.Transition(ctx, a.Provider, directory.Active, checker, reason); err != nil && !errors.Is(err, directory.ErrConflict) {
				return err
			}
		}
		level, _, err := s.store.Level(ctx, a.Provider)
		if err != nil || level == LevelOK {
			return err
		}
		return s.store.SetLevel(ctx, Transition{Provider: a.Provider, From: level, To: LevelOK, Reason: reason, At: s.now().UTC()})
	}
	return fmt.Errorf("growth: unknown approval kind %q", a.Kind)
}

// Approvals lists requests with status, oldest first.
func (s *Service) Approvals(ctx context.Context, status ApprovalStatus) ([]Approval, error) {
	return s.store.Approvals(ctx, status, 100)
}
