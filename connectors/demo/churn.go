package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

// ChurnUser is the user whose bookings Churn makes.
const ChurnUser = "churn-user"

// Churn changes conn every interval until ctx ends, the way a live
// provider's catalogue moves, and each change is published: a grocery
// provider reprices a product, sells one out or restocks it, and every
// tenth change adds a product; a medical provider has a slot booked. Other
// verticals do not churn. seed picks the changes.
func Churn(ctx context.Context, conn connectors.Connector, every time.Duration, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	t := time.NewTicker(every)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		switch c := conn.(type) {
		case *Grocery:
			c.churn(rng, n)
		case *Medical:
			c.churn(ctx, rng, n)
		default:
			return
		}
	}
}

func (g *Grocery) churn(rng *rand.Rand, n int) {
	g.mu.RLock()
	ids := make([]string, 0, len(g.products))
	for id := range g.products {
		ids = append(ids, id)
	}
	g.mu.RUnlock()
	slices.Sort(ids)
	if len(ids) == 0 {
		return
	}
	id := ids[rng.IntN(len(ids))]
	switch {
	case n%10 == 0:
		g.mu.RLock()
		p := cloneProduct(g.products[id])
		g.mu.RUnlock()
		p.ID, p.Name = fmt.Sprintf("%s-new-%d", id, n), p.Name+" (new)"
		_ = g.AddProduct(p)
	case n%3 == 0:
		stock := 0
		if rng.IntN(2) == 0 {
			stock = 1 + rng.IntN(200)
		}
		_ = g.SetStock(id, stock)
	default:
		g.mu.RLock()
		price := g.products[id].Price.Amount
		g.mu.RUnlock()
		_ = g.SetPrice(id, max(1, price+int64(rng.IntN(21)-10)*price/100))
	}
}

func (m *Medical) churn(ctx context.Context, rng *rand.Rand, n int) {
	now := m.now()
	m.mu.RLock()
	var free []*connectors.AppointmentSlot
	for _, s := range m.slots {
		if s.Available && s.Start.After(now) {
			free = append(free, s)
		}
	}
	m.mu.RUnlock()
	if len(free) == 0 {
		return
	}
	slices.SortFunc(free, func(a, b *connectors.AppointmentSlot) int {
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	s := free[rng.IntN(len(free))]
	_, _ = m.BookAppointment(ctx, connectors.BookAppointmentInput{UserID: ChurnUser, DoctorID: s.DoctorID, SlotID: s.ID,
		Reason: fmt.Sprintf("churn %d", n)})
}
