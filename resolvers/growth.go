package resolvers

// Merchant growth: the provider's own view (viewerProvider), its API keys
// and loans, and the operators' maker-checker requests. schema.resolvers.go
// calls in here with one line per resolver. The provider always comes from
// the credential (signedInProvider), never from an argument, so another
// provider's keys and loans are NOT_FOUND by construction.

import (
	"context"
	"time"

	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/graph/model"
	"github.com/plaza-gateway/plaza/growth"
	"github.com/plaza-gateway/plaza/ledger"
)

// WithGrowth serves viewerProvider and the growth mutations from g.
// Without it they fail with UNAVAILABLE.
func WithGrowth(g *growth.Service) Option { return func(o *options) { o.growth = g } }

func (r *Resolver) growth() (*growth.Service, error) {
	if r.opt.growth == nil {
		return nil, &growth.Error{Code: growth.Unavailable, Message: "this gateway runs without merchant growth"}
	}
	return r.opt.growth, nil
}

// signedInProvider returns the provider the credential speaks for and who
// used it; @auth(requires: PROVIDER) has already refused anyone else.
func signedInProvider(ctx context.Context) (provider, actor string, err error) {
	if p, ok := auth.From(ctx); ok && p.Provider != "" && p.HasRole(auth.RoleProvider) {
		return p.Provider, p.Actor, nil
	}
	return "", "", connectors.Errorf(connectors.KindForbidden, "requires role PROVIDER")
}

// forProvider runs f with the growth service and the signed-in provider.
func forProvider[T any](ctx context.Context, r *Resolver, f func(g *growth.Service, provider, actor string) (T, error)) (T, error) {
	var zero T
	g, err := r.growth()
	if err != nil {
		return zero, err
	}
	provider, actor, err := signedInProvider(ctx)
	if err != nil {
		return zero, err
	}
	return f(g, provider, actor)
}

// forOperator runs f with the growth service and the calling operator.
func forOperator[T any](ctx context.Context, r *Resolver, f func(g *growth.Service, op string) (T, error)) (T, error) {
	var zero T
	g, err := r.growth()
	if err != nil {
		return zero, err
	}
	op, err := operator(ctx)
	if err != nil {
		return zero, err
	}
	return f(g, op)
}

// recordOrder tells merchant growth about an order or booking status the
// gateway's own mutation caused: PLACED when it placed or booked one (the
// record names the user and amount; no money moves), CANCELLED when it
// cancelled one (reversing its rewards). The mutation has happened at the
// provider either way, so a failure here is logged, not returned: the
// provider's status webhook carries the same record, and a record posts
// once however often it arrives.
func (r *Resolver) recordOrder(ctx context.Context, o growth.Order) {
	if r.opt.growth == nil {
		return
	}
	if err := r.opt.growth.RecordOrder(ctx, o); err != nil {
		r.log.WarnContext(ctx, "growth: order record from a mutation not stored", "provider", o.Provider, "order", o.ID, "err", err)
	}
}

func (r *Resolver) viewerProvider(ctx context.Context) (*model.ViewerProvider, error) {
	return forProvider(ctx, r, func(g *growth.Service, provider, _ string) (*model.ViewerProvider, error) {
		p, err := g.Provider(ctx, provider)
		if err != nil {
			return nil, err
		}
		return &model.ViewerProvider{Key: p.ID, Name: p.Name, Vertical: model.Vertical(p.Vertical),
			Lifecycle: model.ProviderLifecycle(p.Lifecycle.String())}, nil
	})
}

func (r *Resolver) providerAPIKeys(ctx context.Context) ([]*model.ProviderAPIKey, error) {
	return forProvider(ctx, r, func(g *growth.Service, provider, _ string) ([]*model.ProviderAPIKey, error) {
		keys, err := g.Keys(ctx, provider)
		return mapAll(keys, toAPIKey), err
	})
}

func (r *Resolver) createProviderAPIKey(ctx context.Context, label *string) (*model.CreatedProviderAPIKey, error) {
	return forProvider(ctx, r, func(g *growth.Service, provider, actor string) (*model.CreatedProviderAPIKey, error) {
		return toCreatedKey(g.CreateKey(ctx, provider, deref(label), actor))
	})
}

