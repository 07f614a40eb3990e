package auth

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"sync"
	"time"
)

// ErrUnknownKey is returned for a token whose key ID is not in the key set,
// even after a refresh.
var ErrUnknownKey = errors.New("auth: unknown signing key")

// Defaults of a JWKS. An identity provider rotates keys rarely, so a token
// with an unknown kid refetches at most once a minute (a flood of forged
// kids cannot turn into a flood of fetches); keys are refetched after an
// hour anyway so a revoked key stops working; a fetch that takes longer than
// 5 s is abandoned.
const (
	DefaultJWKSMinRefresh = time.Minute
	DefaultJWKSMaxAge     = time.Hour
	DefaultJWKSTimeout    = 5 * time.Second
	// maxJWKSBytes bounds a key set document; real ones are a few KiB.
	maxJWKSBytes = 1 << 20
	// minRSABits refuses keys too short to trust.
	minRSABits = 2048
)

// JWKS is a KeySet read from a JSON Web Key Set (RFC 7517), from a file or a
// URL. Keys are cached by kid. A kid not in the cache triggers a refetch, at
// most once per MinRefresh; a failed refetch keeps the keys already known.
// Safe for concurrent use.
type JWKS struct {
	source     func(ctx context.Context) ([]byte, error)
	minRefresh time.Duration
	maxAge     time.Duration
	timeout    time.Duration
	now        func() time.Time

	mu      sync.RWMutex
	keys    map[string]*rsa.PublicKey
	fetched time.Time // last successful fetch

	refresh sync.Mutex // one fetch at a time
	tried   time.Time  // last attempt, guarded by refresh
}

// JWKSOption configures a JWKS.
type JWKSOption func(*JWKS)

// WithMinRefresh sets how often an unknown kid may trigger a refetch.
func WithMinRefresh(d time.Duration) JWKSOption { return func(k *JWKS) { k.minRefresh = d } }

// WithMaxAge sets how long fetched keys are used before a refetch.
func WithMaxAge(d time.Duration) JWKSOption { return func(k *JWKS) { k.maxAge = d } }

// WithFetchTimeout bounds one fetch (default 5 s).
func WithFetchTimeout(d time.Duration) JWKSOption { return func(k *JWKS) { k.timeout = d } }

// WithJWKSClock sets the clock (tests).
func WithJWKSClock(now func() time.Time) JWKSOption { return func(k *JWKS) { k.now = now } }

// NewJWKSURL returns a key set fetched from url with hc (nil: a client of
// its own). Nothing is fetched until the first token or Refresh.
func NewJWKSURL(url string, hc *http.Client, opts ...JWKSOption) *JWKS {
	if hc == nil {
		hc = &http.Client{}
	}
	return newJWKS(func(ctx context.Context) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
		}
		return readBounded(resp.Body)
	}, opts)
}

// NewJWKSFile returns a key set read from path; the file is read again when
// a token names a kid it does not know, so keys can be rotated in place.
func NewJWKSFile(path string, opts ...JWKSOption) *JWKS {
	return newJWKS(func(context.Context) ([]byte, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readBounded(f)
	}, opts)
}

func newJWKS(source func(context.Context) ([]byte, error), opts []JWKSOption) *JWKS {
	k := &JWKS{source: source, minRefresh: DefaultJWKSMinRefresh, maxAge: DefaultJWKSMaxAge,
		timeout: DefaultJWKSTimeout, now: time.Now}
	for _, o := range opts {
		o(k)
	}
	return k
}

func readBounded(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxJWKSBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxJWKSBytes {
		return nil, fmt.Errorf("key set larger than %d bytes", maxJWKSBytes)
	}
	return data, nil
}

// Refresh fetches the key set now, whatever the minimum interval. The
// server calls it at start so a misconfigured URL shows up in the log.
func (k *JWKS) Refresh(ctx context.Context) error {
	k.refresh.Lock()
	defer k.refresh.Unlock()
	return k.fetch(ctx)
}

