package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plaza-gateway/plaza/connectors/httpprovider"
)

// GraphQL documents. Plaza's and the yoga peer's have the same selection;
// Hive/Mesh exposes the contract's batch endpoints as mutations over the
// batch envelope, so its documents select the same fields through it.
const (
	productFields  = `name description category tags price { amount currency } unit stock origin rating`
	docDetailPlaza = `query ProductDetail($id: ID!) { node(id: $id) { id ... on Product { ` + productFields + ` } } }`
	docDetailYoga  = `query ProductDetail($id: ID!) { product(id: $id) { id ` + productFields + ` } }`
	docDetailHive  = `mutation ProductDetail($ids: [String]) { groceryProductsBatchGet(input: {ids: $ids}) { ... on ProductBatchResponse { results { value { id ` + productFields + ` } } } } }`
	docListPlaza   = `query Products($ids: [ID!]!) { nodes(ids: $ids) { id ... on Product { name price { amount currency } unit store { id name city } } } }`
	docListYoga    = `query Products($ids: [ID!]!) { products(ids: $ids) { id name price { amount currency } unit store { id name city } } }`
	docListHive    = `mutation Products($ids: [String], $stores: [String]) {
  products: groceryProductsBatchGet(input: {ids: $ids}) { ... on ProductBatchResponse { results { value { id name price { amount currency } unit storeId } } } }
  stores: groceryStoresBatchGet(input: {ids: $stores}) { ... on StoreBatchResponse { results { value { id name city } } } } }`
	docTypename = `{ __typename }`
	docOrders   = `query MyOrders { me { orders(first: 50) { totalCount edges { node { id status total { amount currency } store { id name }
  items { quantity price { amount } product { id name unit store { id name } } } } } } } }`
	docSearch = `query Search($text: String) { search(text: $text, first: 20) { totalCount edges { score node { __typename
  ... on Product { id name price { amount } } ... on Store { id name } ... on Doctor { id name } ... on Lawyer { id name } ... on GovService { id name } ... on Provider { id name } } } } }`
	// docSearchPage is the search page the index completes: each product's
	// live price and its store's name (Store comes from the index).
	docSearchPage = `query Search($text: String) { search(text: $text, first: 20) { totalCount edges { node {
  ... on Product { id name price { amount } store { name } } ... on Store { id name } } } } }`
	docHome = `query Home { home(city: "Hangzhou") { city sections { key title items { reason score node { __typename
  ... on Product { id name } ... on Store { id name } ... on Doctor { id name } ... on Lawyer { id name } ... on GovService { id name } ... on Provider { id name } } } } } }`
)

// workload is one row group of the table: the same data fetched through
// every target that can express it.
type workload struct {
	name, note string
	items      int
	conc       []int
	dur        time.Duration
	providers  []provider // whose counters are read
	targets    []targetQuery
}

type targetQuery struct {
	target string
	// gw is the running target (h.targets) whose process is measured
	// when it is not named target (several gateways shown as one
	// target, each in its own workload: the in-process sizes).
	gw string
	q  query
	// check, when set, replaces the one-request check of q before timing
	// (the floor's: its answer must be Plaza's, byte for byte).
	check query
}

// row is the median of the runs of one target at one concurrency.
type row struct {
	workload, note, target string
	items, c               int
	rps                    float64
	p50, p99               time.Duration
	callsPerQ, redisPerQ   float64
	// droppedPerQ is the events the gateway's recorder dropped per query
	// (plaza_events_dropped_total on its admin listener), when hasDropped:
	// the uncached harness gateway and the peers export none.
	droppedPerQ float64
	hasDropped  bool
	rss         int64
	// cpuPerQ is the target's process CPU time (user + system, every
	// thread of its process group) over every query of every run, per
	// query; -1 where there is no gateway process (raw).
	cpuPerQ  time.Duration
	errors   int
	firstErr error
}

