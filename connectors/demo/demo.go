// Package demo provides Plaza's embedded providers: real implementations of
// the connectors interfaces over deterministic, seeded, in-memory data.
//
// The same provider ID, seed, scale, user count and clock always yield the
// same stores, products, doctors, lawyers, services, slots and user history,
// so tests, benchmarks and the demo playground can name objects by ID. Each
// provider is safe for concurrent use: reads share an RWMutex, mutations take
// it exclusively so stock, slot capacity and idempotency keys are checked and
// changed in one step.
package demo

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

// DefaultUsers is the number of demo users (demo-1 … demo-50) whose history
// every provider holds unless WithUsers says otherwise.
const DefaultUsers = 50

// DefaultSeed is the base seed mixed with each provider ID.
const DefaultSeed int64 = 20250602

// maxBatch is advertised in descriptors; lookups are map reads, so the limit
// only bounds the size of one reply.
const maxBatch = 500

// cst is China Standard Time. A fixed zone keeps the package independent of
// the host's tzdata.
var cst = time.FixedZone("CST", 8*60*60)

// ReferenceTime is a fixed "now" for tests that pin generated data to a
// date (WithClock(ReferenceTime)): a Monday morning.
func ReferenceTime() time.Time { return time.Date(2025, time.June, 2, 8, 0, 0, 0, cst) }

// DefaultCities are the cities a provider serves when its descriptor names none.
func DefaultCities() []string {
	return []string{"Hangzhou", "Shanghai", "Beijing", "Shenzhen", "Chengdu", "Guangzhou"}
}

// Option tunes a demo provider.
type Option func(*config)

type config struct {
	clock    connectors.Clock
	progress *progress // progress.go
	// payWindow > 0: grocery orders wait for payment that long (payment.go).
	payWindow time.Duration
	// minimums: grocery orders below the store's minimum are refused.
	minimums bool
	seed     int64
	users    int
	scale    int
	// items, when set, replaces the grocery catalogue's size (WithItems).
	items int
}

// WithClock sets the clock used for "now": slots are generated for the days
// after the one the provider is built on, history lies before it, new
// objects are stamped with it, and only slots that start after it are
// listed or bookable. The default is the wall clock, so the demo data moves
// with time: its slots are always in the future of a freshly started
// gateway. Tests that pin dates pass WithClock(ReferenceTime).
func WithClock(clock connectors.Clock) Option { return func(c *config) { c.clock = clock } }

// WithSeed sets the base seed; the provider ID is hashed into it, so two
// providers with one seed still hold different data.
func WithSeed(seed int64) Option { return func(c *config) { c.seed = seed } }

// WithUsers sets how many demo users (demo-1 … demo-n) have history at the
// provider. Zero means no history.
func WithUsers(n int) Option { return func(c *config) { c.users = n } }

// WithScale multiplies the size of the generated catalogue: at scale 1 a
// grocery provider has 12 stores of 100 products, a medical provider 120
// doctors, a legal provider 60 lawyers, a public-service provider every
// service template and 2 offices per city.
func WithScale(n int) Option { return func(c *config) { c.scale = n } }

// WithItems makes a grocery provider's catalogue n items: one store and
// n-1 products (its delivery slots as usual). Synthetic providers of about
// twenty items each (`plaza providers generate --items-per-provider`, the
// bench's search over 10^6 in-process providers) are built in microseconds
// this way instead of generating 1,200 items to publish 20. Only grocery
// providers take it: the others refuse it.
func WithItems(n int) Option { return func(c *config) { c.items = n } }

func newConfig(opts []Option) (config, error) {
	cfg := config{clock: time.Now, seed: DefaultSeed, users: DefaultUsers, scale: 1}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case cfg.clock == nil:
		return cfg, fmt.Errorf("demo: clock must not be nil")
	case cfg.users < 0:
		return cfg, fmt.Errorf("demo: user count %d is negative", cfg.users)
	case cfg.scale < 1 || cfg.scale > 100:
		return cfg, fmt.Errorf("demo: scale %d is outside 1..100", cfg.scale)
	case cfg.items < 0 || cfg.items > maxItems:
		return cfg, fmt.Errorf("demo: catalogue size %d is outside 1..%d", cfg.items, maxItems)
	}
	return cfg, nil
}

