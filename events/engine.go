package events

import "github.com/plaza-gateway/plaza/recommend"

// EngineSink feeds stored events to the recommendation engine: item
// metadata first (so reasons can quote names and quotas know providers),
// then the interactions. Searches carry no item and are skipped; a click
// counts as a view; an order counts once per product.
func EngineSink(e *recommend.Engine) Sink {
	return func(evs []Event) {
		items := make([]recommend.Item, 0, len(evs))
		var out []recommend.Event
		for _, ev := range evs {
			if ev.Name != "" && ev.Item != "" {
				items = append(items, recommend.Item{ID: ev.Item, Name: ev.Name, Category: category(ev), City: ev.City, Provider: ev.Provider})
			}
			kind, ok := engineKind(ev.Kind)
			if !ok || ev.User == "" {
				continue
			}
			re := recommend.Event{UserID: ev.User, Kind: kind, Time: ev.Time, Category: category(ev), City: ev.City}
			if ev.Kind == KindOrder && len(ev.Items) > 0 {
				for _, it := range ev.Items {
					re.ItemID = it
					out = append(out, re)
				}
				continue
			}
			if ev.Item != "" {
				re.ItemID = ev.Item
				out = append(out, re)
			}
		}
		if len(items) > 0 {
			e.AddItems(items...)
		}
		if len(out) > 0 {
			e.Observe(out...)
		}
	}
}

func category(ev Event) string {
	if ev.Category != "" {
		return ev.Category
	}
	return ev.Vertical
}

func engineKind(k Kind) (recommend.EventKind, bool) {
	switch k {
	case KindView, KindClick:
		return recommend.View, true
	case KindOrder:
		return recommend.Order, true
	case KindBooking:
		return recommend.Booking, true
	case KindConsultation:
		return recommend.Consultation, true
	case KindApplication:
		return recommend.Application, true
	}
	return recommend.Unknown, false
}
