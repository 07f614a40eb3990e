// Package limits protects the GraphQL endpoint from hostile or careless
// input: request size, parser tokens, document shape (depth, aliases, root
// fields, operations, repeated fields), complexity with list multipliers, and
// admission weighted by complexity. The HTTP side (transports, status codes,
// the body cap and read deadline) is package graphqlhttp, which asks a Guard
// for these checks.
//
// Every check runs before any resolver, so a rejected request never reaches a
// provider. The cheap checks run first: the body cap while reading, the token
// cap while parsing, the shape walk before gqlgen's validation (whose
// overlapping-fields rule is quadratic, gqlgen#2892), and complexity last,
// after validation, because it needs the variables.
package limits

import (
	"runtime"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"golang.org/x/sync/semaphore"
)

// Config holds the limits. A zero field takes its default (see DefaultConfig);
// a negative field disables that check.
type Config struct {
	// MaxBodyBytes caps a POST body. Default 1 MiB: the largest legitimate
	// document plus variables we have seen is a few KiB.
	MaxBodyBytes int64
	// BodyReadTimeout bounds reading a request's body, from the moment the
	// request reaches the GraphQL endpoint (a read deadline on that request
	// alone). Default 10 s: bodies are a few KiB, and a client that cannot
	// send 1 MiB in 10 s should not hold a connection either.
	BodyReadTimeout time.Duration
	// MaxVariablesBytes caps the JSON of `variables`. Default 64 KiB.
	MaxVariablesBytes int
	// MaxTokens caps the lexical tokens of a document; the parser stops at
	// the first token past it. Default 2,000: ten times the largest of the
	// frontend's and analysts' saved operations (under 200 tokens; the
	// playground's introspection query is about 150), and small enough that
	// parsing any accepted document stays well under 2 ms.
	MaxTokens int
	// MaxDepth caps field nesting (a root field is depth 1; fragments are
	// followed; introspection fields are not counted, gqlparser bounds them).
	// Default 12.
	MaxDepth int
	// MaxAliases caps aliased fields in one operation, fragments expanded.
	// Default 30.
	MaxAliases int
	// MaxRootFields caps the top-level fields of one operation. Default 20.
	MaxRootFields int
	// MaxOperations caps the operations in one document. Default 5.
	MaxOperations int
	// MaxFieldRepeats caps how often one response name appears in one
	// selection set once inline and named fragments are merged into it.
	// Overlapping-fields validation compares every such pair, so this bounds
	// its quadratic cost (gqlgen#2892). Default 16: enough for a union with a
	// fragment per member that each select `id`.
	MaxFieldRepeats int
	// MaxComplexity caps the estimated cost of an operation (see
	// Costs). Default 5,000.
	MaxComplexity int
	// MaxBatch caps the operations of one batch (a POST body that is a JSON
	// array). Default 10: Apollo's BatchHttpLink sends at most 10 by
	// default (batchMax).
	MaxBatch int
	// MaxBatchComplexity caps the total complexity of a batch's operations;
	// each one is also held to MaxComplexity. Default 10,000: two maximal
	// operations, or ten ordinary pages.
	MaxBatchComplexity int
	// DefaultFirst is the page size assumed for a connection whose `first`
	// is absent; it must match the schema's documented default. Default 20.
	DefaultFirst int
	// FanOutCost is the fixed cost of fields that call every provider of
	// one or more verticals (search, home). Default 50.
	FanOutCost int
	// MaxInFlight bounds the operations executing at once, in units of
	// InFlightUnit complexity points (see admission). Default
	// DefaultInFlightPerCPU per CPU the process may use; negative: no bound.
	MaxInFlight int
	// InFlightUnit is the complexity of one unit of MaxInFlight: an
	// operation takes 1 + complexity/InFlightUnit units. Default 500 (a list
	// of 50 with stores takes 2, a product detail 1).
	InFlightUnit int
}

// DefaultConfig returns the production limits.
func DefaultConfig() Config {
	return Config{
		MaxBodyBytes:       1 << 20,
		BodyReadTimeout:    10 * time.Second,
		MaxVariablesBytes:  64 << 10,
		MaxTokens:          2000,
		MaxDepth:           12,
		MaxAliases:         30,
		MaxRootFields:      20,
		MaxOperations:      5,
		MaxFieldRepeats:    16,
		MaxComplexity:      5000,
		MaxBatch:           10,
		MaxBatchComplexity: 10000,
		DefaultFirst:       20,
		FanOutCost:         50,
		MaxInFlight:        DefaultInFlightPerCPU * runtime.GOMAXPROCS(0),
		InFlightUnit:       500,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	orDefault(&c.MaxBodyBytes, d.MaxBodyBytes)
	orDefault(&c.BodyReadTimeout, d.BodyReadTimeout)
	orDefault(&c.MaxVariablesBytes, d.MaxVariablesBytes)
	orDefault(&c.MaxTokens, d.MaxTokens)
	orDefault(&c.MaxDepth, d.MaxDepth)
	orDefault(&c.MaxAliases, d.MaxAliases)
	orDefault(&c.MaxRootFields, d.MaxRootFields)
	orDefault(&c.MaxOperations, d.MaxOperations)
	orDefault(&c.MaxFieldRepeats, d.MaxFieldRepeats)
	orDefault(&c.MaxComplexity, d.MaxComplexity)
	orDefault(&c.MaxBatch, d.MaxBatch)
	orDefault(&c.MaxBatchComplexity, d.MaxBatchComplexity)
	orDefault(&c.DefaultFirst, d.DefaultFirst)
	orDefault(&c.FanOutCost, d.FanOutCost)
	orDefault(&c.MaxInFlight, d.MaxInFlight)
	orDefault(&c.InFlightUnit, d.InFlightUnit)
	return c
}

func orDefault[T ~int | ~int64](v *T, d T) {
	if *v == 0 {
		*v = d
	}
}

// exceeds reports whether n is past limit; a negative limit disables it.
func exceeds[T int | int64](n, limit T) bool { return limit >= 0 && n > limit }

// Guard enforces one Config. Build it with New; it is safe for concurrent use.
type Guard struct {
	cfg      Config
	cache    graphql.Cache[*ast.QueryDocument]
	inFlight *semaphore.Weighted // nil: no bound
}

// New returns a Guard for cfg (zero fields take their defaults). cache is the
// query cache given to gqlgen's SetQueryCache: documents found there have
// already passed every per-document check, so they are not parsed or walked
// again. A nil cache means every request is checked.
func New(cfg Config, cache graphql.Cache[*ast.QueryDocument]) *Guard {
	if cache == nil {
		cache = graphql.NoCache[*ast.QueryDocument]{}
	}
	g := &Guard{cfg: cfg.withDefaults(), cache: cache}
	if g.cfg.MaxInFlight > 0 {
		g.inFlight = semaphore.NewWeighted(int64(g.cfg.MaxInFlight))
	}
	return g
}

// Config returns the limits in force, defaults filled in. Pass MaxTokens to
// gqlgen's SetParserTokenLimit too, so documents that reach its parser
// without passing ours (persisted-query hashes) get the same cap.
func (g *Guard) Config() Config { return g.cfg }
