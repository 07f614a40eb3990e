package citytz

import (
	"testing"
	"time"
)

func TestZones(t *testing.T) {
	at := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		city, zone string
		hour       int
	}{
		{"Hangzhou", "Asia/Shanghai", 23},
		{"hangzhou", "Asia/Shanghai", 23},
		{"Hong Kong", "Asia/Hong_Kong", 23},
		{"Tokyo", "Asia/Tokyo", 0},
		{"London", "Europe/London", 15},
		{"Atlantis", Default, 23},
		{"", Default, 23},
	} {
		if got := Name(tc.city); got != tc.zone {
			t.Errorf("Name(%q) = %q, want %q", tc.city, got, tc.zone)
		}
		if got := In(at, tc.city).Hour(); got != tc.hour {
			t.Errorf("15:00 UTC in %q is %d:00, want %d:00", tc.city, got, tc.hour)
		}
	}
}
