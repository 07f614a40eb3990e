package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
)

// RoleProvider is a provider's own developer or operator, signed in for
// that provider: with a provider token (`plaza token --provider ID` in
// development) or one of the provider's API keys. The provider comes from
// the credential, never from an argument.
const RoleProvider = "PROVIDER"

// ProviderKeyPrefix starts every provider API key, so a bearer credential
// is told apart from a JWT without trying to parse it.
const ProviderKeyPrefix = "plzp_"

// NewProviderKey returns a fresh provider API key, its public id (shown in
// lists, used to revoke it) and its SHA-256 digest (all that is stored).
// 32 random bytes: a digest without salt or stretching is enough for a key
// of that entropy, and lets a lookup be one indexed read.
func NewProviderKey() (key, id string, digest [sha256.Size]byte, err error) {
	var idb [6]byte
	var secret [32]byte
	if _, err = rand.Read(idb[:]); err == nil {
		_, err = rand.Read(secret[:])
	}
	if err != nil {
		return "", "", digest, fmt.Errorf("auth: provider key: %w", err)
	}
	id = "pk_" + hex.EncodeToString(idb[:])
	key = ProviderKeyPrefix + id[3:] + "_" + base64.RawURLEncoding.EncodeToString(secret[:])
	return key, id, ProviderKeyDigest(key), nil
}

// ProviderKeyDigest is what is stored of a provider key.
func ProviderKeyDigest(key string) [sha256.Size]byte { return sha256.Sum256([]byte(key)) }

// ProviderKeyLookup finds the live (not revoked) key with a digest.
type ProviderKeyLookup interface {
	LookupKey(ctx context.Context, digest [sha256.Size]byte) (provider, keyID string, ok bool, err error)
}

// ProviderKeys authenticates provider API keys sent as `Authorization:
// Bearer plzp_…`. Answers are cached for ttl per key digest (bounded), so
// a busy portal does not read the database on every request; a revoked key
// therefore keeps working on other instances for at most ttl (the instance
// that revoked it forgets it at once through Forget).
type ProviderKeys struct {
	lookup ProviderKeyLookup
	cache  *expirable.LRU[[sha256.Size]byte, keyAnswer]
	log    *slog.Logger
}

type keyAnswer struct {
	provider, id string
	ok           bool
}

// DefaultProviderKeyTTL bounds how long a revoked key still verifies on
// another instance.
const DefaultProviderKeyTTL = 10 * time.Second

// NewProviderKeys returns the middleware over lookup (nil: every provider
// key is refused). ttl 0 means DefaultProviderKeyTTL.
func NewProviderKeys(lookup ProviderKeyLookup, ttl time.Duration, log *slog.Logger) *ProviderKeys {
	if ttl == 0 {
		ttl = DefaultProviderKeyTTL
	}
	if log == nil {
		log = slog.Default()
	}
	return &ProviderKeys{lookup: lookup, cache: expirable.NewLRU[[sha256.Size]byte, keyAnswer](10_000, nil, ttl), log: log}
}

// Forget drops every cached answer (after a revocation on this instance).
func (k *ProviderKeys) Forget() {
	if k != nil {
		k.cache.Purge()
	}
}

// Middleware makes the caller of a valid provider key a PROVIDER for its
// provider; an unknown or revoked key sets Problem (UNAUTHENTICATED). Mount
// it inside Verifier.Middleware. A failing lookup is a Problem too: the
// key is not trusted unverified.
func (k *ProviderKeys) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerToken(r.Header.Get("Authorization"))
		if !ok || !strings.HasPrefix(token, ProviderKeyPrefix) {
			next.ServeHTTP(w, r)
			return
		}
		p, _ := From(r.Context())
		ans, err := k.answer(r.Context(), ProviderKeyDigest(token))
		switch {
		case err != nil:
			k.log.WarnContext(r.Context(), "provider key lookup failed", "err", err)
			p.Problem = "provider key could not be checked; retry"
		case !ans.ok:
			p.Problem = "invalid or revoked provider key"
		default:
			p.Provider, p.Actor, p.Roles, p.Problem = ans.provider, ans.id, []string{RoleProvider}, ""
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

func (k *ProviderKeys) answer(ctx context.Context, digest [sha256.Size]byte) (keyAnswer, error) {
	if k == nil || k.lookup == nil {
		return keyAnswer{}, nil
	}
	if a, ok := k.cache.Get(digest); ok {
		return a, nil
	}
	provider, id, ok, err := k.lookup.LookupKey(ctx, digest)
	if err != nil {
		return keyAnswer{}, err
	}
	a := keyAnswer{provider: provider, id: id, ok: ok}
	k.cache.Add(digest, a)
	return a, nil
}
