package metrics_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/events"
	"github.com/plaza-gateway/plaza/metrics"
)

// failingStore is an event store whose log cannot be written.
type failingStore struct{ events.Store }

func (failingStore) Append(context.Context, []events.Event) error {
	return errors.New("store down")
}

func (failingStore) Add(context.Context, events.Counts) error { return nil }

func TestEventsMetrics(t *testing.T) {
	quiet := events.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

	t.Run("exports both counters at zero before anything is lost", func(t *testing.T) {
		m := metrics.New()
		m.RegisterEvents(events.NewRecorder(events.NewMemoryStore(events.MemoryConfig{})))
		body := scrape(t, m)
		for _, want := range []string{"plaza_events_dropped_total 0", "plaza_events_failed_total 0"} {
			if !contains(body, want) {
				t.Errorf("missing %q", want)
			}
		}
	})

	t.Run("counts events dropped because the buffer was full", func(t *testing.T) {
		m := metrics.New()
		// No writer runs, so a buffer of two holds the first two events.
		rec := events.NewRecorder(events.NewMemoryStore(events.MemoryConfig{}), events.WithBuffer(2), quiet)
		m.RegisterEvents(rec)
		for range 5 {
			rec.Record(events.Event{Kind: events.KindSearch, Query: "milk"})
		}
		if body := scrape(t, m); !contains(body, "plaza_events_dropped_total 3") {
			t.Errorf("want 3 dropped in:\n%s", body)
		}
	})

	t.Run("counts events lost because the store failed", func(t *testing.T) {
		m := metrics.New()
		rec := events.NewRecorder(failingStore{}, quiet)
		m.RegisterEvents(rec)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = rec.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		rec.Record(events.Event{Kind: events.KindSearch, Query: "milk"})
		rec.Record(events.Event{Kind: events.KindView, Item: "item-1"})
		flush, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		if err := rec.Flush(flush); err != nil {
			t.Fatal(err)
		}
		body := scrape(t, m)
		if !contains(body, "plaza_events_failed_total 2") || !contains(body, "plaza_events_dropped_total 0") {
			t.Errorf("want 2 failed and none dropped in:\n%s", body)
		}
	})
}
