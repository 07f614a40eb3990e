package httpprovider

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"
	"time"
)

// Headers of the contract. Every request carries the three signature headers;
// the deadline and user headers are optional.
const (
	HeaderTimestamp = "Plaza-Timestamp"
	HeaderNonce     = "Plaza-Nonce"
	HeaderSignature = "Plaza-Signature"
	HeaderDeadline  = "Plaza-Deadline-Ms"
	HeaderUser      = "Plaza-User"
	HeaderIdemKey   = "Idempotency-Key"
)

// DefaultReplayWindow is how old a signed request may be. It bounds both the
// tolerated clock skew between gateway and provider and how long the provider
// remembers signatures it has seen.
const DefaultReplayWindow = 5 * time.Minute

// Sign returns hex(HMAC-SHA256(secret, timestamp + "\n" + nonce + "\n" +
// method + "\n" + path + "\n" + body)). timestamp is Unix seconds in decimal;
// nonce is any string unique per request. The nonce is in the signed string
// because two identical reads within the same second (a common case for a
// gateway under load) would otherwise carry the same signature and the
// second one would be refused as a replay.
func Sign(secret, timestamp, nonce, method, path string, body []byte) string {
	return hex.EncodeToString(mac(secret, timestamp, nonce, method, path, body))
}

func mac(secret, timestamp, nonce, method, path string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'\n'})
	m.Write([]byte(nonce))
	m.Write([]byte{'\n'})
	m.Write([]byte(method))
	m.Write([]byte{'\n'})
	m.Write([]byte(path))
	m.Write([]byte{'\n'})
	m.Write(body)
	return m.Sum(nil)
}

// verifier checks signatures and refuses replays.
type verifier struct {
	secret string
	window time.Duration
	now    func() time.Time
	seen   *replayCache
}

// verify reports why a request is refused, or "" when it is accepted.
// The reasons are safe to return to the caller: they describe the request,
// not the secret.
func (v *verifier) verify(timestamp, nonce, signature, method, path string, body []byte) string {
	if timestamp == "" || nonce == "" || signature == "" {
		return "missing signature headers"
	}
	if len(nonce) > 128 {
		return "nonce too long"
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return "malformed timestamp"
	}
	now := v.now()
	age := now.Sub(time.Unix(ts, 0))
	if age > v.window || age < -v.window {
		return "request timestamp outside the accepted window"
	}
	got, err := hex.DecodeString(signature)
	if err != nil || len(got) != sha256.Size {
		return "malformed signature"
	}
	want := mac(v.secret, timestamp, nonce, method, path, body)
	if !hmac.Equal(got, want) {
		return "bad signature"
	}
	if !v.seen.add(want, now) {
		return "replayed request"
	}
	return ""
}

// replayCache remembers signatures for at least one rotation period using two
// generations of maps: a lookup checks both, and every period the older one
// is dropped. That bounds memory by two periods of traffic without a sweep
// over every entry. The period is twice the window because a timestamp may be
// up to one window in the future, so a signature stays replayable for up to
// two windows after it was first seen.
type replayCache struct {
	mu       sync.Mutex
	period   time.Duration
	started  time.Time
	cur, old map[[16]byte]struct{}
}

func newReplayCache(window time.Duration) *replayCache {
	return &replayCache{period: 2 * window, cur: map[[16]byte]struct{}{}, old: map[[16]byte]struct{}{}}
}

// add records sig and reports whether it was new. Only the first 16 bytes of
// the MAC are kept: enough to make an accidental collision impossible in
// practice, half the memory of the full sum.
func (c *replayCache) add(sig []byte, now time.Time) bool {
	var k [16]byte
	copy(k[:], sig)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started.IsZero() {
		c.started = now
	}
	if now.Sub(c.started) >= c.period {
		c.old, c.cur = c.cur, map[[16]byte]struct{}{}
		if now.Sub(c.started) >= 2*c.period {
			c.old = map[[16]byte]struct{}{}
		}
		c.started = now
	}
	if _, ok := c.cur[k]; ok {
		return false
	}
	if _, ok := c.old[k]; ok {
		return false
	}
	c.cur[k] = struct{}{}
	return true
}
