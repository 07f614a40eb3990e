package connectors

import (
	"fmt"
	"slices"
)

// The statuses each kind of order or booking may be in (contract 1.3 makes
// them closed lists; 1.2 documented the same values as free strings, so a
// provider of 1.2 that sent the documented values still conforms). The
// schema shows them as enums; the HTTP client refuses a record whose status
// is not in its kind's list (PROVIDER_ERROR for that record), so an app
// never meets a value it has no screen for.
var (
	// OrderStatuses: PICKING, OUT_FOR_DELIVERY and DELIVERED let a grocery
	// provider report delivery progress; COMPLETED stays for providers that
	// report only the end; AWAITING_PAYMENT is contract 1.4's payment step.
	OrderStatuses             = []string{StatusAwaitingPayment, StatusPlaced, StatusConfirmed, StatusPicking, StatusOutForDelivery, StatusDelivered, StatusCompleted, StatusCancelled}
	AppointmentStatuses       = []string{StatusConfirmed, StatusCheckedIn, StatusCompleted, StatusCancelled}
	ConsultationStatuses      = []string{StatusPending, StatusAnswered}
	LegalConsultationStatuses = []string{StatusPending, StatusConfirmed, StatusCompleted, StatusCancelled}
	ApplicationStatuses       = []string{StatusPending, StatusApproved, StatusRejected, StatusCompleted, StatusCancelled}
)

func checkStatus(kind, status string, valid []string) error {
	if !slices.Contains(valid, status) {
		return fmt.Errorf("%s status %q is not one of %v", kind, status, valid)
	}
	return nil
}

// Validate checks the order's status against OrderStatuses.
func (o GroceryOrder) Validate() error { return checkStatus("order", o.Status, OrderStatuses) }

// Validate checks the appointment's status against AppointmentStatuses.
func (a Appointment) Validate() error {
	return checkStatus("appointment", a.Status, AppointmentStatuses)
}

// Validate checks the consultation's status against ConsultationStatuses.
func (c Consultation) Validate() error {
	return checkStatus("consultation", c.Status, ConsultationStatuses)
}

// Validate checks the consultation's status against LegalConsultationStatuses.
func (c LegalConsultation) Validate() error {
	return checkStatus("legal consultation", c.Status, LegalConsultationStatuses)
}

// Validate checks the application's status against ApplicationStatuses.
func (a ServiceApplication) Validate() error {
	return checkStatus("application", a.Status, ApplicationStatuses)
}

// Validator is a contract value that can check itself. The HTTP client
// checks every record a provider sends (Validate) before the gateway sees it.
type Validator interface{ Validate() error }

// Validate checks v when it is a Validator; any other value is valid.
func Validate(v any) error {
	if c, ok := v.(Validator); ok {
		return c.Validate()
	}
	return nil
}

// KnownStatus reports whether s is a status some kind of order or booking
// may take: what a status webhook may announce (the schema's BookingStatus).
func KnownStatus(s string) bool {
	for _, l := range [][]string{OrderStatuses, AppointmentStatuses, ConsultationStatuses, LegalConsultationStatuses, ApplicationStatuses} {
		if slices.Contains(l, s) {
			return true
		}
	}
	return false
}
