package telemetry_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/telemetry"
)

func TestOperationLabel(t *testing.T) {
	tests := []struct{ name, want string }{
		{"", "anonymous"},
		{"ProductDetail", "ProductDetail"},
		{"snake_case_2", "snake_case_2"},
		{strings.Repeat("a", 64), strings.Repeat("a", 64)},
		{strings.Repeat("a", 65), "other"},
		{"with-dash", "other"},
		{"spaces here", "other"},
		{"naïve", "other"},
	}
	for _, tt := range tests {
		if got := telemetry.OperationLabel(tt.name); got != tt.want {
			t.Errorf("OperationLabel(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestTracesURL(t *testing.T) {
	tests := []struct {
		name, endpoint string
		base           bool
		want           string // empty: an error
	}{
		{"appends the traces path to a bare endpoint", "http://collector:4318", false, "http://collector:4318/v1/traces"},
		{"keeps a full endpoint", "https://c.example/otlp/v1/traces", false, "https://c.example/otlp/v1/traces"},
		{"appends the traces path to a base endpoint", "http://c:4318/base/", true, "http://c:4318/base/v1/traces"},
		{"refuses an endpoint that is not a URL", "collector:4318", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := telemetry.TracesURL(tt.endpoint, tt.base)
			if (err != nil) != (tt.want == "") || got != tt.want {
				t.Fatalf("TracesURL(%q) = %q, %v; want %q", tt.endpoint, got, err, tt.want)
			}
		})
	}
}

func TestNewRequestIDs(t *testing.T) {
	t.Run("are unique and well-formed under concurrency", func(t *testing.T) {
		next := telemetry.NewRequestIDs(bytes.NewReader(bytes.Repeat([]byte{0xab}, 8)))
		re := regexp.MustCompile(`^abababababababab-[0-9]+$`)
		var mu sync.Mutex
		seen := map[string]bool{}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 100 {
					id := next()
					mu.Lock()
					if seen[id] || !re.MatchString(id) {
						t.Errorf("id %q repeated or malformed", id)
					}
					seen[id] = true
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	})
	t.Run("still work when randomness fails", func(t *testing.T) {
		next := telemetry.NewRequestIDs(errReader{})
		if a, b := next(), next(); a == b || a == "" {
			t.Errorf("ids %q, %q", a, b)
		}
	})
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

// fakeObserver records what the middleware reports.
type fakeObserver struct {
	mu       sync.Mutex
	inFlight int
	ops      []string
}

func (f *fakeObserver) InFlight(d int) { f.mu.Lock(); f.inFlight += d; f.mu.Unlock() }
func (f *fakeObserver) ObserveOperation(op, outcome string, _ time.Duration) {
	f.mu.Lock()
	f.ops = append(f.ops, op+"/"+outcome)
	f.mu.Unlock()
}

func TestMiddleware(t *testing.T) {
	obs := &fakeObserver{}
	var logs bytes.Buffer
	mux := http.NewServeMux()
	mux.HandleFunc("POST /query", func(w http.ResponseWriter, r *http.Request) {
		if obs.inFlight != 1 {
			t.Errorf("in flight during the request: %d", obs.inFlight)
		}
		http.Error(w, "too big", http.StatusRequestEntityTooLarge)
	})
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	mux.HandleFunc("GET /healthz", func(http.ResponseWriter, *http.Request) {})
	h := telemetry.Middleware(mux, slog.New(slog.NewJSONHandler(&logs, nil)), telemetry.WithObserver(obs),
		telemetry.WithRequestIDs(func() string { return "fixed-id" }))

	t.Run("counts a GraphQL request refused before the GraphQL layer as an error", func(t *testing.T) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/query?query=secret-in-url", strings.NewReader("{}")))
		if len(obs.ops) != 1 || obs.ops[0] != "other/error" || obs.inFlight != 0 {
			t.Errorf("ops %v in flight %d", obs.ops, obs.inFlight)
		}
		if w.Header().Get("X-Request-Id") != "fixed-id" || strings.Contains(logs.String(), "secret-in-url") {
			t.Errorf("header %q, logs %s", w.Header().Get("X-Request-Id"), logs.String())
		}
	})
	t.Run("does not count other paths as GraphQL requests", func(t *testing.T) {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz", nil))
		if len(obs.ops) != 1 {
			t.Errorf("ops %v", obs.ops)
		}
	})
	t.Run("logs a panicking request as a 500 and lets the panic continue", func(t *testing.T) {
		logs.Reset()
		func() {
			defer func() {
				if recover() == nil {
					t.Error("panic swallowed")
				}
			}()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/boom", nil))
		}()
		if !strings.Contains(logs.String(), `"status":500`) || !strings.Contains(logs.String(), `"level":"ERROR"`) || obs.inFlight != 0 {
			t.Errorf("logs %s, in flight %d", logs.String(), obs.inFlight)
		}
	})
}
