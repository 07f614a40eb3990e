package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/plaza-gateway/plaza/events"
	"github.com/plaza-gateway/plaza/recommend"
)

// newRefitter keeps the recommendation engine's parameters fitted to the
// gateway's own event history (recommend.Refitter): on start and every
// PLAZA_RECOMMEND_REFIT (a Go duration, default 6h; "off" disables), on
// the last 28 days of the event store, in at most 2 minutes. params is
// where the result is shared (Redis with REDIS_URL, in process otherwise).
// It returns nil when refitting is off.
func newRefitter(engine *recommend.Engine, store events.Store, params recommend.ParamStore, getenv func(string) string, log *slog.Logger) (*recommend.Refitter, error) {
	cfg := recommend.RefitConfig{}
	switch v := getenv("PLAZA_RECOMMEND_REFIT"); v {
	case "off":
		return nil, nil
	case "":
	default:
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("PLAZA_RECOMMEND_REFIT %q: want a positive duration such as 6h, or off", v)
		}
		cfg.Every = d
	}
	history := func(ctx context.Context, from, to time.Time) ([]recommend.Event, []recommend.Item, error) {
		evs, err := store.Log(ctx, from, to)
		if err != nil {
			return nil, nil, err
		}
		out, items := engineHistory(evs)
		return out, items, nil
	}
	return recommend.NewRefitter(engine, params, history, cfg, log), nil
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
