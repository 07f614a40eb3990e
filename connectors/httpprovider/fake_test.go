package httpprovider

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

// fake is a small in-memory provider implementing every vertical, with
// knobs for the failures the tests need. It records what it was called with.
type fake struct {
	desc connectors.Descriptor

	mu       sync.Mutex
	batches  [][]string // ids of every batch call
	lastUser string     // connectors.UserFrom of the last call
	lastKey  string     // idempotency key of the last mutation
	deadline time.Duration

	// fail, when set, is returned by every call.
	fail error
}

var t0 = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)

func newFake(id string, v connectors.Vertical) *fake {
	return &fake{desc: connectors.Descriptor{ID: id, Name: "Fake " + id, Vertical: v, Description: "test double", Rating: 4.5, Cities: []string{"Shanghai", "Beijing"}}}
}

func (f *fake) Describe() connectors.Descriptor { return f.desc }

func (f *fake) Health(ctx context.Context) error { return f.record(ctx, nil) }

// record notes the call's user and deadline and returns the forced failure.
func (f *fake) record(ctx context.Context, ids []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ids != nil {
		f.batches = append(f.batches, append([]string(nil), ids...))
	}
	f.lastUser, _ = connectors.UserFrom(ctx)
	f.deadline = 0
	if dl, ok := ctx.Deadline(); ok {
		f.deadline = time.Until(dl)
	}
	return f.fail
}

func (f *fake) batchCalls() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]string(nil), f.batches...)
}

// byID answers a batch: IDs starting with "missing" are not found, every
// other ID gets the object made by mk.
func byID[T any](f *fake, ctx context.Context, kind string, ids []string, mk func(string) T) ([]connectors.Result[T], error) {
	if err := f.record(ctx, ids); err != nil {
		return nil, err
	}
	out := make([]connectors.Result[T], len(ids))
	for i, id := range ids {
		if len(id) >= 7 && id[:7] == "missing" {
			out[i].Err = connectors.NotFound(kind, id)
			continue
		}
		out[i].Value = mk(id)
	}
	return out, nil
}

func page[T any](f *fake, ctx context.Context, q connectors.Query, mk func(string) T) (connectors.Page[T], error) {
	if err := f.record(ctx, nil); err != nil {
		return connectors.Page[T]{}, err
	}
	n := max(q.First, 1)
	p := connectors.Page[T]{Total: 42, NextCursor: "c" + q.After + "x"}
	for i := range n {
		p.Items = append(p.Items, mk(fmt.Sprintf("%s-%s-%s-%d", q.Text, q.City, q.Category+q.StoreID, i)))
	}
	return p, nil
}

func money(a int64) connectors.Money { return connectors.Money{Amount: a, Currency: "CNY"} }

