package gateway

import (
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
)

// renewalAge is how old an application must be before the same service is
// suggested again: most IDs, licences and registrations run for a year or more.
const renewalAge = 330 * 24 * time.Hour

// servicesToSuggest proposes public services: ones the user applied for long
// enough ago that a renewal may be due, then well-rated ones in their city
// they have never used.
func servicesToSuggest(hits []Hit, apps []Sourced[connectors.ServiceApplication], now time.Time) []HomeItem {
	lastApplied := map[Key]time.Time{}
	for _, a := range apps {
		k := Key{Provider: a.Provider, ID: a.Value.ServiceID}
		if a.Value.CreatedAt.After(lastApplied[k]) {
			lastApplied[k] = a.Value.CreatedAt
		}
	}
	var renewals, fresh []HomeItem
	for _, h := range hits {
		if h.Kind != gid.GovService {
			continue
		}
		when, used := lastApplied[Key{Provider: h.Provider, ID: h.ID}]
		switch {
		case used && now.Sub(when) >= renewalAge:
			renewals = append(renewals, HomeItem{Hit: h, Reason: "You applied on " + when.Format("2 Jan 2006") + " — a renewal may be due"})
		case !used:
			fresh = append(fresh, HomeItem{Hit: h, Reason: "Often needed by people near you"})
		}
	}
	items := append(renewals, fresh...)
	return items[:min(len(items), homeSectionSize)]
}
