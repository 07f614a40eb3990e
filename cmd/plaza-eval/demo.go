package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"
)

// The demo generator simulates a super-app's users so the engine can be
// evaluated against known behaviour. Everything comes from one seeded PCG.
//
// Catalogue (its own IDs, shaped vertical:provider:item):
//   - grocery:{freshcart,dailymart,greenbasket}:p-NNNN. 150 general staples
//     (milk, rice, ...) every household buys from, drawn Zipf-like so a few
//     are very popular; 80 "hot" products that trend in a city; and 25
//     products per life situation (baby food, adult diapers, printer paper,
//     instant noodles, cat litter, ...).
//   - medical:{healthline,caredoc}:<specialty>, legal:{lawbridge,justcounsel}:<area>
//     and gov:<city>:<service> (public services are per city).
//
// Users (the latent preferences the engine has to discover):
//   - a home city (one of six) and an active part of the day (morning 40%,
//     evening 35%, afternoon 20%, night 5%); all their events happen then;
//   - 1 to 3 life situations: new parent, elderly care, small business owner,
//     student, pet owner. Each situation has grocery products, doctor
//     specialties, lawyer areas and public services;
//   - 4 to 6 general staples and 2 to 3 staples per situation, each reordered
//     every 3, 7 or 14 days (7 most often) from a random phase, with a day
//     of jitter 40% of the time and 10% of orders skipped; staples due on
//     the same day form one basket;
//   - the situation's periodic services (vaccinations, pension
//     certification, VAT filing, ...), each with a fixed population period
//     (14 to 30 days), done 90% of the time with up to two days of jitter;
//   - on 20% of days an exploration in a situation: a doctor booking,
//     a lawyer consultation or a product order, and after a booking the
//     situation's matching product 60% of the time the next day (so "people
//     who booked a paediatrician also ordered baby food" is learnable);
//   - on 30% of days an order from the city's hot list for the user's part
//     of the day; each (city, part of day) has 6 hot items that rotate every
//     two weeks;
//   - on 10% of days a uniformly random grocery order (noise).
//
// The simulation covers 8 weeks from Monday 2026-01-05; times are written as
// UTC and stand for the users' local time.

var demoCities = []string{"Hangzhou", "Shanghai", "Beijing", "Shenzhen", "Chengdu", "Wuhan"}

var groceryProviders = []string{"freshcart", "dailymart", "greenbasket"}

type periodicService struct {
	name   string
	period int // days
}

type situation struct {
	name      string
	grocery   []string // filled by newCatalogue
	medical   []string // specialties
	legal     []string // areas
	services  []periodicService
	afterCare []string // product ordered after a booking, by medical index; filled by newCatalogue
}

func demoSituations() []situation {
	return []situation{
		{name: "new-parent", medical: []string{"paediatrics", "obstetrics", "lactation"}, legal: []string{"family-law"},
			services: []periodicService{{"child-vaccination", 28}, {"childcare-allowance", 30}}},
		{name: "elderly-care", medical: []string{"geriatrics", "cardiology", "physiotherapy"}, legal: []string{"inheritance", "guardianship"},
			services: []periodicService{{"pension-certification", 30}, {"home-care-subsidy", 21}}},
		{name: "small-business", medical: []string{"occupational-health"}, legal: []string{"contracts", "employment", "tax"},
			services: []periodicService{{"vat-filing", 30}, {"social-insurance-payment", 30}}},
		{name: "student", medical: []string{"dermatology", "psychology"}, legal: []string{"tenancy"},
			services: []periodicService{{"residence-permit-check-in", 30}, {"transit-card-topup", 14}}},
		{name: "pet-owner", medical: []string{"veterinary", "pet-dental"}, legal: []string{"pet-liability"},
			services: []periodicService{{"pet-licence-check", 30}, {"dog-walking-permit", 21}}},
	}
}

type demoCatalogue struct {
	staples    []string
	hot        []string
	situations []situation
}

func newCatalogue() demoCatalogue {
	n := 0
	product := func() string {
		id := fmt.Sprintf("grocery:%s:p-%04d", groceryProviders[n%len(groceryProviders)], n)
		n++
		return id
	}
	var c demoCatalogue
	for range 150 {
		c.staples = append(c.staples, product())
	}
	for range 80 {
		c.hot = append(c.hot, product())
	}
	c.situations = demoSituations()
	for i := range c.situations {
		s := &c.situations[i]
		for range 25 {
			s.grocery = append(s.grocery, product())
		}
		for j := range s.medical {
			s.afterCare = append(s.afterCare, s.grocery[j])
		}
	}
	return c
}

type demoEvent struct {
	user string
	item string
	t    time.Time
}

type staple struct {
	item          string
	period, phase int
}

const demoDays = 56

