package api_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/events"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/recommend"
	"github.com/plaza-gateway/plaza/resolvers"
	"github.com/plaza-gateway/plaza/traffic"
)

const testAnalystKey = "test-analyst-key-0001"

// personal is a demo gateway with events, settings, the engine-backed home
// page and analytics wired the way server.go wires them.
type personal struct {
	*apitest.Gateway
	store    events.Store
	settings events.Settings
	recorder *events.Recorder
	home     *gateway.Recommender
}

func startPersonal(tb testing.TB, homeCacheTTL time.Duration) *personal {
	tb.Helper()
	engine := recommend.New(recommend.DefaultConfig())
	store := events.NewMemoryStore(events.MemoryConfig{})
	settings := events.NewMemorySettings()
	rec := events.NewRecorder(store, events.WithConsent(settings), events.WithSink(events.EngineSink(engine)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = rec.Run(ctx); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
	home := gateway.NewRecommender(engine, gateway.WithHomeCache(1000, homeCacheTTL))
	keys, err := auth.ParseAPIKeys(testAnalystKey)
	if err != nil {
		tb.Fatal(err)
	}
	g := apitest.Start(tb, apitest.Options{
		GatewayOptions: []gateway.Option{gateway.WithObserver(rec)},
		APIOptions: []api.Option{api.WithAPIKeys(keys), api.WithResolverOptions(resolvers.WithPersonalization(resolvers.Personalization{
			Home: home, Recorder: rec, Store: store, Settings: settings, Analytics: events.NewAnalytics(store),
		}), resolvers.WithTraffic(traffic.NewMemoryStore(nil)))},
	})
	users := make([]string, demo.DefaultUsers)
	for i := range users {
		users[i] = demo.UserID(i + 1)
	}
	st, err := home.Seed(context.Background(), g.GW, users, func(ctx context.Context, u string) bool {
		on, err := settings.Personalization(ctx, u)
		return err == nil && on
	})
	if err != nil || st.Users != demo.DefaultUsers || st.Events == 0 {
		tb.Fatalf("seed: %+v, %v", st, err)
	}
	tb.Logf("seeded the engine: %d users, %d events, %d items in %v", st.Users, st.Events, st.Items, st.Duration)
	return &personal{Gateway: g, store: store, settings: settings, recorder: rec, home: home}
}

func (p *personal) flush(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.recorder.Flush(ctx); err != nil {
		tb.Fatal(err)
	}
}

type homeData struct {
	Home struct {
		City     *string
		Sections []struct {
			Key   string
			Title string
			Items []struct {
				Reason string
				Node   struct {
					Typename string `json:"__typename"`
					ID       string
					Name     string
				}
			}
		}
	}
}

func (h homeData) keys() []string {
	var out []string
	for _, s := range h.Home.Sections {
		out = append(out, s.Key)
	}
	return out
}

const homeQuery = `query($city: String) { home(city: $city) { city sections { key title items { reason node {
	__typename ... on Product { id name } ... on Store { id name } ... on Doctor { id name }
	... on Lawyer { id name } ... on GovService { id name } } } } } }`

func TestHomeOnTheEngine(t *testing.T) {
	p := startPersonal(t, 0)

	t.Run("demo-1 gets personal sections, every item with a reason", func(t *testing.T) {
		h, _ := mustData[homeData](t, p.Gateway, apitest.Request{Query: homeQuery, User: "demo-1"})
		keys := h.keys()
		if !slices.Contains(keys, gateway.SectionBuyAgain) || !slices.Contains(keys, gateway.SectionPopular) {
			t.Fatalf("sections %v, want buy-again and popular-near-you", keys)
		}
		seen := map[string]bool{}
		for _, s := range h.Home.Sections {
			if len(s.Items) == 0 || len(s.Items) > 10 {
				t.Errorf("section %s has %d items", s.Key, len(s.Items))
			}
			for _, it := range s.Items {
				if strings.TrimSpace(it.Reason) == "" || it.Node.ID == "" {
					t.Errorf("section %s: item %+v without reason or node", s.Key, it)
				}
				if seen[it.Node.ID] {
					t.Errorf("item %s appears twice on the page", it.Node.Name)
				}
				seen[it.Node.ID] = true
			}
			if testing.Verbose() && len(s.Items) > 0 {
				t.Logf("%-22s %-24s e.g. %s %q: %s", s.Key, s.Title, s.Items[0].Node.Typename, s.Items[0].Node.Name, s.Items[0].Reason)
			}
		}
		buy := h.Home.Sections[0]
		if buy.Key != gateway.SectionBuyAgain || !strings.HasPrefix(buy.Items[0].Reason, "You") {
			t.Errorf("buy again first with a personal reason, got %s %q", buy.Key, buy.Items[0].Reason)
		}
	})

	t.Run("a city keeps single-city items in that city", func(t *testing.T) {
		h, _ := mustData[homeData](t, p.Gateway, apitest.Request{Query: homeQuery, User: "demo-1", Variables: map[string]any{"city": "Chengdu"}})
		if h.Home.City == nil || *h.Home.City != "Chengdu" {
			t.Fatalf("city = %v", h.Home.City)
		}
		ids := []string{}
		for _, s := range h.Home.Sections {
			for _, it := range s.Items {
				if it.Node.Typename != "GovService" {
					ids = append(ids, it.Node.ID)
				}
			}
		}
		if len(ids) == 0 {
			t.Fatal("no items")
		}
		var got struct{ Nodes []map[string]any }
		resp := p.MustPost(apitest.Request{Query: `query($ids: [ID!]!) { nodes(ids: $ids) {
			... on Product { store { city } } ... on Store { city } ... on Doctor { city } ... on Lawyer { city } } }`,
			Variables: map[string]any{"ids": ids}})
		resp.Decode(t, &got)
		for i, n := range got.Nodes {
			city, _ := n["city"].(string)
			if st, ok := n["store"].(map[string]any); ok {
				city, _ = st["city"].(string)
			}
			if city != "Chengdu" {
				t.Errorf("item %s is in %q", ids[i], city)
			}
		}
	})

	t.Run("an opted-out user gets only the non-personal sections, and nothing they do is recorded", func(t *testing.T) {
		const user = "demo-2"
		var s struct {
			UpdateSettings struct{ Personalization bool }
		}
		s, _ = mustData[struct {
			UpdateSettings struct{ Personalization bool }
		}](t, p.Gateway, apitest.Request{
			Query: `mutation { updateSettings(personalization: false) { personalization } }`, User: user})
		if s.UpdateSettings.Personalization {
			t.Fatal("updateSettings returned personalization: true")
		}
		me, _ := mustData[struct {
			Me struct {
				Settings struct{ Personalization bool }
			}
		}](t, p.Gateway, apitest.Request{
			Query: `{ me { settings { personalization } } }`, User: user})
		if me.Me.Settings.Personalization {
			t.Fatal("me.settings still says personalization: true")
		}
		h, _ := mustData[homeData](t, p.Gateway, apitest.Request{Query: homeQuery, User: user})
		for _, k := range h.keys() {
			if k != gateway.SectionPopular {
				t.Errorf("opted-out user got personal section %s", k)
			}
		}
		if len(h.Home.Sections) == 0 {
			t.Error("opted-out user got an empty page")
		}
		for _, s := range h.Home.Sections {
			for _, it := range s.Items {
				if strings.HasPrefix(it.Reason, "You") {
					t.Errorf("non-personal page shows a personal reason %q", it.Reason)
				}
			}
		}

		before, _ := p.store.Log(context.Background(), time.Time{}, time.Now().Add(time.Hour))
		id := h.Home.Sections[0].Items[0].Node.ID
		p.MustPost(apitest.Request{Query: `query($id: ID!) { node(id: $id) { id } }`, Variables: map[string]any{"id": id}, User: user})
		p.MustPost(apitest.Request{Query: `{ search(text: "milk") { totalCount } }`, User: user})
		p.MustPost(apitest.Request{Query: `mutation($q: String!, $id: ID!) { reportSearchClick(query: $q, itemId: $id) }`,
			Variables: map[string]any{"q": "milk", "id": id}, User: user})
		p.flush(t)
		after, _ := p.store.Log(context.Background(), time.Time{}, time.Now().Add(time.Hour))
		for _, ev := range after {
			if ev.User == user {
				t.Errorf("recorded %+v for an opted-out user", ev)
			}
		}
		if len(after) != len(before) {
			t.Errorf("the log grew from %d to %d events on an opted-out user's requests", len(before), len(after))
		}
		if hist, _ := p.store.History(context.Background(), user, 10); len(hist) != 0 {
			t.Errorf("opted-out user still has history %+v", hist)
		}

		t.Run("and turning it back on records again", func(t *testing.T) {
			p.MustPost(apitest.Request{Query: `mutation { updateSettings(personalization: true) { personalization } }`, User: user})
			p.MustPost(apitest.Request{Query: `query($id: ID!) { node(id: $id) { id } }`, Variables: map[string]any{"id": id}, User: user})
			p.flush(t)
			if hist, _ := p.store.History(context.Background(), user, 10); len(hist) != 1 || hist[0].Kind != events.KindView || hist[0].Item != id {
				t.Errorf("history = %+v, want the one view", hist)
			}
		})
	})

	t.Run("home needs a signed-in user", func(t *testing.T) {
		mustFail(t, p.Gateway, apitest.Request{Query: homeQuery}, "UNAUTHENTICATED", "sign in")
	})
}

func TestRecordingFromRequests(t *testing.T) {
	p := startPersonal(t, 0)
	const user = "demo-7"
	var s struct {
		Search struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID string } }
		}
	}
	s, _ = mustData[struct {
		Search struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID string } }
		}
	}](t, p.Gateway, apitest.Request{Query: `{ search(text: "  Milk", city: "Hangzhou", vertical: GROCERY, first: 3) { totalCount edges { node { ... on Product { id } ... on Store { id } } } } }`, User: user})
	cursorReq := apitest.Request{Query: `query($after: String) { search(text: "milk", first: 1, after: $after) { totalCount } }`, Variables: map[string]any{"after": "MQ"}, User: user}
	p.Post(cursorReq) // a later page is not a new search (valid or not)
	p.MustPost(apitest.Request{Query: `{ search(text: "qqqzzzx") { totalCount } }`})
	item := s.Search.Edges[0].Node.ID
	p.MustPost(apitest.Request{Query: `query($id: ID!) { nodes(ids: [$id, $id]) { id } }`, Variables: map[string]any{"id": item}, User: user})
	p.MustPost(apitest.Request{Query: `mutation($id: ID!) { reportSearchClick(query: "milk", itemId: $id) }`, Variables: map[string]any{"id": item}})
	d := someDoctors(t, p.Gateway, 1)[0]
	p.MustPost(apitest.Request{Query: `mutation($in: BookDoctorAppointmentInput!) { bookDoctorAppointment(input: $in) { id } }`,
		Variables: bookInput(d.ID, d.Slots[0].ID, ""), User: user})
	p.flush(t)

	log, _ := p.store.Log(context.Background(), time.Time{}, time.Now().Add(time.Hour))
	var got []string
	for _, ev := range log {
		got = append(got, fmt.Sprintf("%s/%s/%q/%s/%s/%d", ev.Kind, ev.User, ev.Query, ev.Vertical, ev.City, ev.Results))
	}
	want := []string{
		// Only the normalised form of what the user typed is stored.
		fmt.Sprintf("search/demo-7/\"milk\"/GROCERY/hangzhou/%d", s.Search.TotalCount),
		"search//\"qqqzzzx\"///0",
		"view/demo-7/\"\"/GROCERY//0", "view/demo-7/\"\"/GROCERY//0",
		"click//\"milk\"/GROCERY//0",
		// A booking counts in its doctor's city (the provider serves several).
		fmt.Sprintf("booking/demo-7/\"\"/MEDICAL/%s/0", doctorCity(t, p.Gateway, d.ID)),
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("recorded\n %v\nwant\n %v", got, want)
	}
}