func mkStore(id string) connectors.Store {
	return connectors.Store{ID: id, Name: "Store " + id, City: "Shanghai", Address: "1 Road", Rating: 4.2, Tags: []string{"fresh"}}
}
func mkProduct(id string) connectors.Product {
	return connectors.Product{ID: id, StoreID: "s1", Name: "Apple " + id, Category: "fruit", Price: money(1200), Unit: "kg", Stock: 3, Rating: 4.1, City: "Shanghai"}
}
func mkOrder(id string) connectors.GroceryOrder {
	return connectors.GroceryOrder{ID: id, UserID: "u1", StoreID: "s1", SlotID: "sl1", Items: []connectors.OrderItem{{ProductID: "p1", Quantity: 2, UnitPrice: money(1200)}}, Total: money(2400), Status: connectors.StatusPlaced, CreatedAt: t0}
}
func mkDeliverySlots(id string) []connectors.DeliverySlot {
	if id == "closed" {
		return nil
	}
	return []connectors.DeliverySlot{{ID: id + "-1", StoreID: id, Start: t0, End: t0.Add(time.Hour), Capacity: 5, Remaining: 2}}
}
func mkDoctor(id string) connectors.Doctor {
	return connectors.Doctor{ID: id, Name: "Dr " + id, Specialty: "cardiology", Hospital: "H1", Languages: []string{"zh", "en"}, Fee: money(5000), Rating: 4.8, City: "Beijing", Bio: "bio"}
}
func mkAppointment(id string) connectors.Appointment {
	return connectors.Appointment{ID: id, UserID: "u1", DoctorID: "d1", SlotID: "as1", Start: t0, Reason: "check", Status: connectors.StatusConfirmed, CreatedAt: t0}
}
func mkConsultation(id string) connectors.Consultation {
	at := t0.Add(time.Hour)
	return connectors.Consultation{ID: id, UserID: "u1", Specialty: "dermatology", Question: "q?", Answer: "a.", Status: connectors.StatusAnswered, CreatedAt: t0, AnsweredAt: &at}
}
func mkAppointmentSlots(id string) []connectors.AppointmentSlot {
	return []connectors.AppointmentSlot{{ID: id + "-1", DoctorID: id, Start: t0, End: t0.Add(30 * time.Minute), Available: true}}
}
func mkLawyer(id string) connectors.Lawyer {
	return connectors.Lawyer{ID: id, Name: "Lawyer " + id, PracticeAreas: []string{"family"}, Firm: "F", Languages: []string{"zh"}, Fee: money(9000), Rating: 4.3, City: "Shanghai"}
}
func mkLegalConsultation(id string) connectors.LegalConsultation {
	return connectors.LegalConsultation{ID: id, UserID: "u1", LawyerID: "l1", Topic: "lease", Description: "d", Status: connectors.StatusPending, CreatedAt: t0}
}
func mkService(id string) connectors.GovService {
	return connectors.GovService{ID: id, Name: "Passport " + id, Category: "id", Cities: []string{"Beijing"}, RequiredDocuments: []string{"photo"}, Fee: money(20000), ProcessingDays: 10, Rating: 3.9}
}
func mkApplication(id string) connectors.ServiceApplication {
	return connectors.ServiceApplication{ID: id, UserID: "u1", ServiceID: "g1", OfficeID: "o1", SlotID: "os1", Documents: []string{"photo"}, Status: connectors.StatusPending, CreatedAt: t0}
}
func mkOffices(id string) []connectors.Office {
	return []connectors.Office{{ID: "o-" + id, Name: "Office", City: "Beijing", Address: "2 Road", Slots: []connectors.OfficeSlot{{ID: "os1", OfficeID: "o-" + id, Start: t0, End: t0.Add(time.Hour), Available: true}}}}
}

func (f *fake) Stores(ctx context.Context, ids []string) ([]connectors.Result[connectors.Store], error) {
	return byID(f, ctx, "store", ids, mkStore)
}
func (f *fake) Products(ctx context.Context, ids []string) ([]connectors.Result[connectors.Product], error) {
	return byID(f, ctx, "product", ids, mkProduct)
}
func (f *fake) Orders(ctx context.Context, ids []string) ([]connectors.Result[connectors.GroceryOrder], error) {
	return byID(f, ctx, "order", ids, mkOrder)
}
func (f *fake) DeliverySlots(ctx context.Context, ids []string) ([]connectors.Result[[]connectors.DeliverySlot], error) {
	return byID(f, ctx, "store", ids, mkDeliverySlots)
}
func (f *fake) SearchStores(ctx context.Context, q connectors.Query) (connectors.Page[connectors.Store], error) {
	return page(f, ctx, q, mkStore)
}
func (f *fake) SearchProducts(ctx context.Context, q connectors.Query) (connectors.Page[connectors.Product], error) {
	return page(f, ctx, q, mkProduct)
}
func (f *fake) UserOrders(ctx context.Context, userID string) ([]connectors.GroceryOrder, error) {
	return []connectors.GroceryOrder{mkOrder(userID + "-o1"), mkOrder(userID + "-o2")}, f.record(ctx, nil)
}

func (f *fake) mutation(ctx context.Context, key string) error {
	err := f.record(ctx, nil)
	f.mu.Lock()
	f.lastKey = key
	f.mu.Unlock()
	return err
}

