package directory

import (
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
)

// Input bounds. They keep a snapshot entry small (names and endpoints live in
// its byte arena with 16-bit lengths) and a registration form honest.
const (
	MaxNameLength        = 80
	MaxDescriptionLength = 2000
	MaxCities            = 64
	MaxCityLength        = 64
	MaxURLLength         = 1024
	MaxEmailLength       = 254
	// MinSecretLength: request signatures are HMAC-SHA256, whose key should
	// carry at least 128 bits; 24 printable characters do.
	MinSecretLength = 24
	MaxSecretLength = 512
	MaxActorLength  = 128
	MaxReasonLength = 1000
	// MaxTimeout bounds Limits.Timeout: a longer call holds a user request.
	MaxTimeout = time.Minute
	maxLimit   = 1 << 30
)

// Policy is what validation depends on besides the input.
type Policy struct {
	// Development allows http endpoints on loopback hosts (a demo provider on
	// 127.0.0.1); production requires https everywhere.
	Development bool
}

func (p Policy) validateRegistration(r *Registration) error {
	r.ID = strings.TrimSpace(r.ID)
	if !connectors.ValidProviderID(r.ID) {
		return invalid("id", "use 1 to 64 characters of a-z, 0-9 and -")
	}
	if !r.Vertical.Valid() {
		return invalid("vertical", "unknown vertical %q (want GROCERY, MEDICAL, LEGAL or PUBLIC_SERVICE)", r.Vertical)
	}
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" {
		return invalid("name", "name is required")
	}
	if !utf8.ValidString(r.Name) || utf8.RuneCountInString(r.Name) > MaxNameLength {
		return invalid("name", "name is longer than %d characters", MaxNameLength)
	}
	if !utf8.ValidString(r.Description) || utf8.RuneCountInString(r.Description) > MaxDescriptionLength {
		return invalid("description", "description is longer than %d characters", MaxDescriptionLength)
	}
	cities, err := normalizeCities(r.Cities)
	if err != nil {
		return err
	}
	r.Cities = cities
	if err := p.validateURL("endpoint", r.Endpoint, true); err != nil {
		return err
	}
	if err := p.validateURL("sandboxEndpoint", r.SandboxEndpoint, false); err != nil {
		return err
	}
	if len(r.ContactEmail) > MaxEmailLength {
		return invalid("contactEmail", "contact email is longer than %d characters", MaxEmailLength)
	}
	if a, err := mail.ParseAddress(r.ContactEmail); err != nil || a.Name != "" || a.Address != r.ContactEmail {
		return invalid("contactEmail", "want a plain address such as ops@example.com")
	}
	if err := validateSecret("secret", r.Secret); err != nil {
		return err
	}
	if err := validateLimits(r.Limits); err != nil {
		return err
	}
	return validateCacheTTL(r.CacheTTL)
}

// normalizeCities trims, drops duplicates (keeping order) and bounds the list.
func normalizeCities(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, invalid("cities", "name at least one city")
	}
	if len(in) > MaxCities {
		return nil, invalid("cities", "at most %d cities (got %d)", MaxCities, len(in))
	}
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, c := range in {
		c = strings.TrimSpace(c)
		if c == "" || !utf8.ValidString(c) || utf8.RuneCountInString(c) > MaxCityLength {
			return nil, invalid("cities", "a city is empty or longer than %d characters", MaxCityLength)
		}
		if strings.IndexFunc(c, unicode.IsControl) >= 0 {
			return nil, invalid("cities", "a city name holds a control character")
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out, nil
}

// validateURL accepts https URLs with a host, and http ones on a loopback
// host in development. Credentials in the URL are refused: secrets go in the
// secret field, encrypted.
func (p Policy) validateURL(field, raw string, required bool) error {
	if raw == "" {
		if required {
			return invalid(field, "%s is required", field)
		}
		return nil
	}
	if len(raw) > MaxURLLength {
		return invalid(field, "URL is longer than %d characters", MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return invalid(field, "want an absolute URL such as https://provider.example/plaza")
	}
	if u.User != nil {
		return invalid(field, "the URL must not carry credentials")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return invalid(field, "the URL must not have a query or fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if p.Development && isLoopback(u.Hostname()) {
			return nil
		}
		if p.Development {
			return invalid(field, "http is allowed on loopback hosts only; use https")
		}
		return invalid(field, "use https")
	default:
		return invalid(field, "unsupported scheme %q; use https", u.Scheme)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func validateSecret(field, s string) error {
	if len(s) < MinSecretLength {
		return invalid(field, "secret is shorter than %d characters", MinSecretLength)
	}
	if len(s) > MaxSecretLength {
		return invalid(field, "secret is longer than %d characters", MaxSecretLength)
	}
	return nil
}

func validateLimits(l Limits) error {
	switch {
	case l.Timeout < 0 || l.Timeout > MaxTimeout:
		return invalid("limits.timeout", "between 0 (default) and %v", MaxTimeout)
	case l.MaxConcurrent < 0 || l.MaxConcurrent > 1<<16:
		return invalid("limits.maxConcurrent", "between 0 (default) and 65536")
	case l.MaxBatch < 0 || l.MaxBatch > 1<<16:
		return invalid("limits.maxBatch", "between 0 (default) and 65536")
	case l.MaxItems < 0 || l.MaxItems > maxLimit:
		return invalid("limits.maxItems", "between 0 (default) and %d", maxLimit)
	case l.PushesPerMinute < 0 || l.PushesPerMinute > maxLimit:
		return invalid("limits.pushesPerMinute", "between 0 (default) and %d", maxLimit)
	}
	return nil
}

func validateCacheTTL(m map[string]time.Duration) error {
	for typ, ttl := range m {
		if !gid.Kind(typ).Valid() || ttl <= 0 || ttl > 24*time.Hour {
			return invalid("cacheTTL", "%s: want a GraphQL type such as Product and a TTL between 1ms and 24h", typ)
		}
	}
	return nil
}

func validateActor(actor, reason string) error {
	if strings.TrimSpace(actor) == "" || len(actor) > MaxActorLength {
		return invalid("actor", "who makes the change is required (at most %d characters)", MaxActorLength)
	}
	if len(reason) > MaxReasonLength {
		return invalid("reason", "reason is longer than %d characters", MaxReasonLength)
	}
	return nil
}
