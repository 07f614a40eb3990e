package api_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/growth"
	"github.com/plaza-gateway/plaza/ledger"
	"github.com/plaza-gateway/plaza/live"
	"github.com/plaza-gateway/plaza/resolvers"
	"github.com/plaza-gateway/plaza/traffic"
)

type growthClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *growthClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// growthGateway is a gateway serving merchant growth for two providers,
// freshcart and greenbasket, registered 200 days ago, each with 90 days of
// completed orders (different volumes, so their figures differ).
type growthGateway struct {
	*apitest.Gateway
	svc     *growth.Service
	secrets map[string]string
}

// growthOption adds an API option built over the gateway's growth service.
type growthOption func(svc *growth.Service) api.Option

func startGrowth(t *testing.T, opts ...growthOption) *growthGateway {
	t.Helper()
	clock := &growthClock{now: time.Now().UTC().AddDate(0, 0, -200)}
	var key [32]byte
	_, _ = rand.Read(key[:])
	sealer, _ := directory.NewSealer(key[:])
	dir := directory.NewMemory(sealer, directory.Policy{Development: true}, directory.WithClock(clock.Now))
	if err := dir.Seed([]directory.Provider{
		{ID: "freshcart", Vertical: connectors.VerticalGrocery, Name: "FreshCart", Cities: []string{"Hangzhou"}},
		{ID: "greenbasket", Vertical: connectors.VerticalGrocery, Name: "Green Basket", Cities: []string{"Ningbo"}},
	}); err != nil {
		t.Fatal(err)
	}
	clock.mu.Lock()
	clock.now = clock.now.AddDate(0, 0, 200)
	clock.mu.Unlock()
	store := growth.NewMemory()
	keys := auth.NewProviderKeys(store, time.Minute, nil)
	svc := growth.New(store, ledger.New(ledger.NewMemory(), clock.Now), dir, growth.DefaultPrograms,
		growth.WithClock(clock.Now), growth.WithRevokeHook(keys.Forget))
	secrets := map[string]string{"freshcart": "fresh-secret-0123456789abcdef", "greenbasket": "green-secret-0123456789abcdef"}
	apiOpts := []api.Option{
		api.WithProviderKeys(keys), api.WithOrderRecords(svc), api.WithResolverOptions(resolvers.WithGrowth(svc), resolvers.WithTraffic(traffic.NewMemoryStore(nil))),
		api.WithProviderSecrets(func(p string) (string, bool) { s, ok := secrets[p]; return s, ok }),
	}
	for _, o := range opts {
		apiOpts = append(apiOpts, o(svc))
	}
	g := apitest.Start(t, apitest.Options{APIOptions: apiOpts})
	for provider, perDay := range map[string]int{"freshcart": 2, "greenbasket": 1} {
		for d := 1; d <= 90; d++ {
			for i := range perDay {
				o := growth.Order{Provider: provider, ID: fmt.Sprintf("h%d-%d", d, i), User: fmt.Sprintf("u%d", i), Currency: "CNY",
					Amount: 50_000, Status: growth.OrderCompleted, At: clock.Now().AddDate(0, 0, -d)}
				if err := svc.RecordOrder(context.Background(), o); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return &growthGateway{Gateway: g, svc: svc, secrets: secrets}
}

// providerToken is a development provider token (plaza token --provider).
func (g *growthGateway) providerToken(t *testing.T, provider string) http.Header {
	t.Helper()
	tok, err := g.Verifier.IssueProvider("dev-"+provider, provider, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{"Authorization": {"Bearer " + tok}}
}

func (g *growthGateway) operatorToken(t *testing.T, user string) http.Header {
	t.Helper()
	tok, err := g.Verifier.Issue(user, time.Hour, auth.RoleOperator)
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{"Authorization": {"Bearer " + tok}}
}

func (g *growthGateway) as(h http.Header, query string, vars map[string]any) *apitest.Response {
	return g.Post(apitest.Request{Query: query, Variables: vars, Header: h})
}

func growthData(t *testing.T, r *apitest.Response) map[string]any {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("errors: %+v", r.Errors)
	}
	var out map[string]any
	if err := json.Unmarshal(r.Data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func wantError(t *testing.T, r *apitest.Response, code, field string) {
	t.Helper()
	if len(r.Errors) != 1 || r.Errors[0].Code() != code {
		t.Fatalf("errors %+v, want one %s", r.Errors, code)
	}
	if got, _ := r.Errors[0].Extensions["field"].(string); got != field {
		t.Fatalf("field %q, want %q (%s)", got, field, r.Errors[0].Message)
	}
}

const applyLoan = `mutation($in: ApplyForLoanInput!) { applyForLoan(input: $in) { id status principal { amount currency } fee { amount } totalCost { amount } minimumDaily { amount } outstanding { amount } arrears { amount } repaymentSharePercent termDays consent } }`

func loanInput(amount int, currency string, term int, key string, consent bool) map[string]any {
	return map[string]any{"in": map[string]any{"amount": map[string]any{"amount": amount, "currency": currency}, "termDays": term,
		"idempotencyKey": key, "consent": consent}}
}

// TestViewerProviderSeesOnlyItsOwn proves, field by field, that a provider
// signed in sees its own data and that every attempt at another provider's
// is NOT_FOUND: the provider comes from the credential.
func TestViewerProviderSeesOnlyItsOwn(t *testing.T) {
	g := startGrowth(t)
	fresh, green := g.providerToken(t, "freshcart"), g.providerToken(t, "greenbasket")
	// Each provider gets a key and a loan, so there is something to leak.
	ids := map[string]map[string]string{}
	for name, h := range map[string]http.Header{"freshcart": fresh, "greenbasket": green} {
		k := growthData(t, g.as(h, `mutation { createProviderApiKey(label: "ci") { key apiKey { id } } }`, nil))
		l := growthData(t, g.as(h, applyLoan, loanInput(100_000, "CNY", 60, "first", true)))
		ids[name] = map[string]string{
			"key":  k["createProviderApiKey"].(map[string]any)["apiKey"].(map[string]any)["id"].(string),
			"loan": l["applyForLoan"].(map[string]any)["id"].(string),
		}
	}
	own, other := ids["freshcart"], ids["greenbasket"]
	for _, c := range []struct {
		field, query string
		want         []string // in freshcart's answer
	}{
		{"key, name, vertical, lifecycle", `{ viewerProvider { key name vertical lifecycle } }`, []string{`"freshcart"`, `"FreshCart"`, `"ACTIVE"`}},
		{"apiKeys", `{ viewerProvider { apiKeys { id label createdBy } } }`, []string{own["key"], `"dev-freshcart"`}},
		{"rewards", `{ viewerProvider { rewards { payable { amount } receivable { amount } loanOutstanding { amount } programs { perOrder { amount } } } } }`,
			[]string{`"payable":{"amount":19000}`}},
		{"rewards.history", `{ viewerProvider { rewards { history(first: 100) { key kind memo postings { account amount { amount } } } } } }`,
			[]string{"order:freshcart:h90-0:completed", "provider:freshcart:loan"}},
		{"serviceLevel", `{ viewerProvider { serviceLevel { state since transitions { to } } } }`, []string{`"state":"OK"`}},
		{"loanOffer", `{ viewerProvider { loanOffer { id expiresAt maxAmount { amount } gmv90 { amount } factors { name value explanation } terms } } }`,
			[]string{`"gmv90":{"amount":9000000}`}},
		{"loans", `{ viewerProvider { loans { id principal { amount } } } }`, []string{own["loan"]}},
		{"loan", `{ viewerProvider { loan(id: "` + own["loan"] + `") { id status } } }`, []string{own["loan"], `"OPEN"`}},
	} {
		t.Run(c.field+" shows its own and nothing of another provider", func(t *testing.T) {
			r := g.as(fresh, c.query, nil)
			body := string(r.Data)
			if len(r.Errors) > 0 {
				t.Fatalf("errors %+v", r.Errors)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s missing from %s", w, body)
				}
			}
			for _, leak := range []string{"greenbasket", "Green Basket", other["key"], other["loan"], `"gmv90":{"amount":4500000}`} {
				if strings.Contains(body, leak) {
					t.Errorf("another provider's %q in %s", leak, body)
				}
			}
		})
	}
	t.Run("payouts shows its own and nothing of another provider", func(t *testing.T) {
		if _, err := g.svc.Payouts(context.Background(), time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		for name, h := range map[string]http.Header{"freshcart": fresh, "greenbasket": green} {
			r := g.as(h, `{ viewerProvider { payouts(first: 10) { id day amount { amount } repaid { amount } status } } }`, nil)
			body := string(r.Data)
			if len(r.Errors) > 0 || !strings.Contains(body, `"status":"PAID"`) || !strings.Contains(body, "_"+name+`"`) || strings.Count(body, `"id"`) != 1 {
				t.Fatalf("%s's payouts: %s %+v", name, body, r.Errors)
			}
		}
	})
	for _, c := range []struct {
		name, query string
	}{
		{"loan(id:) of another provider", `{ viewerProvider { loan(id: "` + other["loan"] + `") { id } } }`},
		{"repayLoan of another provider's loan", `mutation { repayLoan(id: "` + other["loan"] + `", amount: 100, idempotencyKey: "x") { id } }`},
		{"revokeProviderApiKey of another provider's key", `mutation { revokeProviderApiKey(id: "` + other["key"] + `") { id } }`},
		{"rotateProviderApiKey of another provider's key", `mutation { rotateProviderApiKey(id: "` + other["key"] + `") { key } }`},
	} {
		t.Run(c.name+" is NOT_FOUND and changes nothing", func(t *testing.T) {
			r := g.as(fresh, c.query, nil)
			if len(r.Errors) != 1 || r.Errors[0].Code() != "NOT_FOUND" {
				t.Fatalf("errors %+v, want NOT_FOUND", r.Errors)
			}
			keys := growthData(t, g.as(green, `{ viewerProvider { apiKeys { id revokedAt } rewards { loanOutstanding { amount } } } }`, nil))
			if s := fmt.Sprint(keys); strings.Contains(s, "revokedAt:20") || !strings.Contains(s, other["key"]) {
				t.Fatalf("greenbasket's keys changed: %s", s)
			}
		})
	}
}

func TestProviderAuthentication(t *testing.T) {
	g := startGrowth(t)
	created := growthData(t, g.as(g.operatorToken(t, "ops-1"), `mutation { issueProviderApiKey(provider: "freshcart", label: "portal") { key apiKey { id createdBy } } }`, nil))
	c := created["issueProviderApiKey"].(map[string]any)
	key, id := c["key"].(string), c["apiKey"].(map[string]any)["id"].(string)
	bearer := http.Header{"Authorization": {"Bearer " + key}}
	const q = `{ viewerProvider { key } }`
	for _, tc := range []struct {
		name string
		h    http.Header
		code string
	}{
		{"anonymous", nil, "UNAUTHENTICATED"},
		{"an app user", http.Header{"Authorization": {"Bearer " + g.Token("demo-1")}}, "FORBIDDEN"},
		{"an operator", g.operatorToken(t, "ops-1"), "FORBIDDEN"},
		{"an unknown provider key", http.Header{"Authorization": {"Bearer " + auth.ProviderKeyPrefix + "nope_nope"}}, "UNAUTHENTICATED"},
	} {
		t.Run(tc.name+" gets "+tc.code, func(t *testing.T) {
			r := g.as(tc.h, q, nil)
			if len(r.Errors) != 1 || r.Errors[0].Code() != tc.code || string(r.Data) != `{"viewerProvider":null}` {
				t.Fatalf("%s %+v", r.Data, r.Errors)
			}
		})
	}
	t.Run("the provider's API key signs it in; the key is no app user", func(t *testing.T) {
		if d := growthData(t, g.as(bearer, q, nil)); fmt.Sprint(d) != "map[viewerProvider:map[key:freshcart]]" {
			t.Fatalf("%v", d)
		}
		r := g.as(bearer, `{ me { id } }`, nil)
		if len(r.Errors) != 1 || r.Errors[0].Code() != "UNAUTHENTICATED" {
			t.Fatalf("a provider key acting as a user: %+v", r.Errors)
		}
	})
	t.Run("a revoked key stops working at once on this instance", func(t *testing.T) {
		r := growthData(t, g.as(g.operatorToken(t, "ops-2"), `mutation($p: String!, $id: ID!) { revokeProviderApiKeyFor(provider: $p, id: $id) { revokedAt } }`,
			map[string]any{"p": "freshcart", "id": id}))
		if r["revokeProviderApiKeyFor"].(map[string]any)["revokedAt"] == nil {
			t.Fatalf("%v", r)
		}
		if rr := g.as(bearer, q, nil); len(rr.Errors) != 1 || rr.Errors[0].Code() != "UNAUTHENTICATED" {
			t.Fatalf("revoked key: %+v", rr.Errors)
		}
	})
	t.Run("an operator cannot issue a key for a provider the directory does not know", func(t *testing.T) {
		wantError(t, g.as(g.operatorToken(t, "ops-1"), `mutation { issueProviderApiKey(provider: "ghost") { key } }`, nil), "NOT_FOUND", "")
	})
}

func TestApplyForLoanOverGraphQL(t *testing.T) {
	g := startGrowth(t)
	fresh := g.providerToken(t, "freshcart")
	offer := growthData(t, g.as(fresh, `{ viewerProvider { loanOffer { maxAmount { amount } } } }`, nil))
	most := int(offer["viewerProvider"].(map[string]any)["loanOffer"].(map[string]any)["maxAmount"].(map[string]any)["amount"].(float64))
	if most <= 0 {
		t.Fatalf("no offer: %v", offer)
	}
	nothingChanged := func(t *testing.T) {
		t.Helper()
		d := growthData(t, g.as(fresh, `{ viewerProvider { loans { id } rewards { loanOutstanding { amount } } } }`, nil))
		if s := fmt.Sprint(d); s != "map[viewerProvider:map[loans:[] rewards:map[loanOutstanding:map[amount:0]]]]" {
			t.Fatalf("changed: %s", s)
		}
	}
	for _, c := range []struct {
		name  string
		vars  map[string]any
		field string
	}{
		{"a negative amount", loanInput(-100, "CNY", 60, "k", true), "input.amount.amount"},
		{"a zero amount", loanInput(0, "CNY", 60, "k", true), "input.amount.amount"},
		{"an amount above the offer", loanInput(most+100, "CNY", 60, "k", true), "input.amount.amount"},
		{"an oversized amount", loanInput(1<<40, "CNY", 60, "k", true), "input.amount.amount"},
		{"a term too short", loanInput(1000_00, "CNY", 10, "k", true), "input.termDays"},
		{"a term too long", loanInput(1000_00, "CNY", 400, "k", true), "input.termDays"},
		{"a currency mismatch", loanInput(1000_00, "USD", 60, "k", true), "input.amount.currency"},
		{"no consent", loanInput(1000_00, "CNY", 60, "k", false), "input.consent"},
	} {
		t.Run(c.name+" is BAD_USER_INPUT naming the field and changes nothing", func(t *testing.T) {
			wantError(t, g.as(fresh, applyLoan, c.vars), "BAD_USER_INPUT", c.field)
			nothingChanged(t)
		})
	}
	var loanID string
	t.Run("an application within the offer is disbursed with its schedule", func(t *testing.T) {
		d := growthData(t, g.as(fresh, applyLoan, loanInput(100_000, "CNY", 60, "apply-1", true)))
		l := d["applyForLoan"].(map[string]any)
		loanID = l["id"].(string)
		if l["status"] != "OPEN" || l["fee"].(map[string]any)["amount"].(float64) != 3000 || l["repaymentSharePercent"].(float64) != 10 ||
			l["minimumDaily"].(map[string]any)["amount"].(float64) != 1717 || !strings.Contains(l["consent"].(string), "Fee 1.50%") ||
			l["outstanding"].(map[string]any)["amount"].(float64) != 103000 || l["arrears"].(map[string]any)["amount"].(float64) != 0 {
			t.Fatalf("%v", l)
		}
		again := growthData(t, g.as(fresh, applyLoan, loanInput(100_000, "CNY", 60, "apply-1", true)))
		if again["applyForLoan"].(map[string]any)["id"] != loanID {
			t.Fatalf("the same key gave another loan: %v", again)
		}
		out := growthData(t, g.as(fresh, `{ viewerProvider { rewards { loanOutstanding { amount } } } }`, nil))
		if fmt.Sprint(out) != "map[viewerProvider:map[rewards:map[loanOutstanding:map[amount:103000]]]]" {
			t.Fatalf("%v", out)
		}
	})
	t.Run("a second application with another key while one is open is CONFLICT", func(t *testing.T) {
		wantError(t, g.as(fresh, applyLoan, loanInput(100_000, "CNY", 60, "apply-2", true)), "CONFLICT", "input.idempotencyKey")
	})
	t.Run("another provider acting on the application gets NOT_FOUND", func(t *testing.T) {
		r := g.as(g.providerToken(t, "greenbasket"), `mutation($id: ID!) { repayLoan(id: $id, amount: 500, idempotencyKey: "r") { id } }`, map[string]any{"id": loanID})
		wantError(t, r, "NOT_FOUND", "id")
	})
	t.Run("early repayment settles it", func(t *testing.T) {
		d := growthData(t, g.as(fresh, `mutation($id: ID!) { repayLoan(id: $id, amount: 103000, idempotencyKey: "all") { status outstanding { amount } } }`, map[string]any{"id": loanID}))
		if fmt.Sprint(d) != "map[repayLoan:map[outstanding:map[amount:0] status:REPAID]]" {
			t.Fatalf("%v", d)
		}
	})
}

// orderChange is a status change of provider's grocery order local, with
// the money facts growth needs when amount is not nil.
func orderChange(provider, local, status string, amount map[string]any, user, city string) map[string]any {
	c := map[string]any{"id": gid.Encode(gid.GroceryOrder, provider, local), "status": status}
	if amount != nil {
		c["amount"] = amount
	}
	if user != "" {
		c["user"] = user
	}
	if city != "" {
		c["city"] = city
	}
	return c
}

func amountOf(amount int64, currency string) map[string]any {
	return map[string]any{"amount": amount, "currency": currency}
}

// with is c with key set to v (c is not changed).
func with(c map[string]any, key string, v any) map[string]any {
	out := maps.Clone(c)
	out[key] = v
	return out
}

// payableOf reads provider's payable rewards as its developer does.
func (g *growthGateway) payableOf(t *testing.T, provider string) float64 {
	t.Helper()
	d := growthData(t, g.as(g.providerToken(t, provider), `{ viewerProvider { rewards { payable { amount } } } }`, nil))
	return d["viewerProvider"].(map[string]any)["rewards"].(map[string]any)["payable"].(map[string]any)["amount"].(float64)
}

// TestOrderStatusWebhookFeedsRewards: the status webhook's changes that
// complete or cancel an order and carry its amount are order records.
func TestOrderStatusWebhookFeedsRewards(t *testing.T) {
	g := startGrowth(t)
	payable := func() float64 { return g.payableOf(t, "freshcart") }
	before := payable()
	completed := orderChange("freshcart", "w-1", "COMPLETED", amountOf(4200, "CNY"), "new-user", "Hangzhou")
	w2 := func(status string, amount map[string]any) map[string]any {
		return orderChange("freshcart", "w-2", status, amount, "", "")
	}
	for _, c := range []struct {
		name, secret string
		changes      []map[string]any
		status       int
		code         string
		delta        float64
	}{
		{"a completed order earns the per-order reward and the first-order bonus", g.secrets["freshcart"], []map[string]any{completed}, 204, "", 600},
		{"delivered again it earns nothing more", g.secrets["freshcart"], []map[string]any{completed}, 204, "", 600},
		{"unsigned it is refused", "", []map[string]any{completed}, 401, "UNAUTHENTICATED", 600},
		{"signed with another provider's secret it is refused", g.secrets["greenbasket"], []map[string]any{completed}, 401, "UNAUTHENTICATED", 600},
		{"an unknown status is 400", g.secrets["freshcart"], []map[string]any{w2("SHIPPED", amountOf(1, "CNY"))}, 400, "BAD_USER_INPUT", 600},
		{"another currency is 400", g.secrets["freshcart"], []map[string]any{w2("COMPLETED", amountOf(1, "USD"))}, 400, "BAD_USER_INPUT", 600},
		{"an amount out of range is 400", g.secrets["freshcart"], []map[string]any{w2("COMPLETED", amountOf(-1, "CNY"))}, 400, "BAD_USER_INPUT", 600},
		{"unknown fields are 400", g.secrets["freshcart"], []map[string]any{with(w2("COMPLETED", nil), "total", 5)}, 400, "BAD_USER_INPUT", 600},
		{"another provider's order is 403", g.secrets["freshcart"], []map[string]any{orderChange("greenbasket", "w-2", "COMPLETED", amountOf(1, "CNY"), "", "")}, 403, "FORBIDDEN", 600},
		{"a batch with one bad change records none of it", g.secrets["freshcart"],
			[]map[string]any{w2("COMPLETED", amountOf(4200, "CNY")), w2("COMPLETED", amountOf(1, "USD"))}, 400, "BAD_USER_INPUT", 600},
		{"money facts on a status that moves no money record nothing", g.secrets["freshcart"], []map[string]any{w2("PICKING", amountOf(4200, "CNY"))}, 204, "", 600},
		{"a completion without its amount still earns the per-order reward (the amount feeds GMV and loan shares)", g.secrets["freshcart"],
			[]map[string]any{w2("COMPLETED", nil)}, 204, "", 700},
		{"DELIVERED completes an order for money", g.secrets["freshcart"],
			[]map[string]any{orderChange("freshcart", "w-3", "DELIVERED", amountOf(4200, "CNY"), "user-3", "Hangzhou")}, 204, "", 1300},
		{"COMPLETED after DELIVERED earns nothing more (one completion key)", g.secrets["freshcart"],
			[]map[string]any{orderChange("freshcart", "w-3", "COMPLETED", amountOf(4200, "CNY"), "user-3", "Hangzhou")}, 204, "", 1300},
		{"its cancellation reverses both", g.secrets["freshcart"], []map[string]any{with(completed, "status", "CANCELLED")}, 204, "", 700},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := pushStatus(t, g.Gateway, "freshcart", c.secret, c.changes...); r.status != c.status || r.code != c.code {
				t.Fatalf("got %d %s %q, want %d %s", r.status, r.code, r.message, c.status, c.code)
			}
			if got := payable() - before; got != c.delta {
				t.Fatalf("payable moved by %v, want %v", got, c.delta)
			}
		})
	}
}

// switchBus is a status bus that can be down; it keeps what it published.
type switchBus struct {
	down      atomic.Bool
	mu        sync.Mutex
	published []live.Change
}

func (b *switchBus) Publish(_ context.Context, c live.Change) error {
	if b.down.Load() {
		return fmt.Errorf("%w: dial tcp: connection refused", live.ErrUnavailable)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.published = append(b.published, c)
	return nil
}

func (b *switchBus) statuses() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]string, len(b.published))
	for i, c := range b.published {
		out[i] = c.Status
	}
	return out
}

// switchRecords are order records whose store can be down.
type switchRecords struct {
	api.OrderRecords
	down atomic.Bool
}

func (r *switchRecords) RecordOrder(ctx context.Context, o growth.Order) error {
	if r.down.Load() {
		return errors.New("growth: record order: dial tcp: connection refused")
	}
	return r.OrderRecords.RecordOrder(ctx, o)
}

// TestStatusWebhookPartialFailure: one call both records an order and
// publishes its status. When either dependency is down the provider reads
// 503 with Retry-After and sends the same changes again; the retry
// publishes every change and posts each reward once.
func TestStatusWebhookPartialFailure(t *testing.T) {
	bus := &switchBus{}
	var records *switchRecords
	g := startGrowth(t,
		func(*growth.Service) api.Option { return api.WithLive(live.NewHub(live.Limits{}), bus) },
		func(svc *growth.Service) api.Option {
			records = &switchRecords{OrderRecords: svc}
			return api.WithOrderRecords(records)
		})
	before := g.payableOf(t, "freshcart")
	changes := []map[string]any{
		orderChange("freshcart", "p-1", "PICKING", nil, "", ""),
		orderChange("freshcart", "p-2", "COMPLETED", amountOf(4200, "CNY"), "partial-user", "Hangzhou"),
	}
	push := func(t *testing.T) webhookReply {
		t.Helper()
		return pushStatus(t, g.Gateway, "freshcart", g.secrets["freshcart"], changes...)
	}
	for _, step := range []struct {
		name                 string
		busDown, recordsDown bool
		status               int
		retryAfter           string
		delta                float64
		published            []string
	}{
		{"the records' store down: 503, nothing recorded, nothing published", false, true, 503, "5", 0, nil},
		{"the bus down: 503, the record is stored", true, false, 503, "5", 600, nil},
		{"the retry publishes both and posts nothing twice", false, false, 204, "", 600, []string{"PICKING", "COMPLETED"}},
		{"a second retry publishes again, still posting nothing twice", false, false, 204, "", 600, []string{"PICKING", "COMPLETED", "PICKING", "COMPLETED"}},
	} {
		t.Run(step.name, func(t *testing.T) {
			bus.down.Store(step.busDown)
			records.down.Store(step.recordsDown)
			r := push(t)
			if r.status != step.status || r.retryAfter != step.retryAfter {
				t.Fatalf("got %d Retry-After %q %s %q, want %d Retry-After %q", r.status, r.retryAfter, r.code, r.message, step.status, step.retryAfter)
			}
			if r.status == 503 && r.code != "PROVIDER_UNAVAILABLE" {
				t.Fatalf("code %s, want PROVIDER_UNAVAILABLE", r.code)
			}
			if got := g.payableOf(t, "freshcart") - before; got != step.delta {
				t.Fatalf("payable moved by %v, want %v", got, step.delta)
			}
			if got := bus.statuses(); !slices.Equal(got, step.published) {
				t.Fatalf("published %v, want %v", got, step.published)
			}
		})
	}
}

// TestStatusWebhookWithoutLiveOrRecords: a gateway serving neither live
// status nor order records answers the webhook 404, signed or not.
func TestStatusWebhookWithoutLiveOrRecords(t *testing.T) {
	g := apitest.Start(t, apitest.Options{APIOptions: []api.Option{
		api.WithProviderSecrets(func(p string) (string, bool) { return liveSecret(p), true }),
	}})
	r := pushStatus(t, g, "freshcart", liveSecret("freshcart"), orderChange("freshcart", "o-1", "COMPLETED", amountOf(1, "CNY"), "", ""))
	if r.status != http.StatusNotFound || r.code != "NOT_FOUND" {
		t.Fatalf("got %d %s %q, want 404 NOT_FOUND", r.status, r.code, r.message)
	}
}

func TestMakerCheckerOverGraphQL(t *testing.T) {
	g := startGrowth(t)
	ops1, ops2 := g.operatorToken(t, "ops-1"), g.operatorToken(t, "ops-2")
	req := growthData(t, g.as(ops1, `mutation { requestLedgerAdjustment(input: {provider: "freshcart", amount: {amount: 1234, currency: "CNY"}, reason: "goodwill"}) { id status maker } }`, nil))
	id := req["requestLedgerAdjustment"].(map[string]any)["id"].(string)
	if p := growthData(t, g.as(ops2, `{ pendingApprovals { id } }`, nil)); !strings.Contains(fmt.Sprint(p), id) {
		t.Fatalf("pending %v", p)
	}
	const decide = `mutation($id: ID!) { decideApproval(id: $id, approve: true) { status maker checker } }`
	wantError(t, g.as(ops1, decide, map[string]any{"id": id}), "FORBIDDEN", "id")
	d := growthData(t, g.as(ops2, decide, map[string]any{"id": id}))
	if fmt.Sprint(d) != "map[decideApproval:map[checker:ops-2 maker:ops-1 status:APPROVED]]" {
		t.Fatalf("%v", d)
	}
	wantError(t, g.as(ops2, decide, map[string]any{"id": id}), "CONFLICT", "id")
	h := growthData(t, g.as(g.providerToken(t, "freshcart"), `{ viewerProvider { rewards { history(first: 1) { kind actor memo } } } }`, nil))
	if s := fmt.Sprint(h); !strings.Contains(s, "ADJUSTMENT") || !strings.Contains(s, "ops-1, approved by ops-2") {
		t.Fatalf("%s", s)
	}
	wantError(t, g.as(g.providerToken(t, "freshcart"), `{ pendingApprovals { id } }`, nil), "UNAUTHENTICATED", "")
}

// TestCancelMutationReversesRewards: an order placed through the gateway,
// completed by the provider's webhook, then cancelled through the gateway's
// own mutation loses its reward: the mutation is an order record too.
func TestCancelMutationReversesRewards(t *testing.T) {
	g := startGrowth(t)
	var store storeFixture
	var provider string
	for _, s := range groceryStores(t, g.Gateway, "Hangzhou") {
		id, err := gid.Decode(s.ID)
		if err == nil && g.secrets[id.Provider] != "" {
			store, provider = s, id.Provider
			break
		}
	}
	if provider == "" {
		t.Fatal("no store of freshcart or greenbasket in Hangzhou")
	}
	placed := g.MustPost(apitest.Request{User: "demo-40", Query: placeOrderMutation,
		Variables: orderInput(store.ID, store.DeliverySlots[0].ID, store.Products.Edges[0].Node.ID, 1, "")})
	var out struct {
		PlaceGroceryOrder struct {
			ID    string `json:"id"`
			Total struct {
				Amount   int64  `json:"amount"`
				Currency string `json:"currency"`
			} `json:"total"`
		} `json:"placeGroceryOrder"`
	}
	placed.Decode(t, &out)
	if _, err := gid.Decode(out.PlaceGroceryOrder.ID); err != nil {
		t.Fatal(err)
	}
	payable := func() float64 { return g.payableOf(t, provider) }
	before := payable()
	completed := map[string]any{"id": out.PlaceGroceryOrder.ID, "status": "COMPLETED", "user": "demo-40",
		"amount": amountOf(out.PlaceGroceryOrder.Total.Amount, out.PlaceGroceryOrder.Total.Currency)}
	if r := pushStatus(t, g.Gateway, provider, g.secrets[provider], completed); r.status != 204 {
		t.Fatalf("webhook %d %s %q", r.status, r.code, r.message)
	}
	if got := payable() - before; got != 600 {
		t.Fatalf("completed: payable moved by %v, want 600", got)
	}
	g.MustPost(apitest.Request{User: "demo-40", Query: `mutation($id: ID!) { cancelGroceryOrder(id: $id) { status } }`,
		Variables: map[string]any{"id": out.PlaceGroceryOrder.ID}})
	if got := payable() - before; got != 0 {
		t.Fatalf("cancelled through the gateway: payable moved by %v, want 0", got)
	}
}

// freshcartStore is a freshcart store in Hangzhou, with its slots and
// products.
func freshcartStore(t *testing.T, g *apitest.Gateway) storeFixture {
	t.Helper()
	for _, s := range groceryStores(t, g, "Hangzhou") {
		if id, err := gid.Decode(s.ID); err == nil && id.Provider == "freshcart" {
			return s
		}
	}
	t.Fatal("no freshcart store in Hangzhou")
	return storeFixture{}
}

// TestBookingMutationsRecordOrders: the gateway's own mutations record
// PLACED (no money) and CANCELLED: an order placed through the gateway
// and completed by a webhook that names neither user nor amount earns the
// user's first-order bonus and counts its amount; cancelled through the
// gateway it is reversed and counted in the cancellation rate.
func TestBookingMutationsRecordOrders(t *testing.T) {
	g := startGrowth(t)
	store := freshcartStore(t, g.Gateway)
	var out struct {
		PlaceGroceryOrder struct {
			ID string `json:"id"`
		} `json:"placeGroceryOrder"`
	}
	// The service-level window holds the seeded history too (no grading
	// run expires it here): the order counts as one more.
	windowOrders := func() growth.OrderCounts {
		w, err := g.svc.Store().Windows(context.Background(), []string{"freshcart"})
		if err != nil {
			t.Fatal(err)
		}
		return w["freshcart"].Orders
	}
	seeded := windowOrders()
	g.MustPost(apitest.Request{User: "demo-41", Query: placeOrderMutation,
		Variables: orderInput(store.ID, store.DeliverySlots[0].ID, store.Products.Edges[0].Node.ID, 1, "")}).Decode(t, &out)
	payable := func() float64 { return g.payableOf(t, "freshcart") }
	before := payable()
	if got := windowOrders(); got.Orders != seeded.Orders+1 {
		t.Fatalf("the placed order is not recorded: %+v, seeded %+v", got, seeded)
	}
	if r := pushStatus(t, g.Gateway, "freshcart", g.secrets["freshcart"], map[string]any{"id": out.PlaceGroceryOrder.ID, "status": "DELIVERED"}); r.status != 204 {
		t.Fatalf("webhook %d %s %q", r.status, r.code, r.message)
	}
	if got := payable() - before; got != 600 {
		t.Fatalf("delivered: payable moved by %v, want 600 (per order + demo-41's first order, named by the PLACED record)", got)
	}
	g.MustPost(apitest.Request{User: "demo-41", Query: `mutation($id: ID!) { cancelGroceryOrder(id: $id) { status } }`,
		Variables: map[string]any{"id": out.PlaceGroceryOrder.ID}})
	if got := payable() - before; got != 0 {
		t.Fatalf("cancelled: payable moved by %v, want 0", got)
	}
	if got, want := windowOrders(), (growth.OrderCounts{Orders: seeded.Orders + 1, Cancelled: seeded.Cancelled + 1}); got != want {
		t.Fatalf("counts %+v, want %+v (one order more, cancelled)", got, want)
	}
}

// TestDemotedProviderRanksLower: while freshcart is DEMOTED for its
// service level, each of its search results scores about half what it did
// (the text part is normalised over the candidates, which move a little).
func TestDemotedProviderRanksLower(t *testing.T) {
	g := startGrowth(t)
	scores := func() map[string]float64 {
		var out struct {
			Search struct {
				Edges []struct {
					Score float64 `json:"score"`
					Node  struct {
						ID       string `json:"id"`
						Provider struct {
							Key string `json:"key"`
						} `json:"provider"`
					} `json:"node"`
				} `json:"edges"`
			} `json:"search"`
		}
		g.MustPost(apitest.Request{Query: `{ search(text: "milk", vertical: GROCERY, first: 50) { edges { score node { ... on Product { id provider { key } } } } } }`}).Decode(t, &out)
		m := map[string]float64{}
		for _, e := range out.Search.Edges {
			if e.Node.Provider.Key == "freshcart" {
				m[e.Node.ID] = e.Score
			}
		}
		return m
	}
	before := scores()
	if len(before) == 0 {
		t.Fatal("no freshcart results for milk")
	}
	ctx := context.Background()
	if err := g.svc.Store().SetLevel(ctx, growth.Transition{Provider: "freshcart", From: growth.LevelOK, To: growth.LevelDemoted,
		Reason: "test", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := g.svc.RefreshLevels(ctx); err != nil {
		t.Fatal(err)
	}
	after := scores()
	compared := 0
	for id, s := range before {
		if a, ok := after[id]; ok {
			compared++
			if want := s * (1 - growth.DemotedPenalty); math.Abs(a-want) > 0.05*want {
				t.Errorf("%s scored %v, %v while DEMOTED; want about %v", id, s, a, want)
			}
		}
	}
	if compared == 0 {
		t.Fatalf("no freshcart result in both searches: %v, %v", before, after)
	}
}

// TestDemotedProviderSinksOnHome: while freshcart is DEMOTED, its items
// on the home page sink below the items that now outrank them, as in
// search; the others keep their order.
func TestDemotedProviderSinksOnHome(t *testing.T) {
	g := startGrowth(t)
	home := func() [][]string {
		var out struct {
			Home struct {
				Sections []struct {
					Items []struct {
						Node struct {
							ID       string `json:"id"`
							Provider struct {
								Key string `json:"key"`
							} `json:"provider"`
						} `json:"node"`
					} `json:"items"`
				} `json:"sections"`
			} `json:"home"`
		}
		g.MustPost(apitest.Request{User: "demo-42", Query: `{ home(city: "Hangzhou") { sections { items { node { ... on Product { id provider { key } } } } } } }`}).Decode(t, &out)
		var secs [][]string
		for _, s := range out.Home.Sections {
			var ids []string
			for _, it := range s.Items {
				ids = append(ids, it.Node.Provider.Key+"/"+it.Node.ID)
			}
			secs = append(secs, ids)
		}
		return secs
	}
	before := home()
	ctx := context.Background()
	if err := g.svc.Store().SetLevel(ctx, growth.Transition{Provider: "freshcart", From: growth.LevelOK, To: growth.LevelDemoted,
		Reason: "test", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := g.svc.RefreshLevels(ctx); err != nil {
		t.Fatal(err)
	}
	after := home()
	if len(after) != len(before) {
		t.Fatalf("sections %d, were %d", len(after), len(before))
	}
	mixed, sank := 0, 0
	for i := range before {
		if !slices.Equal(sorted(before[i]), sorted(after[i])) {
			t.Fatalf("section %d's items changed: %v -> %v", i, before[i], after[i])
		}
		others := func(ids []string) []string {
			return slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return strings.HasPrefix(id, "freshcart/") })
		}
		if !slices.Equal(others(before[i]), others(after[i])) {
			t.Fatalf("section %d: the other providers' order changed: %v -> %v", i, before[i], after[i])
		}
		for j, id := range before[i] {
			if !strings.HasPrefix(id, "freshcart/") {
				continue
			}
			if len(others(before[i])) > 0 {
				mixed++
			}
			k := slices.Index(after[i], id)
			if k < j {
				t.Fatalf("section %d: DEMOTED %s rose from %d to %d", i, id, j, k)
			}
			if k > j {
				sank++
			}
		}
	}
	if mixed == 0 || sank == 0 {
		t.Fatalf("nothing to compare (freshcart items next to others %d, sank %d): %v", mixed, sank, before)
	}
}

func sorted(xs []string) []string { return slices.Sorted(slices.Values(xs)) }

// TestReconciliationsForOperators: the stored daily reconciliations, each
// mismatch listed, are the operators' (a provider is refused).
func TestReconciliationsForOperators(t *testing.T) {
	g := startGrowth(t)
	ctx := context.Background()
	day := time.Now().UTC().Truncate(24 * time.Hour)
	if err := g.svc.RecordOrder(ctx, growth.Order{Provider: "freshcart", ID: "rc-1", Currency: "CNY", Amount: 100, Status: growth.OrderCompleted}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.svc.Store().RecordOrder(ctx, growth.Order{Provider: "freshcart", ID: "rc-lost", Currency: "CNY", Amount: 100,
		Status: growth.OrderCompleted, At: time.Now().UTC()}); err != nil { // no reward: a mismatch
		t.Fatal(err)
	}
	if _, err := g.svc.Reconcile(ctx, day); err != nil {
		t.Fatal(err)
	}
	const q = `{ reconciliations(first: 5) { day orders payouts mismatches ranAt } }`
	d := growthData(t, g.as(g.operatorToken(t, "ops-1"), q, nil))
	s := fmt.Sprint(d)
	if !strings.Contains(s, "day:"+day.Format(time.DateOnly)) || !strings.Contains(s, "freshcart's order rc-lost completed without its reward") {
		t.Fatalf("reconciliations %s", s)
	}
	wantError(t, g.as(g.providerToken(t, "freshcart"), q, nil), "UNAUTHENTICATED", "")
	wantError(t, g.as(g.operatorToken(t, "ops-1"), `{ reconciliations(first: 0) { day } }`, nil), "BAD_USER_INPUT", "first")
}