func (f *fake) PlaceOrder(ctx context.Context, in connectors.PlaceOrderInput) (connectors.GroceryOrder, error) {
	if err := f.mutation(ctx, in.IdempotencyKey); err != nil {
		return connectors.GroceryOrder{}, err
	}
	if len(in.Items) == 0 {
		return connectors.GroceryOrder{}, connectors.Errorf(connectors.KindInvalid, "an order needs at least one item")
	}
	if in.Items[0].Quantity > 3 {
		return connectors.GroceryOrder{}, connectors.Errorf(connectors.KindConflict, "product %s is out of stock", in.Items[0].ProductID)
	}
	o := mkOrder("new-" + in.IdempotencyKey)
	o.UserID, o.StoreID, o.SlotID = in.UserID, in.StoreID, in.SlotID
	return o, nil
}
func (f *fake) CancelOrder(ctx context.Context, userID, orderID string) (connectors.GroceryOrder, error) {
	if err := f.mutation(ctx, ""); err != nil {
		return connectors.GroceryOrder{}, err
	}
	if userID != "u1" {
		return connectors.GroceryOrder{}, connectors.NotFound("order", orderID)
	}
	o := mkOrder(orderID)
	o.Status = connectors.StatusCancelled
	return o, nil
}

// PayOrder (contract 1.4): u1's orders; the declining test token declines.
func (f *fake) PayOrder(ctx context.Context, in connectors.PayOrderInput) (connectors.GroceryOrder, error) {
	if err := f.mutation(ctx, in.IdempotencyKey); err != nil {
		return connectors.GroceryOrder{}, err
	}
	switch {
	case in.UserID != "u1":
		return connectors.GroceryOrder{}, connectors.NotFound("order", in.OrderID)
	case in.PaymentToken == connectors.PaymentTokenDeclined:
		return connectors.GroceryOrder{}, connectors.Errorf(connectors.KindPaymentDeclined, "the card was declined")
	}
	return mkOrder(in.OrderID), nil
}

func (f *fake) Doctors(ctx context.Context, ids []string) ([]connectors.Result[connectors.Doctor], error) {
	return byID(f, ctx, "doctor", ids, mkDoctor)
}
func (f *fake) Appointments(ctx context.Context, ids []string) ([]connectors.Result[connectors.Appointment], error) {
	return byID(f, ctx, "appointment", ids, mkAppointment)
}
func (f *fake) Consultations(ctx context.Context, ids []string) ([]connectors.Result[connectors.Consultation], error) {
	return byID(f, ctx, "consultation", ids, mkConsultation)
}
func (f *fake) AppointmentSlots(ctx context.Context, ids []string) ([]connectors.Result[[]connectors.AppointmentSlot], error) {
	return byID(f, ctx, "doctor", ids, mkAppointmentSlots)
}
func (f *fake) SearchDoctors(ctx context.Context, q connectors.Query) (connectors.Page[connectors.Doctor], error) {
	return page(f, ctx, q, mkDoctor)
}
func (f *fake) UserAppointments(ctx context.Context, userID string) ([]connectors.Appointment, error) {
	return []connectors.Appointment{mkAppointment(userID + "-a1")}, f.record(ctx, nil)
}
func (f *fake) UserConsultations(ctx context.Context, userID string) ([]connectors.Consultation, error) {
	return nil, f.record(ctx, nil)
}
func (f *fake) BookAppointment(ctx context.Context, in connectors.BookAppointmentInput) (connectors.Appointment, error) {
	if err := f.mutation(ctx, in.IdempotencyKey); err != nil {
		return connectors.Appointment{}, err
	}
	a := mkAppointment("new-" + in.IdempotencyKey)
	a.UserID, a.DoctorID, a.SlotID, a.Reason = in.UserID, in.DoctorID, in.SlotID, in.Reason
	return a, nil
}
func (f *fake) AskDoctor(ctx context.Context, in connectors.AskDoctorInput) (connectors.Consultation, error) {
	if err := f.mutation(ctx, in.IdempotencyKey); err != nil {
		return connectors.Consultation{}, err
	}
	return connectors.Consultation{ID: "new-" + in.IdempotencyKey, UserID: in.UserID, DoctorID: in.DoctorID, Specialty: in.Specialty, Question: in.Question, Status: connectors.StatusPending, CreatedAt: t0}, nil
}

