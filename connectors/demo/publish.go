package demo

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

// A demo provider publishes its catalogue (contract 1.2): it keeps the
// items as last published with a change number each, answers the
// gateway's pulls from them (CatalogChanges), and pushes every change to a
// connectors.Publisher (PublishCatalog): the whole catalogue at start,
// then each change (a price, stock, a booked slot, a new or removed item).

// feed is one provider's published catalogue. It keeps one entry per item
// (a delete stays as a tombstone), so a pull since a cursor returns each
// changed item once, as it is now.
type feed struct {
	provider string
	// base makes versions grow across restarts of the process: the wall
	// clock at build (µs) plus the change number. A restarted provider
	// publishes over what its previous run left in a shared index.
	base int64

	mu      sync.Mutex
	seq     int64
	entries map[feedKey]*feedEntry
	changed chan struct{} // capacity 1: a change happened since the last look
}

type feedKey struct {
	kind connectors.CatalogKind
	id   string
}

type feedEntry struct {
	seq     int64
	item    connectors.CatalogItem // for a tombstone: kind, id, version
	deleted bool
}

func newFeed(provider string) *feed {
	return &feed{provider: provider, base: time.Now().UnixMicro(), entries: map[feedKey]*feedEntry{}, changed: make(chan struct{}, 1)}
}

// put publishes items as they are now.
func (f *feed) put(items ...connectors.CatalogItem) {
	f.mu.Lock()
	for _, it := range items {
		f.seq++
		// Provider is left out: the gateway takes it from the credential
		// (one endpoint may be registered under another id).
		it.Version = f.base + f.seq
		f.entries[feedKey{it.Kind, it.ID}] = &feedEntry{seq: f.seq, item: it}
	}
	f.mu.Unlock()
	f.signal()
}

// remove publishes the deletion of an item.
func (f *feed) remove(kind connectors.CatalogKind, id string) {
	f.mu.Lock()
	f.seq++
	f.entries[feedKey{kind, id}] = &feedEntry{seq: f.seq, deleted: true,
		item: connectors.CatalogItem{Kind: kind, ID: id, Version: f.base + f.seq}}
	f.mu.Unlock()
	f.signal()
}

func (f *feed) signal() {
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

const feedCursorPrefix = "demo-catalog1:"

func feedCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(feedCursorPrefix + strconv.FormatInt(seq, 10)))
}

func parseFeedCursor(c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if n, ok := strings.CutPrefix(string(raw), feedCursorPrefix); ok {
			if seq, err := strconv.ParseInt(n, 10, 64); err == nil && seq >= 0 {
				return seq, nil
			}
		}
	}
	return 0, connectors.Errorf(connectors.KindInvalid, "since %q is not a cursor of this catalogue", c)
}

// changes returns the changes after since, oldest first, at most first of
// them. It scans every entry: a demo catalogue holds a few thousand.
func (f *feed) changes(since string, first int) (connectors.CatalogChanges, error) {
	after, err := parseFeedCursor(since)
	if err != nil {
		return connectors.CatalogChanges{}, err
	}
	if first <= 0 || first > connectors.MaxCatalogBatch {
		first = connectors.MaxCatalogBatch
	}
	f.mu.Lock()
	if after > f.seq {
		f.mu.Unlock()
		return connectors.CatalogChanges{}, connectors.Errorf(connectors.KindInvalid, "since %q is ahead of this catalogue", since)
	}
	var due []*feedEntry
	for _, e := range f.entries {
		if e.seq > after {
			due = append(due, e)
		}
	}
	f.mu.Unlock()
	slices.SortFunc(due, func(a, b *feedEntry) int { return cmp.Compare(a.seq, b.seq) })
	out := connectors.CatalogChanges{Upserts: []connectors.CatalogItem{}, Deletes: []connectors.CatalogDelete{}, Cursor: feedCursor(after)}
	if len(due) > first {
		due, out.More = due[:first], true
	}
	for _, e := range due {
		if e.deleted {
			out.Deletes = append(out.Deletes, connectors.CatalogDelete{Kind: e.item.Kind, ID: e.item.ID, Provider: e.item.Provider, Version: e.item.Version})
		} else {
			out.Upserts = append(out.Upserts, cloneCatalogItem(e.item))
		}
		out.Cursor = feedCursor(e.seq)
	}
	return out, nil
}

