package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
)

var _ connectors.Medical = (*Medical)(nil)
var _ connectors.HealthChecker = (*Medical)(nil)

const (
	doctorsPerScale   = 120
	appointmentDays   = 5
	appointmentLength = 30 * time.Minute
	maxTextLen        = 4000
)

// Medical is a demo provider of doctors, appointments and online consultations.
type Medical struct {
	desc     connectors.Descriptor
	now      connectors.Clock
	progress *progress // nil: statuses move only by mutations

	mu                sync.RWMutex
	doctors           map[string]*connectors.Doctor
	doctorIndex       *index[connectors.Doctor]
	slots             map[string]*connectors.AppointmentSlot
	doctorSlots       map[string][]*connectors.AppointmentSlot // by start
	calendar          calendar                                 // rolls slots forward (slots.go)
	appointments      map[string]*connectors.Appointment
	userAppointments  map[string][]*connectors.Appointment
	consultations     map[string]*connectors.Consultation
	userConsultations map[string][]*connectors.Consultation
	appointmentIDs    counter
	consultationIDs   counter
	booked            *idempotency[connectors.Appointment]
	asked             *idempotency[connectors.Consultation]
	feed              *feed
}

// NewMedical builds a medical provider with data generated for desc.ID.
func NewMedical(desc connectors.Descriptor, opts ...Option) (*Medical, error) {
	desc, cfg, err := prepare(desc, connectors.VerticalMedical, opts)
	if err != nil {
		return nil, err
	}
	m := &Medical{
		desc:              desc,
		now:               cfg.clock,
		progress:          cfg.progress,
		doctors:           map[string]*connectors.Doctor{},
		slots:             map[string]*connectors.AppointmentSlot{},
		doctorSlots:       map[string][]*connectors.AppointmentSlot{},
		appointments:      map[string]*connectors.Appointment{},
		userAppointments:  map[string][]*connectors.Appointment{},
		consultations:     map[string]*connectors.Consultation{},
		userConsultations: map[string][]*connectors.Consultation{},
		appointmentIDs:    counter{prefix: "a"},
		consultationIDs:   counter{prefix: "c"},
		booked:            newIdempotency(cloneAppointment),
		asked:             newIdempotency(cloneConsultation),
	}
	rng := cfg.rng(desc.ID)
	doctors, specs := m.generateDoctors(rng, cfg)
	m.doctorIndex = newIndex(doctors, doctorDoc)
	m.generateHistory(rng, cfg, doctors, specs)
	m.feed = newFeed(desc.ID)
	for _, d := range doctors {
		m.feed.put(doctorItem(d, m.hasFreeSlot(d.ID)))
	}
	return m, nil
}

func (m *Medical) Describe() connectors.Descriptor { return describe(m.desc) }

// Health reports the provider healthy unless the request is already done.
func (m *Medical) Health(ctx context.Context) error { return ctx.Err() }

// generateDoctors cycles specialties within each city, so every city has
// every specialty; specs[i] is doctors[i]'s specialty.
func (m *Medical) generateDoctors(rng *rand.Rand, cfg config) ([]*connectors.Doctor, []*specialty) {
	cities := m.desc.Cities
	n := doctorsPerScale * cfg.scale
	doctors, specs := make([]*connectors.Doctor, 0, n), make([]*specialty, 0, n)
	day0 := startOfDay(cfg.clock())
	for i := range n {
		city := cities[i%len(cities)]
		sp := &specialties[(i/len(cities))%len(specialties)]
		hospital := sp.hospital
		if hospital == "" {
			hospital = pick(rng, generalHospitals)
		}
		hospital = fmt.Sprintf(hospital, city)
		name := personName(rng)
		years := 3 + rng.IntN(28)
		d := &connectors.Doctor{
			ID: fmt.Sprintf("d-%04d", i+1), Name: "Dr. " + name, Specialty: sp.name, Hospital: hospital,
			Languages: languages(rng, city), Fee: cny(int64(30+rng.IntN(271)) * 100),
			Rating: round1(3.6 + rng.Float64()*1.4), City: city,
			Bio: fmt.Sprintf("Dr. %s is a %s at %s with %d years of experience in %s.",
				name, sp.title, hospital, years, sp.focus),
		}
		doctors, specs = append(doctors, d), append(specs, sp)
		m.doctors[d.ID] = d
		for day := 1; day <= appointmentDays; day++ {
			m.addAppointmentDay(d.ID, day0.AddDate(0, 0, day))
		}
	}
	m.calendar = newCalendar(day0, appointmentDays)
	return doctors, specs
}