var demoStart = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// writeDemo writes the simulated events of `users` users as CSV with a
// header (user,item,timestamp,category,city), user by user.
func writeDemo(w io.Writer, users int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	cat := newCatalogue()
	rng := rand.New(rand.NewPCG(seed, 0x706c617a61))
	if _, err := bw.WriteString("user,item,timestamp,category,city\n"); err != nil {
		return err
	}
	var evs []demoEvent
	for u := range users {
		city := demoCities[u%len(demoCities)]
		evs = simulateUser(rng, &cat, fmt.Sprintf("u-%05d", u), city, evs[:0])
		slices.SortStableFunc(evs, func(a, b demoEvent) int { return a.t.Compare(b.t) })
		for _, ev := range evs {
			vertical := ev.item[:indexByte(ev.item, ':')]
			if _, err := fmt.Fprintf(bw, "%s,%s,%s,%s,%s\n", ev.user, ev.item, ev.t.Format(time.RFC3339), vertical, city); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

func indexByte(s string, b byte) int {
	for i := range len(s) {
		if s[i] == b {
			return i
		}
	}
	return len(s)
}

// simulateUser appends one user's events.
func simulateUser(rng *rand.Rand, cat *demoCatalogue, user, city string, evs []demoEvent) []demoEvent {
	bucket := pickBucket(rng)
	at := func(d int) time.Time {
		minute := rng.IntN(6 * 60)
		return demoStart.AddDate(0, 0, d).Add(time.Duration(bucket*6*60+minute) * time.Minute)
	}
	sits := rng.Perm(len(cat.situations))[:1+rng.IntN(3)]

	var staples []staple
	addStaple := func(item string) {
		periods := []int{3, 7, 7, 7, 14}
		p := periods[rng.IntN(len(periods))]
		staples = append(staples, staple{item: item, period: p, phase: rng.IntN(p)})
	}
	for range 4 + rng.IntN(3) {
		// Zipf-like: squaring a uniform favours the first staples.
		f := rng.Float64()
		addStaple(cat.staples[int(f*f*float64(len(cat.staples)))])
	}
	for _, si := range sits {
		g := cat.situations[si].grocery
		for _, k := range rng.Perm(len(g))[:2+rng.IntN(2)] {
			addStaple(g[k])
		}
	}
	for _, s := range staples {
		for d := s.phase; d < demoDays; d += s.period {
			if rng.Float64() < 0.1 {
				continue
			}
			day := d
			if rng.Float64() < 0.4 {
				day += rng.IntN(3) - 1
			}
			if day >= 0 && day < demoDays {
				evs = append(evs, demoEvent{user, s.item, at(day)})
			}
		}
	}
	for _, si := range sits {
		for _, svc := range cat.situations[si].services {
			item := fmt.Sprintf("gov:%s:%s", city, svc.name)
			for d := rng.IntN(svc.period); d < demoDays; d += svc.period {
				if rng.Float64() < 0.9 {
					if day := d + rng.IntN(5) - 2; day >= 0 && day < demoDays {
						evs = append(evs, demoEvent{user, item, at(day)})
					}
				}
			}
		}
	}
	for d := range demoDays {
		if rng.Float64() < 0.2 {
			evs = explore(rng, &cat.situations[sits[rng.IntN(len(sits))]], user, d, at, evs)
		}
		if rng.Float64() < 0.3 {
			hot := hotList(cat, city, bucket, d)
			evs = append(evs, demoEvent{user, hot[rng.IntN(len(hot))], at(d)})
		}
		if rng.Float64() < 0.1 {
			all := len(cat.staples) + len(cat.hot)
			k := rng.IntN(all)
			item := ""
			if k < len(cat.staples) {
				item = cat.staples[k]
			} else {
				item = cat.hot[k-len(cat.staples)]
			}
			evs = append(evs, demoEvent{user, item, at(d)})
		}
	}
	return evs
}

func explore(rng *rand.Rand, s *situation, user string, d int, at func(int) time.Time, evs []demoEvent) []demoEvent {
	switch rng.IntN(3) {
	case 0:
		m := rng.IntN(len(s.medical))
		provider := []string{"healthline", "caredoc"}[rng.IntN(2)]
		evs = append(evs, demoEvent{user, "medical:" + provider + ":" + s.medical[m], at(d)})
		if rng.Float64() < 0.6 && d+1 < demoDays {
			evs = append(evs, demoEvent{user, s.afterCare[m], at(d + 1)})
		}
	case 1:
		provider := []string{"lawbridge", "justcounsel"}[rng.IntN(2)]
		evs = append(evs, demoEvent{user, "legal:" + provider + ":" + s.legal[rng.IntN(len(s.legal))], at(d)})
	default:
		evs = append(evs, demoEvent{user, s.grocery[rng.IntN(len(s.grocery))], at(d)})
	}
	return evs
}

// pickBucket draws the user's active part of the day.
func pickBucket(rng *rand.Rand) int {
	switch f := rng.Float64(); {
	case f < 0.40:
		return 1 // morning
	case f < 0.75:
		return 3 // evening
	case f < 0.95:
		return 2 // afternoon
	default:
		return 0 // night
	}
}

// hotList is the city's 6 trending items for a part of the day, rotating
// every two weeks; it is a pure function of its arguments.
func hotList(cat *demoCatalogue, city string, bucket, d int) []string {
	h := uint64(bucket*1000 + d/14)
	for _, b := range []byte(city) {
		h = h*31 + uint64(b)
	}
	r := rand.New(rand.NewPCG(h, 7))
	out := make([]string, 6)
	for i, k := range r.Perm(len(cat.hot))[:6] {
		out[i] = cat.hot[k]
	}
	return out
}
