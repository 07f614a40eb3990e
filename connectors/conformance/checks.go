package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

// call bounds one call of a check.
func (e *env) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, e.cfg.callTimeout)
}

// sampleIDs discovers up to n catalogue IDs with an empty-text search.
func (e *env) sampleIDs(ctx context.Context, n int) ([]string, error) {
	ctx, cancel := e.call(ctx)
	defer cancel()
	p, err := e.v.search(ctx, connectors.Query{First: n})
	if err != nil {
		return nil, fmt.Errorf("search with empty text: %w", err)
	}
	if len(p.ids) == 0 {
		return nil, skipf("an empty-text search finds no %s to test with", e.v.entity)
	}
	return p.ids, nil
}

func (e *env) batch(ctx context.Context, ids []string) ([]item, error) {
	ctx, cancel := e.call(ctx)
	defer cancel()
	res, err := e.v.batch(ctx, ids)
	if err == nil && len(res) != len(ids) {
		err = fmt.Errorf("%d results for %d ids", len(res), len(ids))
	}
	return res, err
}

// key returns a fresh idempotency key.
func (e *env) key(what string) string {
	return fmt.Sprintf("conformance-%s-%016x", what, e.rng.Uint64())
}

// expectIDs checks that each result is the value of the ID asked at its
// position.
func expectIDs(res []item, ids []string) error {
	for i, r := range res {
		if r.err != nil {
			return fmt.Errorf("result %d (id %s) is an error: %v", i, ids[i], r.err)
		}
		if r.id != ids[i] {
			return fmt.Errorf("result %d is %s, want %s (asked %v)", i, r.id, ids[i], ids)
		}
	}
	return nil
}

func checkBatchOrder(ctx context.Context, e *env) (string, error) {
	ids, err := e.sampleIDs(ctx, 20)
	if err != nil {
		return "", err
	}
	if len(ids) < 2 {
		return "", skipf("needs two %ss, found %d", e.v.entity, len(ids))
	}
	shuffled := slices.Clone(ids)
	for slices.Equal(shuffled, ids) {
		e.rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	}
	res, err := e.batch(ctx, shuffled)
	if err != nil {
		return "", err
	}
	if err := expectIDs(res, shuffled); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d shuffled %s ids came back in order", len(ids), e.v.entity), nil
}

func checkBatchDuplicates(ctx context.Context, e *env) (string, error) {
	ids, err := e.sampleIDs(ctx, 2)
	if err != nil {
		return "", err
	}
	a, b := ids[0], ids[len(ids)-1]
	asked := []string{a, b, a, a}
	res, err := e.batch(ctx, asked)
	if err != nil {
		return "", err
	}
	if err := expectIDs(res, asked); err != nil {
		return "", err
	}
	return fmt.Sprintf("%v answered position by position", asked), nil
}

func checkBatchUnknown(ctx context.Context, e *env) (string, error) {
	ids, err := e.sampleIDs(ctx, 2)
	if err != nil {
		return "", err
	}
	unknown := e.key("unknown-id")
	asked := []string{ids[0], unknown, ids[len(ids)-1]}
	res, err := e.batch(ctx, asked)
	if err != nil {
		return "", fmt.Errorf("one unknown id failed the whole batch: %w", err)
	}
	if k := connectors.KindOf(res[1].err); k != connectors.KindNotFound {
		return "", fmt.Errorf("the unknown id's result has error kind %q (%v), want NOT_FOUND", k, res[1].err)
	}
	res[1] = item{id: unknown}
	if err := expectIDs(res, asked); err != nil {
		return "", err
	}
	return "the unknown id alone is NOT_FOUND; its neighbours are answered", nil
}