func (f *fake) Lawyers(ctx context.Context, ids []string) ([]connectors.Result[connectors.Lawyer], error) {
	return byID(f, ctx, "lawyer", ids, mkLawyer)
}
func (f *fake) LegalConsultations(ctx context.Context, ids []string) ([]connectors.Result[connectors.LegalConsultation], error) {
	return byID(f, ctx, "consultation", ids, mkLegalConsultation)
}
func (f *fake) SearchLawyers(ctx context.Context, q connectors.Query) (connectors.Page[connectors.Lawyer], error) {
	return page(f, ctx, q, mkLawyer)
}
func (f *fake) UserLegalConsultations(ctx context.Context, userID string) ([]connectors.LegalConsultation, error) {
	return []connectors.LegalConsultation{mkLegalConsultation(userID + "-c1")}, f.record(ctx, nil)
}
func (f *fake) RequestConsultation(ctx context.Context, in connectors.LegalConsultationInput) (connectors.LegalConsultation, error) {
	if err := f.mutation(ctx, in.IdempotencyKey); err != nil {
		return connectors.LegalConsultation{}, err
	}
	at := t0.Add(24 * time.Hour)
	return connectors.LegalConsultation{ID: "new-" + in.IdempotencyKey, UserID: in.UserID, LawyerID: in.LawyerID, Topic: in.Topic, Description: in.Description, Status: connectors.StatusPending, ScheduledAt: &at, CreatedAt: t0}, nil
}

func (f *fake) Services(ctx context.Context, ids []string) ([]connectors.Result[connectors.GovService], error) {
	return byID(f, ctx, "service", ids, mkService)
}
func (f *fake) Applications(ctx context.Context, ids []string) ([]connectors.Result[connectors.ServiceApplication], error) {
	return byID(f, ctx, "application", ids, mkApplication)
}
func (f *fake) Offices(ctx context.Context, ids []string) ([]connectors.Result[[]connectors.Office], error) {
	return byID(f, ctx, "service", ids, mkOffices)
}
func (f *fake) SearchServices(ctx context.Context, q connectors.Query) (connectors.Page[connectors.GovService], error) {
	return page(f, ctx, q, mkService)
}
func (f *fake) UserApplications(ctx context.Context, userID string) ([]connectors.ServiceApplication, error) {
	return []connectors.ServiceApplication{mkApplication(userID + "-ap1")}, f.record(ctx, nil)
}
func (f *fake) Apply(ctx context.Context, in connectors.ApplicationInput) (connectors.ServiceApplication, error) {
	if err := f.mutation(ctx, in.IdempotencyKey); err != nil {
		return connectors.ServiceApplication{}, err
	}
	if len(in.Documents) == 0 {
		return connectors.ServiceApplication{}, connectors.Errorf(connectors.KindInvalid, "document %q is required", "photo")
	}
	return connectors.ServiceApplication{ID: "new-" + in.IdempotencyKey, UserID: in.UserID, ServiceID: in.ServiceID, OfficeID: in.OfficeID, SlotID: in.SlotID, Documents: in.Documents, Status: connectors.StatusPending, CreatedAt: t0}, nil
}

// Changing bookings (contract 1.3): u1's bookings only.
func fakeChange[T any](f *fake, ctx context.Context, kind, userID, id string, mk func(string) T, set func(*T)) (T, error) {
	var zero T
	if err := f.mutation(ctx, ""); err != nil {
		return zero, err
	}
	if userID != "u1" {
		return zero, connectors.NotFound(kind, id)
	}
	v := mk(id)
	set(&v)
	return v, nil
}

func (f *fake) CancelAppointment(ctx context.Context, userID, id string) (connectors.Appointment, error) {
	return fakeChange(f, ctx, "appointment", userID, id, mkAppointment, func(a *connectors.Appointment) { a.Status = connectors.StatusCancelled })
}

func (f *fake) RescheduleAppointment(ctx context.Context, userID, id, slotID string) (connectors.Appointment, error) {
	return fakeChange(f, ctx, "appointment", userID, id, mkAppointment, func(a *connectors.Appointment) { a.SlotID = slotID })
}

func (f *fake) CancelLegalConsultation(ctx context.Context, userID, id string) (connectors.LegalConsultation, error) {
	return fakeChange(f, ctx, "legal consultation", userID, id, mkLegalConsultation, func(c *connectors.LegalConsultation) { c.Status = connectors.StatusCancelled })
}

func (f *fake) CancelApplication(ctx context.Context, userID, id string) (connectors.ServiceApplication, error) {
	return fakeChange(f, ctx, "application", userID, id, mkApplication, func(a *connectors.ServiceApplication) { a.Status = connectors.StatusCancelled })
}

func (f *fake) RescheduleApplication(ctx context.Context, userID, id, slotID string) (connectors.ServiceApplication, error) {
	return fakeChange(f, ctx, "application", userID, id, mkApplication, func(a *connectors.ServiceApplication) { a.SlotID = slotID })
}
