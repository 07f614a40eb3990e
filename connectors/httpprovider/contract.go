// Package httpprovider carries the provider contract over HTTP: a Handler
// that serves any connectors implementation as the JSON API described in
// openapi.yaml, a Client that is the gateway's connector for a provider
// speaking that API, and middleware (fault injection, call counting) for the
// demo provider binary and fault tests.
//
// Every request is signed with a shared secret (see Sign). Both sides decode
// JSON strictly: an unknown field is an error, so drift between the two sides
// is found by tests, not by customers.
package httpprovider

import (
	"github.com/plaza-gateway/plaza/connectors"
)

// Operation is one endpoint of the contract.
type Operation struct {
	Method string
	Path   string
	// Vertical is empty for the operations every provider serves.
	Vertical connectors.Vertical
}

// Paths of the contract, shared by Handler and Client so they cannot drift.
const (
	PathHealth     = "/v1/health"
	PathDescriptor = "/v1/descriptor"
	PathStats      = "/v1/stats"

	PathGroceryStores         = "/v1/grocery/stores:batchGet"
	PathGroceryProducts       = "/v1/grocery/products:batchGet"
	PathGroceryOrders         = "/v1/grocery/orders:batchGet"
	PathGroceryDeliverySlots  = "/v1/grocery/stores:batchGetDeliverySlots"
	PathGrocerySearchStores   = "/v1/grocery/stores:search"
	PathGrocerySearchProducts = "/v1/grocery/products:search"
	PathGroceryUserOrders     = "/v1/grocery/orders:listByUser"
	PathGroceryPlaceOrder     = "/v1/grocery/orders"
	PathGroceryCancelOrder    = "/v1/grocery/orders:cancel"

	PathMedicalDoctors           = "/v1/medical/doctors:batchGet"
	PathMedicalAppointments      = "/v1/medical/appointments:batchGet"
	PathMedicalConsultations     = "/v1/medical/consultations:batchGet"
	PathMedicalAppointmentSlots  = "/v1/medical/doctors:batchGetAppointmentSlots"
	PathMedicalSearchDoctors     = "/v1/medical/doctors:search"
	PathMedicalUserAppointments  = "/v1/medical/appointments:listByUser"
	PathMedicalUserConsultations = "/v1/medical/consultations:listByUser"
	PathMedicalBookAppointment   = "/v1/medical/appointments"
	PathMedicalAskDoctor         = "/v1/medical/consultations"
	// The payment step (contract 1.4, optional: a provider without it answers 404).
	PathGroceryPayOrder = "/v1/grocery/orders:pay"
	// Moving an application's visit (contract 1.4, optional).
	PathPublicRescheduleApplication = "/v1/public-service/applications:reschedule"
	// Changing bookings (contract 1.3; a provider of 1.2 answers 404).
	PathMedicalCancelAppointment     = "/v1/medical/appointments:cancel"
	PathMedicalRescheduleAppointment = "/v1/medical/appointments:reschedule"
	PathLegalCancelConsultation      = "/v1/legal/consultations:cancel"
	PathPublicCancelApplication      = "/v1/public-service/applications:cancel"

	PathLegalLawyers             = "/v1/legal/lawyers:batchGet"
	PathLegalConsultations       = "/v1/legal/consultations:batchGet"
	PathLegalSearchLawyers       = "/v1/legal/lawyers:search"
	PathLegalUserConsultations   = "/v1/legal/consultations:listByUser"
	PathLegalRequestConsultation = "/v1/legal/consultations"
	PathPublicServices           = "/v1/public-service/services:batchGet"
	PathPublicApplications       = "/v1/public-service/applications:batchGet"
	PathPublicOffices            = "/v1/public-service/services:batchGetOffices"
	PathPublicSearchServices     = "/v1/public-service/services:search"
	PathPublicUserApplications   = "/v1/public-service/applications:listByUser"
	PathPublicApply              = "/v1/public-service/applications"

	// PathCatalog is the provider's catalogue changes (contract 1.2, GET
	// with since and first in the query string).
	PathCatalog = "/v1/catalog"
	// PathGatewayCatalog is where a provider pushes its catalogue on the
	// gateway ({id} is the provider's ID; the push is signed with its
	// secret).
	PathGatewayCatalog = "/providers/{id}/catalog"
	// PathGatewayStatus is where a provider reports status changes of its
	// orders and bookings on the gateway (live status and order records).
	PathGatewayStatus = "/providers/{id}/status"
)

