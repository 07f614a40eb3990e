package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/certify"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/conformance/faulty"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/directory/pgtest"
	"github.com/plaza-gateway/plaza/resolvers"
)

// onboarding is a gateway with a provider directory and the certification
// job running, as `go run .` wires them.
type onboarding struct {
	*apitest.Gateway
	store directory.Store
	clock *onboardClock
}

type onboardClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *onboardClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *onboardClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func mustTestSealer(tb testing.TB) *directory.Sealer {
	tb.Helper()
	s, err := directory.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// startOnboarding serves the directory store (the embedded one when nil)
// with a certification runner over it.
func startOnboarding(t *testing.T, store directory.Store, cfg certify.Config) *onboarding {
	t.Helper()
	clock := &onboardClock{now: time.Now()}
	if store == nil {
		store = directory.NewMemory(mustTestSealer(t), directory.Policy{Development: true}, directory.WithClock(clock.Now))
	}
	cfg.CallTimeout = max(cfg.CallTimeout, 5*time.Second)
	runner := certify.New(store, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { runner.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	g := apitest.Start(t, apitest.Options{APIOptions: []api.Option{
		api.WithResolverOptions(resolvers.WithDirectory(store, runner))}})
	return &onboarding{Gateway: g, store: store, clock: clock}
}

// operator returns the header of an operator's bearer token.
func (o *onboarding) operator(t *testing.T, user string) http.Header {
	t.Helper()
	tok, err := o.Verifier.Issue(user, time.Hour, auth.RoleOperator)
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{"Authorization": {"Bearer " + tok}}
}

const onboardSecret = "provider-signing-secret-0123456789"

// groceryOverHTTP serves a fresh demo grocery provider over the HTTP
// contract on loopback, optionally behind a fault.
func groceryOverHTTP(t *testing.T, fault func(http.Handler) http.Handler) *apitest.Provider {
	t.Helper()
	d := demo.DefaultDescriptors()[0]
	g, err := demo.NewGrocery(d)
	if err != nil {
		t.Fatal(err)
	}
	p := apitest.ServeProvider(t, g, onboardSecret)
	if fault != nil {
		p.Use(fault)
	}
	return p
}

const registerMutation = `mutation($in: RegisterProviderInput!) {
  registerProvider(input: $in) {
    provider { key lifecycle vertical cities }
    certification { id outcome sandbox checks { name } }
  }
}`

const readProvider = `query($key: String!) {
  registeredProvider(key: $key) {
    key lifecycle
    certifications { outcome sandbox finishedAt checks { name outcome message } }
    history { from to actor reason }
  }
}`

func registration(id, endpoint, sandbox string) map[string]any {
	in := map[string]any{"id": id, "vertical": "GROCERY", "name": "New Mart", "cities": []string{"Hangzhou", "Ningbo"},
		"endpoint": endpoint, "contactEmail": "ops@newmart.example", "signingSecret": onboardSecret}
	if sandbox != "" {
		in["sandboxEndpoint"] = sandbox
	}
	return in
}

type readProviderAnswer struct {
	RegisteredProvider struct {
		Key            string
		Lifecycle      string
		Certifications []struct {
			Outcome    string
			Sandbox    bool
			FinishedAt *string
			Checks     []struct{ Name, Outcome, Message string }
		}
		History []struct{ From, To, Actor, Reason string }
	}
}

// awaitCertification polls until the provider's latest run has finished
// (generous deadline: the kit makes a few dozen calls on a loaded machine).
func (o *onboarding) awaitCertification(t *testing.T, key string, header http.Header) readProviderAnswer {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		var a readProviderAnswer
		o.MustPost(apitest.Request{Query: readProvider, Variables: map[string]any{"key": key}, Header: header}).Decode(t, &a)
		if runs := a.RegisteredProvider.Certifications; len(runs) > 0 && runs[0].Outcome != "RUNNING" {
			// The fields of one answer are read one after the other; the
			// run finishes after its lifecycle change, so the next read
			// sees both settled.
			var settled readProviderAnswer
			o.MustPost(apitest.Request{Query: readProvider, Variables: map[string]any{"key": key}, Header: header}).Decode(t, &settled)
			return settled
		}
		if time.Now().After(deadline) {
			t.Fatalf("certification of %s did not finish within 90s: %+v", key, a)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func checkOutcomes(a readProviderAnswer) map[string]string {
	out := map[string]string{}
	for _, c := range a.RegisteredProvider.Certifications[0].Checks {
		out[c.Name] = c.Outcome
	}
	return out
}

func TestCertificationOfARegisteredProvider(t *testing.T) {
	o := startOnboarding(t, nil, certify.Config{})
	ops := o.operator(t, "ops-1")

	t.Run("a provider whose endpoint fails conformance stays PENDING with its failures readable", func(t *testing.T) {
		bad := groceryOverHTTP(t, faulty.Reorder)
		sandbox := groceryOverHTTP(t, nil)
		resp := o.MustPost(apitest.Request{Query: registerMutation, Variables: map[string]any{"in": registration("reordermart", bad.URL(), sandbox.URL())}, Header: ops})
		var reg struct {
			RegisterProvider struct {
				Provider      struct{ Key, Lifecycle string }
				Certification struct {
					Outcome string
					Sandbox bool
				}
			}
		}
		resp.Decode(t, &reg)
		if p := reg.RegisterProvider; p.Provider.Lifecycle != "PENDING" || p.Certification.Outcome != "RUNNING" || !p.Certification.Sandbox {
			t.Fatalf("registration answered %+v, want PENDING with a RUNNING run on the sandbox", p)
		}
		a := o.awaitCertification(t, "reordermart", ops)
		if got := a.RegisteredProvider; got.Lifecycle != "PENDING" || got.Certifications[0].Outcome != "FAILED" {
			t.Fatalf("after a failing run: %+v, want PENDING and FAILED", got)
		}
		var failed []string
		for _, c := range a.RegisteredProvider.Certifications[0].Checks {
			if c.Outcome == "FAILED" {
				if c.Message == "" {
					t.Errorf("failed check %s has no message", c.Name)
				}
				failed = append(failed, c.Name)
			}
		}
		if !strings.Contains(strings.Join(failed, ","), "batch-order") {
			t.Fatalf("failed checks %v, want batch-order among them (batches come back reversed)", failed)
		}
		if n := countServing(t, o, "reordermart"); n != 0 {
			t.Fatalf("a PENDING provider appears in providers %d times", n)
		}

		// The provider fixes its batches and asks again.
		bad.Heal()
		var re struct{ RecertifyProvider struct{ Outcome string } }
		o.MustPost(apitest.Request{Query: `mutation { recertifyProvider(key: "reordermart") { outcome } }`, Header: ops}).Decode(t, &re)
		if re.RecertifyProvider.Outcome != "RUNNING" {
			t.Fatalf("recertify answered %+v, want a RUNNING run", re)
		}
		a = o.awaitCertification(t, "reordermart", ops)
		if got := a.RegisteredProvider; got.Lifecycle != "ACTIVE" || len(got.Certifications) != 2 || got.Certifications[0].Outcome != "PASSED" {
			t.Fatalf("after the fix: %s with runs %d, latest %+v; want ACTIVE, two runs, the latest PASSED",
				got.Lifecycle, len(got.Certifications), got.Certifications[0])
		}
	})

	t.Run("one that passes with a sandbox becomes ACTIVE and shows in providers", func(t *testing.T) {
		good, sandbox := groceryOverHTTP(t, nil), groceryOverHTTP(t, nil)
		o.MustPost(apitest.Request{Query: registerMutation, Variables: map[string]any{"in": registration("newmart", good.URL(), sandbox.URL())}, Header: ops})
		a := o.awaitCertification(t, "newmart", ops)
		if got := a.RegisteredProvider; got.Lifecycle != "ACTIVE" || got.Certifications[0].Outcome != "PASSED" || !got.Certifications[0].Sandbox {
			t.Fatalf("after a passing run: %+v, want ACTIVE, PASSED on the sandbox", got)
		}
		outcomes := checkOutcomes(a)
		for _, name := range []string{"descriptor", "batch-order", "signature", "idempotency", "concurrency"} {
			if outcomes[name] != "PASSED" {
				t.Errorf("check %s: %q, want PASSED (all: %v)", name, outcomes[name], outcomes)
			}
		}
		if sandbox.Calls(httpprovider.PathGroceryPlaceOrder) == 0 || good.Calls(httpprovider.PathGroceryPlaceOrder) != 0 {
			t.Fatalf("mutating checks: %d calls to the sandbox, %d orders placed on the live endpoint; want some and none",
				sandbox.Calls(httpprovider.PathGroceryPlaceOrder), good.Calls(httpprovider.PathGroceryPlaceOrder))
		}
		hist := a.RegisteredProvider.History
		if len(hist) != 2 || hist[0].To != "CERTIFIED" || hist[1].To != "ACTIVE" || hist[1].Actor != certify.Actor {
			t.Fatalf("history %+v, want PENDING->CERTIFIED->ACTIVE by %s", hist, certify.Actor)
		}
		if n := countServing(t, o, "newmart"); n != 1 {
			t.Fatalf("newmart appears %d times in providers(vertical: GROCERY, city: Ningbo), want once", n)
		}
	})

	t.Run("without a sandbox the mutating checks are skipped and an operator approves", func(t *testing.T) {
		good := groceryOverHTTP(t, nil)
		o.MustPost(apitest.Request{Query: registerMutation, Variables: map[string]any{"in": registration("nosandbox", good.URL(), "")}, Header: ops})
		a := o.awaitCertification(t, "nosandbox", ops)
		if got := a.RegisteredProvider; got.Lifecycle != "CERTIFIED" || got.Certifications[0].Outcome != "PASSED" {
			t.Fatalf("after a passing run without sandbox: %+v, want CERTIFIED", got)
		}
		for _, name := range []string{"idempotency", "concurrency", "user-lists"} {
			if got := checkOutcomes(a)[name]; got != "SKIPPED" {
				t.Errorf("check %s: %q without a sandbox, want SKIPPED", name, got)
			}
		}
		if good.Calls(httpprovider.PathGroceryPlaceOrder) != 0 {
			t.Fatal("certification placed orders on a live endpoint")
		}
		var ap struct{ ApproveProvider struct{ Lifecycle string } }
		o.MustPost(apitest.Request{Query: `mutation { approveProvider(key: "nosandbox", reason: "checked by hand") { lifecycle } }`, Header: ops}).Decode(t, &ap)
		if ap.ApproveProvider.Lifecycle != "ACTIVE" {
			t.Fatalf("approved provider is %s, want ACTIVE", ap.ApproveProvider.Lifecycle)
		}
		h, _ := o.store.History(context.Background(), "nosandbox")
		if last := h[len(h)-1]; last.Actor != "ops-1" || last.Reason != "checked by hand" || last.From != directory.Certified || last.To != directory.Active {
			t.Fatalf("approval recorded as %+v", last)
		}
	})
}

// countServing counts key in every page of providers(vertical: GROCERY,
// city: Ningbo), two per page, so the cursor is followed too.
func countServing(t *testing.T, o *onboarding, key string) int {
	t.Helper()
	n, after := 0, ""
	for range 50 {
		var a struct {
			Providers struct {
				Edges []struct {
					Cursor string
					Node   struct{ Key string }
				}
				PageInfo struct{ HasNextPage bool }
			}
		}
		vars := map[string]any{"after": after}
		o.MustPost(apitest.Request{Query: `query($after: String) { providers(vertical: GROCERY, city: "Ningbo", first: 2, after: $after) {
			edges { cursor node { key } } pageInfo { hasNextPage } } }`, Variables: vars}).Decode(t, &a)
		for _, e := range a.Providers.Edges {
			if e.Node.Key == key {
				n++
			}
			after = e.Cursor
		}
		if !a.Providers.PageInfo.HasNextPage {
			return n
		}
	}
	t.Fatal("providers did not end within 50 pages")
	return 0
}

// TestRegisterProviderRefusesBadInput shows the response a client gets for
// each bad registration, and that nothing changed.
func TestRegisterProviderRefusesBadInput(t *testing.T) {
	o := startOnboarding(t, nil, certify.Config{})
	ops := o.operator(t, "ops-1")
	ctx := context.Background()
	if _, err := o.store.Register(ctx, directory.Registration{ID: "taken", Vertical: connectors.VerticalGrocery, Name: "Taken",
		Cities: []string{"Hangzhou"}, Endpoint: "https://taken.example", ContactEmail: "a@taken.example", Secret: onboardSecret}, "ops-1"); err != nil {
		t.Fatal(err)
	}
	spent, err := o.store.CreateOnboardingCode(ctx, "ops-1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.store.RegisterWithCode(ctx, spent, directory.Registration{ID: "first-user", Vertical: connectors.VerticalLegal, Name: "First",
		Cities: []string{"Hangzhou"}, Endpoint: "https://first.example", ContactEmail: "a@first.example", Secret: onboardSecret}); err != nil {
		t.Fatal(err)
	}
	expired, err := o.store.CreateOnboardingCode(ctx, "ops-1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	o.clock.Advance(2 * time.Hour)
	cities65 := make([]string, 65)
	for i := range cities65 {
		cities65[i] = "City " + string(rune('A'+i%26)) + string(rune('a'+i/26))
	}
	user := http.Header{"Authorization": {"Bearer " + o.Token("dev-7")}}
	for _, tc := range []struct {
		name     string
		change   func(in map[string]any)
		header   http.Header
		code     string
		field    string
		message  string
		rawVerts bool
	}{
		{"a duplicate id", func(in map[string]any) { in["id"] = "taken" }, ops, "BAD_USER_INPUT", "input.id", `provider "taken" is already registered`, false},
		{"an id with capitals", func(in map[string]any) { in["id"] = "NewMart" }, ops, "BAD_USER_INPUT", "input.id", "use 1 to 64 characters of a-z, 0-9 and -", false},
		{"an endpoint that is no URL", func(in map[string]any) { in["endpoint"] = "newmart" }, ops, "BAD_USER_INPUT", "input.endpoint", "want an absolute URL such as https://provider.example/plaza", false},
		{"an ftp endpoint", func(in map[string]any) { in["endpoint"] = "ftp://newmart.example" }, ops, "BAD_USER_INPUT", "input.endpoint", `unsupported scheme "ftp"; use https`, false},
		{"http off loopback", func(in map[string]any) { in["endpoint"] = "http://newmart.example" }, ops, "BAD_USER_INPUT", "input.endpoint", "http is allowed on loopback hosts only; use https", false},
		{"a sandbox with credentials", func(in map[string]any) { in["sandboxEndpoint"] = "https://u:p@sandbox.example" }, ops, "BAD_USER_INPUT", "input.sandboxEndpoint", "the URL must not carry credentials", false},
		{"no cities", func(in map[string]any) { in["cities"] = []string{} }, ops, "BAD_USER_INPUT", "input.cities", "name at least one city", false},
		{"65 cities", func(in map[string]any) { in["cities"] = cities65 }, ops, "BAD_USER_INPUT", "input.cities", "at most 64 cities (got 65)", false},
		{"a secret too short", func(in map[string]any) { in["signingSecret"] = "short-secret" }, ops, "BAD_USER_INPUT", "input.signingSecret", "secret is shorter than 24 characters", false},
		{"a name too long", func(in map[string]any) { in["name"] = strings.Repeat("N", 81) }, ops, "BAD_USER_INPUT", "input.name", "name is longer than 80 characters", false},
		{"a bad contact email", func(in map[string]any) { in["contactEmail"] = "New Mart <ops@newmart.example>" }, ops, "BAD_USER_INPUT", "input.contactEmail", "want a plain address such as ops@example.com", false},
		{"a used onboarding code", func(in map[string]any) { in["onboardingCode"] = spent }, user, "BAD_USER_INPUT", "input.onboardingCode", "the onboarding code is unknown, already used or expired", false},
		{"an expired onboarding code", func(in map[string]any) { in["onboardingCode"] = expired }, user, "BAD_USER_INPUT", "input.onboardingCode", "the onboarding code is unknown, already used or expired", false},
		{"an unknown onboarding code", func(in map[string]any) { in["onboardingCode"] = "pob_madeup" }, user, "BAD_USER_INPUT", "input.onboardingCode", "the onboarding code is unknown, already used or expired", false},
		{"a user without a code", func(in map[string]any) {}, user, "FORBIDDEN", "input.onboardingCode", "registering a provider needs an onboarding code from an operator", false},
		{"nobody signed in", func(in map[string]any) {}, nil, "UNAUTHENTICATED", "", "sign in required", false},
		{"an unknown vertical", func(in map[string]any) { in["vertical"] = "BAKERY" }, ops, "BAD_USER_INPUT", "input.vertical", `unknown vertical "BAKERY" (want GROCERY, MEDICAL, LEGAL, PUBLIC_SERVICE)`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := o.store.State().Version
			in := registration("newmart", "https://newmart.example/plaza", "")
			tc.change(in)
			resp := o.Post(apitest.Request{Query: registerMutation, Variables: map[string]any{"in": in}, Header: tc.header})
			body, _ := json.Marshal(resp.Errors)
			t.Logf("client sees: %s", body)
			if len(resp.Errors) != 1 {
				t.Fatalf("errors %s, want one", body)
			}
			e := resp.Errors[0]
			if e.Code() != tc.code || !strings.Contains(e.Message, tc.message) {
				t.Fatalf("error %s, want code %s with %q", body, tc.code, tc.message)
			}
			if got, _ := e.Extensions["field"].(string); got != tc.field {
				t.Fatalf("extensions.field = %q, want %q", got, tc.field)
			}
			if after := o.store.State().Version; after != before {
				t.Fatalf("the directory changed (version %d -> %d)", before, after)
			}
			if _, err := o.store.Get(ctx, "newmart"); directory.CodeOf(err) != directory.NotFound {
				t.Fatalf("newmart exists after a refused registration: %v", err)
			}
		})
	}
}

// TestUnknownVerticalIsBadInput: a vertical the schema does not know, typed
// into a registration or a `providers` filter, is BAD_USER_INPUT naming the
// field, in a literal and in a variable alike, and nothing changes. Other
// validation errors keep their code.
func TestUnknownVerticalIsBadInput(t *testing.T) {
	o := startOnboarding(t, nil, certify.Config{})
	ops := o.operator(t, "ops-1")
	literalIn := `{id: "newmart", vertical: BAKERY, name: "New Mart", cities: ["Hangzhou"], endpoint: "https://newmart.example",
		contactEmail: "ops@newmart.example", signingSecret: "` + onboardSecret + `"}`
	in := registration("newmart", "https://newmart.example/plaza", "")
	in["vertical"] = "BAKERY"
	for _, tc := range []struct {
		name    string
		req     apitest.Request
		code    string
		field   string
		message string
	}{
		{"registration, vertical as a literal",
			apitest.Request{Query: `mutation { registerProvider(input: ` + literalIn + `) { provider { key } } }`, Header: ops},
			"BAD_USER_INPUT", "input.vertical", `unknown vertical "BAKERY"`},
		{"registration, the input as a variable",
			apitest.Request{Query: registerMutation, Variables: map[string]any{"in": in}, Header: ops},
			"BAD_USER_INPUT", "input.vertical", `unknown vertical "BAKERY"`},
		{"registration, the vertical alone as a variable",
			apitest.Request{Query: `mutation($v: Vertical!) { registerProvider(input: {id: "newmart", vertical: $v, name: "New Mart",
				cities: ["Hangzhou"], endpoint: "https://newmart.example", contactEmail: "ops@newmart.example",
				signingSecret: "` + onboardSecret + `"}) { provider { key } } }`, Variables: map[string]any{"v": "BAKERY"}, Header: ops},
			"BAD_USER_INPUT", "input.vertical", `unknown vertical "BAKERY"`},
		{"providers, vertical as a literal",
			apitest.Request{Query: `{ providers(vertical: BAKERY, first: 5) { totalCount } }`},
			"BAD_USER_INPUT", "vertical", `unknown vertical "BAKERY" (want GROCERY, MEDICAL, LEGAL, PUBLIC_SERVICE)`},
		{"providers, vertical as a variable",
			apitest.Request{Query: `query($v: Vertical) { providers(vertical: $v, first: 5) { totalCount } }`, Variables: map[string]any{"v": "bakery"}},
			"BAD_USER_INPUT", "vertical", `unknown vertical "bakery"`},
		{"another enum keeps the validator's code",
			apitest.Request{Query: `{ analytics { searchVolume(from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z", bucket: FORTNIGHT) { count } } }`},
			"GRAPHQL_VALIDATION_FAILED", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := o.store.State().Version
			resp := o.Post(tc.req)
			body, _ := json.Marshal(resp.Errors)
			t.Logf("client sees: %s", body)
			if len(resp.Errors) != 1 {
				t.Fatalf("errors %s, want one", body)
			}
			e := resp.Errors[0]
			if e.Code() != tc.code || !strings.Contains(e.Message, tc.message) {
				t.Fatalf("error %s, want code %s with %q", body, tc.code, tc.message)
			}
			if got, _ := e.Extensions["field"].(string); got != tc.field {
				t.Fatalf("extensions.field = %q, want %q", got, tc.field)
			}
			if after := o.store.State().Version; after != before {
				t.Fatalf("the directory changed (version %d -> %d)", before, after)
			}
		})
	}
}

func TestOnboardingCodesAndWhoMayReadCertification(t *testing.T) {
	o := startOnboarding(t, nil, certify.Config{})
	ops := o.operator(t, "ops-1")
	dev := http.Header{"Authorization": {"Bearer " + o.Token("dev-1")}}
	other := http.Header{"Authorization": {"Bearer " + o.Token("dev-2")}}

	t.Run("only an operator mints a code", func(t *testing.T) {
		resp := o.Post(apitest.Request{Query: `mutation { createOnboardingCode { code } }`, Header: dev})
		if len(resp.Errors) != 1 || resp.Errors[0].Code() != "FORBIDDEN" {
			t.Fatalf("a plain user minting a code: %s, want FORBIDDEN", resp.Raw)
		}
		resp = o.Post(apitest.Request{Query: `mutation { createOnboardingCode(ttlHours: 0) { code } }`, Header: ops})
		if len(resp.Errors) != 1 || resp.Errors[0].Code() != "BAD_USER_INPUT" || resp.Errors[0].Extensions["field"] != "ttlHours" {
			t.Fatalf("a code valid for 0 hours: %s, want BAD_USER_INPUT on ttlHours", resp.Raw)
		}
	})

	var code struct {
		CreateOnboardingCode struct{ Code, ExpiresAt string }
	}
	o.MustPost(apitest.Request{Query: `mutation { createOnboardingCode(ttlHours: 24) { code expiresAt } }`, Header: ops}).Decode(t, &code)
	good, sandbox := groceryOverHTTP(t, nil), groceryOverHTTP(t, nil)
	in := registration("selfmart", good.URL(), sandbox.URL())
	in["onboardingCode"] = code.CreateOnboardingCode.Code

	t.Run("a developer registers exactly one provider with it", func(t *testing.T) {
		o.MustPost(apitest.Request{Query: registerMutation, Variables: map[string]any{"in": in}, Header: dev})
		second := registration("selfmart-two", good.URL(), "")
		second["onboardingCode"] = code.CreateOnboardingCode.Code
		resp := o.Post(apitest.Request{Query: registerMutation, Variables: map[string]any{"in": second}, Header: dev})
		if len(resp.Errors) != 1 || resp.Errors[0].Extensions["field"] != "input.onboardingCode" {
			t.Fatalf("a second registration with the same code: %s", resp.Raw)
		}
	})

	t.Run("the developer follows the certification; another user cannot", func(t *testing.T) {
		a := o.awaitCertification(t, "selfmart", dev)
		if a.RegisteredProvider.Lifecycle != "ACTIVE" {
			t.Fatalf("the developer's provider after certification: %+v, want ACTIVE", a.RegisteredProvider)
		}
		resp := o.Post(apitest.Request{Query: readProvider, Variables: map[string]any{"key": "selfmart"}, Header: other})
		if len(resp.Errors) != 1 || resp.Errors[0].Code() != "NOT_FOUND" {
			t.Fatalf("another user reading the provider: %s, want NOT_FOUND", resp.Raw)
		}
		resp = o.Post(apitest.Request{Query: `{ providers(vertical: GROCERY, city: "Ningbo") { edges { node { key lifecycle certifications { outcome } } } } }`, Header: other})
		if len(resp.Errors) == 0 || resp.Errors[0].Code() != "FORBIDDEN" || !strings.Contains(string(resp.Raw), `"lifecycle":"ACTIVE"`) {
			t.Fatalf("another user reading certifications through providers: %s, want the provider ACTIVE and FORBIDDEN on certifications", resp.Raw)
		}
	})

	t.Run("the developer cannot suspend it; an operator can", func(t *testing.T) {
		resp := o.Post(apitest.Request{Query: `mutation { suspendProvider(key: "selfmart", reason: "x") { lifecycle } }`, Header: dev})
		if len(resp.Errors) != 1 || resp.Errors[0].Code() != "FORBIDDEN" {
			t.Fatalf("a developer suspending: %s, want FORBIDDEN", resp.Raw)
		}
	})
}

func TestOperatorsChangeProviders(t *testing.T) {
	o := startOnboarding(t, nil, certify.Config{})
	ops := o.operator(t, "ops-1")
	ctx := context.Background()
	if _, err := o.store.Register(ctx, directory.Registration{ID: "opsmart", Vertical: connectors.VerticalGrocery, Name: "Ops Mart",
		Cities: []string{"Hangzhou"}, Endpoint: "https://opsmart.example", ContactEmail: "a@opsmart.example", Secret: onboardSecret}, "ops-1"); err != nil {
		t.Fatal(err)
	}
	for _, to := range []directory.Lifecycle{directory.Certified, directory.Active} {
		if _, err := o.store.Transition(ctx, "opsmart", to, "ops-1", "set up"); err != nil {
			t.Fatal(err)
		}
	}
	type step struct {
		name, query   string
		code, field   string
		wantLifecycle string
	}
	for _, s := range []step{
		{"approving an ACTIVE provider is a conflict", `mutation { approveProvider(key: "opsmart") { lifecycle } }`, "CONFLICT", "lifecycle", ""},
		{"suspend", `mutation { suspendProvider(key: "opsmart", reason: "complaints") { lifecycle } }`, "", "", "SUSPENDED"},
		{"resume", `mutation { resumeProvider(key: "opsmart", reason: "fixed") { lifecycle } }`, "", "", "ACTIVE"},
		{"change cities", `mutation { updateProviderCities(key: "opsmart", cities: ["Suzhou", "Wuxi"], reason: "moved south") { lifecycle cities } }`, "", "", "ACTIVE"},
		{"no cities is refused", `mutation { updateProviderCities(key: "opsmart", cities: []) { lifecycle } }`, "BAD_USER_INPUT", "cities", ""},
		{"change limits", `mutation { updateProviderLimits(key: "opsmart", limits: {timeoutMs: 800, maxBatch: 25}, reason: "slow batches") { lifecycle } }`, "", "", "ACTIVE"},
		{"a negative batch is refused", `mutation { updateProviderLimits(key: "opsmart", limits: {maxBatch: -1}) { lifecycle } }`, "BAD_USER_INPUT", "limits.maxBatch", ""},
		{"rotate the secret", `mutation { rotateProviderSecret(key: "opsmart", secret: "the-next-signing-secret-0123456789", overlapHours: 2, reason: "leaked in a log") { lifecycle } }`, "", "", "ACTIVE"},
		{"a short secret is refused", `mutation { rotateProviderSecret(key: "opsmart", secret: "short") { lifecycle } }`, "BAD_USER_INPUT", "secret", ""},
		{"an unknown provider", `mutation { suspendProvider(key: "ghost", reason: "x") { lifecycle } }`, "NOT_FOUND", "key", ""},
		{"retire", `mutation { retireProvider(key: "opsmart", reason: "left the platform") { lifecycle } }`, "", "", "RETIRED"},
		{"a retired provider does not resume", `mutation { resumeProvider(key: "opsmart", reason: "oops") { lifecycle } }`, "CONFLICT", "lifecycle", ""},
	} {
		t.Run(s.name, func(t *testing.T) {
			resp := o.Post(apitest.Request{Query: s.query, Header: ops})
			if s.code != "" {
				if len(resp.Errors) != 1 || resp.Errors[0].Code() != s.code || resp.Errors[0].Extensions["field"] != s.field {
					t.Fatalf("%s, want %s on %s", resp.Raw, s.code, s.field)
				}
				return
			}
			if len(resp.Errors) != 0 || !strings.Contains(string(resp.Raw), `"lifecycle":"`+s.wantLifecycle+`"`) {
				t.Fatalf("%s, want lifecycle %s", resp.Raw, s.wantLifecycle)
			}
		})
	}
	p, err := o.store.Get(ctx, "opsmart")
	if err != nil || strings.Join(p.Cities, ",") != "Suzhou,Wuxi" || p.Limits.Timeout != 800*time.Millisecond || p.Limits.MaxBatch != 25 {
		t.Fatalf("stored %+v (%v), want the new cities and limits", p, err)
	}
	if secrets, _ := o.store.Secrets(ctx, "opsmart"); len(secrets) != 2 || secrets[0] != "the-next-signing-secret-0123456789" || secrets[1] != onboardSecret {
		t.Fatalf("after a rotation with overlap the secrets that verify are %d, want the new one then the old one", len(secrets))
	}
	var h struct {
		RegisteredProvider struct {
			History []struct{ From, To, Actor, Reason string }
		}
	}
	o.MustPost(apitest.Request{Query: `{ registeredProvider(key: "opsmart") { history { from to actor reason } } }`, Header: ops}).Decode(t, &h)
	var got []string
	for _, c := range h.RegisteredProvider.History {
		got = append(got, c.From+">"+c.To+" "+c.Actor+": "+c.Reason)
	}
	want := "PENDING>CERTIFIED ops-1: set up|CERTIFIED>ACTIVE ops-1: set up|ACTIVE>SUSPENDED ops-1: complaints|" +
		"SUSPENDED>ACTIVE ops-1: fixed|ACTIVE>RETIRED ops-1: left the platform"
	if strings.Join(got, "|") != want {
		t.Fatalf("history\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}

	var c struct {
		RegisteredProvider struct {
			Changes []struct{ What, From, To, Actor, Reason, At string }
		}
	}
	resp := o.MustPost(apitest.Request{Query: `{ registeredProvider(key: "opsmart") { changes { what from to actor reason at } } }`, Header: ops})
	resp.Decode(t, &c)
	got = got[:0]
	for _, ch := range c.RegisteredProvider.Changes {
		if ch.At == "" {
			t.Fatalf("a change without a time: %+v", ch)
		}
		from, to := ch.From, ch.To
		if ch.What == "SECRET" {
			if !strings.HasPrefix(from, "fp:") || !strings.HasPrefix(to, "fp:") || from == to {
				t.Fatalf("secret change %+v, want two fingerprints", ch)
			}
			from, to = "fp", "fp"
		}
		got = append(got, ch.What+" "+from+">"+to+" "+ch.Actor+": "+ch.Reason)
	}
	want = "LIFECYCLE PENDING>CERTIFIED ops-1: set up|LIFECYCLE CERTIFIED>ACTIVE ops-1: set up|" +
		"LIFECYCLE ACTIVE>SUSPENDED ops-1: complaints|LIFECYCLE SUSPENDED>ACTIVE ops-1: fixed|" +
		"CITIES Hangzhou>Suzhou, Wuxi ops-1: moved south|" +
		"LIMITS timeoutMs=0 maxConcurrent=0 maxBatch=0 maxItems=0 pushesPerMinute=0>timeoutMs=800 maxConcurrent=0 maxBatch=25 maxItems=0 pushesPerMinute=0 ops-1: slow batches|" +
		"SECRET fp>fp ops-1: leaked in a log|LIFECYCLE ACTIVE>RETIRED ops-1: left the platform"
	if strings.Join(got, "|") != want {
		t.Fatalf("changes\n%s\nwant\n%s", strings.Join(got, "\n"), strings.ReplaceAll(want, "|", "\n"))
	}
	for _, s := range []string{onboardSecret, "the-next-signing-secret-0123456789"} {
		if strings.Contains(string(resp.Raw), s) {
			t.Fatal("a signing secret is in the answer")
		}
	}
}

// TestCertificationWithPostgres runs certification over the PostgreSQL
// directory: a run left RUNNING by an instance that stopped mid-run is
// picked up by the next one, and the provider ends ACTIVE in `providers`.
func TestCertificationWithPostgres(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.DatabaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := directory.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	pg, err := directory.OpenPostgres(ctx, pool, mustTestSealer(t), directory.Policy{Development: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Close)

	good, sandbox := groceryOverHTTP(t, nil), groceryOverHTTP(t, nil)
	// The previous instance registered the provider and stored its run, then
	// died before running it.
	if _, err := pg.Register(ctx, directory.Registration{ID: "pgmart", Vertical: connectors.VerticalGrocery, Name: "PG Mart",
		Cities: []string{"Ningbo"}, Endpoint: good.URL(), SandboxEndpoint: sandbox.URL(), ContactEmail: "a@pgmart.example",
		Secret: onboardSecret}, "ops-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.SaveCertification(ctx, directory.CertificationRun{ProviderID: "pgmart", Outcome: directory.RunRunning,
		Sandbox: true, StartedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}

	o := startOnboarding(t, pg, certify.Config{})
	ops := o.operator(t, "ops-1")
	a := o.awaitCertification(t, "pgmart", ops)
	if got := a.RegisteredProvider; got.Lifecycle != "ACTIVE" || len(got.Certifications) != 1 || got.Certifications[0].Outcome != "PASSED" {
		t.Fatalf("after the restart: %+v, want the one run PASSED and the provider ACTIVE", got)
	}
	if n := countServing(t, o, "pgmart"); n != 1 {
		t.Fatalf("pgmart appears %d times in providers, want once", n)
	}

	t.Run("a registration through the API is certified too", func(t *testing.T) {
		bad := groceryOverHTTP(t, faulty.Reorder)
		o.MustPost(apitest.Request{Query: registerMutation, Variables: map[string]any{"in": registration("pgbad", bad.URL(), sandbox.URL())}, Header: ops})
		a := o.awaitCertification(t, "pgbad", ops)
		if got := a.RegisteredProvider; got.Lifecycle != "PENDING" || checkOutcomes(a)["batch-order"] != "FAILED" {
			t.Fatalf("%+v, want PENDING with batch-order FAILED", got)
		}
	})
}

// TestReadmeOnboardingExamples runs the README's "Onboarding a provider"
// examples in order, as the operator its token command makes, against
// demo providers on loopback standing in for 127.0.0.1:9101 and :9102.
func TestReadmeOnboardingExamples(t *testing.T) {
	examples := readmeExamples(t, "../README.md")
	o := startOnboarding(t, nil, certify.Config{})
	endpoint, sandbox := groceryOverHTTP(t, nil), groceryOverHTTP(t, nil)
	prior := readmeAnswers{}
	ran := 0
	for _, ex := range examples {
		want := readmeExpectations[ex.name]
		if !want.operator {
			continue
		}
		ran++
		t.Run(fmt.Sprintf("%s (README.md:%d) returns what the README says", ex.name, ex.line), func(t *testing.T) {
			prose := strings.Join(strings.Fields(ex.prose), " ")
			for _, c := range want.claims {
				if !strings.Contains(prose, c) {
					t.Fatalf("the README no longer says %q around %s; update the claim and its check together", c, ex.name)
				}
			}
			query := strings.NewReplacer("http://127.0.0.1:9101", endpoint.URL(), "http://127.0.0.1:9102", sandbox.URL(),
				"a-signing-secret-of-24-chars-or-more", onboardSecret).Replace(ex.query)
			resp := o.Post(apitest.Request{Query: query, Header: o.operator(t, "ops-1")})
			if resp.Status != 200 || len(resp.Errors) > 0 {
				t.Fatalf("status %d: %s", resp.Status, resp.Raw)
			}
			want.check(t, o.Gateway, ex, resp, prior)
			prior[ex.name] = resp.Data
		})
	}
	if ran != 5 {
		t.Fatalf("ran %d operator examples, want the README's 5", ran)
	}
}

func checkRegisterNewMart(t *testing.T, _ *apitest.Gateway, _ readmeExample, resp *apitest.Response, _ readmeAnswers) {
	d := decodeData[struct {
		RegisterProvider struct {
			Provider      struct{ Key, Lifecycle string }
			Certification struct{ Outcome string }
		}
	}](t, resp.Data)
	if r := d.RegisterProvider; r.Provider.Key != "newmart" || r.Provider.Lifecycle != "PENDING" || r.Certification.Outcome != "RUNNING" {
		t.Fatalf("%+v, want newmart PENDING with a RUNNING run", r)
	}
}

func checkFollowCertification(t *testing.T, g *apitest.Gateway, ex readmeExample, resp *apitest.Response, _ readmeAnswers) {
	o := &onboarding{Gateway: g}
	tok, err := g.Verifier.Issue("ops-1", time.Hour, auth.RoleOperator)
	if err != nil {
		t.Fatal(err)
	}
	a := o.awaitCertification(t, "newmart", http.Header{"Authorization": {"Bearer " + tok}})
	if got := a.RegisteredProvider; got.Lifecycle != "ACTIVE" || got.Certifications[0].Outcome != "PASSED" {
		t.Fatalf("%+v, want ACTIVE after a PASSED run", got)
	}
	if n := countServing(t, o, "newmart"); n != 1 {
		t.Fatalf("newmart appears %d times in providers, want once", n)
	}
}

func checkNewMartChanges(t *testing.T, _ *apitest.Gateway, _ readmeExample, resp *apitest.Response, _ readmeAnswers) {
	d := decodeData[struct {
		RegisteredProvider struct {
			Changes []struct{ What, From, To, Actor string }
		}
	}](t, resp.Data)
	var got []string
	for _, c := range d.RegisteredProvider.Changes {
		got = append(got, c.What+" "+c.From+">"+c.To+" "+c.Actor)
	}
	if want := "LIFECYCLE PENDING>CERTIFIED certification|LIFECYCLE CERTIFIED>ACTIVE certification"; strings.Join(got, "|") != want {
		t.Fatalf("changes %q, want %q", strings.Join(got, "|"), want)
	}
}

func checkMintCode(t *testing.T, _ *apitest.Gateway, _ readmeExample, resp *apitest.Response, _ readmeAnswers) {
	d := decodeData[struct {
		CreateOnboardingCode struct{ Code, ExpiresAt string }
	}](t, resp.Data)
	if !strings.HasPrefix(d.CreateOnboardingCode.Code, "pob_") || d.CreateOnboardingCode.ExpiresAt == "" {
		t.Fatalf("%+v", d)
	}
}

func checkSuspendNewMart(t *testing.T, g *apitest.Gateway, _ readmeExample, resp *apitest.Response, _ readmeAnswers) {
	d := decodeData[struct {
		SuspendProvider struct{ Key, Lifecycle string }
	}](t, resp.Data)
	if d.SuspendProvider.Lifecycle != "SUSPENDED" {
		t.Fatalf("%+v, want SUSPENDED", d)
	}
	if n := countServing(t, &onboarding{Gateway: g}, "newmart"); n != 0 {
		t.Fatalf("a suspended provider appears %d times in providers", n)
	}
}
