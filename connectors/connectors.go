// Package connectors defines the contract every Plaza provider implements, the
// canonical types that cross it, the error kinds a client may see, and the
// registry that routes a provider ID to its connector.
//
// The contract is batch-first: every by-ID method takes a slice of local IDs
// and returns exactly one Result per ID, in request order, so a dataloader can
// hand it a whole batch. A whole-batch failure (provider down, bad reply) is
// the method's error; a per-item failure (unknown ID) is that Result's Err.
//
// Connectors are dumb on purpose: they fetch and mutate. Caching, retries,
// timeouts, circuit breaking and ownership checks live in the gateway, once.
package connectors

import (
	"context"
	"time"
)

// Vertical is the line of business a provider serves.
type Vertical string

const (
	VerticalGrocery       Vertical = "GROCERY"
	VerticalMedical       Vertical = "MEDICAL"
	VerticalLegal         Vertical = "LEGAL"
	VerticalPublicService Vertical = "PUBLIC_SERVICE"
)

// Verticals lists every vertical in a fixed order.
var Verticals = []Vertical{VerticalGrocery, VerticalMedical, VerticalLegal, VerticalPublicService}

// Valid reports whether v is one of the known verticals.
func (v Vertical) Valid() bool {
	switch v {
	case VerticalGrocery, VerticalMedical, VerticalLegal, VerticalPublicService:
		return true
	}
	return false
}

// Descriptor is what the gateway knows about a provider without calling it.
type Descriptor struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Vertical    Vertical `json:"vertical"`
	Description string   `json:"description"`
	Rating      float64  `json:"rating"`
	Cities      []string `json:"cities"`
	// MaxBatch is the largest number of IDs one batch call may carry; the
	// gateway splits larger batches. 0 means no limit.
	MaxBatch int `json:"maxBatch,omitempty"`
	// ContractVersion is the version of the provider contract the provider
	// speaks: from ContractPublishing ("1.2") on it publishes its catalogue
	// (ContractVersion is "1.3", which adds display fields); empty means
	// ContractLegacy ("1.1"), callable by ID but absent from search until it
	// publishes.
	ContractVersion string `json:"contractVersion,omitempty"`
}

// Connector is the part every provider shares, whatever its vertical.
type Connector interface {
	Describe() Descriptor
}

// HealthChecker is an optional capability: providers that can report their own
// health are probed by /readyz and by the half-open circuit breaker.
type HealthChecker interface {
	Health(ctx context.Context) error
}

// Result is one item of a batch answer: a value, or the reason there is none.
type Result[T any] struct {
	Value T
	Err   error
}

// Query is a provider-side search: free text (optional), filters and paging.
type Query struct {
	Text     string
	City     string
	Category string
	// StoreID narrows a product search to one store (grocery only).
	StoreID string
	// First is the page size the gateway asks for; providers may return fewer.
	First int
	// After is the provider's own opaque cursor from a previous Page.
	After string
}

// Page is one page of a provider's own ranking.
type Page[T any] struct {
	Items []T
	// Total is the number of matches across all pages (used for facets).
	Total int
	// NextCursor is empty on the last page.
	NextCursor string
}

// Money is an amount in minor units (cents, fen) and an ISO 4217 currency.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// Grocery is implemented by grocery-delivery providers.
type Grocery interface {
	Connector
	Stores(ctx context.Context, ids []string) ([]Result[Store], error)
	Products(ctx context.Context, ids []string) ([]Result[Product], error)
	Orders(ctx context.Context, ids []string) ([]Result[GroceryOrder], error)
	// DeliverySlots returns, per store ID, the store's upcoming slots.
	DeliverySlots(ctx context.Context, storeIDs []string) ([]Result[[]DeliverySlot], error)
	SearchStores(ctx context.Context, q Query) (Page[Store], error)
	SearchProducts(ctx context.Context, q Query) (Page[Product], error)
	// UserOrders lists one user's orders, newest first.
	UserOrders(ctx context.Context, userID string) ([]GroceryOrder, error)
	// PlaceOrder checks stock and slot capacity atomically. Returns KindConflict
	// when stock or slot ran out, KindInvalid for a malformed input.
	PlaceOrder(ctx context.Context, in PlaceOrderInput) (GroceryOrder, error)
	// CancelOrder puts the stock back. Returns KindNotFound for an order that is
	// not the user's.
	CancelOrder(ctx context.Context, userID, orderID string) (GroceryOrder, error)
}

// Medical is implemented by providers of doctors and online consultations.
type Medical interface {
	Connector
	Doctors(ctx context.Context, ids []string) ([]Result[Doctor], error)
	Appointments(ctx context.Context, ids []string) ([]Result[Appointment], error)
	Consultations(ctx context.Context, ids []string) ([]Result[Consultation], error)
	// AppointmentSlots returns, per doctor ID, the doctor's upcoming slots.
	AppointmentSlots(ctx context.Context, doctorIDs []string) ([]Result[[]AppointmentSlot], error)
	SearchDoctors(ctx context.Context, q Query) (Page[Doctor], error)
	UserAppointments(ctx context.Context, userID string) ([]Appointment, error)
	UserConsultations(ctx context.Context, userID string) ([]Consultation, error)
	// BookAppointment returns KindConflict when the slot is already taken.
	BookAppointment(ctx context.Context, in BookAppointmentInput) (Appointment, error)
	AskDoctor(ctx context.Context, in AskDoctorInput) (Consultation, error)
}

// Legal is implemented by providers of lawyers and legal consultations.
type Legal interface {
	Connector
	Lawyers(ctx context.Context, ids []string) ([]Result[Lawyer], error)
	LegalConsultations(ctx context.Context, ids []string) ([]Result[LegalConsultation], error)
	SearchLawyers(ctx context.Context, q Query) (Page[Lawyer], error)
	UserLegalConsultations(ctx context.Context, userID string) ([]LegalConsultation, error)
	RequestConsultation(ctx context.Context, in LegalConsultationInput) (LegalConsultation, error)
}

// PublicService is implemented by government-service providers.
type PublicService interface {
	Connector
	Services(ctx context.Context, ids []string) ([]Result[GovService], error)
	Applications(ctx context.Context, ids []string) ([]Result[ServiceApplication], error)
	// Offices returns, per service ID, the offices handling it with their slots.
	Offices(ctx context.Context, serviceIDs []string) ([]Result[[]Office], error)
	SearchServices(ctx context.Context, q Query) (Page[GovService], error)
	UserApplications(ctx context.Context, userID string) ([]ServiceApplication, error)
	// Apply returns KindConflict when the office slot is already taken and
	// KindInvalid when a required document is missing.
	Apply(ctx context.Context, in ApplicationInput) (ServiceApplication, error)
}

// Clock lets tests and the demo data pin "now".
type Clock func() time.Time
