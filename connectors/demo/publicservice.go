package demo

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
)

var _ connectors.PublicService = (*PublicService)(nil)
var _ connectors.HealthChecker = (*PublicService)(nil)

const (
	officesPerCity = 2
	officeDays     = 5
	officeSlotLen  = 30 * time.Minute
	maxDocuments   = 50
)

// PublicService is a demo provider of government services, the offices that
// handle them and appointments at those offices.
type PublicService struct {
	desc     connectors.Descriptor
	now      connectors.Clock
	progress *progress // nil: statuses move only by mutations

	mu           sync.RWMutex
	services     map[string]*connectors.GovService
	serviceIndex *index[connectors.GovService]
	offices      map[string]*connectors.Office // Slots unset: see officeSlots
	officeSlots  map[string][]*connectors.OfficeSlot
	calendar     calendar // rolls slots forward (slots.go)
	// handledBy lists, per service ID, the offices handling it, by office ID.
	handledBy        map[string][]*connectors.Office
	slots            map[string]*connectors.OfficeSlot
	applications     map[string]*connectors.ServiceApplication
	userApplications map[string][]*connectors.ServiceApplication
	applicationIDs   counter
	applied          *idempotency[connectors.ServiceApplication]
	feed             *feed
}

// NewPublicService builds a public-service provider with data generated for desc.ID.
func NewPublicService(desc connectors.Descriptor, opts ...Option) (*PublicService, error) {
	desc, cfg, err := prepare(desc, connectors.VerticalPublicService, opts)
	if err != nil {
		return nil, err
	}
	p := &PublicService{
		desc:             desc,
		now:              cfg.clock,
		progress:         cfg.progress,
		services:         map[string]*connectors.GovService{},
		offices:          map[string]*connectors.Office{},
		officeSlots:      map[string][]*connectors.OfficeSlot{},
		handledBy:        map[string][]*connectors.Office{},
		slots:            map[string]*connectors.OfficeSlot{},
		applications:     map[string]*connectors.ServiceApplication{},
		userApplications: map[string][]*connectors.ServiceApplication{},
		applicationIDs:   counter{prefix: "ap"},
		applied:          newIdempotency(cloneApplication),
	}
	rng := cfg.rng(desc.ID)
	services := p.generate(rng, cfg)
	p.serviceIndex = newIndex(services, serviceDoc)
	p.generateHistory(rng, cfg, services)
	p.feed = newFeed(desc.ID)
	for _, s := range services {
		p.feed.put(serviceItem(s))
	}
	for _, id := range slices.Sorted(maps.Keys(p.offices)) {
		p.feed.put(officeItem(p.offices[id], p.hasFreeSlot(id)))
	}
	return p, nil
}

func (p *PublicService) Describe() connectors.Descriptor { return describe(p.desc) }

// Health reports the provider healthy unless the request is already done.
func (p *PublicService) Health(ctx context.Context) error { return ctx.Err() }

// generate builds services, offices with their slots, and which office
// handles which service. The first office of each city handles every
// category, so every service has an office in each of its cities.
func (p *PublicService) generate(rng *rand.Rand, cfg config) []*connectors.GovService {
	cities := p.desc.Cities
	var services []*connectors.GovService
	for round := range cfg.scale {
		for _, t := range serviceTemplates {
			s := &connectors.GovService{
				ID: t.slug, Name: t.name, Description: t.desc, Category: t.category, Cities: slices.Clone(cities),
				RequiredDocuments: slices.Clone(t.docs), Fee: cny(t.fee), ProcessingDays: t.days,
				Tags: strings.Split(t.tags, ","), Rating: round1(3.5 + rng.Float64()*1.5),
			}
			if round > 0 {
				s.ID = fmt.Sprintf("%s-%d", t.slug, round+1)
				s.Name = fmt.Sprintf("%s (window %d)", t.name, round+1)
			}
			if len(cities) >= 3 && rng.IntN(4) == 0 {
				drop := rng.IntN(len(cities))
				s.Cities = slices.Delete(s.Cities, drop, drop+1)
			}
			services = append(services, s)
			p.services[s.ID] = s
		}
	}

	day0 := startOfDay(cfg.clock())
	handles := map[string]map[string]bool{}
	var offices []*connectors.Office
	for c, city := range cities {
		for k := range officesPerCity * cfg.scale {
			dist := district(city, c+k)
			o := &connectors.Office{
				ID:      fmt.Sprintf("of-%02d", len(offices)+1),
				Name:    fmt.Sprintf(officePatterns[k%len(officePatterns)], city, dist),
				City:    city,
				Address: fmt.Sprintf("%d %s Road, %s District, %s", 1+rng.IntN(500), pick(rng, roadNames), dist, city),
			}
			cats := serviceCategories
			if k > 0 {
				cats = pickTags(rng, serviceCategories, 5+rng.IntN(4))
			}
			handles[o.ID] = map[string]bool{}
			for _, cat := range cats {
				handles[o.ID][cat] = true
			}
			offices = append(offices, o)
			p.offices[o.ID] = o
			for d := 1; d <= officeDays; d++ {
				p.addOfficeDay(o.ID, day0.AddDate(0, 0, d))
			}
		}
	}
	p.calendar = newCalendar(day0, officeDays)
	for _, s := range services {
		for _, o := range offices {
			if handles[o.ID][s.Category] && slices.Contains(s.Cities, o.City) {
				p.handledBy[s.ID] = append(p.handledBy[s.ID], o)
			}
		}
	}
	return services
}