func (r *Resolver) rotateProviderAPIKey(ctx context.Context, id string) (*model.CreatedProviderAPIKey, error) {
	return forProvider(ctx, r, func(g *growth.Service, provider, actor string) (*model.CreatedProviderAPIKey, error) {
		return toCreatedKey(g.RotateKey(ctx, provider, id, actor))
	})
}

func (r *Resolver) revokeProviderAPIKey(ctx context.Context, id string) (*model.ProviderAPIKey, error) {
	return forProvider(ctx, r, func(g *growth.Service, provider, actor string) (*model.ProviderAPIKey, error) {
		k, err := g.RevokeKey(ctx, provider, id, actor)
		return toAPIKey(k), err
	})
}

func (r *Resolver) issueProviderAPIKey(ctx context.Context, provider string, label *string) (*model.CreatedProviderAPIKey, error) {
	return forOperator(ctx, r, func(g *growth.Service, op string) (*model.CreatedProviderAPIKey, error) {
		return toCreatedKey(g.CreateKey(ctx, provider, deref(label), op))
	})
}

func (r *Resolver) revokeProviderAPIKeyFor(ctx context.Context, provider, id string) (*model.ProviderAPIKey, error) {
	return forOperator(ctx, r, func(g *growth.Service, op string) (*model.ProviderAPIKey, error) {
		k, err := g.RevokeKey(ctx, provider, id, op)
		return toAPIKey(k), err
	})
}

func (r *Resolver) rewards(ctx context.Context) (*model.RewardAccount, error) {
	return forProvider(ctx, r, func(g *growth.Service, provider, _ string) (*model.RewardAccount, error) {
		b, err := g.Balances(ctx, provider)
		if err != nil {
			return nil, err
		}
		p := g.Programs()
		return &model.RewardAccount{Payable: minorUnits(b.Payable, b.Currency), Receivable: minorUnits(b.Receivable, b.Currency),
			LoanOutstanding: minorUnits(b.Loan, b.Currency), Programs: &model.RewardPrograms{PerOrder: minorUnits(p.PerOrder, p.Currency),
				FirstOrder: minorUnits(p.FirstOrder, p.Currency), MonthlyOk: minorUnits(p.MonthlyOK, p.Currency)}}, nil
	})
}

func (r *Resolver) ledgerHistory(ctx context.Context, first *int) ([]*model.LedgerEntry, error) {
	return forProvider(ctx, r, func(g *growth.Service, provider, _ string) ([]*model.LedgerEntry, error) {
		n := orDefault(first, 20)
		es, err := g.History(ctx, provider, n)
		return mapAll(es, toLedgerEntry), err
	})
}

func (r *Resolver) serviceLevel(ctx context.Context) (*model.ServiceLevel, error) {
	return forProvider(ctx, r, func(g *growth.Service, provider, _ string) (*model.ServiceLevel, error) {
		sl, err := g.ServiceLevel(ctx, provider)
		if err != nil {
			return nil, err
		}
		out := &model.ServiceLevel{State: model.ServiceLevelState(sl.Level), Since: optTime(sl.Since)}
		for _, t := range sl.Transitions {
			out.Transitions = append(out.Transitions, &model.ServiceLevelTransition{From: model.ServiceLevelState(t.From),
				To: model.ServiceLevelState(t.To), Reason: t.Reason, At: t.At})
		}
		if out.Transitions == nil {
			out.Transitions = []*model.ServiceLevelTransition{}
		}
		return out, nil
	})
}

func (r *Resolver) loanOffer(ctx context.Context) (*model.LoanOffer, error) {
	return forProvider(ctx, r, func(g *growth.Service, provider, _ string) (*model.LoanOffer, error) {
		o, err := g.CurrentOffer(ctx, provider)
		if err != nil {
			return nil, err
		}
		out := &model.LoanOffer{ID: optString(o.ID), ExpiresAt: o.ExpiresAt, MaxAmount: minorUnits(o.Max, o.Currency), Gmv90: minorUnits(o.GMV90, o.Currency), MinTermDays: o.MinTermDays,
			MaxTermDays: o.MaxTermDays, FeePercentPer30Days: float64(o.FeePer30Days) / 100, RepaymentSharePercent: o.SharePercent, Terms: o.Terms}
		for _, f := range o.Factors {
			out.Factors = append(out.Factors, &model.LoanOfferFactor{Name: f.Name, Value: f.Value, Explanation: f.Explanation})
		}
		return out, nil
	})
}

