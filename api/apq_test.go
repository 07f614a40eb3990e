package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/cache"
	"github.com/plaza-gateway/plaza/cache/cachetest"
	"github.com/plaza-gateway/plaza/limits"
	"github.com/plaza-gateway/plaza/ratelimit"
)

func sha(q string) string {
	sum := sha256.Sum256([]byte(q))
	return hex.EncodeToString(sum[:])
}

// apqRequest is an APQ request: the hash alone, or with its document.
func apqRequest(hash, query string) apitest.Request {
	return apitest.Request{Query: query, Extensions: map[string]any{
		"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}}
}

// mustNotBeRegistered requires that hash alone is answered
// PERSISTED_QUERY_NOT_FOUND (200, as APQ clients expect, and no data).
func mustNotBeRegistered(tb testing.TB, g *apitest.Gateway, hash string) {
	tb.Helper()
	r := g.Post(apqRequest(hash, ""))
	if r.Status != http.StatusOK || len(r.Errors) != 1 || r.Errors[0].Code() != limits.CodePersistedQueryNotFound || strings.Contains(string(r.Raw), `"data"`) {
		tb.Fatalf("hash %s: want 200 PERSISTED_QUERY_NOT_FOUND without data, got %d %s", hash, r.Status, r.Raw)
	}
}

// TestPersistedQueries shows that automatic persisted queries work as Apollo
// Client uses them, and cannot be used to store what is not a valid, small
// document, nor more documents than a caller's registration limit.
func TestPersistedQueries(t *testing.T) {
	// Two registrations per caller (an hour to refill), so the limit shows.
	rl := ratelimit.DefaultConfig()
	rl.Register = ratelimit.Limit{Rate: 2, Period: time.Hour, Burst: 2}
	cfg := api.DefaultConfig()
	cfg.MaxPersistedQueryBytes = 200
	cfg.Limits = limits.Config{MaxDepth: 4}
	g := apitest.Start(t, apitest.Options{API: &cfg,
		APIOptions: []api.Option{api.WithRateLimit(ratelimit.New(rl, ratelimit.NewMemory(0, nil), nil))}})

	t.Run("a hash sent alone and never registered is 200 PERSISTED_QUERY_NOT_FOUND", func(t *testing.T) {
		mustNotBeRegistered(t, g, sha(`{ providers(first: 1) { totalCount } }`))
	})
	t.Run("a document sent with its hash runs and registers; the hash alone then runs it", func(t *testing.T) {
		q := `{ providers(first: 2) { totalCount } }`
		first := g.MustPost(apqRequest(sha(q), q))
		again := g.MustPost(apqRequest(sha(q), ""))
		if string(again.Data) != string(first.Data) || string(again.Data) != `{"providers":{"totalCount":8}}` {
			t.Fatalf("registered %s, replayed %s", first.Raw, again.Raw)
		}
	})
	t.Run("a hash that does not match its document is 400 PERSISTED_QUERY_HASH_MISMATCH and stores nothing", func(t *testing.T) {
		q, other := `{ providers(first: 3) { totalCount } }`, sha("anything else")
		r := g.Post(apqRequest(other, q))
		if r.Status != http.StatusBadRequest || len(r.Errors) != 1 || r.Errors[0].Code() != limits.CodePersistedQueryMismatch || strings.Contains(string(r.Raw), `"data"`) {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		mustNotBeRegistered(t, g, other)
		mustNotBeRegistered(t, g, sha(q))
	})
	refused := []struct {
		name, query, code string
	}{
		{"a blob that is not GraphQL is not stored", strings.Repeat("blob ", 30), "GRAPHQL_PARSE_FAILED"},
		{"a document that does not validate is not stored", `{ nope }`, "GRAPHQL_VALIDATION_FAILED"},
		{"a document past a limit is not stored", `{ stores { edges { node { products { edges { node { name } } } } } } }`, limits.CodeQueryTooDeep},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			r := g.Post(apqRequest(sha(tc.query), tc.query))
			if len(r.Errors) != 1 || r.Errors[0].Code() != tc.code {
				t.Fatalf("want %s, got %d %s", tc.code, r.Status, r.Raw)
			}
			mustNotBeRegistered(t, g, sha(tc.query))
		})
	}
	t.Run("a document over MaxPersistedQueryBytes runs but is not stored", func(t *testing.T) {
		q := `{ providers(first: 1) { totalCount } }` + strings.Repeat(" ", 200)
		g.MustPost(apqRequest(sha(q), q))
		mustNotBeRegistered(t, g, sha(q))
	})
	t.Run("registrations past the caller's limit run but are not stored; another caller still registers", func(t *testing.T) {
		// This caller (the loopback IP) registered one document above; one
		// more fits its limit of two.
		var hashes []string
		for i := range 3 {
			q := `{ a` + strings.Repeat("a", i) + `: __typename }`
			g.MustPost(apqRequest(sha(q), q))
			hashes = append(hashes, sha(q))
		}
		g.MustPost(apqRequest(hashes[0], ""))
		mustNotBeRegistered(t, g, hashes[1])
		mustNotBeRegistered(t, g, hashes[2])

		q := `{ byUser: __typename }`
		req := apqRequest(sha(q), q)
		req.User = "demo-1"
		g.MustPost(req)
		g.MustPost(apqRequest(sha(q), ""))
	})
}

// TestPersistedQueriesInRedis drives the same abuse against the shared Redis
// registry production uses, and counts what it stored: nothing but the one
// valid document, whatever the blobs sent with matching hashes.
func TestPersistedQueriesInRedis(t *testing.T) {
	client := cachetest.Redis(t)
	prefix := cachetest.Prefix(t)
	store := cache.NewRedis(client, cache.WithPrefix(prefix), cache.WithTimeout(time.Second))
	t.Cleanup(store.Close)
	rl := ratelimit.New(ratelimit.DefaultConfig(), ratelimit.NewRedis(client, prefix+"rl:", ratelimit.NewMemory(0, nil)), nil)
	g := apitest.Start(t, apitest.Options{APIOptions: []api.Option{api.WithSharedCache(store), api.WithRateLimit(rl)}})
	keys := func() []string {
		t.Helper()
		ks, err := client.Keys(context.Background(), prefix+"*apq:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		return ks
	}
	t.Cleanup(func() {
		if ks, _ := client.Keys(context.Background(), prefix+"*").Result(); len(ks) > 0 {
			client.Del(context.Background(), ks...)
		}
	})

	blob := `# ` + strings.Repeat("x", 900<<10) // a 900 KiB comment
	abuse := []struct {
		doc  string
		runs bool
	}{
		{blob, false},                     // no operation
		{blob + "\n{ __typename }", true}, // valid, and runs: only the size cap keeps it out
		{strings.Repeat("blob ", 1000), false},
		{`{ nope }`, false},
	}
	for _, a := range abuse {
		r := g.Post(apqRequest(sha(a.doc), a.doc))
		if ran := len(r.Errors) == 0; ran != a.runs {
			t.Fatalf("a %d-byte document: ran %v, want %v: %.300s", len(a.doc), ran, a.runs, r.Raw)
		}
	}
	if ks := keys(); len(ks) != 0 {
		t.Fatalf("refused documents were stored: %v", ks)
	}
	good := `{ providers(first: 1) { totalCount } }`
	g.MustPost(apqRequest(sha(good), good))
	ks := keys()
	if len(ks) != 1 {
		t.Fatalf("want the one valid document stored, got %v", ks)
	}
	ttl, err := client.TTL(context.Background(), ks[0]).Result()
	if err != nil || ttl <= 0 || ttl > 24*time.Hour {
		t.Fatalf("the registration has TTL %v (%v); want at most a day", ttl, err)
	}
	t.Logf("stored after the abuse: %v (TTL %v)", ks, ttl)
}
