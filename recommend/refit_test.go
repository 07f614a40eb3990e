package recommend

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/cache/cachetest"
)

// paramStores runs a test against each store, two instances each: for
// Redis two stores on one prefix, as two gateways would have.
func paramStores(t *testing.T, test func(t *testing.T, a, b ParamStore)) {
	t.Run("memory", func(t *testing.T) {
		s := NewMemoryParamStore()
		test(t, s, s)
	})
	t.Run("redis", func(t *testing.T) {
		client := cachetest.Redis(t)
		prefix := cachetest.Prefix(t)
		test(t, NewRedisParamStore(client, prefix, time.Hour), NewRedisParamStore(client, prefix, time.Hour))
	})
}

func TestParamStores(t *testing.T) {
	ctx := context.Background()
	paramStores(t, func(t *testing.T, a, b ParamStore) {
		t.Run("loads nothing before a save, then what the other instance saved", func(t *testing.T) {
			if _, ok, err := b.Load(ctx); ok || err != nil {
				t.Fatalf("Load before Save: ok=%v err=%v", ok, err)
			}
			p := Params{Weights: Weights{Repeat: 1, Popular: 0.5}, RepeatHalfLife: 30 * 24 * time.Hour,
				Calibration: map[Source]Logistic{SourceRepeat: {A: -2, B: 0.5}}, Fit: &FitReport{HR: 0.7, ValidationUsers: 9}}
			if err := a.Save(ctx, p); err != nil {
				t.Fatal(err)
			}
			got, ok, err := b.Load(ctx)
			if err != nil || !ok || got.Weights != p.Weights || got.Calibration[SourceRepeat] != p.Calibration[SourceRepeat] || got.Fit.HR != 0.7 {
				t.Errorf("Load = %+v, %v, %v; want what was saved", got, ok, err)
			}
		})
		t.Run("lets one instance fit at a time", func(t *testing.T) {
			release, ok, err := a.TryLock(ctx, time.Minute)
			if err != nil || !ok {
				t.Fatalf("first lock: ok=%v err=%v", ok, err)
			}
			if _, ok, err := b.TryLock(ctx, time.Minute); ok || err != nil {
				t.Errorf("second lock while held: ok=%v err=%v, want refused", ok, err)
			}
			release()
			release2, ok, err := b.TryLock(ctx, time.Minute)
			if err != nil || !ok {
				t.Fatalf("lock after release: ok=%v err=%v", ok, err)
			}
			release2()
		})
	})
	t.Run("redis: a lock released late does not free another holder's lock", func(t *testing.T) {
		client := cachetest.Redis(t)
		s := NewRedisParamStore(client, cachetest.Prefix(t), time.Hour)
		release, ok, err := s.TryLock(ctx, 50*time.Millisecond)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		deadline := time.Now().Add(5 * time.Second)
		var release2 func()
		for time.Now().Before(deadline) { // wait for the short lock to expire
			if release2, ok, err = s.TryLock(ctx, time.Minute); ok || err != nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if !ok {
			t.Fatalf("the expired lock was never free (err %v)", err)
		}
		release() // the first holder overran: its release must be a no-op
		if _, ok, _ := s.TryLock(ctx, time.Minute); ok {
			t.Error("the first holder's late release freed the second holder's lock")
		}
		release2()
	})
	t.Run("redis: stored parameters expire and corrupt ones are an error", func(t *testing.T) {
		client := cachetest.Redis(t)
		prefix := cachetest.Prefix(t)
		s := NewRedisParamStore(client, prefix, time.Hour)
		if err := s.Save(ctx, DefaultConfig().DefaultParams()); err != nil {
			t.Fatal(err)
		}
		if ttl := client.TTL(ctx, prefix+"params").Val(); ttl <= 0 || ttl > time.Hour {
			t.Errorf("TTL %v, want at most an hour", ttl)
		}
		client.Set(ctx, prefix+"params", "{not json", time.Minute)
		if _, _, err := s.Load(ctx); err == nil {
			t.Error("corrupt parameters loaded without an error")
		}
	})
}

// history serves evs (or err) and counts calls.
type history struct {
	evs   []Event
	err   error
	calls atomic.Int32
}

func (h *history) fn(_ context.Context, from, to time.Time) ([]Event, []Item, error) {
	h.calls.Add(1)
	if h.err != nil {
		return nil, nil, h.err
	}
	var out []Event
	for _, e := range h.evs {
		if !e.Time.Before(from) && e.Time.Before(to) {
			out = append(out, e)
		}
	}
	return out, nil, nil
}

func refitAt(t *testing.T, e *Engine, store ParamStore, h *history, cfg RefitConfig) *Refitter {
	t.Helper()
	r := NewRefitter(e, store, h.fn, cfg, nil)
	r.now = func() time.Time { return day(60) }
	return r
}

func TestRefitter(t *testing.T) {
	ctx := context.Background()
	evs := shoppingLog(true, true, 3, 80)
	// Two decays keep these tests about the refitter, not the fit.
	cfg := RefitConfig{Window: 90 * 24 * time.Hour, Fit: FitOptions{Seed: 1, HalfLives: []time.Duration{7 * 24 * time.Hour, 365 * 24 * time.Hour}}}

	t.Run("fits, stores, and every instance serves the result", func(t *testing.T) {
		store := NewMemoryParamStore()
		a, b := New(DefaultConfig()), New(DefaultConfig())
		p, adopted, err := refitAt(t, a, store, &history{evs: evs}, cfg).Refit(ctx)
		if err != nil || !adopted {
			t.Fatalf("Refit: adopted=%v err=%v", adopted, err)
		}
		if got := a.Params(); got.Fit == nil || got.Weights != p.Weights {
			t.Errorf("the fitting instance serves %+v, want the fit", got.Weights)
		}
		refitAt(t, b, store, &history{}, cfg).Sync(ctx)
		if got := b.Params(); got.Fit == nil || got.Weights != p.Weights || got.RepeatHalfLife != p.RepeatHalfLife {
			t.Errorf("the other instance serves %+v, want the stored fit", got.Weights)
		}
	})
	t.Run("reads a bounded window and at most MaxEvents of it", func(t *testing.T) {
		e := New(DefaultConfig())
		small := cfg
		small.MaxEvents = 1000
		p, _, err := refitAt(t, e, NewMemoryParamStore(), &history{evs: evs}, small).Refit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p.Fit.Events != 1000 {
			t.Errorf("fit read %d events, want the latest 1000", p.Fit.Events)
		}
	})
	t.Run("keeps the parameters in use when the new fit validates worse", func(t *testing.T) {
		store := NewMemoryParamStore()
		e := New(DefaultConfig())
		good, _, err := refitAt(t, e, store, &history{evs: evs}, cfg).Refit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		weak := cfg
		weak.Fit.MinGain = 10 // may not combine sources: worse here
		p, adopted, err := refitAt(t, e, store, &history{evs: evs}, weak).Refit(ctx)
		if err != nil || adopted {
			t.Fatalf("adopted=%v err=%v, want kept", adopted, err)
		}
		stored, _, _ := store.Load(ctx)
		if e.Params().Weights != good.Weights || stored.Weights != good.Weights {
			t.Errorf("serving %+v, stored %+v; want the earlier %+v (new fit: %+v)", e.Params().Weights, stored.Weights, good.Weights, p.Weights)
		}
	})
	t.Run("keeps the parameters in use when it cannot fit", func(t *testing.T) {
		tests := []struct {
			name string
			h    *history
			want error
		}{
			{"the history fails", &history{err: errors.New("store down")}, nil},
			{"too few events", &history{evs: evs[:3]}, ErrTooFewEvents},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := New(DefaultConfig())
				before := e.Params()
				_, adopted, err := refitAt(t, e, NewMemoryParamStore(), tt.h, cfg).Refit(ctx)
				if err == nil || adopted || (tt.want != nil && !errors.Is(err, tt.want)) {
					t.Errorf("adopted=%v err=%v, want an error", adopted, err)
				}
				if got := e.Params(); got.Fit != nil || got.Weights != before.Weights {
					t.Errorf("params changed to %+v", got.Weights)
				}
			})
		}
	})
	t.Run("does not fit while another instance holds the lock", func(t *testing.T) {
		store := NewMemoryParamStore()
		release, _, _ := store.TryLock(ctx, time.Minute)
		defer release()
		h := &history{evs: evs}
		if _, _, err := refitAt(t, New(DefaultConfig()), store, h, cfg).Refit(ctx); !errors.Is(err, ErrLocked) {
			t.Errorf("err = %v, want ErrLocked", err)
		}
		if h.calls.Load() != 0 {
			t.Error("read the history without the lock")
		}
	})
	t.Run("fits on start when run", func(t *testing.T) {
		e := New(DefaultConfig())
		r := refitAt(t, e, NewMemoryParamStore(), &history{evs: evs}, cfg)
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- r.Run(rctx) }()
		deadline := time.Now().Add(30 * time.Second)
		for e.Params().Fit == nil && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if e.Params().Fit == nil {
			t.Error("no fit within 30s of start")
		}
	})
}