// rng returns the generator for one provider: the seed and the provider ID
// together pick the stream.
func (c config) rng(providerID string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(providerID))
	return rand.New(rand.NewPCG(uint64(c.seed), h.Sum64()))
}

// DefaultDescriptors describes the eight providers Default builds: two per
// vertical, with overlapping but different cities.
func DefaultDescriptors() []connectors.Descriptor {
	all := DefaultCities()
	return []connectors.Descriptor{
		{ID: "freshcart", Name: "FreshCart", Vertical: connectors.VerticalGrocery, Rating: 4.6, Cities: all,
			Description: "Supermarket groceries delivered in two-hour slots: fresh produce, dairy, bakery, baby care and pantry staples."},
		{ID: "greenbasket", Name: "GreenBasket", Vertical: connectors.VerticalGrocery, Rating: 4.4,
			Cities:      []string{"Hangzhou", "Shanghai", "Shenzhen", "Chengdu", "Guangzhou"},
			Description: "Neighbourhood grocer with an organic and imported range, delivered same day."},
		{ID: "mediquick", Name: "MediQuick", Vertical: connectors.VerticalMedical, Rating: 4.5, Cities: all,
			Description: "Book hospital appointments and ask doctors online, from general practice to paediatrics and cardiology."},
		{ID: "carepoint", Name: "CarePoint", Vertical: connectors.VerticalMedical, Rating: 4.3,
			Cities:      []string{"Hangzhou", "Shanghai", "Beijing", "Chengdu", "Guangzhou"},
			Description: "Clinic network with online consultations and same-week specialist appointments."},
		{ID: "lexassist", Name: "LexAssist", Vertical: connectors.VerticalLegal, Rating: 4.4, Cities: all,
			Description: "Consult vetted lawyers on family, labour, property, immigration and business matters."},
		{ID: "justicehub", Name: "JusticeHub", Vertical: connectors.VerticalLegal, Rating: 4.2,
			Cities:      []string{"Shanghai", "Beijing", "Shenzhen", "Chengdu", "Guangzhou"},
			Description: "Affordable legal advice from independent lawyers and small firms."},
		{ID: "govdesk", Name: "GovDesk", Vertical: connectors.VerticalPublicService, Rating: 4.1, Cities: all,
			Description: "Book citizen service centre appointments: ID cards, passports, social security, licences and tax."},
		{ID: "citizenhub", Name: "CitizenHub", Vertical: connectors.VerticalPublicService, Rating: 4.0,
			Cities:      []string{"Hangzhou", "Shanghai", "Beijing", "Shenzhen", "Guangzhou"},
			Description: "One window for household, family, transport and business services in your city."},
	}
}

