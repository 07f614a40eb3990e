package httpprovider

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

// FaultMode is how a request picked for failure (see Faults.FailRate) fails.
type FaultMode string

const (
	// FaultUnavailable answers 503 with the error model (the default).
	FaultUnavailable FaultMode = "unavailable"
	// FaultInternal answers 500 with the error model.
	FaultInternal FaultMode = "internal"
	// FaultGarbage answers 200 with a body that is not JSON.
	FaultGarbage FaultMode = "garbage"
	// FaultStall holds the request without answering until the caller
	// gives up (its context ends).
	FaultStall FaultMode = "stall"
)

// ParseFaultMode accepts the names above, case-insensitively.
func ParseFaultMode(s string) (FaultMode, bool) {
	m := FaultMode(strings.ToLower(s))
	switch m {
	case FaultUnavailable, FaultInternal, FaultGarbage, FaultStall:
		return m, true
	}
	return "", false
}

// Faults describes the misbehaviour Inject adds to a handler.
type Faults struct {
	// Latency is added before every request is handled (cut short if the
	// caller gives up).
	Latency time.Duration
	// FailRate is the fraction of requests, in [0, 1], that fail as Mode.
	FailRate float64
	Mode     FaultMode
	// Rand returns a number in [0, 1); it must be safe for concurrent use.
	// Defaults to math/rand/v2.Float64.
	Rand func() float64
}

// Inject wraps h with f's latency and failures, for the demo provider binary
// and for fault tests in process.
func Inject(h http.Handler, f Faults) http.Handler {
	if f.Rand == nil {
		f.Rand = rand.Float64
	}
	if f.Mode == "" {
		f.Mode = FaultUnavailable
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.Latency > 0 || f.FailRate > 0 {
			// net/http cancels r.Context() on a client hang-up only after the
			// body has been read, so read it now (capped) and hand h a copy;
			// otherwise a stall would outlive the caller.
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, DefaultMaxBodyBytes))
			if err != nil {
				writeJSON(w, http.StatusRequestEntityTooLarge, wireError{Code: connectors.KindInvalid, Message: "request body too large"})
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		if f.Latency > 0 {
			t := time.NewTimer(f.Latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if f.FailRate <= 0 || f.Rand() >= f.FailRate {
			h.ServeHTTP(w, r)
			return
		}
		switch f.Mode {
		case FaultInternal:
			writeJSON(w, http.StatusInternalServerError, wireError{Code: connectors.KindInternal, Message: "internal error"})
		case FaultGarbage:
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"results": [{"value": <<<not json`))
		case FaultStall:
			<-r.Context().Done()
		default:
			writeJSON(w, http.StatusServiceUnavailable, wireError{Code: connectors.KindUnavailable, Message: "injected failure", Retryable: true})
		}
	})
}

// Stats counts requests per operation of the contract. Its report is served
// unauthenticated at GET /v1/stats: it is read-only and holds counters, no
// provider data, so a benchmark can read it without signing.
type Stats struct {
	mu    sync.Mutex
	calls map[string]int64
	known map[string]bool
}

// NewStats returns empty counters.
func NewStats() *Stats {
	known := map[string]bool{}
	for _, op := range Operations() {
		known[op.Method+" "+op.Path] = true
	}
	return &Stats{calls: map[string]int64{}, known: known}
}

// Count wraps h, counting every request it receives by "METHOD /path";
// requests for paths outside the contract count as "other", so a scanner
// cannot grow the map.
func (s *Stats) Count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.Path
		if !s.known[key] {
			key = "other"
		}
		s.mu.Lock()
		s.calls[key]++
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// Snapshot returns a copy of the counters.
func (s *Stats) Snapshot() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// StatsReport is the body of GET /v1/stats.
type StatsReport struct {
	Calls map[string]int64 `json:"calls"`
	Total int64            `json:"total"`
}

// ServeHTTP answers GET with a StatsReport.
func (s *Stats) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeJSON(w, http.StatusMethodNotAllowed, wireError{Code: connectors.KindInvalid, Message: "method not allowed"})
		return
	}
	rep := StatsReport{Calls: s.Snapshot()}
	for _, n := range rep.Calls {
		rep.Total += n
	}
	writeJSON(w, http.StatusOK, rep)
}
