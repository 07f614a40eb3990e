package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/events"
	"github.com/plaza-gateway/plaza/growth"
	"github.com/plaza-gateway/plaza/resolvers"
)

// startGrowthForAnalysts is startGrowth that also takes the analyst key
// testAnalystKey.
func startGrowthForAnalysts(t *testing.T) *growthGateway {
	t.Helper()
	keys, err := auth.ParseAPIKeys(testAnalystKey)
	if err != nil {
		t.Fatal(err)
	}
	// analytics needs the events' analytics to answer at all.
	evs := events.NewAnalytics(events.NewMemoryStore(events.MemoryConfig{}))
	return startGrowth(t, func(*growth.Service) api.Option { return api.WithAPIKeys(keys) }, func(*growth.Service) api.Option {
		return api.WithResolverOptions(resolvers.WithPersonalization(resolvers.Personalization{Analytics: evs}))
	})
}

// TestAnalystTotalsOverGraphQL: analysts read the reward programs' and the
// loans' totals by vertical and city, exact to the minor unit, with their
// analyst key; a provider cannot, and a bad range is BAD_USER_INPUT.
func TestAnalystTotalsOverGraphQL(t *testing.T) {
	g := startGrowthForAnalysts(t)
	ctx := context.Background()
	fresh := g.providerToken(t, "freshcart")
	offer := growthData(t, g.as(fresh, `{ viewerProvider { loanOffer { maxAmount { amount } } } }`, nil))
	most := offer["viewerProvider"].(map[string]any)["loanOffer"].(map[string]any)["maxAmount"].(map[string]any)["amount"].(float64)
	growthData(t, g.as(fresh, applyLoan, loanInput(100_000, "CNY", 60, "totals-1", true))) // fee 3,000
	// An order in Suzhou by a new user: completed (its loan share, 2,000,
	// repays), then cancelled (its rewards reversed).
	for _, st := range []growth.OrderStatus{growth.OrderCompleted, growth.OrderCancelled} {
		if err := g.svc.RecordOrder(ctx, growth.Order{Provider: "freshcart", ID: "t-1", User: "n1", City: "Suzhou", Currency: "CNY",
			Amount: 20_000, Status: st}); err != nil {
			t.Fatal(err)
		}
	}
	analyst := map[string][]string{"Plaza-Api-Key": {testAnalystKey}}
	now := time.Now().UTC()
	vars := map[string]any{"from": now.Add(-24 * time.Hour), "to": now.Add(24 * time.Hour)}
	const q = `query($from: Time!, $to: Time!) { analytics {
		rewardProgramTotals(from: $from, to: $to) { program vertical city postings posted { amount currency } reversals reversed { amount } net { amount } }
		loanTotals(from: $from, to: $to) { vertical city offersMade offersAccepted offered { amount } loans principal { amount currency } fees { amount }
			outstanding { amount } arrears { amount } loansInArrears } } }`
	t.Run("the totals count the seeded history, the order and its cancellation, and the loan", func(t *testing.T) {
		raw, _ := json.Marshal(growthData(t, g.Post(apitest.Request{Query: q, Variables: vars, Header: analyst})))
		row := func(program, city string, postings, posted, reversals, reversed int) string {
			return fmt.Sprintf(`{"city":%q,"net":{"amount":%d},"posted":{"amount":%d,"currency":"CNY"},"postings":%d,"program":%q,"reversals":%d,"reversed":{"amount":%d},"vertical":"GROCERY"}`,
				city, posted-reversed, posted, postings, program, reversals, reversed)
		}
		// freshcart (Hangzhou): 2 orders a day for 90 days by users u0 and
		// u1; greenbasket (Ningbo): 1 a day by u0.
		want := `{"analytics":{"loanTotals":[{"arrears":{"amount":0},"city":"Hangzhou","fees":{"amount":3000},"loans":1,"loansInArrears":0,` +
			fmt.Sprintf(`"offered":{"amount":%d},"offersAccepted":1,"offersMade":1,"outstanding":{"amount":101000},`, int(most)) +
			`"principal":{"amount":100000,"currency":"CNY"},"vertical":"GROCERY"}],"rewardProgramTotals":[` +
			row("FIRST_ORDER", "Hangzhou", 2, 1000, 0, 0) + "," + row("FIRST_ORDER", "Ningbo", 1, 500, 0, 0) + "," + row("FIRST_ORDER", "Suzhou", 1, 500, 1, 500) + "," +
			row("PER_ORDER", "Hangzhou", 180, 18_000, 0, 0) + "," + row("PER_ORDER", "Ningbo", 90, 9_000, 0, 0) + "," + row("PER_ORDER", "Suzhou", 1, 100, 1, 100) + `]}}`
		if string(raw) != want {
			t.Fatalf("totals\n got %s\nwant %s", raw, want)
		}
	})
	t.Run("a provider cannot read them", func(t *testing.T) {
		wantError(t, g.as(fresh, q, vars), "UNAUTHENTICATED", "")
	})
	for name, r := range map[string][2]time.Time{
		"to before from":        {now, now.Add(-time.Hour)},
		"a range over 366 days": {now.AddDate(-2, 0, 0), now},
	} {
		t.Run(name+" is BAD_USER_INPUT naming to", func(t *testing.T) {
			for _, field := range []string{"rewardProgramTotals", "loanTotals"} {
				r := g.Post(apitest.Request{Query: `query($from: Time!, $to: Time!) { analytics { ` + field + `(from: $from, to: $to) { city } } }`,
					Variables: map[string]any{"from": r[0], "to": r[1]}, Header: analyst})
				wantError(t, r, "BAD_USER_INPUT", "to")
			}
		})
	}
}
