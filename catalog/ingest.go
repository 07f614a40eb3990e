// Package catalog is the gateway's side of catalogue publishing (contract
// 1.2): it takes providers' pushes (Ingest, and Handler for
// POST /providers/{id}/catalog), pulls the catalogue of providers that
// serve it (Syncer: the first sync after certification, and catch-up), and
// writes both into the supply index.
//
// The provider is always the one the credential names: the signature on
// an HTTP push, the wiring root for an in-process provider. An item that
// names another provider is refused, whoever signed the push. Each push is
// held to the provider's quotas from its directory limits (MaxItems live
// items, PushesPerMinute pushes); a push over either is refused whole with
// a clear error, and nothing of it is indexed. A malformed change (unknown
// kind, missing id, no name, no version, ...) is refused on its own with
// an error saying why; the rest of the push is applied.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/ratelimit"
	"github.com/plaza-gateway/plaza/supply"
)

// Defaults of the quotas, for providers whose directory limits leave them
// at zero.
const (
	// DefaultMaxItems is large enough for a supermarket chain's range in a
	// few cities; a provider that needs more asks an operator.
	DefaultMaxItems = 100_000
	// DefaultPushesPerMinute allows a push every 100 ms on average: a
	// provider publishing each change as it happens, batched.
	DefaultPushesPerMinute = 600
)

// Limits returns a provider's directory limits; ok is false for a
// provider the directory does not know (the defaults apply).
type Limits func(provider string) (l directory.Limits, ok bool)

// SnapshotLimits reads limits from a directory's current snapshot (an
// atomic load and a map lookup: nothing per push is stored).
func SnapshotLimits(snapshot func() *directory.Snapshot) Limits {
	return func(provider string) (directory.Limits, bool) {
		s := snapshot()
		if s == nil {
			return directory.Limits{}, false
		}
		e, ok := s.Lookup(provider)
		if !ok {
			return directory.Limits{}, false
		}
		return e.Limits(), true
	}
}

// live is what the item cap needs of the index; both supply backends have
// it (supply.Memory.Live, supply.Postgres.Live). Without it the cap counts
// every upsert as a new item.
type live interface {
	Live(ctx context.Context, provider string, refs []supply.Ref) (int, []bool, error)
}

// Ingest applies providers' pushes to the supply index under their
// quotas. It is safe for concurrent use.
type Ingest struct {
	index   supply.Index
	limits  Limits
	rate    ratelimit.Store
	now     func() time.Time
	applied func(ctx context.Context, provider string, at time.Time)

	// locks serialise the quota check and the write of one provider's
	// pushes on this instance (a fixed stripe of mutexes, not one per
	// provider, so memory does not grow with the number of providers).
	locks [64]sync.Mutex
	seed  maphash.Seed
}

// Option configures New.
type Option func(*Ingest)

// WithRateStore keeps the pushes-per-minute buckets in s: a
// ratelimit.Redis shared by every instance, so the quota holds across
// them. Default: a bounded in-process store.
func WithRateStore(s ratelimit.Store) Option { return func(in *Ingest) { in.rate = s } }

// WithApplied calls f after each batch of provider's (pushed or pulled)
// reaches the index: merchant growth's catalogue freshness.
func WithApplied(f func(ctx context.Context, provider string, at time.Time)) Option {
	return func(in *Ingest) { in.applied = f }
}

// New returns an ingest writing to index, with quotas from limits.
func New(index supply.Index, limits Limits, opts ...Option) *Ingest {
	in := &Ingest{index: index, limits: limits, now: time.Now, seed: maphash.MakeSeed()}
	for _, o := range opts {
		o(in)
	}
	if in.rate == nil {
		in.rate = ratelimit.NewMemory(0, nil)
	}
	if in.limits == nil {
		in.limits = func(string) (directory.Limits, bool) { return directory.Limits{}, false }
	}
	return in
}

// Index is the index the ingest writes to.
func (in *Ingest) Index() supply.Index { return in.index }

var _ connectors.Publisher = (*Ingest)(nil)

// Publish implements connectors.Publisher for a push by provider, whose
// identity the caller has established (a verified signature, or the wiring
// root for an in-process provider). It returns a *connectors.Error when
// the push is refused whole, nothing of it indexed:
//   - KindInvalid: more than connectors.MaxCatalogBatch changes;
//   - KindRateLimited (RetryAfterMs set): over PushesPerMinute;
//   - KindForbidden: the push would take the provider over MaxItems;
//   - KindUnavailable: the index failed (retry).
//
// Otherwise the ack holds one outcome per change, upserts then deletes.
func (in *Ingest) Publish(ctx context.Context, provider string, b connectors.CatalogBatch) (connectors.CatalogAck, error) {
	return in.apply(ctx, provider, b, true)
}

