package model

import (
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// The Time scalar (gqlgen.yml maps it here): every time Plaza returns is
// RFC 3339 in UTC to the second, e.g. 2026-12-04T14:30:00Z, whatever zone
// the provider stamped it in, so a client parses one form and converts to
// the city's zone (City.timeZone) for display.

// MarshalTime writes t in UTC, to the second.
func MarshalTime(t time.Time) graphql.Marshaler {
	return graphql.MarshalTime(t.UTC().Truncate(time.Second))
}

// UnmarshalTime reads RFC 3339 with any offset.
func UnmarshalTime(v any) (time.Time, error) { return graphql.UnmarshalTime(v) }