// Default builds the providers DefaultDescriptors describes, in that order.
func Default(opts ...Option) ([]connectors.Connector, error) {
	descs := DefaultDescriptors()
	out := make([]connectors.Connector, 0, len(descs))
	for _, d := range descs {
		c, err := New(d, opts...)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// New builds the provider of desc.Vertical with data generated for desc.ID.
// Any valid provider ID works: a new ID gets fresh data. An empty Name, empty
// Cities or zero MaxBatch are filled in.
func New(desc connectors.Descriptor, opts ...Option) (connectors.Connector, error) {
	switch desc.Vertical {
	case connectors.VerticalGrocery:
		return NewGrocery(desc, opts...)
	case connectors.VerticalMedical:
		return NewMedical(desc, opts...)
	case connectors.VerticalLegal:
		return NewLegal(desc, opts...)
	case connectors.VerticalPublicService:
		return NewPublicService(desc, opts...)
	}
	return nil, fmt.Errorf("demo: provider %q: unknown vertical %q", desc.ID, desc.Vertical)
}

// Embedded builds desc's provider with the default options: what a registry
// file's `embedded: demo` entry gets (the wiring root hands it to package
// providers, which builds no provider itself).
func Embedded(desc connectors.Descriptor) (connectors.Connector, error) { return New(desc) }

// prepare validates desc for vertical v, fills its defaults and resolves opts.
func prepare(desc connectors.Descriptor, v connectors.Vertical, opts []Option) (connectors.Descriptor, config, error) {
	if !connectors.ValidProviderID(desc.ID) {
		return desc, config{}, fmt.Errorf("demo: provider id %q: only 1-64 of a-z, 0-9 and - are allowed", desc.ID)
	}
	if desc.Vertical == "" {
		desc.Vertical = v
	}
	if desc.Vertical != v {
		return desc, config{}, fmt.Errorf("demo: provider %q declares vertical %s, want %s", desc.ID, desc.Vertical, v)
	}
	if desc.Name == "" {
		desc.Name = desc.ID
	}
	if len(desc.Cities) == 0 {
		desc.Cities = DefaultCities()
	}
	desc.Cities = slices.Clone(desc.Cities)
	if desc.MaxBatch == 0 {
		desc.MaxBatch = maxBatch
	}
	if desc.ContractVersion == "" {
		desc.ContractVersion = connectors.ContractVersion // the demo providers publish
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return desc, cfg, fmt.Errorf("demo: provider %q: %w", desc.ID, err)
	}
	if cfg.items != 0 && v != connectors.VerticalGrocery {
		return desc, cfg, fmt.Errorf("demo: provider %q: a catalogue size is for grocery providers, not %s", desc.ID, v)
	}
	return desc, cfg, nil
}

// describe returns a copy of d, so a caller cannot change the provider's cities.
func describe(d connectors.Descriptor) connectors.Descriptor {
	d.Cities = slices.Clone(d.Cities)
	return d
}

// UserID names demo user n (1-based).
func UserID(n int) string { return fmt.Sprintf("demo-%d", n) }

// startOfDay is midnight of t's day in China Standard Time.
func startOfDay(t time.Time) time.Time {
	t = t.In(cst)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, cst)
}

// slotSuffix names a slot by its start, so IDs say when they are.
func slotSuffix(t time.Time) string { return t.In(cst).Format("200601021504") }

// pick returns a random element of s.
func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

// round1 rounds a rating to one decimal.
func round1(f float64) float64 { return float64(int(f*10+0.5)) / 10 }

func cny(fen int64) connectors.Money { return connectors.Money{Amount: fen, Currency: "CNY"} }

// pastTimes spreads n timestamps over the `days` before now, oldest first,
// each at least an hour before now.
func pastTimes(rng *rand.Rand, now time.Time, n, days int) []time.Time {
	out := make([]time.Time, n)
	for i := range n {
		// Slot i covers the i-th of n equal spans, so the list is ordered.
		span := time.Duration(days) * 24 * time.Hour / time.Duration(n)
		back := time.Duration(n-i)*span - time.Duration(rng.Int64N(int64(span-time.Hour)))
		out[i] = now.Add(-back).Truncate(time.Minute)
	}
	return out
}

// counter hands out per-provider IDs such as "o-000123".
type counter struct {
	prefix string
	n      int
}

func (c *counter) next() string {
	c.n++
	return fmt.Sprintf("%s-%06d", c.prefix, c.n)
}

// pickTags returns k distinct elements of from, in from's order.
func pickTags(rng *rand.Rand, from []string, k int) []string {
	idx := rng.Perm(len(from))[:min(k, len(from))]
	slices.Sort(idx)
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = from[j]
	}
	return out
}

var surnames = []string{"Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Luo", "Gao", "Zheng", "Liang", "Xie", "Tang", "Song", "Feng", "Deng", "Cao", "Peng", "Zeng"}

var givenNames = []string{"Wei", "Fang", "Min", "Jing", "Lei", "Jun", "Yan", "Hui", "Tao", "Ming", "Xia", "Qiang", "Li", "Na", "Hao", "Yu", "Xin", "Jie", "Ping", "Bo", "Ying", "Lin", "Chao", "Rui", "Jian", "Yun", "Kai", "Lan", "Hong", "Zhen"}

// personName returns a name such as "Chen Jing" (surname first).
func personName(rng *rand.Rand) string {
	return pick(rng, surnames) + " " + pick(rng, givenNames)
}

// localLanguages are spoken besides Mandarin, by city.
var localLanguages = map[string]string{
	"Shanghai": "Shanghainese", "Hangzhou": "Hangzhou dialect", "Guangzhou": "Cantonese",
	"Shenzhen": "Cantonese", "Chengdu": "Sichuanese",
}

// languages returns Mandarin, sometimes English and sometimes the local language.
func languages(rng *rand.Rand, city string) []string {
	out := []string{"Mandarin"}
	if rng.IntN(5) < 2 {
		out = append(out, "English")
	}
	if l, ok := localLanguages[city]; ok && rng.IntN(2) == 0 {
		out = append(out, l)
	}
	return out
}