// addAppointmentDay adds doctor's slots of day.
func (m *Medical) addAppointmentDay(doctor string, day time.Time) {
	for _, minute := range consultationSlotTimes {
		start := day.Add(time.Duration(minute) * time.Minute)
		s := &connectors.AppointmentSlot{ID: appointmentSlotID(doctor, start), DoctorID: doctor, Start: start, End: start.Add(appointmentLength), Available: true}
		m.slots[s.ID] = s
		m.doctorSlots[doctor] = append(m.doctorSlots[doctor], s)
	}
}

// rollSlots gives every doctor the days up to appointmentDays ahead of now
// and forgets passed slots.
func (m *Medical) rollSlots(now time.Time) {
	roll(&m.mu, &m.calendar, now, func(day time.Time) {
		for doctor := range m.doctors {
			m.addAppointmentDay(doctor, day)
		}
	}, func() {
		for doctor, list := range m.doctorSlots {
			m.doctorSlots[doctor] = prune(list, m.slots, now, func(s *connectors.AppointmentSlot) string { return s.ID }, func(s *connectors.AppointmentSlot) time.Time { return s.End })
		}
	})
}

func appointmentSlotID(doctorID string, start time.Time) string {
	return "as-" + doctorID + "-" + slotSuffix(start)
}

// generateHistory gives every demo user past appointments, one upcoming
// appointment on a real slot (so the slot shows as taken), and consultations
// of which all but the newest are answered.
func (m *Medical) generateHistory(rng *rand.Rand, cfg config, doctors []*connectors.Doctor, specs []*specialty) {
	now := cfg.clock()
	for u := 1; u <= cfg.users; u++ {
		user := UserID(u)
		past, asked := 1+rng.IntN(3), 2+rng.IntN(3)
		if u == 1 {
			past, asked = 5, 6
		}
		for _, t := range pastTimes(rng, now, past, 365) {
			k := rng.IntN(len(doctors))
			d := doctors[k]
			start := startOfDay(t).Add(time.Duration(pick(rng, consultationSlotTimes)) * time.Minute)
			if start.After(now) {
				start = start.AddDate(0, 0, -1)
			}
			a := &connectors.Appointment{
				ID: m.appointmentIDs.next(), UserID: user, DoctorID: d.ID, SlotID: appointmentSlotID(d.ID, start), Start: start,
				Reason: pick(rng, specs[k].reasons), Status: connectors.StatusCompleted, CreatedAt: start.AddDate(0, 0, -1-rng.IntN(7)),
			}
			if rng.IntN(6) == 0 {
				a.Status = connectors.StatusCancelled
			}
			m.addAppointment(a)
		}
		// The upcoming appointment takes a free slot of a random doctor.
		k := rng.IntN(len(doctors))
		d := doctors[k]
		if slot := randomFree(rng, m.doctorSlots[d.ID], func(s *connectors.AppointmentSlot) bool { return s.Available }); slot != nil {
			slot.Available = false
			m.addAppointment(&connectors.Appointment{
				ID: m.appointmentIDs.next(), UserID: user, DoctorID: d.ID, SlotID: slot.ID, Start: slot.Start,
				Reason: pick(rng, specs[k].reasons), Status: connectors.StatusConfirmed, CreatedAt: now.Add(-time.Duration(1+rng.IntN(48)) * time.Hour),
			})
		}

		for i, t := range pastTimes(rng, now, asked, 365) {
			k := rng.IntN(len(doctors))
			reason := pick(rng, specs[k].reasons)
			c := &connectors.Consultation{
				ID: m.consultationIDs.next(), UserID: user, DoctorID: doctors[k].ID, Specialty: specs[k].name,
				Question: reason + ": what should I do?", Status: connectors.StatusPending, CreatedAt: t,
			}
			if i < asked-1 {
				c.Answer = "Thank you for your question about " + strings.ToLower(reason) + ". " + specs[k].answer
				answered := t.Add(time.Duration(1+rng.IntN(24)) * time.Hour)
				if answered.After(now) {
					answered = now
				}
				c.Status, c.AnsweredAt = connectors.StatusAnswered, &answered
			}
			m.addConsultation(c)
		}
	}
}

func (m *Medical) addAppointment(a *connectors.Appointment) {
	m.appointments[a.ID] = a
	m.userAppointments[a.UserID] = append(m.userAppointments[a.UserID], a)
}

func (m *Medical) addConsultation(c *connectors.Consultation) {
	m.consultations[c.ID] = c
	m.userConsultations[c.UserID] = append(m.userConsultations[c.UserID], c)
}

func (m *Medical) Doctors(ctx context.Context, ids []string) ([]connectors.Result[connectors.Doctor], error) {
	return lockedBatch(ctx, &m.mu, ids, m.doctors, "doctor", cloneDoctor)
}