// apply is Publish; charge is false for the pages the gateway pulls
// itself, which are not the provider's pushes.
func (in *Ingest) apply(ctx context.Context, provider string, b connectors.CatalogBatch, charge bool) (connectors.CatalogAck, error) {
	if !connectors.ValidProviderID(provider) {
		return connectors.CatalogAck{}, connectors.Errorf(connectors.KindInvalid, "provider id %q is not valid", provider)
	}
	if n := b.Len(); n > connectors.MaxCatalogBatch {
		return connectors.CatalogAck{}, connectors.Errorf(connectors.KindInvalid,
			"batch of %d changes: at most %d per push; split it into several pushes", n, connectors.MaxCatalogBatch)
	}
	lim, _ := in.limits(provider)
	if charge {
		if err := in.chargePush(ctx, provider, lim); err != nil {
			return connectors.CatalogAck{}, err
		}
	}
	acks, batch, at := in.prepare(provider, b)
	mu := &in.locks[maphash.String(in.seed, provider)%uint64(len(in.locks))]
	mu.Lock()
	defer mu.Unlock()
	if err := in.checkItems(ctx, provider, lim, batch); err != nil {
		return connectors.CatalogAck{}, err
	}
	res, err := in.index.Apply(ctx, batch)
	if err != nil {
		return connectors.CatalogAck{}, &connectors.Error{Kind: connectors.KindUnavailable, Retryable: true, RetryAfterMs: 1000,
			Message: "the catalogue index is unavailable; nothing of this push was indexed, retry", Err: err}
	}
	if len(res.Results) != len(at) {
		return connectors.CatalogAck{}, &connectors.Error{Kind: connectors.KindInternal, Message: "internal error",
			Err: fmt.Errorf("catalog: index acknowledged %d of %d changes", len(res.Results), len(at))}
	}
	if in.applied != nil {
		in.applied(ctx, provider, in.now())
	}
	fillAcks(acks, at, res.Results)
	return tally(acks), nil
}

// fillAcks records the index's results: results[i] is the outcome of the
// change acknowledged at acks[at[i]].
func fillAcks(acks []connectors.CatalogItemAck, at []int, results []supply.Result) {
	for i, r := range results {
		a := &acks[at[i]]
		a.Version = r.Ref.Version
		switch r.Outcome {
		case supply.Indexed:
			a.Outcome = connectors.CatalogIndexed
		case supply.Superseded:
			a.Outcome = connectors.CatalogSuperseded
		default:
			a.Outcome, a.Error = connectors.CatalogRejected, itemError(connectors.KindInvalid, badItemMessage(r.Err))
		}
	}
}

// chargePush takes one push from the provider's pushes-per-minute bucket.
// A failing shared store lets the push through, as the request rate
// limiter does: the quota protects the index, not correctness.
func (in *Ingest) chargePush(ctx context.Context, provider string, lim directory.Limits) error {
	ppm := lim.PushesPerMinute
	if ppm <= 0 {
		ppm = DefaultPushesPerMinute
	}
	res, err := in.rate.Allow(ctx, "catalog-push:"+provider, ratelimit.Limit{Rate: ppm, Period: time.Minute, Burst: ppm})
	if err != nil || res.Allowed {
		return nil
	}
	return &connectors.Error{Kind: connectors.KindRateLimited, Retryable: true, RetryAfterMs: max(res.RetryAfter.Milliseconds(), 1),
		Message: fmt.Sprintf("catalogue quota: at most %d pushes per minute; nothing of this push was indexed, retry after the Retry-After delay", ppm)}
}