// addOfficeDay adds office's slots of day.
func (p *PublicService) addOfficeDay(office string, day time.Time) {
	for _, minute := range officeSlotTimes {
		start := day.Add(time.Duration(minute) * time.Minute)
		s := &connectors.OfficeSlot{ID: officeSlotID(office, start), OfficeID: office, Start: start, End: start.Add(officeSlotLen), Available: true}
		p.slots[s.ID] = s
		p.officeSlots[office] = append(p.officeSlots[office], s)
	}
}

// rollSlots gives every office the days up to officeDays ahead of now and
// forgets passed slots.
func (p *PublicService) rollSlots(now time.Time) {
	roll(&p.mu, &p.calendar, now, func(day time.Time) {
		for office := range p.offices {
			p.addOfficeDay(office, day)
		}
	}, func() {
		for office, list := range p.officeSlots {
			p.officeSlots[office] = prune(list, p.slots, now, func(s *connectors.OfficeSlot) string { return s.ID }, func(s *connectors.OfficeSlot) time.Time { return s.End })
		}
	})
}

func officeSlotID(officeID string, start time.Time) string {
	return "os-" + officeID + "-" + slotSuffix(start)
}

// generateHistory gives every demo user applications: older ones decided
// (mostly APPROVED), the newest PENDING on a real upcoming office slot.
func (p *PublicService) generateHistory(rng *rand.Rand, cfg config, services []*connectors.GovService) {
	now := cfg.clock()
	for u := 1; u <= cfg.users; u++ {
		user := UserID(u)
		n := 1 + rng.IntN(3)
		if u == 1 {
			n = 4
		}
		for i, t := range pastTimes(rng, now, n, 365) {
			s := pick(rng, services)
			o := pick(rng, p.handledBy[s.ID])
			a := &connectors.ServiceApplication{
				ID: p.applicationIDs.next(), UserID: user, ServiceID: s.ID, OfficeID: o.ID,
				SlotID:    officeSlotID(o.ID, startOfDay(t).AddDate(0, 0, 1).Add(time.Duration(pick(rng, officeSlotTimes))*time.Minute)),
				Documents: slices.Clone(s.RequiredDocuments), Status: connectors.StatusApproved, CreatedAt: t,
			}
			if rng.IntN(5) == 0 {
				a.Status = connectors.StatusRejected
			}
			if i == n-1 {
				if slot := randomFree(rng, p.officeSlots[o.ID], func(s *connectors.OfficeSlot) bool { return s.Available }); slot != nil {
					slot.Available = false
					a.SlotID, a.Status = slot.ID, connectors.StatusPending
				}
			}
			p.addApplication(a)
		}
	}
}

func (p *PublicService) addApplication(a *connectors.ServiceApplication) {
	p.applications[a.ID] = a
	p.userApplications[a.UserID] = append(p.userApplications[a.UserID], a)
}

func (p *PublicService) Services(ctx context.Context, ids []string) ([]connectors.Result[connectors.GovService], error) {
	return lockedBatch(ctx, &p.mu, ids, p.services, "service", cloneService)
}

func (p *PublicService) Applications(ctx context.Context, ids []string) ([]connectors.Result[connectors.ServiceApplication], error) {
	return lockedBatch(ctx, &p.mu, ids, p.applications, "application", cloneApplication)
}

// Offices returns, per service ID, the offices handling it (ordered by
// office ID) with their slots that have not started yet, taken ones included.
func (p *PublicService) Offices(ctx context.Context, serviceIDs []string) ([]connectors.Result[[]connectors.Office], error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := p.now()
	p.rollSlots(now)
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]connectors.Result[[]connectors.Office], len(serviceIDs))
	for i, id := range serviceIDs {
		if _, ok := p.services[id]; !ok {
			out[i].Err = connectors.NotFound("service", id)
			continue
		}
		offices := make([]connectors.Office, 0, len(p.handledBy[id]))
		for _, o := range p.handledBy[id] {
			c := *o
			c.Slots = upcoming(p.officeSlots[o.ID], now, func(s *connectors.OfficeSlot) time.Time { return s.Start })
			offices = append(offices, c)
		}
		out[i].Value = offices
	}
	return out, nil
}

