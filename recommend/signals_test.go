package recommend

import (
	"fmt"
	"maps"
	"testing"
	"time"
)

func TestPopularity(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PopularityHalfLife = 24 * time.Hour
	at := func(user, item string, kind EventKind, when time.Time, city string) Event {
		return Event{UserID: user, ItemID: item, Kind: kind, Time: when, City: city}
	}
	// At day 2 with a one-day half-life: A was ordered in Hangzhou at days 0
	// and 1 (2^-2 + 2^-1 = 0.75 there and globally); B was ordered by three
	// users in Chengdu at day 1 (3 * 0.5 = 1.5); C was viewed in Hangzhou at
	// day 2 (view weight 0.2 * 1).
	e := mustEngine(t, cfg, nil,
		at("u1", "A", Order, day(0), "Hangzhou"), at("u2", "A", Order, day(1), "Hangzhou"),
		at("u1", "B", Order, day(1), "Chengdu"), at("u2", "B", Order, day(1), "Chengdu"), at("u3", "B", Order, day(1), "Chengdu"),
		at("u3", "C", View, day(2), "Hangzhou"),
	)
	e.AddItems(Item{ID: "D", Category: "Dairy"}) // known, never used
	ids := []string{"A", "B", "C", "D", "unknown"}
	tests := []struct {
		name string
		city string
		now  time.Time
		want []float64
	}{
		{"takes the city's own count when it beats half the global one", "Hangzhou", day(2), []float64{0.75, 0.75, 0.2, 0, 0}},
		{"ranks items popular in another city by half their global count", "Chengdu", day(2), []float64{0.375, 1.5, 0.1, 0, 0}},
		{"falls back to half the global count without a city", "", day(2), []float64{0.375, 0.75, 0.1, 0, 0}},
		{"treats a city it has never seen like no city", "Lhasa", day(2), []float64{0.375, 0.75, 0.1, 0, 0}},
		{"decays everything alike as time passes", "Hangzhou", day(3), []float64{0.375, 0.375, 0.1, 0, 0}},
		{"reads the engine clock for a zero time", "", time.Time{}, []float64{0.375 * 4, 0.75 * 4, 0.1 * 4, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.Popularity(ids, tt.city, tt.now)
			if len(got) != len(ids) {
				t.Fatalf("got %d values for %d ids", len(got), len(ids))
			}
			for i := range got {
				if !near(got[i], tt.want[i]) {
					t.Errorf("%s: got %v, want %v", ids[i], got[i], tt.want[i])
				}
			}
		})
	}
	t.Run("answers an empty batch with an empty slice", func(t *testing.T) {
		if got := e.Popularity(nil, "Hangzhou", day(2)); len(got) != 0 {
			t.Errorf("got %v", got)
		}
	})
}

func TestAffinity(t *testing.T) {
	items := []Item{{ID: "A", Category: "Dairy"}, {ID: "B", Category: "Dairy"}, {ID: "D", Category: "Cardiology"}, {ID: "N"}}
	ev := func(user, item string, kind EventKind, when time.Time) Event {
		return Event{UserID: user, ItemID: item, Kind: kind, Time: when}
	}
	cfg := DefaultConfig()
	cfg.RepeatHalfLife = 24 * time.Hour
	tests := []struct {
		name   string
		cfg    Config
		events []Event
		user   string
		now    time.Time
		want   map[string]float64
	}{
		{
			// At day 3: A ordered at day 1 counts 2^-2 = 0.25, B viewed at
			// day 2 counts 0.2 * 2^-1 = 0.1, D ordered at day 2 counts 0.5:
			// Dairy 0.35 and Cardiology 0.5 of 0.85. N has no category; the
			// order at day 5 is in the future of the request.
			name: "shares the user's decayed, kind-weighted activity among categories",
			cfg:  cfg,
			events: []Event{
				ev("u", "A", Order, day(1)), ev("u", "B", View, day(2)), ev("u", "D", Order, day(2)),
				ev("u", "N", Order, day(2)), ev("u", "A", Order, day(5)), ev("other", "D", Order, day(2)),
			},
			user: "u", now: day(3),
			want: map[string]float64{"Dairy": 0.35 / 0.85, "Cardiology": 0.5 / 0.85},
		},
		{
			name:   "takes an unregistered item's category from its events",
			cfg:    cfg,
			events: []Event{{UserID: "u", ItemID: "L", Kind: Consultation, Time: day(1), Category: "divorce"}, ev("u", "A", Order, day(1))},
			user:   "u", now: day(2),
			want: map[string]float64{"divorce": 0.5, "Dairy": 0.5},
		},
		{
			// A cap of 4 drops the oldest quarter (the Cardiology order) when
			// the fifth event arrives.
			name: "reads only the bounded history",
			cfg:  func() Config { c := cfg; c.HistoryCap = 4; return c }(),
			events: []Event{
				ev("u", "D", Order, day(0)),
				ev("u", "A", Order, day(1)), ev("u", "A", Order, day(2)), ev("u", "B", Order, day(2)), ev("u", "A", Order, day(3)),
			},
			user: "u", now: day(4),
			want: map[string]float64{"Dairy": 1},
		},
		{
			name:   "reads the engine clock for a zero time",
			cfg:    cfg,
			events: []Event{ev("u", "A", Order, day(0)), ev("u", "D", Order, day(1))},
			user:   "u",
			want:   map[string]float64{"Dairy": 1},
		},
		{
			name:   "is nil for a user without history",
			cfg:    cfg,
			events: []Event{ev("u", "A", Order, day(0))},
			user:   "stranger", now: day(1),
		},
		{
			name:   "is nil when nothing the user touched has a category",
			cfg:    cfg,
			events: []Event{ev("u", "N", Order, day(0))},
			user:   "u", now: day(1),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustEngine(t, tt.cfg, items, tt.events...)
			got := e.Affinity(tt.user, tt.now)
			if !maps.EqualFunc(got, tt.want, near) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if tt.want == nil && got != nil {
				t.Errorf("got %v, want nil", got)
			}
		})
	}
	t.Run("forgets a user who opted out", func(t *testing.T) {
		e := mustEngine(t, cfg, items, ev("u", "A", Order, day(0)))
		e.Forget("u")
		if got := e.Affinity("u", day(1)); got != nil {
			t.Errorf("got %v after Forget", got)
		}
	})
}

// BenchmarkSignals times the per-search reads on typical state: the
// popularity of 300 candidates (a merged search's window) and one user's
// affinity.
func BenchmarkSignals(b *testing.B) {
	e, users := benchEngine(b)
	now := t0.Add(57 * 24 * time.Hour)
	ids := make([]string, 300)
	for i := range ids {
		ids[i] = fmt.Sprintf("item-%03d", i*2)
	}
	b.Run("popularity of 300 items", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e.Popularity(ids, "Hangzhou", now)
		}
	})
	b.Run("affinity", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			e.Affinity(users[i%len(users)], now)
			i++
		}
	})
}
