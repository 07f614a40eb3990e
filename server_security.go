package main

import (
	"context"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/config"
	"github.com/plaza-gateway/plaza/ratelimit"
)

// newVerifier builds the token verifier (config has checked the production
// rules). With a JWKS, the key set is fetched once at start so a wrong URL
// shows up at once; a failure is not fatal, tokens retry the fetch.
func newVerifier(ctx context.Context, cfg config.Config, log *slog.Logger) (*auth.Verifier, error) {
	ac, keys := auth.NewConfig(cfg.Auth, nil)
	if keys != nil {
		if err := keys.Refresh(ctx); err != nil {
			log.Warn("JWKS not loaded yet, tokens will retry", "err", err)
		}
	}
	return auth.NewVerifier(ac)
}

// apiConfig is the HTTP surface: in production introspection and the
// playground are for analysts only, validation suggestions are off, HSTS is
// sent and CORS allows only PLAZA_CORS_ORIGINS.
func apiConfig(cfg config.Config, log *slog.Logger) api.Config {
	c := api.DefaultConfig()
	if cfg.Production() {
		c.Production, c.Introspection, c.Playground = true, false, false
		if len(cfg.CORSOrigins) == 0 {
			log.Warn("PLAZA_CORS_ORIGINS is not set: no browser origin may call the API")
		}
	}
	c.CORSOrigins, c.Limits, c.RequestTimeout = cfg.CORSOrigins, cfg.Limits, cfg.RequestTimeout
	c.PersistedOnly = cfg.PersistedOnly
	c.Live = api.LiveConfig{IdleTimeout: cfg.SubscriptionIdle}
	return c
}

// newRateLimiter limits callers per cfg.RateLimit, in Redis when there is
// one (shared across instances) with an in-process fallback, else in process.
func newRateLimiter(cfg config.Config, client redis.UniversalClient, log *slog.Logger) *ratelimit.Limiter {
	rl := cfg.RateLimit
	var store ratelimit.Store = ratelimit.NewMemory(0, nil)
	if client != nil {
		store = ratelimit.NewRedis(client, "plaza:rl:v1:", store, ratelimit.WithLogger(log))
	}
	log.Info("rate limits", "user", rl.User.String(), "ip", rl.IP.String(), "key", rl.Key.String(),
		"shared", client != nil, "trusted_proxies", len(rl.TrustedProxies))
	return ratelimit.New(rl, store, log)
}