// checkItems refuses a push that would leave the provider with more live
// items than its cap. Updates of items it already has do not count: a
// provider at its cap can still change prices and stock.
func (in *Ingest) checkItems(ctx context.Context, provider string, lim directory.Limits, b supply.Batch) error {
	limit := lim.MaxItems
	if limit <= 0 {
		limit = DefaultMaxItems
	}
	if len(b.Upserts) == 0 {
		return nil
	}
	refs := make([]supply.Ref, 0, len(b.Upserts)+len(b.Deletes))
	for i := range b.Upserts {
		refs = append(refs, b.Upserts[i].Ref())
	}
	refs = append(refs, b.Deletes...)
	lv, ok := in.index.(live)
	total, isLive := 0, make([]bool, len(refs))
	if ok {
		var err error
		if total, isLive, err = lv.Live(ctx, provider, refs); err != nil {
			return &connectors.Error{Kind: connectors.KindUnavailable, Retryable: true, RetryAfterMs: 1000,
				Message: "the catalogue index is unavailable; nothing of this push was indexed, retry", Err: err}
		}
	}
	// Fast path: even if every upsert were new, the cap holds.
	if total+len(b.Upserts) <= limit {
		return nil
	}
	after := total
	seen := make(map[string]bool, len(refs))
	for i, r := range refs {
		key := r.Key()
		if seen[key] {
			continue
		}
		seen[key] = true
		switch {
		case i < len(b.Upserts) && !isLive[i]:
			after++
		case i >= len(b.Upserts) && isLive[i]:
			after--
		}
	}
	if after > limit {
		return connectors.Errorf(connectors.KindForbidden,
			"catalogue quota: this push would leave %d items published, the cap is %d; nothing of it was indexed (delete items, or ask the operator for a higher cap)", after, limit)
	}
	return nil
}

// prepare checks what the index cannot (the kind is the contract's, the
// item is the provider's own) and maps the rest to a supply batch. at[i]
// is the ack of the batch's i-th change, upserts first.
func (in *Ingest) prepare(provider string, b connectors.CatalogBatch) ([]connectors.CatalogItemAck, supply.Batch, []int) {
	acks := make([]connectors.CatalogItemAck, 0, b.Len())
	var batch supply.Batch
	at := make([]int, 0, b.Len())
	batch.Upserts = make([]supply.Item, 0, len(b.Upserts))
	for i := range b.Upserts {
		it := &b.Upserts[i]
		a := connectors.CatalogItemAck{Op: "upsert", Kind: it.Kind, ID: it.ID, Version: it.Version}
		if err := checkChange(provider, it.Provider, it.Kind, it.ID); err != nil {
			a.Outcome, a.Error = connectors.CatalogRejected, err
			acks = append(acks, a)
			continue
		}
		at = append(at, len(acks))
		acks = append(acks, a)
		batch.Upserts = append(batch.Upserts, toSupply(provider, it))
	}
	for _, d := range b.Deletes {
		a := connectors.CatalogItemAck{Op: "delete", Kind: d.Kind, ID: d.ID, Version: d.Version}
		if err := checkChange(provider, d.Provider, d.Kind, d.ID); err != nil {
			a.Outcome, a.Error = connectors.CatalogRejected, err
			acks = append(acks, a)
			continue
		}
		v := d.Version
		if v == 0 && !d.UpdatedAt.IsZero() {
			v = d.UpdatedAt.UnixMicro()
		}
		at = append(at, len(acks))
		acks = append(acks, a)
		batch.Deletes = append(batch.Deletes, supply.Ref{Provider: provider, Kind: supply.Kind(d.Kind), ID: d.ID, Version: v})
	}
	return acks, batch, at
}

// kindList names the kinds in an error message.
var kindList = func() string {
	s := make([]string, len(connectors.CatalogKinds))
	for i, k := range connectors.CatalogKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}()

// checkChange refuses a change of another provider, of an unknown kind or
// without an id.
func checkChange(provider, claimed string, kind connectors.CatalogKind, id string) *connectors.CatalogError {
	switch {
	case claimed != "" && claimed != provider:
		return itemError(connectors.KindForbidden, fmt.Sprintf("item of provider %q: a push signed by %q may publish only its own items", claimed, provider))
	case !kind.Valid():
		return itemError(connectors.KindInvalid, fmt.Sprintf("unknown kind %q: one of %s", kind, kindList))
	case strings.TrimSpace(id) == "":
		return itemError(connectors.KindInvalid, "missing id")
	}
	return nil
}

func itemError(kind connectors.Kind, msg string) *connectors.CatalogError {
	return &connectors.CatalogError{Code: kind, Message: msg}
}

// badItemMessage is the index's reason without its sentinel prefix.
func badItemMessage(err error) string {
	if err == nil {
		return "rejected by the index"
	}
	msg := err.Error()
	if errors.Is(err, supply.ErrBadItem) {
		msg = strings.TrimPrefix(msg, supply.ErrBadItem.Error()+": ")
	}
	return msg
}

