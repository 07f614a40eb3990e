package httpprovider

import (
	"context"
	"errors"
	"fmt"

	"github.com/plaza-gateway/plaza/connectors"
)

// The vertical methods of Client: each is one operation of the contract.

func (c *Client) Stores(ctx context.Context, ids []string) ([]connectors.Result[connectors.Store], error) {
	return batch[connectors.Store](ctx, c, PathGroceryStores, ids, func(v connectors.Store) string { return v.ID })
}

func (c *Client) Products(ctx context.Context, ids []string) ([]connectors.Result[connectors.Product], error) {
	return batch[connectors.Product](ctx, c, PathGroceryProducts, ids, func(v connectors.Product) string { return v.ID })
}

func (c *Client) Orders(ctx context.Context, ids []string) ([]connectors.Result[connectors.GroceryOrder], error) {
	return batch[connectors.GroceryOrder](ctx, c, PathGroceryOrders, ids, func(v connectors.GroceryOrder) string { return v.ID })
}

func (c *Client) DeliverySlots(ctx context.Context, storeIDs []string) ([]connectors.Result[[]connectors.DeliverySlot], error) {
	return batch[[]connectors.DeliverySlot](ctx, c, PathGroceryDeliverySlots, storeIDs, nil)
}

func (c *Client) SearchStores(ctx context.Context, q connectors.Query) (connectors.Page[connectors.Store], error) {
	return search[connectors.Store](ctx, c, PathGrocerySearchStores, q)
}

func (c *Client) SearchProducts(ctx context.Context, q connectors.Query) (connectors.Page[connectors.Product], error) {
	return search[connectors.Product](ctx, c, PathGrocerySearchProducts, q)
}

func (c *Client) UserOrders(ctx context.Context, userID string) ([]connectors.GroceryOrder, error) {
	return list[connectors.GroceryOrder](ctx, c, PathGroceryUserOrders, userID)
}

// PlaceOrder sends in.IdempotencyKey as the Idempotency-Key header.
func (c *Client) PlaceOrder(ctx context.Context, in connectors.PlaceOrderInput) (connectors.GroceryOrder, error) {
	return mutate[connectors.GroceryOrder](ctx, c, PathGroceryPlaceOrder, in, in.IdempotencyKey)
}

func (c *Client) CancelOrder(ctx context.Context, userID, orderID string) (connectors.GroceryOrder, error) {
	return mutate[connectors.GroceryOrder](ctx, c, PathGroceryCancelOrder, cancelOrderRequest{UserID: userID, OrderID: orderID}, "")
}

func (c *Client) Doctors(ctx context.Context, ids []string) ([]connectors.Result[connectors.Doctor], error) {
	return batch[connectors.Doctor](ctx, c, PathMedicalDoctors, ids, func(v connectors.Doctor) string { return v.ID })
}

func (c *Client) Appointments(ctx context.Context, ids []string) ([]connectors.Result[connectors.Appointment], error) {
	return batch[connectors.Appointment](ctx, c, PathMedicalAppointments, ids, func(v connectors.Appointment) string { return v.ID })
}

func (c *Client) Consultations(ctx context.Context, ids []string) ([]connectors.Result[connectors.Consultation], error) {
	return batch[connectors.Consultation](ctx, c, PathMedicalConsultations, ids, func(v connectors.Consultation) string { return v.ID })
}

func (c *Client) AppointmentSlots(ctx context.Context, doctorIDs []string) ([]connectors.Result[[]connectors.AppointmentSlot], error) {
	return batch[[]connectors.AppointmentSlot](ctx, c, PathMedicalAppointmentSlots, doctorIDs, nil)
}

func (c *Client) SearchDoctors(ctx context.Context, q connectors.Query) (connectors.Page[connectors.Doctor], error) {
	return search[connectors.Doctor](ctx, c, PathMedicalSearchDoctors, q)
}

func (c *Client) UserAppointments(ctx context.Context, userID string) ([]connectors.Appointment, error) {
	return list[connectors.Appointment](ctx, c, PathMedicalUserAppointments, userID)
}

func (c *Client) UserConsultations(ctx context.Context, userID string) ([]connectors.Consultation, error) {
	return list[connectors.Consultation](ctx, c, PathMedicalUserConsultations, userID)
}

// BookAppointment sends in.IdempotencyKey as the Idempotency-Key header.
func (c *Client) BookAppointment(ctx context.Context, in connectors.BookAppointmentInput) (connectors.Appointment, error) {
	return mutate[connectors.Appointment](ctx, c, PathMedicalBookAppointment, in, in.IdempotencyKey)
}

// AskDoctor sends in.IdempotencyKey as the Idempotency-Key header.
func (c *Client) AskDoctor(ctx context.Context, in connectors.AskDoctorInput) (connectors.Consultation, error) {
	return mutate[connectors.Consultation](ctx, c, PathMedicalAskDoctor, in, in.IdempotencyKey)
}

func (c *Client) Lawyers(ctx context.Context, ids []string) ([]connectors.Result[connectors.Lawyer], error) {
	return batch[connectors.Lawyer](ctx, c, PathLegalLawyers, ids, func(v connectors.Lawyer) string { return v.ID })
}

func (c *Client) LegalConsultations(ctx context.Context, ids []string) ([]connectors.Result[connectors.LegalConsultation], error) {
	return batch[connectors.LegalConsultation](ctx, c, PathLegalConsultations, ids, func(v connectors.LegalConsultation) string { return v.ID })
}

func (c *Client) SearchLawyers(ctx context.Context, q connectors.Query) (connectors.Page[connectors.Lawyer], error) {
	return search[connectors.Lawyer](ctx, c, PathLegalSearchLawyers, q)
}

