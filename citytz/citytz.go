// Package citytz gives the time zone of a city Plaza serves: opening hours
// are read in it, and so is the time of day the home page reasons with
// ("Popular in Hangzhou tonight" means night in Hangzhou, not on the
// server). The zone database is embedded (time/tzdata), so the answer does
// not depend on the host's tzdata.
package citytz

import (
	"strings"
	"time"
	_ "time/tzdata" // the zones below must load on a host without tzdata
)

// Default is the zone of a city the table does not know: Plaza's providers
// serve mainland China, which keeps one zone. A provider in a city of
// another zone needs a line in zones.
const Default = "Asia/Shanghai"

// zones maps a city, lower case, to its IANA zone. Mainland Chinese cities
// are all Asia/Shanghai and need no line; the rest are the region's other
// zones.
var zones = map[string]string{
	"hong kong": "Asia/Hong_Kong",
	"macau":     "Asia/Macau",
	"taipei":    "Asia/Taipei",
	"urumqi":    "Asia/Urumqi",
	"singapore": "Asia/Singapore",
	"tokyo":     "Asia/Tokyo",
	"seoul":     "Asia/Seoul",
	"bangkok":   "Asia/Bangkok",
	"london":    "Europe/London",
	"new york":  "America/New_York",
}

// locations are the loaded zones: every value of zones and Default, loaded
// once (LoadLocation reads and parses the zone each call).
var locations = func() map[string]*time.Location {
	out := map[string]*time.Location{}
	for _, z := range append([]string{Default}, valuesOf(zones)...) {
		loc, err := time.LoadLocation(z)
		if err != nil {
			panic("citytz: zone " + z + ": " + err.Error()) // the embedded database has every zone above
		}
		out[z] = loc
	}
	return out
}()

func valuesOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// Name is the IANA zone of city (any case); Default when unknown or empty.
func Name(city string) string {
	if z, ok := zones[strings.ToLower(strings.TrimSpace(city))]; ok {
		return z
	}
	return Default
}

// Location is the zone of city as a *time.Location (see Name).
func Location(city string) *time.Location { return locations[Name(city)] }

// In returns t in city's zone.
func In(t time.Time, city string) time.Time { return t.In(Location(city)) }