func toSupply(provider string, it *connectors.CatalogItem) supply.Item {
	out := supply.Item{Provider: provider, Kind: supply.Kind(it.Kind), ID: it.ID, Name: it.Name, Description: it.Description,
		Category: it.Category, Tags: it.Tags, Cities: it.Cities, Available: it.Available, Rating: it.Rating,
		Version: it.Version, UpdatedAt: it.UpdatedAt}
	if it.Geo != nil {
		out.Geo = &supply.Geo{Lat: it.Geo.Lat, Lon: it.Geo.Lon}
	}
	if it.Price != nil {
		out.Price, out.Currency = it.Price.Amount, it.Price.Currency
	}
	return out
}

func tally(acks []connectors.CatalogItemAck) connectors.CatalogAck {
	out := connectors.CatalogAck{Results: acks}
	for _, a := range acks {
		switch a.Outcome {
		case connectors.CatalogIndexed:
			out.Indexed++
		case connectors.CatalogSuperseded:
			out.Superseded++
		default:
			out.Rejected++
		}
	}
	return out
}

// push is one provider's batch, for applyMany.
type push struct {
	provider string
	batch    connectors.CatalogBatch
	// cursor is the provider's catalogue cursor after batch (IndexGenerated
	// stores it once the push is acknowledged); applyMany does not read it.
	cursor string
}

// applyMany is apply (uncharged: the gateway's own bulk feed) for the
// pushes of several distinct providers, written to the index as one
// batch: each push is checked as apply checks it (its size, its items, its
// provider's item cap), and a push refused whole is the error, nothing of
// any of them indexed. One index write per thousand items instead of one
// per provider is what makes feeding 10^4 providers of twenty items each
// cost seconds (the embedded index builds a segment per write).
func (in *Ingest) applyMany(ctx context.Context, pushes []push) ([]connectors.CatalogAck, error) {
	type prepared struct {
		acks []connectors.CatalogItemAck
		at   []int
		n    int // changes of this push in the index batch
	}
	preps := make([]prepared, len(pushes))
	var all supply.Batch
	var stripes []int
	for _, p := range pushes {
		if !connectors.ValidProviderID(p.provider) {
			return nil, connectors.Errorf(connectors.KindInvalid, "provider id %q is not valid", p.provider)
		}
		if n := p.batch.Len(); n > connectors.MaxCatalogBatch {
			return nil, connectors.Errorf(connectors.KindInvalid,
				"%s: batch of %d changes: at most %d per push; split it into several pushes", p.provider, n, connectors.MaxCatalogBatch)
		}
		stripes = append(stripes, int(maphash.String(in.seed, p.provider)%uint64(len(in.locks))))
	}
	// Stripes taken in ascending order, each once: no deadlock with
	// another applyMany or an apply.
	slices.Sort(stripes)
	for _, s := range slices.Compact(stripes) {
		in.locks[s].Lock()
		defer in.locks[s].Unlock()
	}
	for i, p := range pushes {
		lim, _ := in.limits(p.provider)
		acks, batch, at := in.prepare(p.provider, p.batch)
		if err := in.checkItems(ctx, p.provider, lim, batch); err != nil {
			return nil, fmt.Errorf("%s: %w", p.provider, err)
		}
		preps[i] = prepared{acks: acks, at: at, n: len(at)}
		all.Upserts = append(all.Upserts, batch.Upserts...)
		all.Deletes = append(all.Deletes, batch.Deletes...)
	}
	if len(all.Deletes) > 0 {
		// The results are split back per push in the order of the
		// upserts: a bulk feed publishes, it never deletes.
		return nil, connectors.Errorf(connectors.KindInvalid, "a bulk feed carries upserts only")
	}
	res, err := in.index.Apply(ctx, all)
	if err != nil {
		return nil, &connectors.Error{Kind: connectors.KindUnavailable, Retryable: true, RetryAfterMs: 1000,
			Message: "the catalogue index is unavailable; nothing of this push was indexed, retry", Err: err}
	}
	if len(res.Results) != len(all.Upserts) {
		return nil, &connectors.Error{Kind: connectors.KindInternal, Message: "internal error",
			Err: fmt.Errorf("catalog: index acknowledged %d of %d changes", len(res.Results), len(all.Upserts))}
	}
	out := make([]connectors.CatalogAck, len(pushes))
	off := 0
	for i, p := range preps {
		fillAcks(p.acks, p.at, res.Results[off:off+p.n])
		off += p.n
		out[i] = tally(p.acks)
		if in.applied != nil {
			in.applied(ctx, pushes[i].provider, in.now())
		}
	}
	return out, nil
}
