package httpprovider

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
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
	// HeaderProvider names the provider a request is for, so one endpoint
	// (a demo-provider process, a platform hosting many shops) can serve
	// many providers. Scheme v3 signs it.
	HeaderProvider = "Plaza-Provider"
)

// DefaultReplayWindow is how old a signed request may be. It bounds both the
// tolerated clock skew between gateway and provider and how long the provider
// remembers signatures it has seen.
const DefaultReplayWindow = 5 * time.Minute

// Scheme is a version of the request signature. It is named by the prefix
// of the Plaza-Signature value ("v2=<hex>"); a bare hex value is v1.
type Scheme string

const (
	// SchemeV1 signs timestamp, nonce, method, path and body. It does not
	// cover the query string, so a request's query could be changed in
	// flight; it is accepted only until the transition window ends.
	SchemeV1 Scheme = "v1"
	// SchemeV2 signs the scheme name, timestamp, nonce, method, path, the raw
	// query string and the body.
	SchemeV2 Scheme = "v2"
	// SchemeV3 is v2 plus the provider the request is for (Plaza-Provider),
	// so a request cannot be redirected to another provider sharing the
	// endpoint and the secret. The gateway signs with v3.
	SchemeV3 Scheme = "v3"
)

// DefaultV1Until is when the transition window for SchemeV1 ends unless the
// operator sets another end: the date announced to providers, three months
// after v2 was introduced. After it a v1 signature is refused.
var DefaultV1Until = time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)

// ParseV1Until reads the end of the v1 transition window as configured by
// an operator: an RFC 3339 time, "none" (v1 refused now: the zero time), or
// "" (DefaultV1Until).
func ParseV1Until(s string) (time.Time, error) {
	switch s {
	case "":
		return DefaultV1Until, nil
	case "none":
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want an RFC 3339 time such as 2027-03-01T00:00:00Z, or none: %w", s, err)
	}
	return t, nil
}

// v2Prefix and v3Prefix start a v2 and a v3 Plaza-Signature value.
const (
	v2Prefix = "v2="
	v3Prefix = "v3="
)

// SignV3 returns the Plaza-Signature value of scheme v3:
//
//	"v3=" + hex(HMAC-SHA256(secret, "v3\n" + timestamp + "\n" + nonce + "\n" +
//	    provider + "\n" + method + "\n" + path + "\n" + rawQuery + "\n" + body))
//
// provider is the Plaza-Provider header the request carries; the rest is as
// in SignV2.
func SignV3(secret, provider, timestamp, nonce, method, path, rawQuery string, body []byte) string {
	return v3Prefix + hex.EncodeToString(macV3(secret, provider, timestamp, nonce, method, path, rawQuery, body))
}

// SignV2 returns the Plaza-Signature value of scheme v2:
//
//	"v2=" + hex(HMAC-SHA256(secret, "v2\n" + timestamp + "\n" + nonce + "\n" +
//	    method + "\n" + path + "\n" + rawQuery + "\n" + body))
//
// rawQuery is the query string exactly as sent, without the "?" (empty when
// there is none). The scheme name leads the signed string so a v2 MAC can
// never be taken for a v1 one. timestamp is Unix seconds in decimal; nonce
// is any string unique per request (two identical reads within the same
// second would otherwise carry the same signature and the second would be
// refused as a replay).
func SignV2(secret, timestamp, nonce, method, path, rawQuery string, body []byte) string {
	return v2Prefix + hex.EncodeToString(macV2(secret, timestamp, nonce, method, path, rawQuery, body))
}

// Sign returns the Plaza-Signature value of scheme v1: hex(HMAC-SHA256(secret,
// timestamp + "\n" + nonce + "\n" + method + "\n" + path + "\n" + body)).
//
// Deprecated: v1 does not cover the query string and is accepted only until
// the transition window ends (DefaultV1Until unless configured); use SignV2.
func Sign(secret, timestamp, nonce, method, path string, body []byte) string {
	return hex.EncodeToString(macV1(secret, timestamp, nonce, method, path, body))
}

func macV1(secret, timestamp, nonce, method, path string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	for _, s := range []string{timestamp, nonce, method, path} {
		m.Write([]byte(s))
		m.Write([]byte{'\n'})
	}
	m.Write(body)
	return m.Sum(nil)
}

func macV3(secret, provider, timestamp, nonce, method, path, rawQuery string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	for _, s := range []string{string(SchemeV3), timestamp, nonce, provider, method, path, rawQuery} {
		m.Write([]byte(s))
		m.Write([]byte{'\n'})
	}
	m.Write(body)
	return m.Sum(nil)
}