func (r *Resolver) payouts(ctx context.Context, first *int) ([]*model.Payout, error) {
	return forProvider(ctx, r, func(g *growth.Service, provider, _ string) ([]*model.Payout, error) {
		ps, err := g.ProviderPayouts(ctx, provider, orDefault(first, 20))
		return mapAll(ps, toPayout), err
	})
}

func toPayout(p growth.Payout) *model.Payout {
	return &model.Payout{ID: p.ID, Day: p.Day.Format(time.DateOnly), Amount: minorUnits(p.Amount, p.Currency),
		Repaid: minorUnits(p.Repaid, p.Currency), Status: model.PayoutStatus(p.Status), CreatedAt: p.CreatedAt}
}

// reconciliations serves both the operators' query and the analysts' view
// (their roles are checked on the fields that lead here).
func (r *Resolver) reconciliations(ctx context.Context, first *int) ([]*model.Reconciliation, error) {
	g, err := r.growth()
	if err != nil {
		return nil, err
	}
	rs, err := g.Reconciliations(ctx, orDefault(first, 10))
	return mapAll(rs, toReconciliation), err
}

func toReconciliation(x growth.Reconciliation) *model.Reconciliation {
	m := &model.Reconciliation{Day: x.Day.Format(time.DateOnly), Orders: x.Orders, Payouts: x.Payouts, Mismatches: x.Problem, RanAt: x.RanAt}
	if m.Mismatches == nil {
		m.Mismatches = []string{}
	}
	return m
}

