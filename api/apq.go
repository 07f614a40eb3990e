package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/plaza-gateway/plaza/cache"
	"github.com/plaza-gateway/plaza/limits"
)

// apqCache keeps automatic persisted queries in the shared cache, so a hash
// registered through one instance is known to all of them.
type apqCache struct {
	c   cache.Cache
	ttl time.Duration
}

// apqPrefix namespaces persisted queries among the cache's keys.
const apqPrefix = "apq:"

// Get implements graphql.Cache.
func (a apqCache) Get(ctx context.Context, hash string) (string, bool) {
	es, err := a.c.GetMany(ctx, []string{apqPrefix + hash})
	if err != nil || len(es) != 1 || !es[0].Found {
		return "", false
	}
	return string(es[0].Value), true
}

// Add implements graphql.Cache. A failed write is a later miss: the client
// then sends the full document again, as the APQ protocol expects.
func (a apqCache) Add(ctx context.Context, hash, query string) {
	_ = a.c.SetMany(ctx, []cache.Item{{Key: apqPrefix + hash, Value: []byte(query), TTL: a.ttl}})
}

// DefaultMaxPersistedQueryBytes caps the documents registered as persisted
// queries: the frontend's and analysts' saved operations are under 2 KiB,
// and a registered document is stored for a day.
const DefaultMaxPersistedQueryBytes = 16 << 10

// persistedQueries implements automatic persisted queries (Apollo's APQ
// protocol) without letting clients use the registry as storage, which
// gqlgen's extension.AutomaticPersistedQuery allows (it stores any document
// whose hash matches, before it is parsed):
//
//   - a document is registered only once it has parsed, validated and passed
//     every limit (registration runs as the last operation-context mutator);
//   - documents over maxBytes run but are not registered;
//   - each registration counts against the caller's registration limit
//     (ratelimit.Config.Register); past it the document runs but is not
//     registered, so a caller's storage is bounded whatever it sends;
//   - a hash that does not match its document is 400
//     PERSISTED_QUERY_HASH_MISMATCH, as the APQ protocol says.
type persistedQueries struct {
	store graphql.Cache[string]
	// known are the app's persisted documents by hash (built with the app,
	// package web): always resolved, never registered, never expiring.
	known map[string]string
	// only refuses every operation but the known documents, except an
	// analyst's (the playground sends documents).
	only     bool
	maxBytes int
	// allow reports whether the caller may register one more document; nil
	// allows every registration.
	allow func(ctx context.Context) bool
	log   *slog.Logger
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = (*persistedQueries)(nil)

// apqStat is the pending registration in an operation's Stats.
const apqStat = "PlazaAPQ"

type apqPending struct{ hash string }

func (*persistedQueries) ExtensionName() string                   { return "PlazaPersistedQueries" }
func (*persistedQueries) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters resolves a hash sent alone to its document
// (PERSISTED_QUERY_NOT_FOUND, HTTP 200, when it is not registered: the
// client then sends the document with the hash) and checks a hash sent with
// its document, leaving the registration for MutateOperationContext.
func (p *persistedQueries) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	ext, present := raw.Extensions["persistedQuery"]
	restricted := p.only && !isAnalyst(ctx)
	if !present || ext == nil {
		if restricted {
			return notPersisted()
		}
		return nil
	}
	hash, gqlErr := parsePersistedQuery(ext)
	if gqlErr != nil {
		return gqlErr
	}
	if known, ok := p.known[hash]; ok {
		if raw.Query != "" && raw.Query != known {
			return apqError(limits.CodePersistedQueryMismatch, "provided APQ hash does not match query")
		}
		raw.Query = known
		return nil
	}
	if restricted {
		return notPersisted()
	}
	if raw.Query == "" {
		q, ok := p.store.Get(ctx, hash)
		if !ok {
			return apqError(limits.CodePersistedQueryNotFound, "PersistedQueryNotFound")
		}
		raw.Query = q
		return nil
	}
	if queryHash(raw.Query) != hash {
		return apqError(limits.CodePersistedQueryMismatch, "provided APQ hash does not match query")
	}
	if len(raw.Query) <= p.maxBytes {
		if opCtx := graphql.GetOperationContext(ctx); opCtx != nil {
			opCtx.Stats.SetExtension(apqStat, apqPending{hash: hash})
		}
	}
	return nil
}

// MutateOperationContext registers the document of a pending registration.
// It runs after parsing, validation and the other mutators (complexity,
// introspection), so only documents that passed all of them are stored.
func (p *persistedQueries) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	pending, ok := opCtx.Stats.GetExtension(apqStat).(apqPending)
	if !ok {
		return nil
	}
	if p.allow != nil && !p.allow(ctx) {
		p.log.InfoContext(ctx, "persisted query not registered: the caller's registration limit is reached")
		return nil
	}
	p.store.Add(ctx, pending.hash, opCtx.RawQuery)
	return nil
}

// parsePersistedQuery reads {"version": 1, "sha256Hash": "<64 hex>"}.
func parsePersistedQuery(ext any) (string, *gqlerror.Error) {
	m, ok := ext.(map[string]any)
	if !ok {
		return "", apqError(limits.CodeBadRequest, "extensions.persistedQuery must be an object")
	}
	if !isVersion1(m["version"]) {
		return "", apqError(limits.CodeBadRequest, "unsupported persistedQuery version; only version 1 is supported")
	}
	hash, _ := m["sha256Hash"].(string)
	if len(hash) != sha256.Size*2 {
		return "", apqError(limits.CodeBadRequest, "extensions.persistedQuery.sha256Hash must be a hex sha256")
	}
	if _, err := hex.DecodeString(hash); err != nil {
		return "", apqError(limits.CodeBadRequest, "extensions.persistedQuery.sha256Hash must be a hex sha256")
	}
	return hash, nil
}

// isVersion1 reports whether v is the number 1 as a transport decoded it:
// float64 over HTTP, json.Number over the websocket (gqlgen's websocket
// transport decodes payloads with UseNumber).
func isVersion1(v any) bool {
	switch n := v.(type) {
	case float64:
		return n == 1
	case json.Number:
		return n.String() == "1"
	}
	return false
}

// notPersisted refuses an operation that is not one of the app's persisted
// documents while only those may run.
func notPersisted() *gqlerror.Error {
	return apqError(limits.CodePersistedQueryNotAllowed, "only the app's persisted operations may run here")
}

func apqError(code, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

func queryHash(q string) string {
	sum := sha256.Sum256([]byte(q))
	return hex.EncodeToString(sum[:])
}
