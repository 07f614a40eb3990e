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

var _ connectors.Legal = (*Legal)(nil)
var _ connectors.HealthChecker = (*Legal)(nil)

const lawyersPerScale = 60

// Legal is a demo provider of lawyers and legal consultations.
type Legal struct {
	desc     connectors.Descriptor
	now      connectors.Clock
	progress *progress // nil: statuses move only by mutations

	mu                sync.RWMutex
	lawyers           map[string]*connectors.Lawyer
	lawyerIndex       *index[connectors.Lawyer]
	consultations     map[string]*connectors.LegalConsultation
	userConsultations map[string][]*connectors.LegalConsultation
	consultationIDs   counter
	requested         *idempotency[connectors.LegalConsultation]
	feed              *feed
}

// NewLegal builds a legal provider with data generated for desc.ID.
func NewLegal(desc connectors.Descriptor, opts ...Option) (*Legal, error) {
	desc, cfg, err := prepare(desc, connectors.VerticalLegal, opts)
	if err != nil {
		return nil, err
	}
	l := &Legal{
		desc:              desc,
		now:               cfg.clock,
		progress:          cfg.progress,
		lawyers:           map[string]*connectors.Lawyer{},
		consultations:     map[string]*connectors.LegalConsultation{},
		userConsultations: map[string][]*connectors.LegalConsultation{},
		consultationIDs:   counter{prefix: "lc"},
		requested:         newIdempotency(cloneLegalConsultation),
	}
	rng := cfg.rng(desc.ID)
	lawyers, areas := l.generateLawyers(rng, cfg)
	l.lawyerIndex = newIndex(lawyers, lawyerDoc)
	l.generateHistory(rng, cfg, lawyers, areas)
	l.feed = newFeed(desc.ID)
	for _, lw := range lawyers {
		l.feed.put(lawyerItem(lw))
	}
	return l, nil
}

func (l *Legal) Describe() connectors.Descriptor { return describe(l.desc) }

// Health reports the provider healthy unless the request is already done.
func (l *Legal) Health(ctx context.Context) error { return ctx.Err() }

// generateLawyers cycles primary practice areas within each city, so every
// city has every area; areas[i] is lawyers[i]'s primary area.
func (l *Legal) generateLawyers(rng *rand.Rand, cfg config) ([]*connectors.Lawyer, []*practiceArea) {
	cities := l.desc.Cities
	n := lawyersPerScale * cfg.scale
	lawyers, areas := make([]*connectors.Lawyer, 0, n), make([]*practiceArea, 0, n)
	for i := range n {
		city := cities[i%len(cities)]
		primary := &practiceAreas[(i/len(cities))%len(practiceAreas)]
		names := []string{primary.name}
		for _, k := range rng.Perm(len(practiceAreas))[:rng.IntN(3)] {
			if !slices.Contains(names, practiceAreas[k].name) {
				names = append(names, practiceAreas[k].name)
			}
		}
		name := personName(rng)
		surname, _, _ := strings.Cut(name, " ")
		firm := pick(rng, firmPatterns)
		if strings.Count(firm, "%s") == 2 {
			firm = fmt.Sprintf(firm, surname, pick(rng, surnames))
		} else {
			firm = fmt.Sprintf(firm, city)
		}
		lw := &connectors.Lawyer{
			ID: fmt.Sprintf("l-%04d", i+1), Name: name, PracticeAreas: names, Firm: firm,
			Languages: languages(rng, city), Fee: cny(int64(200+rng.IntN(1301)) * 100), Rating: round1(3.6 + rng.Float64()*1.4), City: city,
			Bio: fmt.Sprintf("%s is a lawyer at %s in %s with %d years of practice in %s law, advising on %s.",
				name, firm, city, 2+rng.IntN(30), strings.ToLower(strings.Join(names, ", ")), primary.focus),
		}
		lawyers, areas = append(lawyers, lw), append(areas, primary)
		l.lawyers[lw.ID] = lw
	}
	return lawyers, areas
}

// generateHistory gives every demo user consultations: older ones COMPLETED,
// a CONFIRMED one scheduled in the coming days, the newest PENDING.
func (l *Legal) generateHistory(rng *rand.Rand, cfg config, lawyers []*connectors.Lawyer, areas []*practiceArea) {
	now := cfg.clock()
	day0 := startOfDay(now)
	for u := 1; u <= cfg.users; u++ {
		user := UserID(u)
		n := 1 + rng.IntN(3)
		if u == 1 {
			n = 5
		}
		times := pastTimes(rng, now, n, 365)
		for i, t := range times {
			k := rng.IntN(len(lawyers))
			c := &connectors.LegalConsultation{
				ID: l.consultationIDs.next(), UserID: user, LawyerID: lawyers[k].ID,
				Topic: pick(rng, areas[k].topics), Description: areas[k].details, Status: connectors.StatusPending, CreatedAt: t,
			}
			var at time.Time
			switch {
			case i == n-1:
				// newest: still pending
			case i == n-2:
				at = day0.AddDate(0, 0, 1+rng.IntN(7)).Add(time.Duration(pick(rng, legalMeetingHours)) * time.Hour)
				c.Status = connectors.StatusConfirmed
			default:
				at = startOfDay(t).AddDate(0, 0, 2).Add(time.Duration(pick(rng, legalMeetingHours)) * time.Hour)
				if latest := now.Add(-time.Hour); at.After(latest) {
					at = latest
				}
				c.Status = connectors.StatusCompleted
			}
			if !at.IsZero() {
				c.ScheduledAt = &at
			}
			l.addConsultation(c)
		}
	}
}

