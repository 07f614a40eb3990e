package resolvers

// The analysts' totals of merchant growth (analytics.rewardProgramTotals
// and analytics.loanTotals); the ANALYST role is checked on `analytics`.

import (
	"context"
	"time"

	"github.com/plaza-gateway/plaza/graph/model"
	"github.com/plaza-gateway/plaza/growth"
)

func (r *Resolver) rewardProgramTotals(ctx context.Context, from, to time.Time) ([]*model.RewardProgramTotal, error) {
	g, err := r.growth()
	if err != nil {
		return nil, err
	}
	ts, err := g.ProgramTotals(ctx, from, to)
	return mapAll(ts, toProgramTotal), err
}

func toProgramTotal(t growth.ProgramTotal) *model.RewardProgramTotal {
	return &model.RewardProgramTotal{Program: model.RewardProgram(t.Program), Vertical: optVertical(t.Vertical), City: optString(t.City),
		Postings: int(t.Postings), Posted: minorUnits(t.Posted, t.Currency), Reversals: int(t.Reversals),
		Reversed: minorUnits(t.Reversed, t.Currency), Net: minorUnits(t.Net(), t.Currency)}
}

func (r *Resolver) loanTotals(ctx context.Context, from, to time.Time) ([]*model.LoanBookTotal, error) {
	g, err := r.growth()
	if err != nil {
		return nil, err
	}
	ts, err := g.LoanTotals(ctx, from, to)
	return mapAll(ts, toLoanBookTotal), err
}

func toLoanBookTotal(t growth.LoanTotal) *model.LoanBookTotal {
	return &model.LoanBookTotal{Vertical: optVertical(t.Vertical), City: optString(t.City), OffersMade: int(t.OffersMade),
		OffersAccepted: int(t.OffersAccepted), Offered: minorUnits(t.Offered, t.Currency), Loans: int(t.Loans),
		Principal: minorUnits(t.Principal, t.Currency), Fees: minorUnits(t.Fees, t.Currency),
		Outstanding: minorUnits(t.Outstanding, t.Currency), Arrears: minorUnits(t.Arrears, t.Currency), LoansInArrears: int(t.InArrears)}
}

func optVertical(v string) *model.Vertical {
	if v == "" {
		return nil
	}
	m := model.Vertical(v)
	return &m
}
