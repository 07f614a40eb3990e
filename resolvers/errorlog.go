package resolvers

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// LogLimitConfig bounds the error presenter's log lines. Zero fields take
// the defaults.
type LogLimitConfig struct {
	// Interval is how often one provider and error kind may be logged
	// (default 10 s): under load a failing provider fails every request,
	// and one line per request would flood the log with the same news.
	Interval time.Duration
	// Keys is how many (provider, error kind) pairs are remembered (default
	// 1,024), least recently logged forgotten first: the limiter's memory
	// does not grow with the number of providers.
	Keys int
	// Lines caps the lines of all pairs together per Interval (default 100),
	// so many providers failing at once cannot flood the log either.
	Lines int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// LogLimiter decides which error log lines are written: at most one per
// provider and error kind per interval, and a bounded number in all. What
// it holds back is counted (Suppressed, for a metric) and reported in the
// next line written. Safe for concurrent use.
type LogLimiter struct {
	cfg        LogLimitConfig
	suppressed atomic.Uint64

	mu     sync.Mutex
	keys   *simplelru.LRU[logKey, *logState]
	window time.Time // start of the current Interval for cfg.Lines
	used   int       // lines written in the current window
	// untracked counts held-back lines no remembered pair will report: of
	// pairs forgotten (evicted) or never remembered (over cfg.Lines).
	untracked uint64
}

type logKey struct{ provider, kind string }

type logState struct {
	last       time.Time // when the pair was last logged
	suppressed uint64    // lines held back since
}

// NewLogLimiter returns a limiter with cfg's bounds.
func NewLogLimiter(cfg LogLimitConfig) *LogLimiter {
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Second
	}
	if cfg.Keys <= 0 {
		cfg.Keys = 1024
	}
	if cfg.Lines <= 0 {
		cfg.Lines = 100
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &LogLimiter{cfg: cfg}
	// The eviction callback runs inside Add, under l.mu.
	l.keys, _ = simplelru.NewLRU(cfg.Keys, func(_ logKey, s *logState) { l.untracked += s.suppressed }) // errors only for a size <= 0
	return l
}

// Allow reports whether a line about provider's error of kind may be
// written now. When it may, same is how many lines of that provider and
// kind were held back since its last one, and others how many lines of
// pairs no longer remembered were held back (both reset by the call).
func (l *LogLimiter) Allow(provider, kind string) (ok bool, same, others uint64) {
	now := l.cfg.Now()
	k := logKey{provider, kind}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.window) >= l.cfg.Interval {
		l.window, l.used = now, 0
	}
	st, found := l.keys.Get(k)
	if found && now.Sub(st.last) < l.cfg.Interval || l.used >= l.cfg.Lines {
		if found {
			st.suppressed++
		} else {
			l.untracked++
		}
		l.suppressed.Add(1)
		return false, 0, 0
	}
	l.used++
	others, l.untracked = l.untracked, 0
	if !found {
		l.keys.Add(k, &logState{last: now})
		others, l.untracked = others+l.untracked, 0 // an eviction just now
		return true, 0, others
	}
	same, st.suppressed, st.last = st.suppressed, 0, now
	return true, same, others
}

// Suppressed is how many lines were held back since the limiter started.
func (l *LogLimiter) Suppressed() uint64 { return l.suppressed.Load() }

// WithLogLimiter sets the LogLimiter the error presenter built for this
// resolver uses (LogLimiter), so the wiring can export its Suppressed
// count as a metric.
func WithLogLimiter(l *LogLimiter) Option { return func(o *options) { o.logs = l } }

// LogLimiter returns the limiter set by WithLogLimiter, or nil (the error
// presenter then uses one of its own):
//
//	resolvers.ErrorPresenter(log, resolvers.LimitLogs(r.LogLimiter()))
func (r *Resolver) LogLimiter() *LogLimiter { return r.opt.logs }