// doctorCity is the city the gateway shows for a doctor.
func doctorCity(t *testing.T, g *apitest.Gateway, id string) string {
	t.Helper()
	d, _ := mustData[struct {
		Node struct{ City string } `json:"node"`
	}](t, g, apitest.Request{Query: `query($id: ID!) { node(id: $id) { ... on Doctor { city } } }`, Variables: map[string]any{"id": id}})
	if d.Node.City == "" {
		t.Fatalf("doctor %s has no city", id)
	}
	return d.Node.City
}

type analyticsData struct {
	Analytics *struct {
		SearchVolume []struct {
			Start time.Time
			Count int
		}
		TopQueries []struct {
			Query string
			Count int
		}
		ZeroResultQueries []struct {
			Query string
			Count int
		}
		ProviderTraffic []struct {
			Provider      string
			Calls, Errors int
			P50Ms, P99Ms  *float64
			Conversions   int
		}
		Conversion struct {
			Searches, Clicks, Views, Orders, Bookings int
			Rate                                      *float64
		}
	}
}

func analyticsDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../testdata/operations/analytics_overview.graphql")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAnalyticsEndToEnd(t *testing.T) {
	p := startPersonal(t, 0)
	from := time.Now().UTC().Add(-time.Hour).Truncate(time.Hour)
	vars := map[string]any{"from": from.Format(time.RFC3339), "to": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}
	for _, q := range []string{"milk", "milk", "Milk", "bread", "qqqzzzx"} {
		p.MustPost(apitest.Request{Query: `query($t: String) { search(text: $t) { totalCount } }`, Variables: map[string]any{"t": q}, User: "demo-3"})
	}
	d := someDoctors(t, p.Gateway, 1)[0]
	p.MustPost(apitest.Request{Query: `mutation($in: BookDoctorAppointmentInput!) { bookDoctorAppointment(input: $in) { id } }`,
		Variables: bookInput(d.ID, d.Slots[0].ID, ""), User: "demo-3"})
	p.flush(t)
	doc := analyticsDoc(t)

	t.Run("an analyst key reads numbers that agree with the raw log", func(t *testing.T) {
		a, _ := mustData[analyticsData](t, p.Gateway, apitest.Request{Query: doc, Variables: vars,
			Header: map[string][]string{"Plaza-Api-Key": {testAnalystKey}}})
		if a.Analytics == nil {
			t.Fatal("analytics is null")
		}
		log, _ := p.store.Log(context.Background(), from, time.Now().Add(time.Hour))
		searches, zero := 0, 0
		for _, ev := range log {
			if ev.Kind == events.KindSearch {
				searches++
				if ev.Results == 0 {
					zero++
				}
			}
		}
		total := 0
		for _, b := range a.Analytics.SearchVolume {
			total += b.Count
		}
		if searches != 5 || total != searches || a.Analytics.Conversion.Searches != searches {
			t.Errorf("log has %d searches; searchVolume sums to %d, conversion says %d", searches, total, a.Analytics.Conversion.Searches)
		}
		if len(a.Analytics.TopQueries) == 0 || a.Analytics.TopQueries[0].Query != "milk" || a.Analytics.TopQueries[0].Count != 3 {
			t.Errorf("topQueries = %+v, want milk x3 first", a.Analytics.TopQueries)
		}
		zc := 0
		for _, q := range a.Analytics.ZeroResultQueries {
			zc += q.Count
		}
		if zero == 0 || zc != zero {
			t.Errorf("zeroResultQueries sum to %d, log has %d", zc, zero)
		}
		if c := a.Analytics.Conversion; c.Bookings != 1 || c.Rate == nil || *c.Rate != 0.2 {
			t.Errorf("conversion = %+v, want 1 booking, rate 0.2", c)
		}
		calls := 0
		for _, pt := range a.Analytics.ProviderTraffic {
			calls += pt.Calls
			if pt.Calls > 0 && (pt.P50Ms == nil || pt.P99Ms == nil) {
				t.Errorf("provider %s has calls but no latency", pt.Provider)
			}
		}
		if calls == 0 {
			t.Error("providerTraffic saw no calls")
		}
	})

	for _, scheme := range []string{"ApiKey", "apikey", "APIKEY"} {
		t.Run("Authorization: "+scheme+" works too (the scheme is case-insensitive)", func(t *testing.T) {
			mustData[analyticsData](t, p.Gateway, apitest.Request{Query: doc, Variables: vars,
				Header: map[string][]string{"Authorization": {scheme + " " + testAnalystKey}}})
		})
	}

	for _, c := range []struct {
		name, user, key, code, msg string
	}{
		{"without a key it is UNAUTHENTICATED", "", "", "UNAUTHENTICATED", "analyst API key required"},
		{"with a wrong key it is UNAUTHENTICATED", "", "wrong-key-00000", "UNAUTHENTICATED", "invalid API key"},
		{"a signed-in app user is FORBIDDEN", "demo-1", "", "FORBIDDEN", "ANALYST"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := apitest.Request{Query: doc, Variables: vars, User: c.user}
			if c.key != "" {
				req.Header = map[string][]string{"Plaza-Api-Key": {c.key}}
			}
			resp := mustFail(t, p.Gateway, req, c.code, c.msg)
			var a analyticsData
			resp.Decode(t, &a)
			if a.Analytics != nil {
				t.Error("analytics not null")
			}
		})
	}

	t.Run("a reversed range is BAD_USER_INPUT", func(t *testing.T) {
		resp := p.Post(apitest.Request{Query: `query($f: Time!, $t: Time!) { analytics { conversion(from: $t, to: $f) { searches } } }`,
			Variables: map[string]any{"f": vars["from"], "t": vars["to"]}, Header: map[string][]string{"Plaza-Api-Key": {testAnalystKey}}})
		if len(resp.Errors) != 1 || resp.Errors[0].Code() != "BAD_USER_INPUT" {
			t.Fatalf("got %s", resp.Raw)
		}
	})
}

