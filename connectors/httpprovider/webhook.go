package httpprovider

import (
	"context"
	"net/http"
	"time"
)

// RequestVerifier checks the contract's signature on requests providers send
// to the gateway (the invalidation and stats endpoints), with the same
// schemes and replay protection the provider side applies to the gateway's
// requests. One verifier serves every provider: the secret is passed with
// each request, and the replay cache is keyed by the MAC, so nothing is kept
// per provider.
type RequestVerifier struct{ v verifier }

// VerifierOption configures NewRequestVerifier.
type VerifierOption func(*verifier)

// WithVerifierWindow sets how old a signed request may be (default
// DefaultReplayWindow). The replay cache must remember signatures for the
// same window.
func WithVerifierWindow(d time.Duration) VerifierOption {
	return func(v *verifier) {
		if d > 0 {
			v.window = d
		}
	}
}

// WithVerifierClock sets the clock for the timestamp window and the v1
// transition window (tests).
func WithVerifierClock(now func() time.Time) VerifierOption {
	return func(v *verifier) { v.now = now }
}

// WithVerifierV1Until accepts scheme v1 until t (default DefaultV1Until);
// from t on a v1 signature is refused with a message that says to use v2.
// The zero time refuses v1 always.
func WithVerifierV1Until(t time.Time) VerifierOption {
	return func(v *verifier) { v.v1Until = t }
}

// NewRequestVerifier returns a verifier that remembers accepted signatures
// in seen: a RedisReplayCache when several instances serve the same
// providers, so a request accepted by one is a replay on every other.
func NewRequestVerifier(seen ReplayCache, opts ...VerifierOption) *RequestVerifier {
	rv := &RequestVerifier{v: verifier{window: DefaultReplayWindow, v1Until: DefaultV1Until, now: time.Now, seen: seen}}
	for _, o := range opts {
		o(&rv.v)
	}
	return rv
}

// Verify checks r (whose body has already been read into body) against
// secret and returns the scheme it was signed with. The path signed is
// r.URL.Path and the query r.URL.RawQuery (v2). A refusal is a
// *SignatureError (answer 401 with its message); an error wrapping
// ErrReplayUnavailable means the replay cache is down (answer 503 and let
// the provider retry).
func (rv *RequestVerifier) Verify(ctx context.Context, r *http.Request, body []byte, secret string) (Scheme, error) {
	return rv.v.verify(ctx, []string{secret}, signedFrom(r, body))
}

// VerifyAny is Verify for a provider with several secrets that verify: the
// new and the old one during a rotation's overlap window. A request signed
// with either is accepted (once: the replay cache is keyed by the MAC).
func (rv *RequestVerifier) VerifyAny(ctx context.Context, r *http.Request, body []byte, secrets []string) (Scheme, error) {
	return rv.v.verify(ctx, secrets, signedFrom(r, body))
}
