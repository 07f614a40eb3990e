package api_test

import (
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/recommend"
)

const recommendationsQuery = `{ analytics { recommendations { fitted repeatHalfLifeDays dueBoost
	sources { source weight calibrationA calibrationB validationCandidates validationHits }
	validation { fittedAt events cut users n hr ndcg popularityHr popularityNdcg previousHr previousNdcg durationMs } } } }`

type recommendationsData struct {
	Analytics *struct {
		Recommendations *struct {
			Fitted             bool
			RepeatHalfLifeDays float64
			DueBoost           bool
			Sources            []struct {
				Source               string
				Weight               float64
				CalibrationA         *float64
				ValidationCandidates *int
				ValidationHits       *int
			}
			Validation *struct {
				Users      int
				N          int
				Hr         float64
				PreviousHr *float64
				DurationMs float64
			}
		}
	}
}

func TestAnalystsReadTheRecommendationParameters(t *testing.T) {
	p := startPersonal(t, 0)
	analyst := map[string][]string{"Plaza-Api-Key": {testAnalystKey}}

	t.Run("before a fit: the configured defaults, marked unfitted", func(t *testing.T) {
		d, _ := mustData[recommendationsData](t, p.Gateway, apitest.Request{Query: recommendationsQuery, Header: analyst})
		r := d.Analytics.Recommendations
		if r == nil || r.Fitted || r.Validation != nil || len(r.Sources) != 6 || r.Sources[0].CalibrationA != nil {
			t.Fatalf("recommendations = %+v, want unfitted defaults with six sources", r)
		}
		if r.RepeatHalfLifeDays != 21 {
			t.Errorf("repeat half-life %v days, want the configured 21", r.RepeatHalfLifeDays)
		}
	})
	t.Run("after a fit: the weights and the validation that chose them", func(t *testing.T) {
		prev := 0.5
		fitted := recommend.Params{
			Weights:        recommend.Weights{Repeat: 2, Popular: 1},
			Calibration:    map[recommend.Source]recommend.Logistic{recommend.SourceRepeat: {A: -2, B: 0.7}, recommend.SourcePopular: {A: 1, B: 1}},
			RepeatHalfLife: 90 * 24 * time.Hour,
			Fit: &recommend.FitReport{FittedAt: time.Now(), ValidationCut: time.Now().Add(-time.Hour), ValidationUsers: 120, N: 10, HR: 0.61, PreviousHR: &prev, Duration: 1500 * time.Millisecond,
				Sources: []recommend.SourceReport{{Source: recommend.SourceRepeat, Candidates: 900, Hits: 80, Weight: 2}}},
		}
		if err := p.home.Engine().SetParams(fitted); err != nil {
			t.Fatal(err)
		}
		d, _ := mustData[recommendationsData](t, p.Gateway, apitest.Request{Query: recommendationsQuery, Header: analyst})
		r := d.Analytics.Recommendations
		if r == nil || !r.Fitted || r.RepeatHalfLifeDays != 90 || r.Validation == nil {
			t.Fatalf("recommendations = %+v, want the fitted parameters", r)
		}
		v := r.Validation
		if v.Users != 120 || v.N != 10 || v.Hr != 0.61 || v.PreviousHr == nil || *v.PreviousHr != 0.5 || v.DurationMs != 1500 {
			t.Errorf("validation = %+v", v)
		}
		rep := r.Sources[0]
		if rep.Source != "repeat" || rep.Weight != 2 || rep.CalibrationA == nil || *rep.CalibrationA != -2 ||
			rep.ValidationCandidates == nil || *rep.ValidationCandidates != 900 || *rep.ValidationHits != 80 {
			t.Errorf("repeat source = %+v", rep)
		}
	})
	t.Run("an app user without an analyst key gets no parameters", func(t *testing.T) {
		resp := p.Post(apitest.Request{Query: recommendationsQuery, User: "demo-1"})
		var d recommendationsData
		resp.Decode(t, &d)
		if d.Analytics != nil {
			t.Errorf("analytics = %+v, want null for an app user", d.Analytics)
		}
	})
}