func checkBatchEmpty(ctx context.Context, e *env) (string, error) {
	res, err := e.batch(ctx, []string{})
	if err != nil {
		return "", fmt.Errorf("empty batch: %w", err)
	}
	if len(res) != 0 {
		return "", fmt.Errorf("empty batch answered %d results", len(res))
	}
	if e.cfg.wire == nil {
		return "no error, no results", nil
	}
	// The HTTP client may answer an empty batch without a call, so ask the
	// provider itself.
	r, err := e.cfg.wire.signed(ctx, e.cfg.callTimeout, pathsOf(e.desc.Vertical).batch, []byte(`{"ids":[]}`), nil)
	if err != nil {
		return "", err
	}
	var out struct {
		Results []json.RawMessage `json:"results"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &out) != nil || out.Results == nil || len(out.Results) != 0 {
		return "", fmt.Errorf("POST %s with no ids: status %d, body %.200q; want 200 {\"results\":[]}", pathsOf(e.desc.Vertical).batch, r.status, r.body)
	}
	return `no error, no results; on the wire 200 {"results":[]}`, nil
}

// searchAll pages through q with page size first and returns the IDs in
// order. It fails on an ID seen twice, a Total that changes, or more pages
// than items.
func (e *env) searchAll(ctx context.Context, q connectors.Query, first, total int) (ids []string, pages [][]string, cursors []string, err error) {
	seen := map[string]int{}
	q.First, q.After = first, ""
	for n := 0; ; n++ {
		if n > total+1 {
			return nil, nil, nil, fmt.Errorf("more than %d pages of %d for %d items: the cursor does not advance", n, first, total)
		}
		cctx, cancel := e.call(ctx)
		p, err := e.v.search(cctx, q)
		cancel()
		if err != nil {
			return nil, nil, nil, fmt.Errorf("page %d (first %d): %w", n+1, first, err)
		}
		if p.total != total {
			return nil, nil, nil, fmt.Errorf("page %d says total %d, the first page said %d", n+1, p.total, total)
		}
		if len(p.ids) > first {
			return nil, nil, nil, fmt.Errorf("page %d has %d items, asked for at most %d", n+1, len(p.ids), first)
		}
		for _, id := range p.ids {
			if at, dup := seen[id]; dup {
				return nil, nil, nil, fmt.Errorf("%s %s appears on page %d and again on page %d", e.v.entity, id, at, n+1)
			}
			seen[id] = n + 1
		}
		ids = append(ids, p.ids...)
		pages = append(pages, p.ids)
		if p.next == "" {
			return ids, pages, cursors, nil
		}
		if len(p.ids) == 0 {
			return nil, nil, nil, fmt.Errorf("page %d is empty but has a next cursor", n+1)
		}
		cursors = append(cursors, p.next)
		q.After = p.next
	}
}

func checkPagination(ctx context.Context, e *env) (string, error) {
	qctx, cancel := e.call(ctx)
	q, err := e.v.pagingQuery(qctx)
	cancel()
	if err != nil {
		return "", err
	}
	probe := q
	probe.First = 1
	pctx, cancel := e.call(ctx)
	p, err := e.v.search(pctx, probe)
	cancel()
	if err != nil {
		return "", fmt.Errorf("search: %w", err)
	}
	total := p.total
	if total < 3 {
		return "", skipf("a search matching %d items cannot show paging", total)
	}
	if len(p.ids) > 0 && total > 1 && p.next == "" {
		return "", fmt.Errorf("first page of 1 of %d items has no next cursor", total)
	}
	// Small pages, but at most about 25 of them so slow providers finish.
	size := max(2, (total+24)/25)
	small, pages, cursors, err := e.searchAll(ctx, q, size, total)
	if err != nil {
		return "", err
	}
	big, _, _, err := e.searchAll(ctx, q, total, total)
	if err != nil {
		return "", fmt.Errorf("one big page: %w", err)
	}
	if len(small) != total {
		return "", fmt.Errorf("paging by %d found %d items, total says %d", size, len(small), total)
	}
	if !slices.Equal(small, big) {
		return "", fmt.Errorf("paging by %d and one page of %d disagree: %v", size, total, firstDiff(small, big))
	}
	// The same cursor must give the same page again.
	if len(cursors) > 0 {
		again := q
		again.First, again.After = size, cursors[0]
		for range 2 {
			cctx, cancel := e.call(ctx)
			p, err := e.v.search(cctx, again)
			cancel()
			if err != nil {
				return "", fmt.Errorf("re-reading page 2: %w", err)
			}
			if !slices.Equal(p.ids, pages[1]) {
				return "", fmt.Errorf("page 2 read again is %v, first read %v", p.ids, pages[1])
			}
		}
	}
	return fmt.Sprintf("%d items in %d pages of %d equal one page of %d; no repeats, total stable", total, len(pages), size, total), nil
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("item %d is %s vs %s", i, a[i], b[i])
		}
	}
	return fmt.Sprintf("%d vs %d items", len(a), len(b))
}

const badCursor = "conformance:not-a-cursor"

func checkBadCursor(ctx context.Context, e *env) (string, error) {
	ctx, cancel := e.call(ctx)
	defer cancel()
	_, err := e.v.search(ctx, connectors.Query{First: 2, After: badCursor})
	if err == nil {
		return "", fmt.Errorf("a search after %q succeeded; want BAD_USER_INPUT", badCursor)
	}
	if k := connectors.KindOf(err); k != connectors.KindInvalid {
		return "", fmt.Errorf("a search after %q failed with %s (%v); want BAD_USER_INPUT", badCursor, k, err)
	}
	return "refused with BAD_USER_INPUT", nil
}

func (e *env) prepare(ctx context.Context, scarce bool) (*mutation, error) {
	ctx, cancel := e.call(ctx)
	defer cancel()
	return e.v.prepare(ctx, e.cfg.user, scarce)
}

func (e *env) do(ctx context.Context, m *mutation, key string) (item, error) {
	ctx, cancel := e.call(ctx)
	defer cancel()
	return m.do(ctx, key)
}

func (e *env) level(ctx context.Context, m *mutation) (int, error) {
	ctx, cancel := e.call(ctx)
	defer cancel()
	n, err := m.level(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading back the resource: %w", err)
	}
	return n, nil
}

// count returns how many of user's records have id (all of them when id is
// empty).
func (e *env) count(ctx context.Context, user, id string) (int, error) {
	ctx, cancel := e.call(ctx)
	defer cancel()
	list, err := e.v.list(ctx, user)
	if err != nil {
		return 0, fmt.Errorf("list of %s: %w", user, err)
	}
	n := 0
	for _, r := range list {
		if id == "" || r.id == id {
			n++
		}
	}
	return n, nil
}

// undo reverts creations where the contract allows it (best effort: a
// failure here does not fail the check).
func (e *env) undo(ctx context.Context, m *mutation, ids ...string) {
	if m.undo == nil {
		return
	}
	for _, id := range ids {
		cctx, cancel := e.call(ctx)
		_ = m.undo(cctx, id)
		cancel()
	}
}

func checkIdempotency(ctx context.Context, e *env) (string, error) {
	m, err := e.prepare(ctx, false)
	if err != nil {
		return "", err
	}
	before, err := e.count(ctx, e.cfg.user, "")
	if err != nil {
		return "", err
	}
	var lvl int
	if m.level != nil {
		if lvl, err = e.level(ctx, m); err != nil {
			return "", err
		}
	}
	key := e.key("idem")
	first, err := e.do(ctx, m, key)
	if err != nil {
		return "", fmt.Errorf("%s: %w", m.what, err)
	}
	defer e.undo(context.WithoutCancel(ctx), m, first.id)
	second, err := e.do(ctx, m, key)
	if err != nil {
		return "", fmt.Errorf("%s again with the same key: %w", m.what, err)
	}
	if second.id != first.id || !reflect.DeepEqual(first.value, second.value) {
		return "", fmt.Errorf("the same key gave %+v, then %+v", first.value, second.value)
	}
	after, err := e.count(ctx, e.cfg.user, "")
	if err != nil {
		return "", err
	}
	if after != before+1 {
		return "", fmt.Errorf("the user's list went from %d to %d items after one creation sent twice", before, after)
	}
	msg := fmt.Sprintf("%s sent twice with one key: same %s, list grew by 1", m.what, first.id)
	if m.level != nil {
		now, err := e.level(ctx, m)
		if err != nil {
			return "", err
		}
		if now != lvl-m.cost {
			return "", fmt.Errorf("the resource went from %d to %d, want %d (taken once)", lvl, now, lvl-m.cost)
		}
		msg += fmt.Sprintf(", resource %d -> %d", lvl, now)
	}
	return msg, nil
}

// race runs n creations at once, the i-th with key(i).
func (e *env) race(ctx context.Context, m *mutation, n int, key func(i int) string) ([]item, []error) {
	res, errs := make([]item, n), make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			res[i], errs[i] = e.do(ctx, m, key(i))
		})
	}
	close(start)
	wg.Wait()
	return res, errs
}

func checkConcurrency(ctx context.Context, e *env) (string, error) {
	m, err := e.prepare(ctx, true)
	if err != nil {
		return "", err
	}
	n := max(e.cfg.concurrency, 2)
	if m.level == nil {
		return raceOneKey(ctx, e, m, n)
	}
	lvl, err := e.level(ctx, m)
	if err != nil {
		return "", err
	}
	if m.resize != nil {
		// Ask for about twice what is left, spread over n racers.
		q := max(1, (2*lvl+n-1)/n)
		if q > 100 {
			q = 100 // a sane per-line limit; more racers instead
		}
		if n*q <= lvl {
			n = lvl/q + 2
		}
		if n > 256 {
			return "", skipf("%d units in stock is too many to race for", lvl)
		}
		m = m.resize(q)
	} else if lvl != 1 {
		return "", skipf("the resource of %s is %d, not one free unit", m.what, lvl)
	}
	base := e.key("race")
	res, errs := e.race(ctx, m, n, func(i int) string { return fmt.Sprintf("%s-%d", base, i) })
	var won []string
	for i, err := range errs {
		switch {
		case err == nil:
			won = append(won, res[i].id)
		case connectors.KindOf(err) != connectors.KindConflict:
			e.undo(context.WithoutCancel(ctx), m, won...)
			return "", fmt.Errorf("racer %d failed with %s (%v); a lost race is CONFLICT", i, connectors.KindOf(err), err)
		}
	}
	defer e.undo(context.WithoutCancel(ctx), m, won...)
	now, err := e.level(ctx, m)
	if err != nil {
		return "", err
	}
	taken := len(won) * m.cost
	switch {
	case taken > lvl:
		return "", fmt.Errorf("oversold: %d of %d racers won %d units, only %d were left", len(won), n, taken, lvl)
	case now != lvl-taken:
		return "", fmt.Errorf("%d racers won %d units of %d, but %d are left (want %d)", len(won), taken, lvl, now, lvl-taken)
	case len(won) == 0:
		return "", fmt.Errorf("none of %d racers won %s, %d units were left", n, m.what, lvl)
	}
	return fmt.Sprintf("%d racers for %d units of %s: %d won, the rest CONFLICT, %d left", n, lvl, m.what, len(won), now), nil
}

// raceOneKey is the concurrency check for creations that take no scarce
// resource: n concurrent sends of one request with one key create it once.
func raceOneKey(ctx context.Context, e *env, m *mutation, n int) (string, error) {
	before, err := e.count(ctx, e.cfg.user, "")
	if err != nil {
		return "", err
	}
	key := e.key("race")
	res, errs := e.race(ctx, m, n, func(int) string { return key })
	for i, err := range errs {
		if err != nil {
			return "", fmt.Errorf("concurrent send %d of one key failed: %w", i, err)
		}
		if res[i].id != res[0].id {
			return "", fmt.Errorf("concurrent sends of one key created %s and %s", res[0].id, res[i].id)
		}
	}
	defer e.undo(context.WithoutCancel(ctx), m, res[0].id)
	after, err := e.count(ctx, e.cfg.user, "")
	if err != nil {
		return "", err
	}
	if after != before+1 {
		return "", fmt.Errorf("%d concurrent sends of one key grew the list from %d to %d", n, before, after)
	}
	return fmt.Sprintf("%d concurrent sends of one %s with one key created %s once", n, m.what, res[0].id), nil
}

func checkUserLists(ctx context.Context, e *env) (string, error) {
	m, err := e.prepare(ctx, false)
	if err != nil {
		return "", err
	}
	mine, err := e.do(ctx, m, e.key("lists"))
	if err != nil {
		return "", fmt.Errorf("%s: %w", m.what, err)
	}
	defer e.undo(context.WithoutCancel(ctx), m, mine.id)
	if mine.user != e.cfg.user {
		return "", fmt.Errorf("created %s belongs to %q, want %q", mine.id, mine.user, e.cfg.user)
	}
	other := e.cfg.user + "-other"
	for _, u := range []string{e.cfg.user, other} {
		lctx, cancel := e.call(ctx)
		list, err := e.v.list(lctx, u)
		cancel()
		if err != nil {
			return "", fmt.Errorf("list of %s: %w", u, err)
		}
		has := false
		for _, r := range list {
			if r.user != u {
				return "", fmt.Errorf("the list of %s holds %s of %q", u, r.id, r.user)
			}
			if err := connectors.Validate(r.value); err != nil {
				return "", fmt.Errorf("the list of %s holds %s: %w", u, r.id, err)
			}
			has = has || r.id == mine.id
		}
		if want := u == e.cfg.user; has != want {
			return "", fmt.Errorf("the list of %s holds %s: %v, want %v", u, mine.id, has, want)
		}
	}
	rctx, cancel := e.call(ctx)
	res, err := e.v.records(rctx, []string{mine.id})
	cancel()
	if err != nil || len(res) != 1 || res[0].err != nil || res[0].user != e.cfg.user {
		return "", fmt.Errorf("batch get of %s: %v %+v", mine.id, err, res)
	}
	return fmt.Sprintf("%s is in %s's list and batch get, not in %s's", mine.id, e.cfg.user, other), nil
}

func checkDeadline(ctx context.Context, e *env) (string, error) {
	grace := e.cfg.grace
	// A call whose deadline has passed must not start work.
	past, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Millisecond))
	start := time.Now()
	_, err := e.v.search(past, connectors.Query{First: 5})
	took := time.Since(start)
	cancel()
	switch {
	case took > grace:
		return "", fmt.Errorf("a call past its deadline took %v", took.Round(time.Millisecond))
	case connectors.KindOf(err) != connectors.KindTimeout:
		return "", fmt.Errorf("a call past its deadline returned %v, want a PROVIDER_TIMEOUT (or context deadline) error", err)
	}
	// A short deadline must be kept (an answer or a timeout, in time).
	const short = 50 * time.Millisecond
	sctx, cancel := context.WithTimeout(ctx, short)
	start = time.Now()
	_, err = e.v.search(sctx, connectors.Query{Text: "a", First: 5})
	took = time.Since(start)
	cancel()
	if took > short+grace {
		return "", fmt.Errorf("a call with a %v deadline took %v", short, took.Round(time.Millisecond))
	}
	if err != nil && connectors.KindOf(err) != connectors.KindTimeout {
		return "", fmt.Errorf("a call with a %v deadline failed with %v", short, err)
	}
	if e.cfg.wire == nil {
		return fmt.Sprintf("an expired deadline is PROVIDER_TIMEOUT at once; a %v deadline took %v", short, took.Round(time.Millisecond)), nil
	}
	return checkDeadlineWire(ctx, e, short)
}

func checkErrorShape(ctx context.Context, e *env) (string, error) {
	cctx, cancel := e.call(ctx)
	_, err := e.v.search(cctx, connectors.Query{First: 1, After: badCursor})
	cancel()
	if err := typedError(err, connectors.KindInvalid); err != nil {
		return "", fmt.Errorf("a bad cursor: %w", err)
	}
	ids, err := e.sampleIDs(ctx, 1)
	if err != nil {
		return "", err
	}
	res, err := e.batch(ctx, []string{ids[0], e.key("unknown-id")})
	if err != nil {
		return "", fmt.Errorf("a batch with an unknown id: %w", err)
	}
	if err := typedError(res[1].err, connectors.KindNotFound); err != nil {
		return "", fmt.Errorf("an unknown id: %w", err)
	}
	if e.cfg.wire == nil {
		return "bad cursor and unknown id give typed errors with messages", nil
	}
	return checkErrorShapeWire(ctx, e)
}

// typedError checks err is a *connectors.Error of kind with a message.
func typedError(err error, kind connectors.Kind) error {
	var ce *connectors.Error
	switch {
	case err == nil:
		return fmt.Errorf("no error, want %s", kind)
	case !errors.As(err, &ce):
		return fmt.Errorf("untyped error %v, want a *connectors.Error of kind %s", err, kind)
	case ce.Kind != kind:
		return fmt.Errorf("kind %s (%v), want %s", ce.Kind, err, kind)
	case strings.TrimSpace(ce.Message) == "":
		return fmt.Errorf("%s error without a message", kind)
	}
	return nil
}

func checkSignature(ctx context.Context, e *env) (string, error) {
	if e.cfg.wire == nil {
		return "", skipf("in-process connector: signatures are checked over HTTP (WithHTTP / --url)")
	}
	return checkSignatureWire(ctx, e)
}

func (e *env) maxBatch() int {
	switch {
	case e.cfg.maxBatch > 0:
		return e.cfg.maxBatch
	case e.desc.MaxBatch > 0:
		return e.desc.MaxBatch
	}
	return fallbackMaxBatch
}

func checkResponseSize(ctx context.Context, e *env) (string, error) {
	n := e.maxBatch()
	found, err := e.sampleIDs(ctx, n)
	if err != nil {
		return "", err
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = found[i%len(found)]
	}
	if e.cfg.wire != nil {
		return checkResponseSizeWire(ctx, e, ids)
	}
	res, err := e.batch(ctx, ids)
	if err != nil {
		return "", fmt.Errorf("a batch of %d: %w", n, err)
	}
	values := make([]any, len(res))
	for i, r := range res {
		values[i] = r.value
	}
	body, err := json.Marshal(map[string]any{"results": values})
	if err != nil {
		return "", err
	}
	if int64(len(body)) > e.cfg.maxResp {
		return "", fmt.Errorf("a batch of %d is %d bytes as JSON, over the %d-byte cap", n, len(body), e.cfg.maxResp)
	}
	return fmt.Sprintf("a batch of %d is %d bytes as JSON (cap %d)", n, len(body), e.cfg.maxResp), nil
}
