package recommend

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// themedLog simulates users who shop on random days over eight weeks, two
// items a visit. With themes, each user belongs to one of ten themes of
// eight items and buys only within it, so what other users of the theme
// bought (co-occurrence) predicts what a user buys next; without themes
// every item is drawn uniformly from all eighty, so co-purchases are noise.
// With staples, the first item of each visit is one of the user's own two
// staples, so the user's history (repeat) predicts too.
func themedLog(themes bool, seed uint64) []Event { return shoppingLog(themes, false, seed, 150) }

func shoppingLog(themes, staples bool, seed uint64, users int) []Event {
	rng := rand.New(rand.NewPCG(seed, 1))
	var evs []Event
	for u := range users {
		theme := u % 10
		own := [2]int{rng.IntN(80), rng.IntN(80)}
		for d := range 42 {
			if rng.Float64() > 0.3 {
				continue
			}
			for k := range 2 {
				item := rng.IntN(80)
				switch {
				case staples && k == 0:
					item = own[rng.IntN(2)]
				case themes:
					item = theme*8 + rng.IntN(8)
				}
				at := t0.Add(time.Duration(d)*24*time.Hour + time.Duration(k)*time.Minute)
				evs = append(evs, Event{UserID: fmt.Sprint("u", u), ItemID: fmt.Sprintf("i%02d", item), Kind: Order, Time: at})
			}
		}
	}
	return evs
}

func fixedNow() time.Time { return t0 }

func TestFitFollowsTheLog(t *testing.T) {
	ctx := context.Background()
	opt := FitOptions{Seed: 1, Now: fixedNow}
	tests := []struct {
		name   string
		themes bool
		check  func(t *testing.T, w Weights)
	}{
		{"switches co-occurrence off where co-purchases are noise", false, func(t *testing.T, w Weights) {
			if w.CoOccurrence != 0 {
				t.Errorf("co-occurrence weight %v, want 0 on noise", w.CoOccurrence)
			}
		}},
		{"leans on co-occurrence where co-purchases are strong", true, func(t *testing.T, w Weights) {
			if w.CoOccurrence < 0.25 {
				t.Errorf("co-occurrence weight %v, want clearly positive", w.CoOccurrence)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Fit(ctx, DefaultConfig(), nil, themedLog(tt.themes, 3), opt, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("weights %+v; validation HR %.3f NDCG %.3f (popularity %.3f)", p.Weights, p.Fit.HR, p.Fit.NDCG, p.Fit.PopularityHR)
			tt.check(t, p.Weights)
			if err := p.Validate(); err != nil {
				t.Errorf("fitted params do not validate: %v", err)
			}
		})
	}
}

func TestFitIsDeterministicWithASeed(t *testing.T) {
	ctx := context.Background()
	evs := themedLog(true, 5)
	// Fewer validation users than there are, so the seed's sample matters.
	opt := FitOptions{Seed: 7, MaxUsers: 80, Now: fixedNow}
	a, err := Fit(ctx, DefaultConfig(), nil, evs, opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Same events in another order, same seed: the same parameters.
	shuffled := append([]Event(nil), evs...)
	rand.New(rand.NewPCG(9, 9)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	b, err := Fit(ctx, DefaultConfig(), nil, shuffled, opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("two fits with seed 7 differ:\n%+v\n%+v", a, b)
	}
}

func TestFitKeepsBetterPreviousParameters(t *testing.T) {
	ctx := context.Background()
	evs := shoppingLog(true, true, 3, 150)
	good, err := Fit(ctx, DefaultConfig(), nil, evs, FitOptions{Seed: 1, Now: fixedNow}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A fit that may not combine sources (every change "gains" too little)
	// validates worse than the combined parameters in use.
	weak, err := Fit(ctx, DefaultConfig(), nil, evs, FitOptions{Seed: 1, MinGain: 10, Now: fixedNow}, &good)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("combined %+v HR %.3f; single source %+v HR %.3f", good.Weights, good.Fit.HR, weak.Weights, weak.Fit.HR)
	if weak.Fit.Adopted || weak.Fit.PreviousHR == nil {
		t.Errorf("adopted = %v (HR %.3f, previous %v), want the previous parameters kept", weak.Fit.Adopted, weak.Fit.HR, weak.Fit.PreviousHR)
	}
	again, err := Fit(ctx, DefaultConfig(), nil, evs, FitOptions{Seed: 1, Now: fixedNow}, &good)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Fit.Adopted {
		t.Errorf("an equally good fit was not adopted: HR %.3f vs previous %.3f", again.Fit.HR, *again.Fit.PreviousHR)
	}
}

func TestFitRejectsWhatCannotBeValidated(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		evs  []Event
	}{
		{"no events", nil},
		{"users never seen on both sides of the cut", []Event{
			order("a", "x", day(0)), order("b", "y", day(1)), order("c", "z", day(2)), order("d", "w", day(3)), order("e", "v", day(4)),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Fit(ctx, DefaultConfig(), nil, tt.evs, FitOptions{}, nil)
			if !errors.Is(err, ErrTooFewEvents) {
				t.Errorf("err = %v, want ErrTooFewEvents", err)
			}
		})
	}
	t.Run("a cancelled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := Fit(cctx, DefaultConfig(), nil, themedLog(true, 1), FitOptions{}, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
}

func TestFittedRecommendationsKeepTheirReasons(t *testing.T) {
	ctx := context.Background()
	evs := shoppingLog(true, true, 4, 150)
	p, err := Fit(ctx, DefaultConfig(), nil, evs, FitOptions{Seed: 1, Now: fixedNow}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := New(DefaultConfig())
	if err := e.SetParams(p); err != nil {
		t.Fatal(err)
	}
	e.Observe(evs...)
	recs := e.Recommend(ctx, Request{UserID: "u1", Now: day(43), N: 10, Personalized: true})
	if len(recs) != 10 {
		t.Fatalf("got %d recommendations, want 10", len(recs))
	}
	for _, r := range recs {
		if r.Reason == "" {
			t.Errorf("%s (from %v) has no reason", r.ItemID, r.Sources)
		}
	}
}

func TestLogistic(t *testing.T) {
	t.Run("fits a rising hit rate with a positive slope", func(t *testing.T) {
		var xs []float64
		var ys []bool
		for i := range 1000 {
			x := float64(i%10) / 10
			xs = append(xs, x)
			ys = append(ys, i%10 > 5+i%3) // more hits at larger x
		}
		l := fitLogistic(xs, ys)
		if l.B <= minSlope {
			t.Errorf("slope %v, want clearly positive", l.B)
		}
	})
	t.Run("gives a falling hit rate a flat curve at the mean rate", func(t *testing.T) {
		xs := []float64{0, 0, 1, 1}
		ys := []bool{true, true, false, false}
		l := fitLogistic(xs, ys)
		if l.B != minSlope || l.Prob(1) < 0.3 || l.Prob(1) > 0.7 {
			t.Errorf("curve %+v (P=%v), want flat near 0.5", l, l.Prob(1))
		}
	})
	t.Run("scores a source that proposed nothing 0", func(t *testing.T) {
		if p := (Logistic{A: 5, B: 1}).Prob(0); p != 0 {
			t.Errorf("Prob(0) = %v", p)
		}
	})
}
