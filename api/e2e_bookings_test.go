package api_test

import (
	"context"
	"testing"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
)

// TestChangingBookings: every kind of booking can be cancelled, and an
// appointment rescheduled, by its owner only; the freed slot is bookable
// again at once (the slot lists are invalidated).
func TestChangingBookings(t *testing.T) {
	g := startDemo(t)
	const user = "demo-40"
	doctor := someDoctors(t, g, 1)[0]
	var free []string
	for _, s := range doctor.Slots {
		if s.Available {
			free = append(free, s.ID)
		}
	}
	if len(free) < 2 {
		t.Fatalf("doctor %s has %d free slots", doctor.ID, len(free))
	}
	type appt struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	book, _ := mustData[struct {
		BookDoctorAppointment appt `json:"bookDoctorAppointment"`
	}](t, g, apitest.Request{User: user, Query: `mutation($in: BookDoctorAppointmentInput!) { bookDoctorAppointment(input: $in) { id status } }`,
		Variables: map[string]any{"in": map[string]any{"doctorId": doctor.ID, "slotId": free[0], "reason": "check-up"}}})
	id := book.BookDoctorAppointment.ID
	slotFree := func(slot string) bool {
		d, _ := mustData[struct {
			Node doctorFixture `json:"node"`
		}](t, g, apitest.Request{Query: `query($id: ID!) { node(id: $id) { ... on Doctor { id slots(onlyAvailable: false) { id available } } } }`,
			Variables: map[string]any{"id": doctor.ID}})
		for _, s := range d.Node.Slots {
			if s.ID == slot {
				return s.Available
			}
		}
		t.Fatalf("slot %s not listed", slot)
		return false
	}

	t.Run("reschedules to another slot of the doctor, freeing the first", func(t *testing.T) {
		d, _ := mustData[struct {
			RescheduleAppointment struct {
				ID     string `json:"id"`
				Status string `json:"status"`
				Start  string `json:"start"`
			} `json:"rescheduleAppointment"`
		}](t, g, apitest.Request{User: user, Query: `mutation($id: ID!, $slot: ID!) { rescheduleAppointment(id: $id, slotId: $slot) { id status start } }`,
			Variables: map[string]any{"id": id, "slot": free[1]}})
		if d.RescheduleAppointment.ID != id || d.RescheduleAppointment.Status != "CONFIRMED" {
			t.Fatalf("%+v", d.RescheduleAppointment)
		}
		if !slotFree(free[0]) || slotFree(free[1]) {
			t.Fatalf("after the move: first slot free %v, second free %v; want true, false", slotFree(free[0]), slotFree(free[1]))
		}
	})
	t.Run("a slot id of another kind is BAD_USER_INPUT on slotId", func(t *testing.T) {
		r := mustFail(t, g, apitest.Request{User: user, Query: `mutation($id: ID!, $slot: ID!) { rescheduleAppointment(id: $id, slotId: $slot) { id } }`,
			Variables: map[string]any{"id": id, "slot": doctor.ID}}, "BAD_USER_INPUT", "invalid AppointmentSlot id")
		if r.Errors[0].Extensions["field"] != "slotId" {
			t.Fatalf("field %v", r.Errors[0].Extensions["field"])
		}
	})
	t.Run("another user cannot cancel it", func(t *testing.T) {
		mustFail(t, g, apitest.Request{User: "demo-41", Query: `mutation($id: ID!) { cancelAppointment(id: $id) { id } }`,
			Variables: map[string]any{"id": id}}, "NOT_FOUND", "not found")
	})
	t.Run("its owner cancels it and the slot is free again", func(t *testing.T) {
		d, _ := mustData[struct {
			CancelAppointment appt `json:"cancelAppointment"`
		}](t, g, apitest.Request{User: user, Query: `mutation($id: ID!) { cancelAppointment(id: $id) { id status } }`, Variables: map[string]any{"id": id}})
		if d.CancelAppointment.Status != "CANCELLED" || !slotFree(free[1]) {
			t.Fatalf("%+v, slot free %v", d.CancelAppointment, slotFree(free[1]))
		}
	})
	t.Run("cancelling twice is CONFLICT", func(t *testing.T) {
		mustFail(t, g, apitest.Request{User: user, Query: `mutation($id: ID!) { cancelAppointment(id: $id) { id } }`,
			Variables: map[string]any{"id": id}}, "CONFLICT", "can no longer be changed")
	})

	t.Run("a legal consultation is cancelled", func(t *testing.T) {
		req, _ := mustData[struct {
			RequestLegalConsultation appt `json:"requestLegalConsultation"`
		}](t, g, apitest.Request{User: user, Query: `mutation($in: RequestLegalConsultationInput!) { requestLegalConsultation(input: $in) { id status } }`,
			Variables: map[string]any{"in": map[string]any{"lawyerId": someLawyer(t, g), "topic": "lease", "description": "deposit not returned"}}})
		d, _ := mustData[struct {
			CancelLegalConsultation appt `json:"cancelLegalConsultation"`
		}](t, g, apitest.Request{User: user, Query: `mutation($id: ID!) { cancelLegalConsultation(id: $id) { id status } }`,
			Variables: map[string]any{"id": req.RequestLegalConsultation.ID}})
		if d.CancelLegalConsultation.Status != "CANCELLED" {
			t.Fatalf("%+v", d.CancelLegalConsultation)
		}
	})

	t.Run("an application is withdrawn and its office slot freed", func(t *testing.T) {
		svc := someService(t, g, "residence permit")
		o := svc.Offices[0]
		app, _ := mustData[struct {
			ApplyForGovService appt `json:"applyForGovService"`
		}](t, g, apitest.Request{User: user, Query: applyMutation,
			Variables: map[string]any{"in": map[string]any{"serviceId": svc.ID, "officeId": o.ID, "slotId": o.Slots[0].ID, "documents": svc.RequiredDocuments}}})
		d, _ := mustData[struct {
			CancelApplication appt `json:"cancelApplication"`
		}](t, g, apitest.Request{User: user, Query: `mutation($id: ID!) { cancelApplication(id: $id) { id status } }`,
			Variables: map[string]any{"id": app.ApplyForGovService.ID}})
		if d.CancelApplication.Status != "CANCELLED" {
			t.Fatalf("%+v", d.CancelApplication)
		}
		if again := someService(t, g, "residence permit"); again.Offices[0].Slots[0].ID != o.Slots[0].ID {
			t.Fatalf("the freed slot %s is not listed first again: %+v", o.Slots[0].ID, again.Offices[0].Slots[:1])
		}
	})

	t.Run("an application's visit is moved to another slot of its office, freeing the first", func(t *testing.T) {
		svc := someService(t, g, "residence permit")
		o := svc.Offices[0]
		if len(o.Slots) < 2 {
			t.Fatalf("office %s has %d free slots", o.ID, len(o.Slots))
		}
		app, _ := mustData[struct {
			ApplyForGovService appt `json:"applyForGovService"`
		}](t, g, apitest.Request{User: user, Query: applyMutation,
			Variables: map[string]any{"in": map[string]any{"serviceId": svc.ID, "officeId": o.ID, "slotId": o.Slots[0].ID, "documents": svc.RequiredDocuments}}})
		id := app.ApplyForGovService.ID
		move := `mutation($id: ID!, $slot: ID!) { rescheduleApplication(id: $id, slotId: $slot) { id status visitSlot { id } } }`
		d, _ := mustData[struct {
			RescheduleApplication struct {
				ID, Status string
				VisitSlot  struct{ ID string }
			}
		}](t, g, apitest.Request{User: user, Query: move, Variables: map[string]any{"id": id, "slot": o.Slots[1].ID}})
		if got := d.RescheduleApplication; got.ID != id || got.Status != "PENDING" || got.VisitSlot.ID != o.Slots[1].ID {
			t.Fatalf("moved application = %+v, want PENDING at %s", got, o.Slots[1].ID)
		}
		if again := someService(t, g, "residence permit"); again.Offices[0].Slots[0].ID != o.Slots[0].ID {
			t.Fatalf("the freed slot %s is not listed first again", o.Slots[0].ID)
		}
		r := mustFail(t, g, apitest.Request{User: user, Query: move, Variables: map[string]any{"id": id, "slot": svc.ID}}, "BAD_USER_INPUT", "invalid OfficeSlot id")
		if r.Errors[0].Extensions["field"] != "slotId" {
			t.Fatalf("field %v", r.Errors[0].Extensions["field"])
		}
		mustFail(t, g, apitest.Request{User: "demo-41", Query: move, Variables: map[string]any{"id": id, "slot": o.Slots[0].ID}}, "NOT_FOUND", "not found")
		mustData[struct{ CancelApplication appt }](t, g, apitest.Request{User: user, Query: `mutation($id: ID!) { cancelApplication(id: $id) { id status } }`, Variables: map[string]any{"id": id}})
		mustFail(t, g, apitest.Request{User: user, Query: move, Variables: map[string]any{"id": id, "slot": o.Slots[0].ID}}, "CONFLICT", "can no longer be rescheduled")
	})
}

// medicalOf12 is a medical provider of contract 1.2: no way to change a
// booking.
type medicalOf12 struct{ connectors.Medical }

func TestChangingABookingAtAProviderWithout(t *testing.T) {
	m, err := demo.NewMedical(connectors.Descriptor{ID: "oldclinic", Name: "OldClinic"})
	if err != nil {
		t.Fatal(err)
	}
	g := apitest.Start(t, apitest.Options{Connectors: []connectors.Connector{medicalOf12{m}}})
	appts, err := m.UserAppointments(context.Background(), "demo-1")
	if err != nil || len(appts) == 0 {
		t.Fatalf("%v %d", err, len(appts))
	}
	mustFail(t, g, apitest.Request{User: "demo-1", Query: `mutation($id: ID!) { cancelAppointment(id: $id) { id } }`,
		Variables: map[string]any{"id": encodeID("Appointment", "oldclinic", appts[0].ID)}}, "BAD_USER_INPUT", "OldClinic does not support cancelling appointments")
}
