// Package ratelimit caps how fast one caller may use the GraphQL endpoint:
// per signed-in user, per analyst API key, and per client IP for everyone
// else. Limits are GCRA (the generic cell rate algorithm: a steady rate plus
// a burst), kept in Redis so every gateway instance shares them, with an
// in-process limiter used when no Redis is configured and whenever Redis
// fails: a Redis outage never fails a request.
package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limit allows Rate requests per Period on average, and up to Burst at once.
// A zero Rate disables the limit.
type Limit struct {
	Rate   int
	Period time.Duration
	Burst  int
}

// Enabled reports whether l limits anything.
func (l Limit) Enabled() bool { return l.Rate > 0 && l.Period > 0 }

// interval is the time one request "costs" at the steady rate.
func (l Limit) interval() time.Duration { return l.Period / time.Duration(l.Rate) }

func (l Limit) String() string {
	if !l.Enabled() {
		return "off"
	}
	unit := map[time.Duration]string{time.Second: "s", time.Minute: "m", time.Hour: "h"}[l.Period]
	if unit == "" {
		unit = l.Period.String()
	}
	return fmt.Sprintf("%d/%s:%d", l.Rate, unit, l.Burst)
}

// ParseLimit reads "RATE/UNIT[:BURST]" with UNIT s, m or h: "50/s",
// "3000/m", "20/s:40". Without a burst, the burst is the rate (one period's
// worth). "off" or "0" disables the limit.
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if s == "off" || s == "0" {
		return Limit{}, nil
	}
	bad := fmt.Errorf("rate limit %q: want RATE/UNIT[:BURST] with UNIT s, m or h, e.g. 50/s or 20/s:40, or off", s)
	spec, burstStr, hasBurst := strings.Cut(s, ":")
	rateStr, unit, ok := strings.Cut(spec, "/")
	if !ok {
		return Limit{}, bad
	}
	rate, err := strconv.Atoi(strings.TrimSpace(rateStr))
	if err != nil || rate <= 0 {
		return Limit{}, bad
	}
	l := Limit{Rate: rate, Burst: rate}
	switch strings.TrimSpace(unit) {
	case "s":
		l.Period = time.Second
	case "m":
		l.Period = time.Minute
	case "h":
		l.Period = time.Hour
	default:
		return Limit{}, bad
	}
	if l.Period/time.Duration(rate) <= 0 {
		return Limit{}, bad
	}
	if hasBurst {
		if l.Burst, err = strconv.Atoi(strings.TrimSpace(burstStr)); err != nil || l.Burst <= 0 {
			return Limit{}, bad
		}
	}
	return l, nil
}

// Result is the decision on one request.
type Result struct {
	Allowed bool
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// RetryAfter is how long until the next request is allowed (denials
	// only).
	RetryAfter time.Duration
}

// Store decides requests against per-key limits. Implementations: Memory
// (one process) and Redis (shared, falling back to a Memory).
type Store interface {
	Allow(ctx context.Context, key string, l Limit) (Result, error)
}

func allowAll(l Limit) (Result, bool) {
	if l.Enabled() {
		return Result{}, false
	}
	return Result{Allowed: true, Remaining: -1}, true
}