// Operations lists every operation of the contract served by Handler (the
// stats endpoint is served by Stats, outside the signed API).
func Operations() []Operation {
	g, m, l, p := connectors.VerticalGrocery, connectors.VerticalMedical, connectors.VerticalLegal, connectors.VerticalPublicService
	return []Operation{
		{"GET", PathHealth, ""},
		{"GET", PathDescriptor, ""},
		{"GET", PathCatalog, ""},
		{"POST", PathGroceryStores, g},
		{"POST", PathGroceryProducts, g},
		{"POST", PathGroceryOrders, g},
		{"POST", PathGroceryDeliverySlots, g},
		{"POST", PathGrocerySearchStores, g},
		{"POST", PathGrocerySearchProducts, g},
		{"POST", PathGroceryUserOrders, g},
		{"POST", PathGroceryPlaceOrder, g},
		{"POST", PathGroceryCancelOrder, g},
		{"POST", PathGroceryPayOrder, g},
		{"POST", PathMedicalDoctors, m},
		{"POST", PathMedicalAppointments, m},
		{"POST", PathMedicalConsultations, m},
		{"POST", PathMedicalAppointmentSlots, m},
		{"POST", PathMedicalSearchDoctors, m},
		{"POST", PathMedicalUserAppointments, m},
		{"POST", PathMedicalUserConsultations, m},
		{"POST", PathMedicalBookAppointment, m},
		{"POST", PathMedicalAskDoctor, m},
		{"POST", PathMedicalCancelAppointment, m},
		{"POST", PathMedicalRescheduleAppointment, m},
		{"POST", PathLegalLawyers, l},
		{"POST", PathLegalConsultations, l},
		{"POST", PathLegalSearchLawyers, l},
		{"POST", PathLegalUserConsultations, l},
		{"POST", PathLegalRequestConsultation, l},
		{"POST", PathLegalCancelConsultation, l},
		{"POST", PathPublicServices, p},
		{"POST", PathPublicApplications, p},
		{"POST", PathPublicOffices, p},
		{"POST", PathPublicSearchServices, p},
		{"POST", PathPublicUserApplications, p},
		{"POST", PathPublicApply, p},
		{"POST", PathPublicCancelApplication, p},
		{"POST", PathPublicRescheduleApplication, p},
	}
}

// Wire types. The canonical types of package connectors travel as they are
// (they carry json tags); these are the envelopes around them.

type batchRequest struct {
	IDs []string `json:"ids"`
}

// wireError is the one error model of the contract, used as a whole error
// response body and as the error of one batch item. Code is a connectors.Kind.
type wireError struct {
	Code      connectors.Kind `json:"code"`
	Message   string          `json:"message"`
	Retryable bool            `json:"retryable"`
}

// wireResult is one batch item: exactly one of value and error.
type wireResult[T any] struct {
	Value *T         `json:"value,omitempty"`
	Error *wireError `json:"error,omitempty"`
}

type batchResponse[T any] struct {
	Results []wireResult[T] `json:"results"`
}

type searchRequest struct {
	Text     string `json:"text,omitempty"`
	City     string `json:"city,omitempty"`
	Category string `json:"category,omitempty"`
	StoreID  string `json:"storeId,omitempty"`
	First    int    `json:"first,omitempty"`
	After    string `json:"after,omitempty"`
}

type searchResponse[T any] struct {
	Items      []T    `json:"items"`
	Total      int    `json:"total"`
	NextCursor string `json:"nextCursor"`
}

type userRequest struct {
	UserID string `json:"userId"`
}

type listResponse[T any] struct {
	Items []T `json:"items"`
}

// changeRequest cancels (without slotId) or reschedules (with it) one of
// the user's bookings (contract 1.3).
type changeRequest struct {
	UserID string `json:"userId"`
	ID     string `json:"id"`
	SlotID string `json:"slotId,omitempty"`
}

type cancelOrderRequest struct {
	UserID  string `json:"userId"`
	OrderID string `json:"orderId"`
}

type healthResponse struct {
	Status string `json:"status"`
}

func toQuery(r searchRequest) connectors.Query {
	return connectors.Query{Text: r.Text, City: r.City, Category: r.Category, StoreID: r.StoreID, First: r.First, After: r.After}
}

func fromQuery(q connectors.Query) searchRequest {
	return searchRequest{Text: q.Text, City: q.City, Category: q.Category, StoreID: q.StoreID, First: q.First, After: q.After}
}