// check sends each target's query once: a broken target is reported, not timed.
func (h *harness) check(ctx context.Context, w workload) []targetQuery {
	var ok []targetQuery
	hc := newClient(1)
	for _, tq := range w.targets {
		check := tq.q
		if tq.check != nil {
			check = tq.check
		}
		if err := check(ctx, hc); err != nil {
			h.logf("  %s on %s: check failed, not timed: %v", w.name, tq.target, err)
			h.rows = append(h.rows, row{workload: w.name, note: w.note, target: tq.target, items: w.items, errors: 1, firstErr: err})
			continue
		}
		ok = append(ok, tq)
	}
	return ok
}

// droppedSeries counts the views the gateway's events recorder dropped
// rather than slow a request (package metrics).
const droppedSeries = "plaza_events_dropped_total"

// measure runs w: per concurrency a warm-up per target, then the runs with
// the targets interleaved (A B A B ...), medians reported.
func (h *harness) measure(ctx context.Context, w workload) { h.measureAll(ctx, []workload{w}) }

// measureAll is measure over the targets of several workloads at once,
// interleaved across the workloads too, so that figures compared between
// workloads (the search latency growth: 10^6 providers against 32) come
// from the same minutes of a shared machine. The workloads share w[0]'s
// concurrencies and run length.
func (h *harness) measureAll(ctx context.Context, ws []workload) {
	type pair struct {
		w  *workload
		tq targetQuery
	}
	var pairs []pair
	for i := range ws {
		for _, tq := range h.check(ctx, ws[i]) {
			if tq.gw == "" {
				tq.gw = tq.target
			}
			pairs = append(pairs, pair{&ws[i], tq})
		}
	}
	if len(pairs) == 0 {
		return
	}
	for _, c := range ws[0].conc {
		hc := newClient(c)
		for _, p := range pairs {
			drive(ctx, hc, p.tq.q, c, h.o.warmup)
		}
		type acc struct {
			runs          []result
			calls, redis  int64
			dropped       float64
			noDropped     bool // a run without the series: no figure
			cpu           time.Duration
			queries, errs int
			firstErr      error
		}
		accs := make([]acc, len(pairs))
		for range h.o.runs {
			for i, p := range pairs {
				calls0, _ := providerCalls(ctx, p.w.providers)
				redis0 := h.redisCommands(ctx)
				gw := h.targets[p.tq.gw]
				var cpu0 time.Duration
				dropped0 := -1.0
				if gw != nil {
					cpu0 = gw.proc.cpuTime()
					if gw.admin != "" {
						dropped0 = metricValue(ctx, gw.admin, droppedSeries)
					}
				}
				r := drive(ctx, hc, p.tq.q, c, ws[0].dur)
				a := &accs[i]
				if gw != nil {
					a.cpu += gw.proc.cpuTime() - cpu0
				}
				if dropped0 >= 0 {
					dropped1 := metricValue(ctx, gw.admin, droppedSeries)
					a.dropped += dropped1 - dropped0
					a.noDropped = a.noDropped || dropped1 < 0
				} else {
					a.noDropped = true
				}
				calls1, _ := providerCalls(ctx, p.w.providers)
				a.runs = append(a.runs, r)
				a.calls += calls1 - calls0
				a.redis += h.redisCommands(ctx) - redis0
				a.queries += r.Queries + r.Errors
				a.errs += r.Errors
				if a.firstErr == nil {
					a.firstErr = r.FirstErr
				}
			}
		}
		hc.CloseIdleConnections()
		for i, p := range pairs {
			a, w, tq := accs[i], p.w, p.tq
			rw := row{workload: w.name, note: w.note, target: tq.target, items: w.items, c: c, errors: a.errs, firstErr: a.firstErr,
				rps:       median(a.runs, func(r result) float64 { return r.RPS() }),
				p50:       time.Duration(median(a.runs, func(r result) float64 { return float64(r.P50) })),
				p99:       time.Duration(median(a.runs, func(r result) float64 { return float64(r.P99) })),
				redisPerQ: -1, cpuPerQ: -1}
			if a.queries > 0 {
				rw.callsPerQ = float64(a.calls) / float64(a.queries)
				if h.targets[tq.gw] != nil {
					rw.cpuPerQ = a.cpu / time.Duration(a.queries)
				}
				if strings.HasPrefix(tq.target, "plaza+redis") {
					rw.redisPerQ = float64(a.redis) / float64(a.queries)
				}
				if !a.noDropped {
					rw.droppedPerQ, rw.hasDropped = a.dropped/float64(a.queries), true
				}
			}
			rw.rss = -1 // the raw baseline has no gateway process
			if t := h.targets[tq.gw]; t != nil {
				rw.rss = t.proc.peakRSS()
			}
			h.rows = append(h.rows, rw)
			dropped := ""
			if rw.hasDropped {
				dropped = fmt.Sprintf(" events dropped/q %.2f", rw.droppedPerQ)
			}
			h.logf("  %-22s %-12s c=%-3d %9.0f req/s %6s µs/q  p50 %-9s p99 %-9s calls/q %.2f errors %d%s", w.name, tq.target, c, rw.rps,
				cpuMicros(rw.cpuPerQ), rw.p50.Round(10*time.Microsecond), rw.p99.Round(10*time.Microsecond), rw.callsPerQ, a.errs, dropped)
		}
	}
}

