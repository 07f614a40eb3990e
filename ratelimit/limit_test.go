package ratelimit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/ratelimit"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock                   { return &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }
func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func TestParseLimit(t *testing.T) {
	tests := []struct {
		in   string
		want ratelimit.Limit
		bad  bool
	}{
		{in: "50/s", want: ratelimit.Limit{Rate: 50, Period: time.Second, Burst: 50}},
		{in: "3000/m", want: ratelimit.Limit{Rate: 3000, Period: time.Minute, Burst: 3000}},
		{in: "20/s:40", want: ratelimit.Limit{Rate: 20, Period: time.Second, Burst: 40}},
		{in: " 100/h : 5 ", want: ratelimit.Limit{Rate: 100, Period: time.Hour, Burst: 5}},
		{in: "off", want: ratelimit.Limit{}},
		{in: "0", want: ratelimit.Limit{}},
		{in: "50", bad: true},
		{in: "50/d", bad: true},
		{in: "-1/s", bad: true},
		{in: "x/s", bad: true},
		{in: "10/s:0", bad: true},
		{in: "10/s:many", bad: true},
		{in: "2000000000/s", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ratelimit.ParseLimit(tt.in)
			if tt.bad {
				if err == nil {
					t.Fatalf("accepted as %v", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("%v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestMemoryGCRA(t *testing.T) {
	l := ratelimit.Limit{Rate: 10, Period: time.Second, Burst: 3}
	t.Run("a burst passes at once, the next request waits one interval", func(t *testing.T) {
		clk := newClock()
		m := ratelimit.NewMemory(0, clk.Now)
		for i, remaining := range []int{2, 1, 0} {
			if r := mustAllow(t, m, "k", l); !r.Allowed || r.Remaining != remaining {
				t.Fatalf("request %d: %+v", i, r)
			}
		}
		r := mustAllow(t, m, "k", l)
		if r.Allowed || r.RetryAfter != 100*time.Millisecond {
			t.Fatalf("%+v", r)
		}
		clk.Advance(99 * time.Millisecond)
		if r := mustAllow(t, m, "k", l); r.Allowed {
			t.Fatalf("allowed 1 ms early: %+v", r)
		}
		clk.Advance(time.Millisecond)
		if r := mustAllow(t, m, "k", l); !r.Allowed {
			t.Fatalf("refused on time: %+v", r)
		}
	})
	t.Run("keys are independent", func(t *testing.T) {
		m := ratelimit.NewMemory(0, newClock().Now)
		for range 3 {
			mustAllow(t, m, "a", l)
		}
		if r := mustAllow(t, m, "b", l); !r.Allowed {
			t.Fatal("b was limited by a")
		}
	})
	t.Run("the steady rate is sustained forever", func(t *testing.T) {
		clk := newClock()
		m := ratelimit.NewMemory(0, clk.Now)
		for i := range 1000 {
			if r := mustAllow(t, m, "k", l); !r.Allowed {
				t.Fatalf("request %d at the steady rate refused", i)
			}
			clk.Advance(100 * time.Millisecond)
		}
	})
	t.Run("a disabled limit allows everything", func(t *testing.T) {
		m := ratelimit.NewMemory(0, newClock().Now)
		for range 100 {
			if r := mustAllow(t, m, "k", ratelimit.Limit{}); !r.Allowed {
				t.Fatal("refused")
			}
		}
	})
}

func mustAllow(tb testing.TB, s ratelimit.Store, key string, l ratelimit.Limit) ratelimit.Result {
	tb.Helper()
	r, err := s.Allow(context.Background(), key, l)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}
