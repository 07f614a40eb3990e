package resolvers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/resolvers"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logLines is a JSON slog handler's output, one map per line.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logLines) lines(tb testing.TB) []map[string]any {
	tb.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	dec := json.NewDecoder(bytes.NewReader(l.buf.Bytes()))
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			tb.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// presentAll presents errs the way gqlgen does for one request each.
func presentAll(p graphql.ErrorPresenterFunc, errs ...error) {
	for _, err := range errs {
		ctx := graphql.WithPathContext(context.Background(), graphql.NewPathWithField("search"))
		p(ctx, err)
	}
}

func providerFailure(provider string, kind connectors.Kind) error {
	return &connectors.Error{Kind: kind, Provider: provider, Message: "provider failed", Err: fmt.Errorf("upstream said no")}
}

func TestErrorPresenterRateLimitsProviderLines(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	var out logLines
	log := slog.New(slog.NewJSONHandler(&out, nil))
	limiter := resolvers.NewLogLimiter(resolvers.LogLimitConfig{Interval: 10 * time.Second, Keys: 4, Lines: 50, Now: clk.Now})
	present := resolvers.ErrorPresenter(log, resolvers.LimitLogs(limiter))

	// 1,000 requests within one interval, each failing on freshcart.
	for range 1000 {
		presentAll(present, providerFailure("freshcart", connectors.KindProvider))
	}
	if got := out.lines(t); len(got) != 1 || got[0]["provider"] != "freshcart" || got[0]["suppressed"] != 0.0 {
		t.Fatalf("1,000 failures of one provider in one interval wrote %d lines, want 1 (first: %v)", len(got), got)
	}
	if got := limiter.Suppressed(); got != 999 {
		t.Fatalf("Suppressed() = %d, want 999", got)
	}

	t.Run("another error kind of the same provider is another line", func(t *testing.T) {
		presentAll(present, providerFailure("freshcart", connectors.KindTimeout), providerFailure("freshcart", connectors.KindTimeout))
		if got := out.lines(t); len(got) != 2 || got[1]["code"] != "PROVIDER_TIMEOUT" {
			t.Fatalf("lines %v, want a second one for the timeout", got)
		}
	})

	t.Run("after the interval the next line carries the count held back", func(t *testing.T) {
		clk.Add(10 * time.Second)
		presentAll(present, providerFailure("freshcart", connectors.KindProvider))
		got := out.lines(t)
		if last := got[len(got)-1]; len(got) != 3 || last["suppressed"] != 999.0 || last["code"] != "PROVIDER_ERROR" {
			t.Fatalf("lines %v, want a third with suppressed=999", got)
		}
	})

	t.Run("many failing providers write at most Lines lines per interval, with bounded state", func(t *testing.T) {
		clk.Add(10 * time.Second)
		before, sup := len(out.lines(t)), limiter.Suppressed()
		for i := range 500 {
			// Letters only: an id-shaped name would be redacted from the
			// message, and its redaction line would share the budget.
			presentAll(present, providerFailure(fmt.Sprintf("prov%c%c", 'a'+i/26, 'a'+i%26), connectors.KindUnavailable))
		}
		got := out.lines(t)
		if n := len(got) - before; n != 50 {
			t.Fatalf("500 failing providers wrote %d lines, want the cap of 50", n)
		}
		if n := limiter.Suppressed() - sup; n != 450 {
			t.Fatalf("suppressed %d, want 450", n)
		}
		// Only 4 pairs are remembered: the held-back lines of forgotten or
		// never-remembered providers are reported by the next line written.
		clk.Add(10 * time.Second)
		presentAll(present, providerFailure("healthhub", connectors.KindUnavailable))
		got = out.lines(t)
		if last := got[len(got)-1]; last["suppressed_other"] != 450.0 {
			t.Fatalf("next line %v, want suppressed_other=450", last)
		}
	})

	t.Run("client errors are not logged at all", func(t *testing.T) {
		before := len(out.lines(t))
		presentAll(present, connectors.Errorf(connectors.KindInvalid, "bad input"))
		if got := out.lines(t); len(got) != before {
			t.Fatalf("a client error was logged: %v", got[len(got)-1])
		}
	})
}

func TestErrorPresenterNamesTheArgument(t *testing.T) {
	present := resolvers.ErrorPresenter(slog.New(slog.DiscardHandler))
	ctx := graphql.WithPathContext(context.Background(), graphql.NewPathWithField("search"))
	err := &resolvers.ArgError{Arg: "text", Err: connectors.Errorf(connectors.KindInvalid, "text is too long")}
	got := present(ctx, err)
	if got.Extensions["code"] != "BAD_USER_INPUT" || got.Extensions["field"] != "text" || got.Message != "text is too long" {
		t.Fatalf("presented %+v, want BAD_USER_INPUT with field text", got)
	}
	if got.Path.String() != (ast.Path{ast.PathName("search")}).String() {
		t.Fatalf("path %v", got.Path)
	}
}

func TestErrorPresenterRateLimitsRedactionLines(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	var out logLines
	limiter := resolvers.NewLogLimiter(resolvers.LogLimitConfig{Now: clk.Now})
	present := resolvers.ErrorPresenter(slog.New(slog.NewJSONHandler(&out, nil)), resolvers.LimitLogs(limiter))
	conflict := &connectors.Error{Kind: connectors.KindConflict, Provider: "freshcart", Message: `delivery slot "s-0042" is full`}
	for range 100 {
		presentAll(present, conflict)
	}
	if got := out.lines(t); len(got) != 1 || got[0]["msg"] != "provider error message redacted for the client" {
		t.Fatalf("100 redacted messages of one provider wrote %d lines, want 1: %v", len(got), got)
	}
	if got := limiter.Suppressed(); got != 99 {
		t.Fatalf("Suppressed() = %d, want 99", got)
	}
}