func median(rs []result, f func(result) float64) float64 {
	vs := make([]float64, len(rs))
	for i, r := range rs {
		vs[i] = f(r)
	}
	slices.Sort(vs)
	return vs[len(vs)/2]
}

func (h *harness) gql(target, doc string, vars map[string]any, user bool) targetQuery {
	var hdr http.Header
	if user {
		hdr = http.Header{"Authorization": {"Bearer " + h.token}}
	}
	t := h.targets[target]
	if t == nil {
		return targetQuery{target: target, q: func(context.Context, *http.Client) error { return fmt.Errorf("%s is not running", target) }}
	}
	return targetQuery{target: target, q: graphqlQuery(t.url, doc, vars, hdr)}
}

// floorQuery is the floor's list of 50, checked before timing: its answer
// must be Plaza's, byte for byte (floor.go).
func (h *harness) floorQuery(vars map[string]any) targetQuery {
	tq := h.gql("floor", docListPlaza, vars, false)
	plaza, floor := h.targets["plaza"], h.targets["floor"]
	if plaza == nil || floor == nil {
		return tq
	}
	tq.check = func(ctx context.Context, hc *http.Client) error {
		want, err := postBody(ctx, hc, plaza.url, docListPlaza, vars)
		if err != nil {
			return fmt.Errorf("plaza: %w", err)
		}
		got, err := postBody(ctx, hc, floor.url, docListPlaza, vars)
		if err != nil {
			return err
		}
		if err := sameBytes(got, want); err != nil {
			return err
		}
		h.logf("  the floor's answer is Plaza's, byte for byte (%d bytes)", len(got))
		return nil
	}
	return tq
}