// fetch replaces the keys; the caller holds k.refresh.
func (k *JWKS) fetch(ctx context.Context) error {
	k.tried = k.now()
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	data, err := k.source(ctx)
	if err != nil {
		return fmt.Errorf("auth: fetch JWKS: %w", err)
	}
	keys, err := ParseJWKS(data)
	if err != nil {
		return err
	}
	k.mu.Lock()
	k.keys, k.fetched = keys, k.now()
	k.mu.Unlock()
	return nil
}

// lookup returns the cached key for kid and whether the cache is past
// maxAge.
func (k *JWKS) lookup(kid string) (key *rsa.PublicKey, stale bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	stale = k.keys == nil || k.now().Sub(k.fetched) > k.maxAge
	if kid == "" && len(k.keys) == 1 {
		for _, only := range k.keys {
			return only, stale
		}
	}
	return k.keys[kid], stale
}

// Key implements KeySet. It returns ErrUnknownKey when kid is not in the
// set even after a refetch (or when a refetch is not yet allowed).
func (k *JWKS) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	key, stale := k.lookup(kid)
	switch {
	case key != nil && !stale:
		return key, nil
	case key != nil:
		// Known but due for a refetch: one caller refetches, the others keep
		// using the key they know rather than queueing behind the fetch.
		if !k.refresh.TryLock() {
			return key, nil
		}
	default:
		k.refresh.Lock()
	}
	// Another caller may have refetched while this one waited.
	if key, stale := k.lookup(kid); key != nil && !stale {
		k.refresh.Unlock()
		return key, nil
	}
	if k.tried.IsZero() || k.now().Sub(k.tried) >= k.minRefresh {
		// A failed refetch keeps the known keys: an identity provider outage
		// must not sign every user out.
		_ = k.fetch(ctx)
	}
	k.refresh.Unlock()
	if key, _ := k.lookup(kid); key != nil {
		return key, nil
	}
	return nil, ErrUnknownKey
}

// jwk is the part of a JSON Web Key that RS256 verification needs.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// ParseJWKS reads the RSA signing keys of a JSON Web Key Set by kid. Keys of
// other types, for encryption, or for other algorithms are skipped; a set
// with no usable key is an error, as is an RSA key under 2048 bits.
func ParseJWKS(data []byte) (map[string]*rsa.PublicKey, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("auth: JWKS: %w", err)
	}
	keys := map[string]*rsa.PublicKey{}
	for i, j := range set.Keys {
		if j.Kty != "RSA" || (j.Use != "" && j.Use != "sig") || (j.Alg != "" && j.Alg != "RS256") {
			continue
		}
		key, err := rsaKey(j)
		if err != nil {
			return nil, fmt.Errorf("auth: JWKS key %d (kid %q): %w", i, j.Kid, err)
		}
		if _, dup := keys[j.Kid]; dup {
			return nil, fmt.Errorf("auth: JWKS: duplicate kid %q", j.Kid)
		}
		keys[j.Kid] = key
	}
	if len(keys) == 0 {
		return nil, errors.New("auth: JWKS has no RS256 signing key")
	}
	return keys, nil
}

func rsaKey(j jwk) (*rsa.PublicKey, error) {
	n, err := base64.RawURLEncoding.DecodeString(j.N)
	if err != nil {
		return nil, fmt.Errorf("modulus: %w", err)
	}
	e, err := base64.RawURLEncoding.DecodeString(j.E)
	if err != nil {
		return nil, fmt.Errorf("exponent: %w", err)
	}
	if len(e) == 0 || len(e) > 4 {
		return nil, errors.New("exponent out of range")
	}
	key := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	if key.N.BitLen() < minRSABits {
		return nil, fmt.Errorf("modulus of %d bits; at least %d required", key.N.BitLen(), minRSABits)
	}
	if key.E < 3 || key.E%2 == 0 {
		return nil, errors.New("invalid exponent")
	}
	return key, nil
}

// JWK returns the JSON Web Key of an RSA public key (tests, and tools that
// publish a key set).
func JWK(kid string, key *rsa.PublicKey) map[string]string {
	return map[string]string{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
	}
}