// BenchmarkHome measures `home` end to end through the HTTP handler over the
// in-process demo providers, for demo-1..demo-50 in turn, with the page
// cache off (every request builds the page) and reports p50/p99.
func BenchmarkHome(b *testing.B) {
	for _, c := range []struct {
		name string
		ttl  time.Duration
	}{{"uncached", 0}, {"cached-15s", 15 * time.Second}} {
		b.Run(c.name, func(b *testing.B) {
			p := startPersonal(b, c.ttl)
			reqs := make([]apitest.Request, demo.DefaultUsers)
			for i := range reqs {
				reqs[i] = apitest.Request{Query: homeQuery, User: demo.UserID(i + 1)}
				reqs[i].Header = map[string][]string{"Authorization": {"Bearer " + p.Token(demo.UserID(i+1))}}
				reqs[i].User = ""
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				resp := p.Post(reqs[i%len(reqs)])
				lat = append(lat, time.Since(start))
				if len(resp.Errors) > 0 {
					b.Fatalf("errors: %s", resp.Raw)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
		})
	}
}

// analyticsRange is the last day, as saved analytics operations take it.
func analyticsRange(*testing.T, *apitest.Gateway) map[string]any {
	now := time.Now().UTC()
	return map[string]any{"from": now.Add(-24 * time.Hour).Format(time.RFC3339), "to": now.Format(time.RFC3339)}
}

// search runs one search and waits until it is recorded.
func (p *personal) search(tb testing.TB, text string) {
	tb.Helper()
	p.MustPost(apitest.Request{Query: `query($t: String) { search(text: $t) { totalCount } }`, Variables: map[string]any{"t": text}})
	p.flush(tb)
}