// sameBytes returns nil when got is want, else an error locating the
// first difference.
func sameBytes(got, want []byte) error {
	if bytes.Equal(got, want) {
		return nil
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(i-40, 0)
	return fmt.Errorf("answer differs from Plaza's at byte %d of %d (Plaza's has %d): floor %q…, Plaza %q…",
		i, len(got), len(want), got[from:min(i+40, len(got))], want[from:min(i+40, len(want))])
}

// peersIf returns the peers' queries unless the peers are skipped.
func (h *harness) peersIf(tqs ...targetQuery) []targetQuery {
	if h.o.skipPeers {
		return nil
	}
	return tqs
}

func (h *harness) mainWorkloads(ctx context.Context) error {
	fc := h.base[0]
	all := []int{1, 16, 64}
	detail := h.products[:1]
	list50 := h.products[:50]
	vars50 := map[string]any{"ids": globalProducts(fc.ID, list50)}
	ws := []workload{
		{name: "list of 50 products + store", items: 50, conc: all, dur: h.o.headline, providers: h.base,
			note: "Plaza: nodes(ids) with store; yoga: products(ids) with store; Hive/Mesh: the products and stores batch endpoints as two fields of one document (store IDs given by the client: Mesh cannot follow storeId by itself); raw: products:batchGet then stores:batchGet; " +
				"floor: the least a Go gateway must do for this query (bench/floor.go: receive it, the two signed calls, goccy/go-json decoding, the answer written), whose answer is checked byte for byte against Plaza's before timing",
			targets: append(append(append([]targetQuery{{target: "raw", q: rawProducts(fc, list50, true)}},
				h.plazaQueries("plaza", docListPlaza, vars50, false)...),
				h.floorQuery(vars50),
			), h.peersIf(
				h.gql("hive", docListHive, map[string]any{"ids": list50, "stores": h.storesOf(list50)}, false),
				h.gql("yoga", docListYoga, map[string]any{"ids": list50}, false),
			)...)},
		{name: "product detail (1 level)", items: 1, conc: all, dur: h.o.short, providers: h.base,
			note: "Plaza: node(id); yoga: product(id); Hive/Mesh: products batch endpoint with one id; raw: products:batchGet with one id",
			targets: append([]targetQuery{
				{target: "raw", q: rawProducts(fc, detail, false)},
				h.gql("plaza", docDetailPlaza, map[string]any{"id": globalProducts(fc.ID, detail)[0]}, false),
			}, h.peersIf(
				h.gql("hive", docDetailHive, map[string]any{"ids": detail}, false),
				h.gql("yoga", docDetailYoga, map[string]any{"id": detail[0]}, false),
			)...)},
		{name: "`{ __typename }`", conc: []int{1, 64}, dur: h.o.short,
			note: "the gateway's fixed cost per request (HTTP, parsing, validation, the executor's entry), no provider call; the same document for every gateway",
			targets: append([]targetQuery{h.gql("plaza", docTypename, nil, false)}, h.peersIf(
				h.gql("hive", docTypename, nil, false), h.gql("yoga", docTypename, nil, false))...)},
		{name: "cached: list of 50 + store", items: 50, conc: all, dur: h.o.short, providers: h.base,
			note: "shipped binary, cache warmed by the warm-up: plaza+redis with REDIS_URL set (L1 in front of Redis, events in Redis), plaza+memory without (the in-process cache, events in process)",
			targets: append(h.plazaQueries("plaza+redis", docListPlaza, vars50, false),
				h.plazaQueries("plaza+memory", docListPlaza, vars50, false)...)},
		{name: "cached: product detail", items: 1, conc: all, dur: h.o.short, providers: h.base, note: "shipped binary, REDIS_URL set",
			targets: []targetQuery{h.gql("plaza+redis", docDetailPlaza, map[string]any{"id": globalProducts(fc.ID, detail)[0]}, false)}},
		{name: "50-order query", items: 50, conc: all, dur: h.o.short, providers: h.base,
			note:    "me.orders(first: 50) with items, products and stores (demo-1); Plaza only: the peers have no user orders schema",
			targets: append(h.plazaQueries("plaza", docOrders, nil, true), h.plazaQueries("plaza+redis", docOrders, nil, true)...)},
		{name: "search (8 providers)", conc: all, dur: h.o.short, providers: h.base,
			note:    "search(text: \"milk\", first: 20) over every provider; raw: every provider's search endpoints in parallel; peers: not expressed (no cross-provider merge/ranking)",
			targets: []targetQuery{{target: "raw", q: rawSearch(h.base, "milk")}, h.gql("plaza", docSearch, map[string]any{"text": "milk"}, false)}},
		{name: "home", conc: all, dur: h.o.short, providers: h.base, note: "home(city) for demo-1; Plaza only",
			targets: []targetQuery{h.gql("plaza", docHome, nil, true), h.gql("plaza+redis", docHome, nil, true)}},
	}
	for _, n := range []int{10, 100, 1000} {
		ids := h.products[:n]
		ws = append(ws, workload{name: fmt.Sprintf("scaling: list of %d + store", n), items: n, conc: []int{1, 64}, dur: h.o.short, providers: h.base,
			note: "per-item cost; Plaza: the uncached gateway started with " + strings.Join(scalingLimits, " ") +
				" (the defaults, 100 ids and complexity 5,000, refuse a list of 1,000 with BAD_USER_INPUT / QUERY_TOO_COMPLEX), the same process for every size",
			targets: []targetQuery{
				{target: "raw", q: rawProducts(fc, ids, true)},
				h.gql("plaza-scaling", docListPlaza, map[string]any{"ids": globalProducts(fc.ID, ids)}, false)}})
	}
	for _, w := range ws {
		if !h.selected(w.name) {
			continue
		}
		h.logf("workload: %s", w.name)
		h.measure(ctx, w)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// scalingLimits raise the size limits of the gateway the scaling workloads
// use, so that one query can ask for a list of 1,000 (1,000 ids, about
// 10,000 complexity points with the store).
var scalingLimits = []string{"PLAZA_MAX_IDS=1000", "PLAZA_MAX_COMPLEXITY=20000", "PLAZA_MAX_VARIABLES_BYTES=131072"}

// searchPaths are the search endpoints Plaza's search fans out to, per vertical.
var searchPaths = map[string][]string{
	"grocery":        {httpprovider.PathGrocerySearchProducts, httpprovider.PathGrocerySearchStores},
	"medical":        {httpprovider.PathMedicalSearchDoctors},
	"legal":          {httpprovider.PathLegalSearchLawyers},
	"public-service": {httpprovider.PathPublicSearchServices},
}

// rawSearch calls every provider's search endpoints in parallel, the least a
// gateway must do for one cross-provider search.
func rawSearch(ps []provider, text string) query {
	body, _ := json.Marshal(map[string]any{"text": text, "first": 20})
	return func(ctx context.Context, hc *http.Client) error {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var first error
		for _, p := range ps {
			for _, path := range searchPaths[p.Vertical] {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := providerCall(ctx, hc, p.url(), p.Secret, path, body); err != nil {
						mu.Lock()
						first = err
						mu.Unlock()
					}
				}()
			}
		}
		wg.Wait()
		return first
	}
}

// searchOver measures search over 2, 8 and 32 grocery providers at 20 ms
// each, two gateways over the same provider processes in the same run:
// plaza-index, which reads the embedded supply index fed from the
// providers' catalogues at start (the shipped default) and completes only
// the page's items from their providers, and plaza-fan, which asks every
// provider (the fan-out search had before the index, with the same call
// policy, timeouts and bulkheads). The raw baseline calls every provider's
// search endpoints in parallel from the load generator: the least the
// fan-out must wait for. Then search over 8 of them with one stalled,
// fan-out, against a gateway with a 100 ms provider timeout.
func (h *harness) searchOver(ctx context.Context) error {
	var fan []provider
	for i := 1; i <= 32; i++ {
		fan = append(fan, provider{ID: fmt.Sprintf("fan-%02d", i), Vertical: "grocery", Secret: fmt.Sprintf("bench-fan-%02d", i), Port: freePort(), Latency: 20 * time.Millisecond})
	}
	stalled := provider{ID: "fan-stalled", Vertical: "grocery", Secret: "bench-fan-stalled", Port: freePort(), Latency: 20 * time.Millisecond, Stall: true}
	const stallTimeout = 100 * time.Millisecond
	type set struct {
		name string
		ps   []provider
	}
	sets := slices.DeleteFunc([]set{{searchOverName(2), fan[:2]}, {searchOverName(8), fan[:8]},
		{searchOverName(32), fan}, {"fan-out: 8 @20ms, 1 stalled", append(slices.Clone(fan[:7]), stalled)}},
		func(s set) bool { return !h.selected(s.name) })
	if len(sets) == 0 {
		return nil
	}
	h.logf("starting 33 demo providers (20 ms, one stalled)")
	if err := h.startProviders(ctx, append(slices.Clone(fan), stalled)); err != nil {
		return err
	}
	for _, s := range sets {
		if strings.Contains(s.name, "stalled") {
			t, err := h.startPlaza(ctx, "plaza-fan", s.ps, stallTimeout, false, nil)
			if err != nil {
				return err
			}
			w := workload{name: s.name, conc: []int{1, 16}, dur: h.o.short, providers: s.ps,
				note: "search(text: \"milk\", first: 20) by fan-out; one provider never answers; the partial answer carries its error, so errors are expected and timed; provider timeout 100 ms. " +
					"The gateway runs the shipped call policy: after 5 timeouts in a row (during the warm-up) the provider's circuit breaker opens and its calls fail fast " +
					"(PROVIDER_UNAVAILABLE, 14 calls per query instead of 16) until a half-open probe every 5 s, which pays the timeout once",
				targets: []targetQuery{{target: "plaza-fan", q: graphqlPost(t.url, docSearch, map[string]any{"text": "milk"}, nil, true)}}}
			h.logf("workload: %s", w.name)
			h.measure(ctx, w)
			t.proc.stop()
			delete(h.targets, "plaza-fan")
			continue
		}
		fanGW, err := h.startPlaza(ctx, "plaza-fan", s.ps, providerTimeout, false, nil)
		if err != nil {
			return err
		}
		start := time.Now()
		// Pulling the catalogues (1,000 items per page, 20 ms each) and
		// indexing them takes seconds on a quiet machine, minutes on a
		// loaded one.
		ixGW, err := h.startGateway(ctx, "plaza-index", s.ps, providerTimeout, nil, []string{"--index"}, 15*time.Minute)
		if err != nil {
			h.rows = append(h.rows, row{workload: s.name, target: "plaza-index", errors: 1, firstErr: err})
			fanGW.proc.stop()
			delete(h.targets, fanGW.name)
			continue
		}
		h.logf("  plaza-index: %d providers' catalogues pulled and indexed in %v", len(s.ps), time.Since(start).Round(time.Millisecond))
		w := workload{name: s.name, conc: []int{1, 16, 64}, dur: h.o.short, providers: s.ps,
			note: "search(text: \"milk\", first: 20) with each product's live price and store name, over grocery providers answering after 20 ms (about 1,200 items each). " +
				"plaza-index: the embedded supply index, fed at start by pulling every provider's catalogue over the contract, then only the page's items completed from their providers (≤ 20 calls); " +
				"plaza-fan: every provider asked (products and stores search), as before the index, same call policy; both uncached (no cross-request cache), same provider processes, interleaved; " +
				"raw: every provider's products and stores search endpoints called in parallel by the load generator (first: 20). Errors count partial answers",
			targets: []targetQuery{{target: "raw", q: rawSearch(s.ps, "milk")},
				h.gql("plaza-index", docSearchPage, map[string]any{"text": "milk"}, false),
				h.gql("plaza-fan", docSearchPage, map[string]any{"text": "milk"}, false)}}
		h.logf("workload: %s", w.name)
		h.measure(ctx, w)
		for _, t := range []*target{fanGW, ixGW} {
			t.proc.stop()
			delete(h.targets, t.name)
		}
	}
	return nil
}

func searchOverName(n int) string { return fmt.Sprintf("search over %d providers @20ms", n) }

// inProcessSizes are the in-process search workloads: providers and the
// items each publishes. 10^6 providers of 20 items (2·10^7 items) do not
// fit the embedded index in this machine's memory and time (10^6
// providers of 1 item: 3.0 GiB of peak memory and 277 s of one core fed
// and compacted, about 3 KiB and 280 µs per item): at 10^6 each
// publishes 2, its store and one product (a catalogue of 1 is the store
// alone, which "milk" does not find), so the index holds 2·10^6 items,
// 10× the 10^4 row's, in about 6 GiB.
var inProcessSizes = []struct{ n, items int }{{32, 20}, {10_000, 20}, {1_000_000, 2}}

func inProcessName(n, items int) string {
	return fmt.Sprintf("search over %s in-process providers (%d items each)", scaleN(n), items)
}

// searchInProcess measures the same search page over n in-process
// synthetic grocery providers of 20 items each (bench serve-gateway
// -generated: a connectors.Source over the directory generator's
// providers, the index fed from their catalogues through the catalogue
// contract), a gateway per size, on the gateway's core. Provider calls
// are counted at the providers (the gateway's -stats-addr). The search
// latency must not grow with the number of providers: the page's cost is
// the index's and the ≤ 20 completion calls'.
//
// Every size's gateway is started (fed) first and all are measured
// together, their runs interleaved (measureAll): the growth is a ratio of
// two sizes' p50s, and on a shared machine runs minutes apart differed
// more than the sizes did (the 10^6 row's CPU per search 1,235 and
// 3,155 µs in two runs of one build, 20 minutes apart).
func (h *harness) searchInProcess(ctx context.Context) error {
	var ws []workload
	var started []*target
	defer func() {
		for _, t := range started {
			t.proc.stop()
			delete(h.targets, t.name)
		}
	}()
	for _, size := range inProcessSizes {
		n, items := size.n, size.items
		name := inProcessName(n, items)
		if !h.selected(name) {
			continue
		}
		stats := provider{ID: "in-process", Port: freePort()}
		start := time.Now()
		h.logf("workload: %s (feeding the index: %d providers × %d items)", name, n, items)
		gw := fmt.Sprintf("plaza-gen-%d", n)
		t, err := h.startGateway(ctx, gw, nil, providerTimeout, nil, []string{"--generated", strconv.Itoa(n),
			"--items-per-provider", strconv.Itoa(items), "--stats-addr", fmt.Sprintf("127.0.0.1:%d", stats.Port)}, 60*time.Minute)
		if err != nil {
			h.rows = append(h.rows, row{workload: name, target: "plaza-gen", errors: 1, firstErr: err})
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		started = append(started, t)
		h.logf("  %d providers' catalogues indexed in %v (%v of CPU); gateway RSS %.0f MiB", n, time.Since(start).Round(time.Second),
			t.proc.cpuTime().Round(time.Second), float64(t.proc.peakRSS())/(1<<20))
		tq := h.gql(gw, docSearchPage, map[string]any{"text": "milk"}, false)
		tq.target, tq.gw = "plaza-gen", gw
		ws = append(ws, workload{name: name, conc: []int{1, 16}, dur: h.o.short, providers: []provider{stats},
			note: "search(text: \"milk\", first: 20) with live price and store name over N in-process synthetic grocery providers " +
				"(names and cities from the directory generator, catalogues of the stated size built by demo.WithItems), the embedded index fed from their catalogues through the catalogue contract at start " +
				"(catalog.IndexGenerated, as `plaza providers generate --items-per-provider` feeds it); the gateway on its core, GOMAXPROCS=1; provider calls counted at the providers; " +
				"every size's gateway fed first, then all measured with their runs interleaved",
			targets: []targetQuery{tq}})
	}
	if len(ws) > 0 {
		h.logf("measuring %d sizes, runs interleaved", len(ws))
		h.measureAll(ctx, ws)
	}
	return ctx.Err()
}

// selected reports whether the workload called name is to run (-only).
func (h *harness) selected(name string) bool {
	return h.o.only == nil || h.o.only.MatchString(name)
}
