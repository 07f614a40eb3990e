package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/plaza-gateway/plaza/events"
	"github.com/plaza-gateway/plaza/recommend"
)

// newRefitter keeps the recommendation engine's parameters fitted to the
// gateway's own event history (recommend.Refitter): on start and every
// `every` (PLAZA_RECOMMEND_REFIT; zero: off), on the last 28 days of the
// event store, in at most 2 minutes. params is where the result is shared
// (Redis with REDIS_URL, in process otherwise). It returns nil when
// refitting is off.
func newRefitter(engine *recommend.Engine, store events.Store, params recommend.ParamStore, every time.Duration, log *slog.Logger) *recommend.Refitter {
	if every <= 0 {
		return nil
	}
	cfg := recommend.RefitConfig{Every: every}
	history := func(ctx context.Context, from, to time.Time) ([]recommend.Event, []recommend.Item, error) {
		evs, err := store.Log(ctx, from, to)
		if err != nil {
			return nil, nil, err
		}
		out, items := engineHistory(evs)
		return out, items, nil
	}
	return recommend.NewRefitter(engine, params, history, cfg, log)
}

// engineHistory turns stored events into the engine's, the way
// events.EngineSink feeds them live: searches carry no item and are
// skipped, a click counts as a view, an order counts once per product.
func engineHistory(evs []events.Event) ([]recommend.Event, []recommend.Item) {
	var out []recommend.Event
	var items []recommend.Item
	for _, ev := range evs {
		cat := ev.Category
		if cat == "" {
			cat = ev.Vertical
		}
		if ev.Name != "" && ev.Item != "" {
			items = append(items, recommend.Item{ID: ev.Item, Name: ev.Name, Category: cat, City: ev.City, Provider: ev.Provider})
		}
		kind, ok := engineKinds[ev.Kind]
		if !ok || ev.User == "" {
			continue
		}
		re := recommend.Event{UserID: ev.User, Kind: kind, Time: ev.Time, Category: cat, City: ev.City}
		if ev.Kind == events.KindOrder && len(ev.Items) > 0 {
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
	return out, items
}

var engineKinds = map[events.Kind]recommend.EventKind{
	events.KindView: recommend.View, events.KindClick: recommend.View, events.KindOrder: recommend.Order,
	events.KindBooking: recommend.Booking, events.KindConsultation: recommend.Consultation, events.KindApplication: recommend.Application,
}