func (c *Client) UserLegalConsultations(ctx context.Context, userID string) ([]connectors.LegalConsultation, error) {
	return list[connectors.LegalConsultation](ctx, c, PathLegalUserConsultations, userID)
}

// RequestConsultation sends in.IdempotencyKey as the Idempotency-Key header.
func (c *Client) RequestConsultation(ctx context.Context, in connectors.LegalConsultationInput) (connectors.LegalConsultation, error) {
	return mutate[connectors.LegalConsultation](ctx, c, PathLegalRequestConsultation, in, in.IdempotencyKey)
}

func (c *Client) Services(ctx context.Context, ids []string) ([]connectors.Result[connectors.GovService], error) {
	return batch[connectors.GovService](ctx, c, PathPublicServices, ids, func(v connectors.GovService) string { return v.ID })
}

func (c *Client) Applications(ctx context.Context, ids []string) ([]connectors.Result[connectors.ServiceApplication], error) {
	return batch[connectors.ServiceApplication](ctx, c, PathPublicApplications, ids, func(v connectors.ServiceApplication) string { return v.ID })
}

func (c *Client) Offices(ctx context.Context, serviceIDs []string) ([]connectors.Result[[]connectors.Office], error) {
	return batch[[]connectors.Office](ctx, c, PathPublicOffices, serviceIDs, nil)
}

func (c *Client) SearchServices(ctx context.Context, q connectors.Query) (connectors.Page[connectors.GovService], error) {
	return search[connectors.GovService](ctx, c, PathPublicSearchServices, q)
}

func (c *Client) UserApplications(ctx context.Context, userID string) ([]connectors.ServiceApplication, error) {
	return list[connectors.ServiceApplication](ctx, c, PathPublicUserApplications, userID)
}

// Apply sends in.IdempotencyKey as the Idempotency-Key header.
func (c *Client) Apply(ctx context.Context, in connectors.ApplicationInput) (connectors.ServiceApplication, error) {
	return mutate[connectors.ServiceApplication](ctx, c, PathPublicApply, in, in.IdempotencyKey)
}

// Changing bookings (contract 1.3). A provider of 1.2 has no such operation
// (404): that is KindInvalid "does not support", not a NOT_FOUND of the
// booking, so the app can tell the user to contact the provider.

var (
	_ connectors.AppointmentChanger         = (*Client)(nil)
	_ connectors.LegalConsultationCanceller = (*Client)(nil)
	_ connectors.ApplicationCanceller       = (*Client)(nil)
)

func (c *Client) CancelAppointment(ctx context.Context, userID, id string) (connectors.Appointment, error) {
	return change[connectors.Appointment](ctx, c, PathMedicalCancelAppointment, changeRequest{UserID: userID, ID: id}, "cancelling appointments")
}

func (c *Client) RescheduleAppointment(ctx context.Context, userID, id, slotID string) (connectors.Appointment, error) {
	return change[connectors.Appointment](ctx, c, PathMedicalRescheduleAppointment, changeRequest{UserID: userID, ID: id, SlotID: slotID}, "rescheduling appointments")
}

func (c *Client) CancelLegalConsultation(ctx context.Context, userID, id string) (connectors.LegalConsultation, error) {
	return change[connectors.LegalConsultation](ctx, c, PathLegalCancelConsultation, changeRequest{UserID: userID, ID: id}, "cancelling legal consultations")
}

func (c *Client) CancelApplication(ctx context.Context, userID, id string) (connectors.ServiceApplication, error) {
	return change[connectors.ServiceApplication](ctx, c, PathPublicCancelApplication, changeRequest{UserID: userID, ID: id}, "withdrawing applications")
}

var _ connectors.OrderPayer = (*Client)(nil)

// PayOrder (contract 1.4) sends in.IdempotencyKey as the Idempotency-Key
// header. A provider without the payment step answers 404: KindInvalid
// "does not support", as for the changes of 1.3.
func (c *Client) PayOrder(ctx context.Context, in connectors.PayOrderInput) (connectors.GroceryOrder, error) {
	out, err := mutate[connectors.GroceryOrder](ctx, c, PathGroceryPayOrder, in, in.IdempotencyKey)
	return out, unsupported(c, err, "paying orders", connectors.ContractPayments)
}

// unsupported turns the 404 of an operation the provider does not have
// into KindInvalid "does not support what", naming the contract version
// that added it; any other err is returned as it is.
func unsupported(c *Client, err error, what, version string) error {
	if e, ok := connectors.AsError(err); ok && e.Kind == connectors.KindNotFound && e.Message == "no such operation" {
		// errors.ErrUnsupported in the chain lets a caller (the conformance
		// kit) tell a missing capability from a refused request.
		return c.errorf(connectors.KindInvalid, fmt.Errorf("%w: %w", errors.ErrUnsupported, err), c.desc.Name+" does not support "+what+" through Plaza (contract "+version+")")
	}
	return err
}

var _ connectors.ApplicationRescheduler = (*Client)(nil)

// RescheduleApplication is contract 1.4's (optional).
func (c *Client) RescheduleApplication(ctx context.Context, userID, id, slotID string) (connectors.ServiceApplication, error) {
	out, err := mutate[connectors.ServiceApplication](ctx, c, PathPublicRescheduleApplication, changeRequest{UserID: userID, ID: id, SlotID: slotID}, "")
	return out, unsupported(c, err, "rescheduling applications", connectors.ContractPayments)
}

func change[Out any](ctx context.Context, c *Client, path string, in changeRequest, what string) (Out, error) {
	out, err := mutate[Out](ctx, c, path, in, "")
	return out, unsupported(c, err, what, connectors.ContractDisplay)
}
