package connectors

import "context"

// Changing a booking after it was made (contract 1.3): cancelling an
// appointment, a legal consultation or a service application, and moving an
// appointment to another slot. Grocery orders had CancelOrder from the
// start; these are optional capabilities, so a provider of 1.2 still
// satisfies its vertical's interface, and the gateway answers
// KindInvalid ("does not support …") for a provider without them. Each
// returns KindNotFound for a record that is not the user's and
// KindConflict for one past changing (already cancelled, completed, or
// started).

// AppointmentChanger is implemented by medical providers that let users
// cancel and reschedule appointments.
type AppointmentChanger interface {
	// CancelAppointment cancels userID's CONFIRMED appointment that has not
	// started, and frees its slot.
	CancelAppointment(ctx context.Context, userID, appointmentID string) (Appointment, error)
	// RescheduleAppointment moves userID's CONFIRMED appointment to another
	// upcoming, free slot of the same doctor, freeing the old one, in one
	// step. KindConflict when the new slot is taken, KindInvalid when it is
	// another doctor's or has started.
	RescheduleAppointment(ctx context.Context, userID, appointmentID, slotID string) (Appointment, error)
}

// LegalConsultationCanceller is implemented by legal providers that let
// users cancel a PENDING or CONFIRMED consultation.
type LegalConsultationCanceller interface {
	CancelLegalConsultation(ctx context.Context, userID, consultationID string) (LegalConsultation, error)
}

// ApplicationCanceller is implemented by public-service providers that let
// users withdraw a PENDING application, freeing its office slot.
type ApplicationCanceller interface {
	CancelApplication(ctx context.Context, userID, applicationID string) (ServiceApplication, error)
}

// ApplicationRescheduler is implemented by public-service providers that
// let users move a PENDING application's office visit to another upcoming,
// free slot of the same office (contract 1.4), freeing the old one in one
// step. KindConflict when the new slot is taken, KindInvalid when it is
// another office's or has started, KindNotFound for an unknown slot.
type ApplicationRescheduler interface {
	RescheduleApplication(ctx context.Context, userID, applicationID, slotID string) (ServiceApplication, error)
}
