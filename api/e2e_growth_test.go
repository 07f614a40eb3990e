package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/growth"
	"github.com/plaza-gateway/plaza/ledger"
	"github.com/plaza-gateway/plaza/resolvers"
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

func startGrowth(t *testing.T) *growthGateway {
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
	g := apitest.Start(t, apitest.Options{APIOptions: []api.Option{
		api.WithProviderKeys(keys), api.WithOrderRecords(svc), api.WithResolverOptions(resolvers.WithGrowth(svc)),
		api.WithProviderSecrets(func(p string) (string, bool) { s, ok := secrets[p]; return s, ok }),
	}})
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
		{"loanOffer", `{ viewerProvider { loanOffer { maxAmount { amount } gmv90 { amount } factors { name value explanation } terms } } }`,
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

// postOrder sends a signed order status webhook.
func (g *growthGateway) postOrder(t *testing.T, provider, secret, body string) int {
	t.Helper()
	path := "/providers/" + provider + "/orders"
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := rand.Text()
	req, _ := http.NewRequest(http.MethodPost, g.URL+path, bytes.NewReader([]byte(body)))
	if secret != "" {
		req.Header.Set(httpprovider.HeaderTimestamp, ts)
		req.Header.Set(httpprovider.HeaderNonce, nonce)
		req.Header.Set(httpprovider.HeaderSignature, httpprovider.SignV2(secret, ts, nonce, http.MethodPost, path, "", []byte(body)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestOrderStatusWebhookFeedsRewards(t *testing.T) {
	g := startGrowth(t)
	fresh := g.providerToken(t, "freshcart")
	payable := func() float64 {
		d := growthData(t, g.as(fresh, `{ viewerProvider { rewards { payable { amount } } } }`, nil))
		return d["viewerProvider"].(map[string]any)["rewards"].(map[string]any)["payable"].(map[string]any)["amount"].(float64)
	}
	before := payable()
	completed := `{"orderId":"w-1","status":"COMPLETED","amount":{"amount":4200,"currency":"CNY"},"user":"new-user","city":"Hangzhou"}`
	for _, c := range []struct {
		name, secret, body string
		status             int
		delta              float64
	}{
		{"a completed order earns the per-order reward and the first-order bonus", g.secrets["freshcart"], completed, 204, 600},
		{"delivered again it earns nothing more", g.secrets["freshcart"], completed, 204, 600},
		{"unsigned it is refused", "", completed, 401, 600},
		{"signed with another provider's secret it is refused", g.secrets["greenbasket"], completed, 401, 600},
		{"an unknown status is 400", g.secrets["freshcart"], `{"orderId":"w-2","status":"SHIPPED","amount":{"amount":1,"currency":"CNY"}}`, 400, 600},
		{"another currency is 400", g.secrets["freshcart"], `{"orderId":"w-2","status":"COMPLETED","amount":{"amount":1,"currency":"USD"}}`, 400, 600},
		{"unknown fields are 400", g.secrets["freshcart"], `{"orderId":"w-2","status":"COMPLETED","total":5}`, 400, 600},
		{"its cancellation reverses both", g.secrets["freshcart"], strings.Replace(completed, "COMPLETED", "CANCELLED", 1), 204, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := g.postOrder(t, "freshcart", c.secret, c.body); got != c.status {
				t.Fatalf("status %d, want %d", got, c.status)
			}
			if got := payable() - before; got != c.delta {
				t.Fatalf("payable moved by %v, want %v", got, c.delta)
			}
		})
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
	order, err := gid.Decode(out.PlaceGroceryOrder.ID)
	if err != nil {
		t.Fatal(err)
	}
	h := g.providerToken(t, provider)
	payable := func() float64 {
		d := growthData(t, g.as(h, `{ viewerProvider { rewards { payable { amount } } } }`, nil))
		return d["viewerProvider"].(map[string]any)["rewards"].(map[string]any)["payable"].(map[string]any)["amount"].(float64)
	}
	before := payable()
	body := fmt.Sprintf(`{"orderId":%q,"status":"COMPLETED","amount":{"amount":%d,"currency":%q},"user":"demo-40"}`,
		order.Local, out.PlaceGroceryOrder.Total.Amount, out.PlaceGroceryOrder.Total.Currency)
	if st := g.postOrder(t, provider, g.secrets[provider], body); st != 204 {
		t.Fatalf("webhook %d", st)
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