func (l *Legal) addConsultation(c *connectors.LegalConsultation) {
	l.consultations[c.ID] = c
	l.userConsultations[c.UserID] = append(l.userConsultations[c.UserID], c)
}

func (l *Legal) Lawyers(ctx context.Context, ids []string) ([]connectors.Result[connectors.Lawyer], error) {
	return lockedBatch(ctx, &l.mu, ids, l.lawyers, "lawyer", cloneLawyer)
}

func (l *Legal) LegalConsultations(ctx context.Context, ids []string) ([]connectors.Result[connectors.LegalConsultation], error) {
	return lockedBatch(ctx, &l.mu, ids, l.consultations, "legal consultation", cloneLegalConsultation)
}

// SearchLawyers matches name, practice areas (with lay terms such as
// "divorce" or "visa"), firm and bio; Category filters by practice area.
func (l *Legal) SearchLawyers(ctx context.Context, q connectors.Query) (connectors.Page[connectors.Lawyer], error) {
	if err := ctx.Err(); err != nil {
		return connectors.Page[connectors.Lawyer]{}, err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.lawyerIndex.search(q, cloneLawyer)
}

func (l *Legal) UserLegalConsultations(ctx context.Context, userID string) ([]connectors.LegalConsultation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if userID == "" {
		return nil, errUserRequired()
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	return newestFirst(l.userConsultations[userID], cloneLegalConsultation, func(c *connectors.LegalConsultation) (time.Time, string) { return c.CreatedAt, c.ID }), nil
}

// RequestConsultation records a PENDING consultation with a lawyer. Returns
// KindNotFound for an unknown lawyer, KindInvalid for a missing topic.
func (l *Legal) RequestConsultation(ctx context.Context, in connectors.LegalConsultationInput) (connectors.LegalConsultation, error) {
	if err := ctx.Err(); err != nil {
		return connectors.LegalConsultation{}, err
	}
	switch {
	case in.UserID == "":
		return connectors.LegalConsultation{}, errUserRequired()
	case in.LawyerID == "":
		return connectors.LegalConsultation{}, connectors.Errorf(connectors.KindInvalid, "lawyerId is required")
	case strings.TrimSpace(in.Topic) == "":
		return connectors.LegalConsultation{}, connectors.Errorf(connectors.KindInvalid, "topic is required")
	case len(in.Topic)+len(in.Description) > maxTextLen:
		return connectors.LegalConsultation{}, connectors.Errorf(connectors.KindInvalid, "topic and description are longer than %d characters", maxTextLen)
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok, err := l.requested.lookup(in.UserID, in.IdempotencyKey, in); ok || err != nil {
		return c, err
	}
	if _, ok := l.lawyers[in.LawyerID]; !ok {
		return connectors.LegalConsultation{}, connectors.NotFound("lawyer", in.LawyerID)
	}
	c := &connectors.LegalConsultation{
		ID: l.consultationIDs.next(), UserID: in.UserID, LawyerID: in.LawyerID, Topic: in.Topic,
		Description: in.Description, Status: connectors.StatusPending, CreatedAt: now,
	}
	l.addConsultation(c)
	l.requested.remember(in.UserID, in.IdempotencyKey, in, *c)
	l.progress.start(gid.LegalConsultation, l.desc.ID, c.ID, legalPath,
		advanceIn(&l.mu, l.consultations, c.ID, func(c *connectors.LegalConsultation) *string { return &c.Status }))
	return cloneLegalConsultation(c), nil
}

func lawyerDoc(lw *connectors.Lawyer) searchDoc {
	var keywords []string
	for _, a := range practiceAreas {
		if slices.Contains(lw.PracticeAreas, a.name) {
			keywords = append(keywords, a.keywords)
		}
	}
	return searchDoc{
		id: lw.ID, rating: lw.Rating, name: lower(lw.Name), category: lower(lw.PracticeAreas...), tags: lower(keywords...),
		body: lower(append([]string{lw.Bio, lw.Firm, lw.City}, lw.Languages...)...), cities: lowerAll([]string{lw.City}),
		categories: lowerAll(lw.PracticeAreas),
	}
}

func cloneLawyer(lw *connectors.Lawyer) connectors.Lawyer {
	c := *lw
	c.PracticeAreas = slices.Clone(lw.PracticeAreas)
	c.Languages = slices.Clone(lw.Languages)
	decorateLawyer(&c)
	return c
}

func cloneLegalConsultation(c *connectors.LegalConsultation) connectors.LegalConsultation {
	out := *c
	if c.ScheduledAt != nil {
		t := *c.ScheduledAt
		out.ScheduledAt = &t
	}
	return out
}
