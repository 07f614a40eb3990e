package resolvers

import (
	"context"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/events"
	"github.com/plaza-gateway/plaza/graph/model"
	"github.com/plaza-gateway/plaza/recommend"
)

// maxAnalyticsSpan bounds one analytics range: a year of hourly buckets is
// the most one request reads.
const maxAnalyticsSpan = 366 * 24 * time.Hour

// maxAnalyticsLimit bounds topQueries and zeroResultQueries.
const maxAnalyticsLimit = 1000

func (r *Resolver) queryAnalytics(context.Context) (*model.Analytics, error) {
	if r.opt.analytics == nil {
		return nil, connectors.Errorf(connectors.KindUnavailable, "analytics are not available on this gateway")
	}
	return &model.Analytics{}, nil
}

func checkRange(from, to time.Time) error {
	switch {
	case !to.After(from):
		return connectors.Errorf(connectors.KindInvalid, "to (%s) must be after from (%s)", to.Format(time.RFC3339), from.Format(time.RFC3339))
	case to.Sub(from) > maxAnalyticsSpan:
		return connectors.Errorf(connectors.KindInvalid, "a range may span at most %d days", int(maxAnalyticsSpan/(24*time.Hour)))
	}
	return nil
}

func filterOf(vertical *model.Vertical, city *string) events.Filter {
	f := events.Filter{City: deref(city)}
	if vertical != nil {
		f.Vertical = string(*vertical)
	}
	return f
}

func (r *Resolver) searchVolume(ctx context.Context, from, to time.Time, bucket *model.Bucket, vertical *model.Vertical, city *string) ([]*model.BucketCount, error) {
	if err := checkTexts(textArg{"city", city}); err != nil {
		return nil, err
	}
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	step := time.Hour
	if bucket != nil && *bucket == model.BucketDay {
		step = 24 * time.Hour
	}
	counts, err := r.opt.analytics.SearchVolume(ctx, from, to, step, filterOf(vertical, city))
	if err != nil {
		return nil, err
	}
	out := make([]*model.BucketCount, len(counts))
	for i, c := range counts {
		out[i] = &model.BucketCount{Start: c.Start, Count: int(c.Count)}
	}
	return out, nil
}

// queryCounts answers topQueries (zero false) and zeroResultQueries.
func (r *Resolver) queryCounts(ctx context.Context, zero bool, from, to time.Time, limit *int, vertical *model.Vertical, city *string) ([]*model.QueryCount, error) {
	if err := checkTexts(textArg{"city", city}); err != nil {
		return nil, err
	}
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	n := 10
	if limit != nil {
		n = *limit
	}
	if n < 1 || n > maxAnalyticsLimit {
		return nil, connectors.Errorf(connectors.KindInvalid, "limit must be between 1 and %d, got %d", maxAnalyticsLimit, n)
	}
	list := r.opt.analytics.TopQueries
	if zero {
		list = r.opt.analytics.ZeroResultQueries
	}
	qs, err := list(ctx, from, to, n, filterOf(vertical, city))
	if err != nil {
		return nil, err
	}
	out := make([]*model.QueryCount, len(qs))
	for i, q := range qs {
		out[i] = &model.QueryCount{Query: q.Query, Count: int(q.Count)}
	}
	return out, nil
}

func (r *Resolver) providerTraffic(ctx context.Context, from, to time.Time) ([]*model.ProviderTraffic, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	ts, err := r.opt.analytics.ProviderTraffic(ctx, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]*model.ProviderTraffic, len(ts))
	for i, t := range ts {
		out[i] = &model.ProviderTraffic{Provider: t.Provider, Calls: int(t.Calls), Errors: int(t.Errors),
			P50Ms: t.P50Ms, P99Ms: t.P99Ms, Conversions: int(t.Conversions)}
	}
	return out, nil
}

func (r *Resolver) conversion(ctx context.Context, from, to time.Time) (*model.Conversion, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	c, err := r.opt.analytics.Conversion(ctx, from, to)
	if err != nil {
		return nil, err
	}
	out := &model.Conversion{Searches: int(c.Searches), Clicks: int(c.Clicks), Views: int(c.Views), Orders: int(c.Orders),
		Bookings: int(c.Bookings), Consultations: int(c.Consultations), Applications: int(c.Applications)}
	if rate, ok := c.Rate(); ok {
		out.Rate = &rate
	}
	return out, nil
}

// recommendationParams describes the parameters the home page's engine
// serves with; nil without an engine.
func (r *Resolver) recommendationParams() *model.RecommendationParams {
	if r.opt.home == nil {
		return nil
	}
	return recommendationModel(r.opt.home.Engine().Params())
}

func recommendationModel(p recommend.Params) *model.RecommendationParams {
	out := &model.RecommendationParams{Fitted: p.Fit != nil, RepeatHalfLifeDays: p.RepeatHalfLife.Hours() / 24, DueBoost: p.DueBoost}
	w := map[recommend.Source]float64{
		recommend.SourceRepeat: p.Weights.Repeat, recommend.SourceFollowUp: p.Weights.FollowUp,
		recommend.SourceCoOccurrence: p.Weights.CoOccurrence, recommend.SourceTrending: p.Weights.Trending,
		recommend.SourcePeriodic: p.Weights.Periodic, recommend.SourcePopular: p.Weights.Popular,
	}
	for _, s := range recommend.Sources() {
		src := &model.RecommendationSource{Source: string(s), Weight: w[s]}
		if l, ok := p.Calibration[s]; ok {
			src.CalibrationA, src.CalibrationB = &l.A, &l.B
		}
		if p.Fit != nil {
			for _, sr := range p.Fit.Sources {
				if sr.Source == s {
					src.ValidationCandidates, src.ValidationHits = &sr.Candidates, &sr.Hits
				}
			}
		}
		out.Sources = append(out.Sources, src)
	}
	if f := p.Fit; f != nil {
		out.Validation = &model.RecommendationValidation{FittedAt: f.FittedAt, Events: f.Events, Cut: f.ValidationCut, Users: f.ValidationUsers,
			N: f.N, Hr: f.HR, Ndcg: f.NDCG, PopularityHr: f.PopularityHR, PopularityNdcg: f.PopularityNDCG,
			PreviousHr: f.PreviousHR, PreviousNdcg: f.PreviousNDCG, DurationMs: float64(f.Duration) / float64(time.Millisecond)}
	}
	return out
}