// SearchServices matches name, category, tags and description; City keeps
// services offered in that city, Category filters by category.
func (p *PublicService) SearchServices(ctx context.Context, q connectors.Query) (connectors.Page[connectors.GovService], error) {
	if err := ctx.Err(); err != nil {
		return connectors.Page[connectors.GovService]{}, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.serviceIndex.search(q, cloneService)
}

func (p *PublicService) UserApplications(ctx context.Context, userID string) ([]connectors.ServiceApplication, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if userID == "" {
		return nil, errUserRequired()
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return newestFirst(p.userApplications[userID], cloneApplication, func(a *connectors.ServiceApplication) (time.Time, string) { return a.CreatedAt, a.ID }), nil
}

// Apply books an office slot for a service. Returns KindNotFound for an
// unknown service, office or slot; KindInvalid when the office does not
// handle the service, the slot is another office's or has started, or a
// required document is missing (the message lists which); KindConflict when
// the slot is already taken.
func (p *PublicService) Apply(ctx context.Context, in connectors.ApplicationInput) (connectors.ServiceApplication, error) {
	if err := ctx.Err(); err != nil {
		return connectors.ServiceApplication{}, err
	}
	switch {
	case in.UserID == "":
		return connectors.ServiceApplication{}, errUserRequired()
	case in.ServiceID == "" || in.OfficeID == "" || in.SlotID == "":
		return connectors.ServiceApplication{}, connectors.Errorf(connectors.KindInvalid, "serviceId, officeId and slotId are required")
	case len(in.Documents) > maxDocuments:
		return connectors.ServiceApplication{}, connectors.Errorf(connectors.KindInvalid, "at most %d documents", maxDocuments)
	}
	now := p.now()
	p.rollSlots(now)
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok, err := p.applied.lookup(in.UserID, in.IdempotencyKey, in); ok || err != nil {
		return a, err
	}
	s, ok := p.services[in.ServiceID]
	if !ok {
		return connectors.ServiceApplication{}, connectors.NotFound("service", in.ServiceID)
	}
	if _, ok := p.offices[in.OfficeID]; !ok {
		return connectors.ServiceApplication{}, connectors.NotFound("office", in.OfficeID)
	}
	if !slices.ContainsFunc(p.handledBy[s.ID], func(o *connectors.Office) bool { return o.ID == in.OfficeID }) {
		return connectors.ServiceApplication{}, connectors.Errorf(connectors.KindInvalid, "office %q does not handle service %q", in.OfficeID, in.ServiceID)
	}
	slot, ok := p.slots[in.SlotID]
	switch {
	case !ok:
		return connectors.ServiceApplication{}, connectors.NotFound("office slot", in.SlotID)
	case slot.OfficeID != in.OfficeID:
		return connectors.ServiceApplication{}, connectors.Errorf(connectors.KindInvalid, "office slot %q is not a slot of office %q", in.SlotID, in.OfficeID)
	case !slot.Start.After(now):
		return connectors.ServiceApplication{}, connectors.Errorf(connectors.KindInvalid, "office slot %q has already started", in.SlotID)
	}
	if missing := missingDocuments(s.RequiredDocuments, in.Documents); len(missing) > 0 {
		return connectors.ServiceApplication{}, connectors.Errorf(connectors.KindInvalid, "missing required documents: %s", strings.Join(missing, ", "))
	}
	if !slot.Available {
		return connectors.ServiceApplication{}, connectors.Errorf(connectors.KindConflict, "office slot %q is already taken", in.SlotID)
	}
	slot.Available = false
	p.feed.put(officeItem(p.offices[in.OfficeID], p.hasFreeSlot(in.OfficeID)))
	a := &connectors.ServiceApplication{
		ID: p.applicationIDs.next(), UserID: in.UserID, ServiceID: in.ServiceID, OfficeID: in.OfficeID, SlotID: in.SlotID,
		Documents: slices.Clone(in.Documents), Status: connectors.StatusPending, CreatedAt: now,
	}
	p.addApplication(a)
	p.applied.remember(in.UserID, in.IdempotencyKey, in, *a)
	p.progress.start(gid.ServiceApplication, p.desc.ID, a.ID, applicationPath,
		advanceIn(&p.mu, p.applications, a.ID, func(a *connectors.ServiceApplication) *string { return &a.Status }))
	return cloneApplication(a), nil
}

// missingDocuments returns the required documents not among given, compared
// case-insensitively and ignoring surrounding spaces.
func missingDocuments(required, given []string) []string {
	have := make(map[string]bool, len(given))
	for _, g := range given {
		have[strings.ToLower(strings.TrimSpace(g))] = true
	}
	var missing []string
	for _, r := range required {
		if !have[strings.ToLower(r)] {
			missing = append(missing, r)
		}
	}
	return missing
}

func serviceDoc(s *connectors.GovService) searchDoc {
	return searchDoc{
		id: s.ID, rating: s.Rating, name: lower(s.Name), category: lower(s.Category), tags: lower(s.Tags...),
		body: lower(append([]string{s.Description}, s.RequiredDocuments...)...), cities: lowerAll(s.Cities),
		categories: lowerAll([]string{s.Category}),
	}
}

func cloneService(s *connectors.GovService) connectors.GovService {
	c := *s
	c.Cities = slices.Clone(s.Cities)
	c.RequiredDocuments = slices.Clone(s.RequiredDocuments)
	c.Tags = slices.Clone(s.Tags)
	decorateService(&c)
	return c
}

func cloneApplication(a *connectors.ServiceApplication) connectors.ServiceApplication {
	c := *a
	c.Documents = slices.Clone(a.Documents)
	return c
}
