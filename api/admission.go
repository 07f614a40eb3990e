package api

import (
	"net/http"
	"runtime"

	"golang.org/x/sync/semaphore"
)

// DefaultMaxInFlight is the default bound on GraphQL executions in progress
// at once, per CPU the process may use: enough to keep a core busy while
// providers take tens of milliseconds to answer, few enough that a burst of
// a thousand connections does not hold a thousand executions' memory (and
// their goroutines) at once, which only adds GC work and tail latency.
const DefaultMaxInFlight = 32

// admission runs at most limit GraphQL executions at once; the others wait
// their turn in arrival order (a waiting request holds its connection and
// its small body, nothing else). A request that cannot start before its
// deadline (Config.RequestTimeout) or whose client goes away is answered
// 503 OVERLOADED with Retry-After, as a load balancer expects. limit <= 0
// turns the bound off.
func admission(limit int, next http.Handler) http.Handler {
	if limit <= 0 {
		return next
	}
	sem := semaphore.NewWeighted(int64(limit))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !sem.TryAcquire(1) {
			if err := sem.Acquire(r.Context(), 1); err != nil {
				w.Header().Set("Retry-After", "1")
				writeJSON(w, http.StatusServiceUnavailable, map[string]any{"errors": []map[string]any{{
					"message":    "the gateway is at capacity and the request could not start in time; retry shortly",
					"extensions": map[string]any{"code": "OVERLOADED", "retryable": true},
				}}})
				return
			}
		}
		defer sem.Release(1)
		next.ServeHTTP(w, r)
	})
}

// maxInFlight is the limit for a configured value: 0 takes the default per
// CPU, a negative value turns the bound off.
func maxInFlight(configured int) int {
	if configured == 0 {
		return DefaultMaxInFlight * runtime.GOMAXPROCS(0)
	}
	return configured
}
