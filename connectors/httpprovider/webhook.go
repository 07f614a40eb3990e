package httpprovider

import (
	"net/http"
	"time"
)

// RequestVerifier checks the contract's signature on requests a provider
// sends to the gateway (the invalidation webhook), with the same scheme and
// replay protection the provider side applies to the gateway's requests.
type RequestVerifier struct{ v *verifier }

// NewRequestVerifier returns a verifier for one provider's secret. now may be
// nil (time.Now).
func NewRequestVerifier(secret string, window time.Duration, now func() time.Time) *RequestVerifier {
	if now == nil {
		now = time.Now
	}
	if window <= 0 {
		window = DefaultReplayWindow
	}
	return &RequestVerifier{v: &verifier{secret: secret, window: window, now: now, seen: newReplayCache(window)}}
}

// Verify returns why r (whose body has already been read into body) is
// refused, or "" when its signature is valid and not replayed. The path
// signed is r.URL.Path.
func (rv *RequestVerifier) Verify(r *http.Request, body []byte) string {
	return rv.v.verify(r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderNonce), r.Header.Get(HeaderSignature), r.Method, r.URL.Path, body)
}