func macV2(secret, timestamp, nonce, method, path, rawQuery string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	for _, s := range []string{string(SchemeV2), timestamp, nonce, method, path, rawQuery} {
		m.Write([]byte(s))
		m.Write([]byte{'\n'})
	}
	m.Write(body)
	return m.Sum(nil)
}

// SignatureError is why a signed request was refused (401). Its message
// describes the request, never the secret, and is safe to return to the
// caller.
type SignatureError struct {
	// Scheme is the scheme the request claimed, empty when it could not
	// be told.
	Scheme Scheme
	Reason string
}

func (e *SignatureError) Error() string { return e.Reason }

// ErrReplayUnavailable means the replay cache could not say whether a
// signature was seen before (Redis is down). The request is refused without
// being acted on, and the caller should retry: accepting it would let a
// replay through on every instance at once.
var ErrReplayUnavailable = errors.New("replay protection unavailable")

// signed is what a signature covers, read from one request.
type signed struct {
	timestamp, nonce, signature string
	provider                    string
	method, path, rawQuery      string
	body                        []byte
}

func signedFrom(r *http.Request, body []byte) signed {
	return signed{
		timestamp: r.Header.Get(HeaderTimestamp), nonce: r.Header.Get(HeaderNonce), signature: r.Header.Get(HeaderSignature),
		provider: r.Header.Get(HeaderProvider),
		method:   r.Method, path: r.URL.Path, rawQuery: r.URL.RawQuery, body: body,
	}
}

// verifier checks signatures and refuses replays. It holds no per-secret
// state: the secret comes with each request and the replay cache is keyed
// by the MAC, which differs between secrets.
type verifier struct {
	window  time.Duration
	v1Until time.Time // v1 is refused from this instant; zero refuses it always
	now     func() time.Time
	seen    ReplayCache
}

// verify returns the scheme of an accepted request: one signed with any of
// secrets (during a rotation's overlap, the new one and the old one). A
// refused request gets a *SignatureError; a request whose replay status
// cannot be checked gets an error wrapping ErrReplayUnavailable.
func (v *verifier) verify(ctx context.Context, secrets []string, s signed) (Scheme, error) {
	if s.timestamp == "" || s.nonce == "" || s.signature == "" {
		return "", &SignatureError{Reason: "missing signature headers"}
	}
	scheme, sigHex := SchemeV1, s.signature
	if rest, ok := strings.CutPrefix(s.signature, v3Prefix); ok {
		scheme, sigHex = SchemeV3, rest
	} else if rest, ok := strings.CutPrefix(s.signature, v2Prefix); ok {
		scheme, sigHex = SchemeV2, rest
	} else if i := strings.IndexByte(s.signature, '='); i >= 0 {
		return "", &SignatureError{Reason: fmt.Sprintf("unsupported signature scheme %.8q: sign with v3", s.signature[:i])}
	}
	refuse := func(reason string) (Scheme, error) { return scheme, &SignatureError{Scheme: scheme, Reason: reason} }
	if len(s.nonce) > 128 {
		return refuse("nonce too long")
	}
	if scheme == SchemeV3 && s.provider == "" {
		return refuse("missing " + HeaderProvider + " header (scheme v3 signs it)")
	}
	ts, err := strconv.ParseInt(s.timestamp, 10, 64)
	if err != nil {
		return refuse("malformed timestamp")
	}
	now := v.now()
	if scheme == SchemeV1 && !now.Before(v.v1Until) {
		return refuse("signature scheme v1 is no longer accepted (its transition window ended " +
			v.v1Until.UTC().Format(time.RFC3339) + "): sign with v2, which covers the query string")
	}
	age := now.Sub(time.Unix(ts, 0))
	if age > v.window || age < -v.window {
		return refuse("request timestamp outside the accepted window")
	}
	got, err := hex.DecodeString(sigHex)
	if err != nil || len(got) != sha256.Size {
		return refuse("malformed signature")
	}
	var want []byte
	for _, secret := range secrets {
		var mac []byte
		switch scheme {
		case SchemeV3:
			mac = macV3(secret, s.provider, s.timestamp, s.nonce, s.method, s.path, s.rawQuery, s.body)
		case SchemeV2:
			mac = macV2(secret, s.timestamp, s.nonce, s.method, s.path, s.rawQuery, s.body)
		default:
			mac = macV1(secret, s.timestamp, s.nonce, s.method, s.path, s.body)
		}
		if hmac.Equal(got, mac) {
			want = mac
			break
		}
	}
	if want == nil {
		return refuse("bad signature")
	}
	fresh, err := v.seen.Add(ctx, want)
	if err != nil {
		return scheme, fmt.Errorf("%w: %w", ErrReplayUnavailable, err)
	}
	if !fresh {
		return refuse("replayed request")
	}
	return scheme, nil
}
