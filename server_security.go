package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/ratelimit"
)

// newVerifier builds the token verifier from the environment (see
// auth.ConfigFromEnv). When serving with a JWKS, the key set is fetched once
// at start so a wrong URL shows up at once; a failure is not fatal, tokens
// retry the fetch.
func newVerifier(ctx context.Context, getenv func(string) string, serving bool, stderr io.Writer) (*auth.Verifier, error) {
	cfg, keys, err := auth.ConfigFromEnv(getenv, nil)
	if err != nil {
		return nil, err
	}
	if keys != nil && serving {
		if err := keys.Refresh(ctx); err != nil {
			fmt.Fprintln(stderr, "plaza: warning: JWKS not loaded yet, tokens will retry:", err)
		}
	}
	return auth.NewVerifier(cfg)
}

// apiConfig is the HTTP surface for PLAZA_ENV: in production introspection
// and the playground are for analysts only, validation suggestions are off
// and HSTS is sent. PLAZA_CORS_ORIGINS (comma-separated) lists the browser
// origins allowed; without it only localhost origins are.
func apiConfig(env string, getenv func(string) string) api.Config {
	cfg := api.DefaultConfig()
	if env == "production" {
		cfg.Production, cfg.Introspection, cfg.Playground = true, false, false
	}
	for o := range strings.SplitSeq(getenv("PLAZA_CORS_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			cfg.CORSOrigins = append(cfg.CORSOrigins, o)
		}
	}
	return cfg
}

// newRateLimiter limits callers per PLAZA_RATE_USER, PLAZA_RATE_IP,
// PLAZA_RATE_KEY and PLAZA_TRUSTED_PROXIES, in Redis when there is one
// (shared across instances) with an in-process fallback, else in process.
// healthy reports the Redis tier (nil without Redis).
func newRateLimiter(getenv func(string) string, client redis.UniversalClient, log *slog.Logger) (l *ratelimit.Limiter, healthy func() bool, err error) {
	cfg, err := ratelimit.ConfigFromEnv(getenv)
	if err != nil {
		return nil, nil, err
	}
	var store ratelimit.Store = ratelimit.NewMemory(0, nil)
	if client != nil {
		r := ratelimit.NewRedis(client, "plaza:rl:v1:", store, ratelimit.WithLogger(log))
		store, healthy = r, r.Healthy
	}
	log.Info("rate limits", "user", cfg.User.String(), "ip", cfg.IP.String(), "key", cfg.Key.String(),
		"shared", client != nil, "trusted_proxies", len(cfg.TrustedProxies))
	return ratelimit.New(cfg, store, log), healthy, nil
}
