package demo

import (
	"context"

	"github.com/plaza-gateway/plaza/connectors"
)

// Changing bookings (contract 1.3): every demo provider with bookings lets
// its users cancel them, and the medical one reschedules appointments.

var (
	_ connectors.AppointmentChanger         = (*Medical)(nil)
	_ connectors.LegalConsultationCanceller = (*Legal)(nil)
	_ connectors.ApplicationCanceller       = (*PublicService)(nil)
	_ connectors.ApplicationRescheduler     = (*PublicService)(nil)
)

// myAppointment returns userID's appointment, CONFIRMED and not started.
// The caller holds m.mu.
func (m *Medical) myAppointment(userID, id string) (*connectors.Appointment, error) {
	a, ok := m.appointments[id]
	switch {
	case !ok || userID == "" || a.UserID != userID:
		return nil, connectors.NotFound("appointment", id)
	case a.Status != connectors.StatusConfirmed:
		return nil, connectors.Errorf(connectors.KindConflict, "appointment %q is %s and can no longer be changed", id, a.Status)
	case !a.Start.After(m.now()):
		return nil, connectors.Errorf(connectors.KindConflict, "appointment %q has already started", id)
	}
	return a, nil
}

// free makes slotID bookable again and tells the catalogue feed.
func (m *Medical) free(slotID string) {
	if s, ok := m.slots[slotID]; ok {
		s.Available = true
		m.feed.put(doctorItem(m.doctors[s.DoctorID], m.hasFreeSlot(s.DoctorID)))
	}
}

// CancelAppointment cancels userID's confirmed appointment and frees its slot.
func (m *Medical) CancelAppointment(ctx context.Context, userID, id string) (connectors.Appointment, error) {
	if err := ctx.Err(); err != nil {
		return connectors.Appointment{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	a, err := m.myAppointment(userID, id)
	if err != nil {
		return connectors.Appointment{}, err
	}
	m.free(a.SlotID)
	a.Status = connectors.StatusCancelled
	return cloneAppointment(a), nil
}

// RescheduleAppointment moves userID's appointment to slotID of the same
// doctor, freeing the old slot, in one critical section.
func (m *Medical) RescheduleAppointment(ctx context.Context, userID, id, slotID string) (connectors.Appointment, error) {
	if err := ctx.Err(); err != nil {
		return connectors.Appointment{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	a, err := m.myAppointment(userID, id)
	if err != nil {
		return connectors.Appointment{}, err
	}
	slot, ok := m.slots[slotID]
	switch {
	case !ok:
		return connectors.Appointment{}, connectors.NotFound("appointment slot", slotID)
	case slot.DoctorID != a.DoctorID:
		return connectors.Appointment{}, connectors.Errorf(connectors.KindInvalid, "appointment slot %q is not a slot of doctor %q", slotID, a.DoctorID)
	case !slot.Start.After(m.now()):
		return connectors.Appointment{}, connectors.Errorf(connectors.KindInvalid, "appointment slot %q has already started", slotID)
	case slotID == a.SlotID:
		return cloneAppointment(a), nil
	case !slot.Available:
		return connectors.Appointment{}, connectors.Errorf(connectors.KindConflict, "appointment slot %q is already booked", slotID)
	}
	slot.Available = false
	m.free(a.SlotID)
	a.SlotID, a.Start = slot.ID, slot.Start
	return cloneAppointment(a), nil
}

// CancelLegalConsultation cancels userID's PENDING or CONFIRMED consultation.
func (l *Legal) CancelLegalConsultation(ctx context.Context, userID, id string) (connectors.LegalConsultation, error) {
	if err := ctx.Err(); err != nil {
		return connectors.LegalConsultation{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.consultations[id]
	switch {
	case !ok || userID == "" || c.UserID != userID:
		return connectors.LegalConsultation{}, connectors.NotFound("legal consultation", id)
	case c.Status != connectors.StatusPending && c.Status != connectors.StatusConfirmed:
		return connectors.LegalConsultation{}, connectors.Errorf(connectors.KindConflict, "legal consultation %q is %s and can no longer be cancelled", id, c.Status)
	}
	c.Status = connectors.StatusCancelled
	return cloneLegalConsultation(c), nil
}

// CancelApplication withdraws userID's PENDING application and frees its
// office slot.
func (p *PublicService) CancelApplication(ctx context.Context, userID, id string) (connectors.ServiceApplication, error) {
	if err := ctx.Err(); err != nil {
		return connectors.ServiceApplication{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	a, err := p.myApplication(userID, id, "withdrawn")
	if err != nil {
		return connectors.ServiceApplication{}, err
	}
	p.free(a.SlotID)
	a.Status = connectors.StatusCancelled
	return cloneApplication(a), nil
}

// myApplication returns userID's PENDING application. The caller holds p.mu.
func (p *PublicService) myApplication(userID, id, change string) (*connectors.ServiceApplication, error) {
	a, ok := p.applications[id]
	switch {
	case !ok || userID == "" || a.UserID != userID:
		return nil, connectors.NotFound("application", id)
	case a.Status != connectors.StatusPending:
		return nil, connectors.Errorf(connectors.KindConflict, "application %q is %s and can no longer be %s", id, a.Status, change)
	}
	return a, nil
}

// free makes an upcoming office slot bookable again and tells the
// catalogue feed. The caller holds p.mu.
func (p *PublicService) free(slotID string) {
	if s, ok := p.slots[slotID]; ok && s.Start.After(p.now()) {
		s.Available = true
		p.feed.put(officeItem(p.offices[s.OfficeID], p.hasFreeSlot(s.OfficeID)))
	}
}

// RescheduleApplication moves userID's PENDING application to slotID of
// the same office, freeing the old slot, in one critical section.
func (p *PublicService) RescheduleApplication(ctx context.Context, userID, id, slotID string) (connectors.ServiceApplication, error) {
	if err := ctx.Err(); err != nil {
		return connectors.ServiceApplication{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	a, err := p.myApplication(userID, id, "rescheduled")
	if err != nil {
		return connectors.ServiceApplication{}, err
	}
	slot, ok := p.slots[slotID]
	switch {
	case !ok:
		return connectors.ServiceApplication{}, connectors.NotFound("office slot", slotID)
	case slot.OfficeID != a.OfficeID:
		return connectors.ServiceApplication{}, connectors.Errorf(connectors.KindInvalid, "office slot %q is not a slot of office %q", slotID, a.OfficeID)
	case !slot.Start.After(p.now()):
		return connectors.ServiceApplication{}, connectors.Errorf(connectors.KindInvalid, "office slot %q has already started", slotID)
	case slotID == a.SlotID:
		return cloneApplication(a), nil
	case !slot.Available:
		return connectors.ServiceApplication{}, connectors.Errorf(connectors.KindConflict, "office slot %q is already booked", slotID)
	}
	slot.Available = false
	p.free(a.SlotID)
	a.SlotID = slot.ID
	p.feed.put(officeItem(p.offices[slot.OfficeID], p.hasFreeSlot(slot.OfficeID)))
	return cloneApplication(a), nil
}
