package auth

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// DefaultLeeway is the clock skew tolerated between the token issuer and the
// gateway when PLAZA_JWT_LEEWAY is not set.
const DefaultLeeway = 30 * time.Second

// minProductionSecret is the shortest HS256 secret accepted in production
// (256 bits, the size of the HMAC-SHA256 output).
const minProductionSecret = 32

// ConfigFromEnv reads the token settings:
//
//	PLAZA_ENV           "production" refuses the development secret
//	PLAZA_JWKS_URL      RS256 keys fetched from this URL (cached by kid)
//	PLAZA_JWKS_FILE     RS256 keys read from this file (instead of a URL)
//	PLAZA_JWT_SECRET    HS256 secret; outside production DevSecret by default
//	PLAZA_JWT_ISSUER    required `iss` when set
//	PLAZA_JWT_AUDIENCE  required `aud` when set
//	PLAZA_JWT_LEEWAY    clock skew tolerance, a Go duration (default 30s)
//
// In production HS256 is accepted only with an explicitly configured secret
// of at least 32 bytes (so never DevSecret), and some key (JWKS or secret) is required. hc fetches
// the JWKS URL (nil: a client with DefaultJWKSTimeout). The returned JWKS is
// nil without PLAZA_JWKS_URL/FILE; call its Refresh at start to surface a
// bad URL early.
func ConfigFromEnv(getenv func(string) string, hc *http.Client) (Config, *JWKS, error) {
	production := getenv("PLAZA_ENV") == "production"
	cfg := Config{Issuer: getenv("PLAZA_JWT_ISSUER"), Audience: getenv("PLAZA_JWT_AUDIENCE"), Leeway: DefaultLeeway}
	if s := getenv("PLAZA_JWT_LEEWAY"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return Config{}, nil, fmt.Errorf("PLAZA_JWT_LEEWAY=%q: want a non-negative duration such as 30s", s)
		}
		cfg.Leeway = d
	}
	url, file := getenv("PLAZA_JWKS_URL"), getenv("PLAZA_JWKS_FILE")
	var keys *JWKS
	switch {
	case url != "" && file != "":
		return Config{}, nil, errors.New("set PLAZA_JWKS_URL or PLAZA_JWKS_FILE, not both")
	case url != "":
		if hc == nil {
			hc = &http.Client{Timeout: DefaultJWKSTimeout}
		}
		keys = NewJWKSURL(url, hc)
	case file != "":
		keys = NewJWKSFile(file)
	}
	if keys != nil {
		cfg.Keys = keys
	}
	secret := getenv("PLAZA_JWT_SECRET")
	switch {
	case secret != "" && production && len(secret) < minProductionSecret:
		return Config{}, nil, fmt.Errorf("PLAZA_JWT_SECRET: production needs at least %d bytes", minProductionSecret)
	case secret == "" && !production:
		secret = DevSecret
	}
	cfg.Secret = []byte(secret)
	if production && keys == nil && secret == "" {
		return Config{}, nil, errors.New("production needs PLAZA_JWKS_URL or PLAZA_JWKS_FILE (RS256), or an explicit PLAZA_JWT_SECRET (HS256)")
	}
	return cfg, keys, nil
}