func cloneCatalogItem(it connectors.CatalogItem) connectors.CatalogItem {
	it.Tags, it.Cities = slices.Clone(it.Tags), slices.Clone(it.Cities)
	if it.Price != nil {
		p := *it.Price
		it.Price = &p
	}
	return it
}

// publishRetry is how long a push that failed waits before it is tried
// again (the gateway restarting, a quota reached).
const publishRetry = time.Second

// run pushes the whole catalogue, then every change, to pub until ctx
// ends. A push that fails is retried from where the last acknowledged one
// ended; an item the gateway rejected is not sent again until it changes.
func (f *feed) run(ctx context.Context, pub connectors.Publisher) {
	pushed := ""
	for {
		ch, err := f.changes(pushed, connectors.MaxCatalogBatch)
		if err != nil { // cannot happen: the cursor is our own
			return
		}
		if len(ch.Upserts)+len(ch.Deletes) > 0 {
			if _, err := pub.Publish(ctx, f.provider, connectors.CatalogBatch{Upserts: ch.Upserts, Deletes: ch.Deletes}); err != nil {
				select {
				case <-ctx.Done():
					return
				case <-time.After(publishRetry):
				}
				continue
			}
			pushed = ch.Cursor
			if ch.More {
				continue
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-f.changed:
		}
	}
}

// catalogPublisher is a demo provider that publishes.
type catalogPublisher interface {
	connectors.Catalog
	PublishCatalog(ctx context.Context, pub connectors.Publisher)
}

var (
	_ catalogPublisher = (*Grocery)(nil)
	_ catalogPublisher = (*Medical)(nil)
	_ catalogPublisher = (*Legal)(nil)
	_ catalogPublisher = (*PublicService)(nil)
)

// Publish pushes the catalogue of every demo provider among conns to pub,
// then each change, until ctx ends; it returns when all have stopped.
// Connectors that are not demo providers are skipped.
func Publish(ctx context.Context, conns []connectors.Connector, pub connectors.Publisher) {
	var wg sync.WaitGroup
	for _, c := range conns {
		if p, ok := c.(catalogPublisher); ok {
			wg.Go(func() { p.PublishCatalog(ctx, pub) })
		}
	}
	wg.Wait()
}

// Catalogue items of each kind, as the demo providers publish them. Tags
// carry the words the provider's own search matches beyond the name and
// category (a specialty's "skin, rash", a practice area's "car
// accident"), so the gateway's index finds what the provider would.

func productItem(p *connectors.Product) connectors.CatalogItem {
	price := p.Price
	return connectors.CatalogItem{Kind: connectors.CatalogProduct, ID: p.ID, Name: p.Name,
		Description: strings.TrimSpace(p.Description + " " + p.Origin), Category: p.Category, Tags: slices.Clone(p.Tags),
		Cities: []string{p.City}, Price: &price, Available: p.Stock > 0, Rating: p.Rating}
}

func storeItem(s *connectors.Store) connectors.CatalogItem {
	return connectors.CatalogItem{Kind: connectors.CatalogStore, ID: s.ID, Name: s.Name, Description: s.Address,
		Tags: slices.Clone(s.Tags), Cities: []string{s.City}, Available: true, Rating: s.Rating}
}

func doctorItem(d *connectors.Doctor, free bool) connectors.CatalogItem {
	sp := specialtyNamed(d.Specialty)
	tags, extra := packTags(append([]string{sp.title}, splitKeywords(sp.keywords)...))
	fee := d.Fee
	return connectors.CatalogItem{Kind: connectors.CatalogDoctor, ID: d.ID, Name: d.Name,
		Description: joinNonEmpty(d.Bio, d.Hospital, strings.Join(d.Languages, ", "), extra), Category: d.Specialty,
		Tags: tags, Cities: []string{d.City}, Price: &fee, Available: free, Rating: d.Rating}
}

func lawyerItem(lw *connectors.Lawyer) connectors.CatalogItem {
	words := slices.Clone(lw.PracticeAreas)
	for _, a := range practiceAreas {
		if slices.Contains(lw.PracticeAreas, a.name) {
			words = append(words, splitKeywords(a.keywords)...)
		}
	}
	tags, extra := packTags(words)
	category := ""
	if len(lw.PracticeAreas) > 0 {
		category = lw.PracticeAreas[0]
	}
	fee := lw.Fee
	return connectors.CatalogItem{Kind: connectors.CatalogLawyer, ID: lw.ID, Name: lw.Name,
		Description: joinNonEmpty(lw.Bio, lw.Firm, strings.Join(lw.Languages, ", "), extra), Category: category,
		Tags: tags, Cities: []string{lw.City}, Price: &fee, Available: true, Rating: lw.Rating}
}

func serviceItem(s *connectors.GovService) connectors.CatalogItem {
	fee := s.Fee
	return connectors.CatalogItem{Kind: connectors.CatalogGovService, ID: s.ID, Name: s.Name,
		Description: joinNonEmpty(s.Description, strings.Join(s.RequiredDocuments, ", ")), Category: s.Category,
		Tags: slices.Clone(s.Tags), Cities: slices.Clone(s.Cities), Price: &fee, Available: true, Rating: s.Rating}
}

func officeItem(o *connectors.Office, free bool) connectors.CatalogItem {
	return connectors.CatalogItem{Kind: connectors.CatalogOffice, ID: o.ID, Name: o.Name, Description: o.Address,
		Category: "office", Cities: []string{o.City}, Available: free}
}

// maxPublishedTags is the index's limit of tags per item; words beyond it
// go to the description.
const maxPublishedTags = 32

// packTags dedupes words into at most maxPublishedTags tags and returns the
// rest as one string.
func packTags(words []string) ([]string, string) {
	seen := map[string]bool{}
	var tags, rest []string
	for _, w := range words {
		w = strings.TrimSpace(w)
		if w == "" || seen[strings.ToLower(w)] {
			continue
		}
		seen[strings.ToLower(w)] = true
		if len(tags) < maxPublishedTags && len(w) <= 100 {
			tags = append(tags, w)
		} else {
			rest = append(rest, w)
		}
	}
	return tags, strings.Join(rest, ", ")
}

func splitKeywords(s string) []string { return strings.Split(s, ",") }

func joinNonEmpty(parts ...string) string {
	out := parts[:0:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ". ")
}

// PublishNow pushes the whole current catalogue of every provider among
// conns that serves one (a demo provider, or an HTTP client pulling its
// provider's) to pub once, and returns when pub has acknowledged it: the
// gateway serving in-process demo providers calls it before it serves, so
// search is complete from the first request. Publish then follows the
// changes; its first push repeats this one, which the index acknowledges
// as already there.
func PublishNow(ctx context.Context, conns []connectors.Connector, pub connectors.Publisher) error {
	var errs []error
	for _, c := range conns {
		if p, ok := c.(connectors.Catalog); ok {
			errs = append(errs, publishNow(ctx, c.Describe().ID, p, pub))
		}
	}
	return errors.Join(errs...)
}

func publishNow(ctx context.Context, id string, p connectors.Catalog, pub connectors.Publisher) error {
	for since := ""; ; {
		ch, err := p.CatalogChanges(ctx, since, connectors.MaxCatalogBatch)
		if err != nil {
			return fmt.Errorf("demo provider %s: catalogue: %w", id, err)
		}
		if len(ch.Upserts)+len(ch.Deletes) > 0 {
			if _, err := pub.Publish(ctx, id, connectors.CatalogBatch{Upserts: ch.Upserts, Deletes: ch.Deletes}); err != nil {
				return fmt.Errorf("demo provider %s: publishing: %w", id, err)
			}
		}
		if !ch.More {
			return nil
		}
		since = ch.Cursor
	}
}
