package ratelimit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/plaza-gateway/plaza/auth"
)

// Config holds the limits of each kind of caller and who may name the
// client's IP address.
type Config struct {
	// User limits each signed-in user (by token subject).
	User Limit
	// Key limits each analyst API key.
	Key Limit
	// IP limits each client address for anonymous callers and callers whose
	// credentials were refused.
	IP Limit
	// Register limits how many automatic persisted queries one caller (the
	// same identity as above: key, user or IP) may register. Registration
	// stores the document for a day, so this bounds what one caller can
	// store, whatever its request rate.
	Register Limit
	// TrustedProxies are the peers whose X-Forwarded-For is believed. Empty:
	// the client is always the TCP peer.
	TrustedProxies []netip.Prefix
}

// DefaultConfig returns the default limits: a user 20 req/s with bursts of
// 40 (a home page fans out to a handful of requests at once), an IP 50 req/s
// with bursts of 100 (many users share carrier NATs, and anonymous search is
// legitimate), an analyst key 10 req/s with bursts of 20 (dashboards, not
// traffic).
func DefaultConfig() Config {
	return Config{
		User: Limit{Rate: 20, Period: time.Second, Burst: 40},
		IP:   Limit{Rate: 50, Period: time.Second, Burst: 100},
		Key:  Limit{Rate: 10, Period: time.Second, Burst: 20},
		// An app registers each of its few dozen operations once a day (the
		// registry is shared by every instance and client); 100 an hour with
		// bursts of 50 covers a fresh deployment, and bounds one caller's
		// storage to 2,400 documents (with Plaza's 16 KiB cap, under 40 MiB).
		Register: Limit{Rate: 100, Period: time.Hour, Burst: 50},
	}
}

// ParseTrustedProxies reads a comma-separated list of addresses or CIDR
// prefixes (PLAZA_TRUSTED_PROXIES) for Config.TrustedProxies.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for p := range strings.SplitSeq(list, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		prefix, err := parsePrefix(p)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR prefix", p)
		}
		out = append(out, prefix)
	}
	return out, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Limiter enforces a Config on HTTP requests.
type Limiter struct {
	cfg   Config
	store Store
	log   *slog.Logger
}

// New returns a Limiter deciding with store (a Redis store in production, a
// Memory alone without Redis). log may be nil.
func New(cfg Config, store Store, log *slog.Logger) *Limiter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Limiter{cfg: cfg, store: store, log: log}
}

// Config returns the limits in force.
func (l *Limiter) Config() Config { return l.cfg }

// Middleware charges each request to the most specific identity it proves:
// a valid analyst API key, else a signed-in user, else the client IP (so a
// refused token counts against its IP). Over the limit it answers 429 with
// Retry-After (whole seconds, at least 1) and a GraphQL-shaped error with
// code RATE_LIMITED, before the body is read. It must be mounted inside the
// auth middlewares, which put the principal in the context.
func (l *Limiter) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, limit := l.identify(r)
		r = r.WithContext(context.WithValue(r.Context(), bucketKey{}, key))
		res, err := l.store.Allow(r.Context(), key, limit)
		if err != nil {
			// Stores fall back rather than fail; if one does fail anyway, the
			// request is served: rate limiting is protection, not a gate.
			l.log.WarnContext(r.Context(), "rate limit: store failed; request let through", "err", err)
			next.ServeHTTP(w, r)
			return
		}
		if res.Remaining >= 0 && limit.Enabled() {
			w.Header().Set("RateLimit-Remaining", strconv.Itoa(res.Remaining))
		}
		if !res.Allowed {
			writeLimited(w, res)
			return
		}
		next.ServeHTTP(w, r)
	})
}

type bucketKey struct{}

// ErrNoIdentity is returned by Charge when ctx did not pass through
// Middleware.
var ErrNoIdentity = errors.New("ratelimit: no caller identity in the context (Middleware not mounted)")

// Charge counts n more requests against the caller's own bucket (the one
// Middleware charged for this request), e.g. the further operations of a
// batch, each of which counts like a request. The result denies all n when
// the bucket lacks room for any of them.
func (l *Limiter) Charge(ctx context.Context, n int) (Result, error) {
	key, ok := ctx.Value(bucketKey{}).(string)
	if !ok {
		return Result{}, ErrNoIdentity
	}
	_, limit := l.limitOf(key)
	res := Result{Allowed: true, Remaining: -1}
	for range n {
		r, err := l.store.Allow(ctx, key, limit)
		if err != nil || !r.Allowed {
			return r, err
		}
		res = r
	}
	return res, nil
}

// AllowRegistration counts one registration of a persisted query against
// the caller's Register limit (a bucket of its own, next to the caller's
// request bucket).
func (l *Limiter) AllowRegistration(ctx context.Context) (Result, error) {
	key, ok := ctx.Value(bucketKey{}).(string)
	if !ok {
		return Result{}, ErrNoIdentity
	}
	return l.store.Allow(ctx, "apq:"+key, l.cfg.Register)
}

// limitOf returns the limit of a bucket identify returned.
func (l *Limiter) limitOf(key string) (string, Limit) {
	switch {
	case strings.HasPrefix(key, "key:"):
		return key, l.cfg.Key
	case strings.HasPrefix(key, "user:"):
		return key, l.cfg.User
	}
	return key, l.cfg.IP
}

// identify returns the bucket of r and its limit. User IDs and key digests
// are opaque strings; the kind prefix keeps them apart.
func (l *Limiter) identify(r *http.Request) (string, Limit) {
	p, _ := auth.From(r.Context())
	if p.HasRole(auth.RoleAnalyst) {
		if id, ok := auth.APIKeyID(r); ok {
			return "key:" + id, l.cfg.Key
		}
	}
	if p.UserID != "" {
		return "user:" + p.UserID, l.cfg.User
	}
	return "ip:" + l.ClientIP(r).String(), l.cfg.IP
}

// ClientIP returns the address r came from: the TCP peer, or, when the peer
// is a trusted proxy, the right-most X-Forwarded-For entry that is not
// itself a trusted proxy (entries to its left are client-supplied and could
// be forged).
func (l *Limiter) ClientIP(r *http.Request) netip.Addr {
	peer := remoteAddr(r.RemoteAddr)
	if !l.trusted(peer) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		peer = a.Unmap()
		if !l.trusted(peer) {
			break
		}
	}
	return peer
}

func (l *Limiter) trusted(a netip.Addr) bool {
	for _, p := range l.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func remoteAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		host = s
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

// CodeRateLimited is the `extensions.code` of a refused request.
const CodeRateLimited = "RATE_LIMITED"

func writeLimited(w http.ResponseWriter, res Result) {
	secs := max(int(math.Ceil(res.RetryAfter.Seconds())), 1)
	body, _ := json.Marshal(map[string]any{"errors": []map[string]any{{
		"message":    fmt.Sprintf("too many requests; retry in %d s", secs),
		"extensions": map[string]any{"code": CodeRateLimited, "retryAfterMs": res.RetryAfter.Milliseconds()},
	}}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write(body)
}
