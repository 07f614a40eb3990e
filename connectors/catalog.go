package connectors

import (
	"context"
	"fmt"
	"time"
)

// Catalogue publishing (contract version 1.2): a provider publishes the
// items users search for, so the gateway can search its own index instead
// of calling every provider. Two ways, both carrying the same items:
//
//   - Push: the provider sends batches of upserts and deletes to the
//     gateway (Publisher) at start and on every change.
//   - Pull: the gateway reads the provider's changes since a cursor
//     (Catalog), for the first sync after certification and to catch up
//     after an outage.
//
// A provider certified on an older version of the contract stays callable
// by ID; its items appear in search only once it publishes.

// ContractVersion is the version of the provider contract this package
// describes; ContractPublishing is the first version with catalogue
// publishing, ContractDisplay the first with display fields and closed
// status lists (display.go, statuses.go), ContractPayments the first with
// the payment step (payment.go). A descriptor without a version is
// of version 1.1. Every version reads its predecessors' replies: what each
// added is optional on the wire.
const (
	ContractVersion    = "1.4"
	ContractPayments   = "1.4"
	ContractDisplay    = "1.3"
	ContractPublishing = "1.2"
	ContractLegacy     = "1.1"
)

// ContractAtLeast reports whether version (major.minor; empty is
// ContractLegacy) is min or later.
func ContractAtLeast(version, min string) bool {
	if version == "" {
		version = ContractLegacy
	}
	var vMaj, vMin, mMaj, mMin int
	if _, err := fmt.Sscanf(version, "%d.%d", &vMaj, &vMin); err != nil {
		return false
	}
	if _, err := fmt.Sscanf(min, "%d.%d", &mMaj, &mMin); err != nil {
		return false
	}
	return vMaj > mMaj || vMaj == mMaj && vMin >= mMin
}

// CatalogKind is the kind of a published item.
type CatalogKind string

// The kinds a provider may publish.
const (
	CatalogProduct    CatalogKind = "product"
	CatalogStore      CatalogKind = "store"
	CatalogDoctor     CatalogKind = "doctor"
	CatalogLawyer     CatalogKind = "lawyer"
	CatalogGovService CatalogKind = "govService"
	CatalogOffice     CatalogKind = "office"
)

// CatalogKinds lists every kind a provider may publish.
var CatalogKinds = []CatalogKind{CatalogProduct, CatalogStore, CatalogDoctor, CatalogLawyer, CatalogGovService, CatalogOffice}

// Valid reports whether k is a kind the contract knows.
func (k CatalogKind) Valid() bool {
	switch k {
	case CatalogProduct, CatalogStore, CatalogDoctor, CatalogLawyer, CatalogGovService, CatalogOffice:
		return true
	}
	return false
}

// GeoPoint is a position in WGS 84 degrees.
type GeoPoint struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// CatalogItem is one published item: its searchable fields, its price and
// availability as of this change, and the version that orders its changes.
type CatalogItem struct {
	Kind CatalogKind `json:"kind"`
	ID   string      `json:"id"`
	// Provider may be left out; when present it must be the publishing
	// provider (the gateway refuses an item of another provider, whoever
	// signed the push).
	Provider    string    `json:"provider,omitempty"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Category    string    `json:"category,omitempty"`
	Tags        []string  `json:"tags,omitempty"`
	Cities      []string  `json:"cities"`
	Geo         *GeoPoint `json:"geo,omitempty"`
	Price       *Money    `json:"price,omitempty"`
	Available   bool      `json:"available"`
	Rating      float64   `json:"rating,omitempty"`
	// Version orders the changes of one item: the gateway applies a change
	// only over a lower version, so a late or repeated push never
	// overwrites a newer one. UpdatedAt stands for it when Version is 0.
	Version   int64     `json:"version,omitempty"`
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
}

// CatalogDelete removes an item at a version (a later upsert with a lower
// version cannot bring it back).
type CatalogDelete struct {
	Kind      CatalogKind `json:"kind"`
	ID        string      `json:"id"`
	Provider  string      `json:"provider,omitempty"`
	Version   int64       `json:"version,omitempty"`
	UpdatedAt time.Time   `json:"updatedAt,omitzero"`
}

// CatalogBatch is one push: upserts, then deletes.
type CatalogBatch struct {
	Upserts []CatalogItem   `json:"upserts"`
	Deletes []CatalogDelete `json:"deletes,omitempty"`
}

// Len is the number of changes in the batch.
func (b CatalogBatch) Len() int { return len(b.Upserts) + len(b.Deletes) }

// CatalogOutcome is what the gateway did with one change of a push.
type CatalogOutcome string

const (
	// CatalogIndexed: applied and searchable.
	CatalogIndexed CatalogOutcome = "indexed"
	// CatalogSuperseded: the index holds this version or a newer one;
	// nothing changed (a repeated push is all superseded: idempotent).
	CatalogSuperseded CatalogOutcome = "superseded"
	// CatalogRejected: the change is malformed or not the provider's;
	// Error says why. The rest of the push is unaffected.
	CatalogRejected CatalogOutcome = "rejected"
)

// CatalogItemAck is the outcome of one change, in push order (upserts,
// then deletes).
type CatalogItemAck struct {
	Op      string         `json:"op"` // "upsert" or "delete"
	Kind    CatalogKind    `json:"kind"`
	ID      string         `json:"id"`
	Version int64          `json:"version,omitempty"`
	Outcome CatalogOutcome `json:"outcome"`
	// Error is set for a rejected change: a code (BAD_USER_INPUT,
	// FORBIDDEN) and a message meant for the provider's developers.
	Error *CatalogError `json:"error,omitempty"`
}

// CatalogError is why one change was rejected.
type CatalogError struct {
	Code    Kind   `json:"code"`
	Message string `json:"message"`
}

// CatalogAck is the gateway's answer to a push, change by change.
type CatalogAck struct {
	Results    []CatalogItemAck `json:"results"`
	Indexed    int              `json:"indexed"`
	Superseded int              `json:"superseded"`
	Rejected   int              `json:"rejected"`
}

// CatalogChanges is one page of a provider's catalogue changes since a
// cursor: the current state of every item changed after it (an item
// changed twice appears once, as it is now).
type CatalogChanges struct {
	Upserts []CatalogItem   `json:"upserts"`
	Deletes []CatalogDelete `json:"deletes"`
	// Cursor is where the next call resumes: pass it as since. It is
	// returned on every page, the last one included, so a catch-up later
	// asks only for what changed after it.
	Cursor string `json:"cursor"`
	// More: another page follows at once.
	More bool `json:"more"`
}

// Catalog is the optional pull capability of a provider of contract 1.2:
// its catalogue changes after since ("" for the whole catalogue), at most
// first changes per page. A cursor the provider did not issue is
// KindInvalid.
type Catalog interface {
	CatalogChanges(ctx context.Context, since string, first int) (CatalogChanges, error)
}

// Publisher takes a provider's pushes: the gateway's ingest in process, or
// a client that signs and sends them over HTTP. provider is the publishing
// provider; over HTTP it must be the one whose secret signs.
type Publisher interface {
	Publish(ctx context.Context, provider string, b CatalogBatch) (CatalogAck, error)
}

// MaxCatalogBatch is the most changes one push or one pull page may carry.
const MaxCatalogBatch = 1000