func (r *Resolver) loans(ctx context.Context) ([]*model.Loan, error) {
	return forProvider(ctx, r, func(g *growth.Service, provider, _ string) ([]*model.Loan, error) {
		ls, err := g.Loans(ctx, provider)
		if err != nil {
			return nil, err
		}
		out := make([]*model.Loan, len(ls))
		for i, l := range ls {
			if out[i], err = withStanding(ctx, g, l, nil); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
}

func (r *Resolver) loan(ctx context.Context, id string) (*model.Loan, error) {
	return forProvider(ctx, r, func(g *growth.Service, provider, _ string) (*model.Loan, error) {
		l, err := g.Loan(ctx, provider, id)
		return withStanding(ctx, g, l, err)
	})
}

// withStanding converts l with what the ledger says it still owes.
func withStanding(ctx context.Context, g *growth.Service, l growth.Loan, err error) (*model.Loan, error) {
	if err != nil {
		return nil, err
	}
	st, err := g.Standing(ctx, l)
	if err != nil {
		return nil, err
	}
	m := toLoan(l)
	m.Outstanding, m.Arrears = minorUnits(st.Outstanding, l.Currency), minorUnits(st.Arrears, l.Currency)
	return m, nil
}

func (r *Resolver) applyForLoan(ctx context.Context, in model.ApplyForLoanInput) (*model.Loan, error) {
	return forProvider(ctx, r, func(g *growth.Service, provider, _ string) (*model.Loan, error) {
		l, err := g.Apply(ctx, provider, growth.Application{Amount: int64(in.Amount.Amount), Currency: in.Amount.Currency,
			TermDays: in.TermDays, IdempotencyKey: in.IdempotencyKey, Consent: in.Consent})
		return withStanding(ctx, g, l, err)
	})
}

func (r *Resolver) repayLoan(ctx context.Context, id string, amount int, key string) (*model.Loan, error) {
	return forProvider(ctx, r, func(g *growth.Service, provider, _ string) (*model.Loan, error) {
		l, err := g.Repay(ctx, provider, id, int64(amount), key)
		return withStanding(ctx, g, l, err)
	})
}

func (r *Resolver) requestLedgerAdjustment(ctx context.Context, in model.LedgerAdjustmentInput) (*model.ApprovalRequest, error) {
	return forOperator(ctx, r, func(g *growth.Service, op string) (*model.ApprovalRequest, error) {
		a, err := g.RequestAdjustment(ctx, in.Provider, int64(in.Amount.Amount), in.Amount.Currency, in.Reason, op)
		return toApproval(a), err
	})
}

func (r *Resolver) requestSuspensionLift(ctx context.Context, provider, reason string) (*model.ApprovalRequest, error) {
	return forOperator(ctx, r, func(g *growth.Service, op string) (*model.ApprovalRequest, error) {
		a, err := g.RequestLift(ctx, provider, reason, op)
		return toApproval(a), err
	})
}

func (r *Resolver) decideApproval(ctx context.Context, id string, approve bool) (*model.ApprovalRequest, error) {
	return forOperator(ctx, r, func(g *growth.Service, op string) (*model.ApprovalRequest, error) {
		a, err := g.Decide(ctx, id, op, approve)
		return toApproval(a), err
	})
}

func (r *Resolver) pendingApprovals(ctx context.Context) ([]*model.ApprovalRequest, error) {
	return forOperator(ctx, r, func(g *growth.Service, _ string) ([]*model.ApprovalRequest, error) {
		as, err := g.Approvals(ctx, growth.ApprovalPending)
		return mapAll(as, toApproval), err
	})
}

func mapAll[T, M any](xs []T, f func(T) *M) []*M {
	out := make([]*M, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func minorUnits(amount int64, currency string) *model.Money {
	return &model.Money{Amount: int(amount), Currency: currency}
}

// orDefault is *p, or d when the client sent null.
func orDefault(p *int, d int) int {
	if p == nil {
		return d
	}
	return *p
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toAPIKey(k growth.Key) *model.ProviderAPIKey {
	return &model.ProviderAPIKey{ID: k.ID, Label: k.Label, CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt, RevokedAt: optTime(k.RevokedAt)}
}

func toCreatedKey(plain string, k growth.Key, err error) (*model.CreatedProviderAPIKey, error) {
	if err != nil {
		return nil, err
	}
	return &model.CreatedProviderAPIKey{Key: plain, APIKey: toAPIKey(k)}, nil
}

func toLedgerEntry(e ledger.Entry) *model.LedgerEntry {
	out := &model.LedgerEntry{Key: e.Key, Kind: model.LedgerEntryKind(e.Kind), Reverses: optString(e.Reverses), Memo: e.Memo,
		Actor: e.Actor, At: e.At, Postings: make([]*model.LedgerPosting, len(e.Postings))}
	for i, p := range e.Postings {
		out.Postings[i] = &model.LedgerPosting{Account: string(p.Account), Amount: minorUnits(p.Amount, e.Currency)}
	}
	return out
}

// toLoan converts l; withStanding adds what it still owes.
func toLoan(l growth.Loan) *model.Loan {
	return &model.Loan{ID: l.ID, Status: model.LoanStatus(l.Status), Principal: minorUnits(l.Principal, l.Currency), Fee: minorUnits(l.Fee, l.Currency),
		TotalCost: minorUnits(l.Principal+l.Fee, l.Currency), TermDays: l.TermDays, RepaymentSharePercent: l.SharePercent,
		MinimumDaily: minorUnits(l.MinimumDaily, l.Currency), Outstanding: minorUnits(0, l.Currency), Arrears: minorUnits(0, l.Currency),
		Consent: l.Consent, CreatedAt: l.CreatedAt, DueAt: l.DueAt}
}

func toApproval(a growth.Approval) *model.ApprovalRequest {
	if a.ID == "" {
		return nil
	}
	out := &model.ApprovalRequest{ID: a.ID, Kind: model.ApprovalKind(a.Kind), Provider: a.Provider, Reason: a.Reason, Maker: a.Maker,
		Checker: optString(a.Checker), Status: model.ApprovalStatus(a.Status), CreatedAt: a.CreatedAt, DecidedAt: optTime(a.DecidedAt)}
	if a.Kind == growth.ApprovalAdjustment {
		out.Amount = minorUnits(a.Amount, a.Currency)
	}
	return out
}
