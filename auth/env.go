package auth

import (
	"net/http"
	"time"
)

// DefaultLeeway is the clock skew tolerated between the token issuer and the
// gateway when PLAZA_JWT_LEEWAY is not set.
const DefaultLeeway = 30 * time.Second

// MinProductionSecret is the shortest HS256 secret accepted in production
// (256 bits, the size of the HMAC-SHA256 output).
const MinProductionSecret = 32

// Settings are the token settings an operator configures. The config package
// reads them (PLAZA_JWKS_URL, PLAZA_JWKS_FILE, PLAZA_JWT_SECRET,
// PLAZA_JWT_ISSUER, PLAZA_JWT_AUDIENCE, PLAZA_JWT_LEEWAY) and enforces the
// production rules before anything starts.
type Settings struct {
	// JWKSURL or JWKSFile (not both) supply RS256 keys, cached by kid.
	JWKSURL, JWKSFile string
	// Secret verifies HS256 tokens; empty refuses them.
	Secret string
	// Issuer and Audience are required claims when set.
	Issuer, Audience string
	// Leeway is the clock skew tolerated.
	Leeway time.Duration
}

// NewConfig builds the verifier configuration from s. hc fetches the JWKS
// URL (nil: a client with DefaultJWKSTimeout). The returned JWKS is nil
// without a URL or file; call its Refresh at start to surface a bad URL early.
func NewConfig(s Settings, hc *http.Client) (Config, *JWKS) {
	cfg := Config{Issuer: s.Issuer, Audience: s.Audience, Leeway: s.Leeway, Secret: []byte(s.Secret)}
	var keys *JWKS
	switch {
	case s.JWKSURL != "":
		if hc == nil {
			hc = &http.Client{Timeout: DefaultJWKSTimeout}
		}
		keys = NewJWKSURL(s.JWKSURL, hc)
	case s.JWKSFile != "":
		keys = NewJWKSFile(s.JWKSFile)
	}
	if keys != nil {
		cfg.Keys = keys
	}
	return cfg, keys
}