func (m *Medical) Appointments(ctx context.Context, ids []string) ([]connectors.Result[connectors.Appointment], error) {
	return lockedBatch(ctx, &m.mu, ids, m.appointments, "appointment", cloneAppointment)
}

func (m *Medical) Consultations(ctx context.Context, ids []string) ([]connectors.Result[connectors.Consultation], error) {
	return lockedBatch(ctx, &m.mu, ids, m.consultations, "consultation", cloneConsultation)
}

// AppointmentSlots returns each doctor's slots that have not started yet,
// booked ones included (Available false), ordered by start.
func (m *Medical) AppointmentSlots(ctx context.Context, doctorIDs []string) ([]connectors.Result[[]connectors.AppointmentSlot], error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := m.now()
	m.rollSlots(now)
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]connectors.Result[[]connectors.AppointmentSlot], len(doctorIDs))
	for i, id := range doctorIDs {
		if _, ok := m.doctors[id]; !ok {
			out[i].Err = connectors.NotFound("doctor", id)
			continue
		}
		out[i].Value = upcoming(m.doctorSlots[id], now, func(s *connectors.AppointmentSlot) time.Time { return s.Start })
	}
	return out, nil
}

// SearchDoctors matches name, specialty (with lay terms such as
// "pediatrician" or "heart"), hospital and bio; Category filters by specialty.
func (m *Medical) SearchDoctors(ctx context.Context, q connectors.Query) (connectors.Page[connectors.Doctor], error) {
	if err := ctx.Err(); err != nil {
		return connectors.Page[connectors.Doctor]{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.doctorIndex.search(q, cloneDoctor)
}

func (m *Medical) UserAppointments(ctx context.Context, userID string) ([]connectors.Appointment, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if userID == "" {
		return nil, errUserRequired()
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return newestFirst(m.userAppointments[userID], cloneAppointment, func(a *connectors.Appointment) (time.Time, string) { return a.CreatedAt, a.ID }), nil
}

func (m *Medical) UserConsultations(ctx context.Context, userID string) ([]connectors.Consultation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if userID == "" {
		return nil, errUserRequired()
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return newestFirst(m.userConsultations[userID], cloneConsultation, func(c *connectors.Consultation) (time.Time, string) { return c.CreatedAt, c.ID }), nil
}

// BookAppointment books a free slot of the doctor. Returns KindNotFound for
// an unknown doctor or slot, KindInvalid for a slot of another doctor or one
// that has started, KindConflict when the slot is already booked.
func (m *Medical) BookAppointment(ctx context.Context, in connectors.BookAppointmentInput) (connectors.Appointment, error) {
	if err := ctx.Err(); err != nil {
		return connectors.Appointment{}, err
	}
	switch {
	case in.UserID == "":
		return connectors.Appointment{}, errUserRequired()
	case in.DoctorID == "" || in.SlotID == "":
		return connectors.Appointment{}, connectors.Errorf(connectors.KindInvalid, "doctorId and slotId are required")
	case len(in.Reason) > maxTextLen:
		return connectors.Appointment{}, connectors.Errorf(connectors.KindInvalid, "reason is longer than %d characters", maxTextLen)
	}
	now := m.now()
	m.rollSlots(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	if a, ok, err := m.booked.lookup(in.UserID, in.IdempotencyKey, in); ok || err != nil {
		return a, err
	}
	if _, ok := m.doctors[in.DoctorID]; !ok {
		return connectors.Appointment{}, connectors.NotFound("doctor", in.DoctorID)
	}
	slot, ok := m.slots[in.SlotID]
	switch {
	case !ok:
		return connectors.Appointment{}, connectors.NotFound("appointment slot", in.SlotID)
	case slot.DoctorID != in.DoctorID:
		return connectors.Appointment{}, connectors.Errorf(connectors.KindInvalid, "appointment slot %q is not a slot of doctor %q", in.SlotID, in.DoctorID)
	case !slot.Start.After(now):
		return connectors.Appointment{}, connectors.Errorf(connectors.KindInvalid, "appointment slot %q has already started", in.SlotID)
	case !slot.Available:
		return connectors.Appointment{}, connectors.Errorf(connectors.KindConflict, "appointment slot %q is already booked", in.SlotID)
	}
	slot.Available = false
	m.feed.put(doctorItem(m.doctors[in.DoctorID], m.hasFreeSlot(in.DoctorID)))
	a := &connectors.Appointment{
		ID: m.appointmentIDs.next(), UserID: in.UserID, DoctorID: in.DoctorID, SlotID: in.SlotID, Start: slot.Start,
		Reason: in.Reason, Status: connectors.StatusConfirmed, CreatedAt: now,
	}
	m.addAppointment(a)
	m.booked.remember(in.UserID, in.IdempotencyKey, in, *a)
	m.progress.start(gid.Appointment, m.desc.ID, a.ID, appointmentPath,
		advanceIn(&m.mu, m.appointments, a.ID, func(a *connectors.Appointment) *string { return &a.Status }))
	return cloneAppointment(a), nil
}

// AskDoctor records a PENDING question. Without a doctor ID the question is
// routed to the best-rated doctor of the specialty (matched by name, e.g.
// "Paediatrics", or title, e.g. "paediatrician"). Returns KindNotFound for an
// unknown doctor, KindInvalid for an empty question or unknown specialty.
func (m *Medical) AskDoctor(ctx context.Context, in connectors.AskDoctorInput) (connectors.Consultation, error) {
	if err := ctx.Err(); err != nil {
		return connectors.Consultation{}, err
	}
	switch {
	case in.UserID == "":
		return connectors.Consultation{}, errUserRequired()
	case strings.TrimSpace(in.Question) == "":
		return connectors.Consultation{}, connectors.Errorf(connectors.KindInvalid, "question is required")
	case len(in.Question) > maxTextLen:
		return connectors.Consultation{}, connectors.Errorf(connectors.KindInvalid, "question is longer than %d characters", maxTextLen)
	case in.DoctorID == "" && strings.TrimSpace(in.Specialty) == "":
		return connectors.Consultation{}, connectors.Errorf(connectors.KindInvalid, "a doctorId or a specialty is required")
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok, err := m.asked.lookup(in.UserID, in.IdempotencyKey, in); ok || err != nil {
		return c, err
	}
	var doctor *connectors.Doctor
	if in.DoctorID != "" {
		d, ok := m.doctors[in.DoctorID]
		if !ok {
			return connectors.Consultation{}, connectors.NotFound("doctor", in.DoctorID)
		}
		doctor = d
	} else {
		sp := specialtyNamed(in.Specialty)
		if sp == nil {
			return connectors.Consultation{}, connectors.Errorf(connectors.KindInvalid, "unknown specialty %q", in.Specialty)
		}
		// Index items are in browse order: the first match is the best rated.
		for _, d := range m.doctorIndex.items {
			if d.Specialty == sp.name {
				doctor = d
				break
			}
		}
		if doctor == nil {
			return connectors.Consultation{}, connectors.Errorf(connectors.KindInvalid, "no doctor for specialty %q", in.Specialty)
		}
	}
	c := &connectors.Consultation{
		ID: m.consultationIDs.next(), UserID: in.UserID, DoctorID: doctor.ID, Specialty: doctor.Specialty,
		Question: in.Question, Status: connectors.StatusPending, CreatedAt: now,
	}
	m.addConsultation(c)
	m.asked.remember(in.UserID, in.IdempotencyKey, in, *c)
	// A doctor answers one step later, as the history's answers read.
	advice := "Thank you for your question."
	if sp := specialtyNamed(doctor.Specialty); sp != nil {
		advice += " " + sp.answer
	}
	m.progress.start(gid.Consultation, m.desc.ID, c.ID, consultationPath, func(from, to string) bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		c, ok := m.consultations[c.ID]
		if !ok || c.Status != from {
			return false
		}
		at := m.now()
		c.Status, c.Answer, c.AnsweredAt = to, advice, &at
		return true
	})
	return cloneConsultation(c), nil
}

func specialtyNamed(s string) *specialty {
	s = strings.TrimSpace(s)
	for i := range specialties {
		if strings.EqualFold(specialties[i].name, s) || strings.EqualFold(specialties[i].title, s) {
			return &specialties[i]
		}
	}
	return nil
}

func doctorDoc(d *connectors.Doctor) searchDoc {
	sp := specialtyNamed(d.Specialty)
	return searchDoc{
		id: d.ID, rating: d.Rating, name: lower(d.Name), category: lower(d.Specialty), tags: lower(sp.title, sp.keywords),
		body: lower(append([]string{d.Bio, d.Hospital, d.City}, d.Languages...)...), cities: lowerAll([]string{d.City}),
		categories: lowerAll([]string{d.Specialty}),
	}
}

func cloneDoctor(d *connectors.Doctor) connectors.Doctor {
	c := *d
	c.Languages = slices.Clone(d.Languages)
	decorateDoctor(&c)
	return c
}

func cloneAppointment(a *connectors.Appointment) connectors.Appointment { return *a }

func cloneConsultation(c *connectors.Consultation) connectors.Consultation {
	out := *c
	if c.AnsweredAt != nil {
		t := *c.AnsweredAt
		out.AnsweredAt = &t
	}
	return out
}
