package main

import (
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/events"
	"github.com/plaza-gateway/plaza/recommend"
)

func TestRefitSetting(t *testing.T) {
	tests := []struct {
		name   string
		every  time.Duration
		wantOn bool
	}{
		{"refits every given period", 30 * time.Minute, true},
		{"zero is off", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRefitter(recommend.New(recommend.DefaultConfig()), events.NewMemoryStore(events.MemoryConfig{}),
				recommend.NewMemoryParamStore(), tt.every, nil)
			if (r != nil) != tt.wantOn {
				t.Errorf("refitter = %v; want on=%v", r, tt.wantOn)
			}
		})
	}
}

func TestEngineHistoryFeedsTheFitLikeTheLiveSink(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	got, items := engineHistory([]events.Event{
		{User: "u", Kind: events.KindSearch, Query: "milk", Time: at},
		{User: "u", Kind: events.KindClick, Item: "p1", Name: "Milk", Vertical: "grocery", Time: at},
		{User: "u", Kind: events.KindOrder, Item: "store", Items: []string{"p1", "p2"}, Vertical: "grocery", Time: at},
		{Kind: events.KindView, Item: "p3", Time: at}, // anonymous: metadata only
		{User: "u", Kind: events.KindBooking, Item: "doc", Category: "paediatrics", Time: at},
	})
	var kinds []string
	for _, e := range got {
		kinds = append(kinds, e.ItemID+":"+e.Kind.String()+":"+e.Category)
	}
	want := "p1:view:grocery p1:order:grocery p2:order:grocery doc:booking:paediatrics"
	if strings.Join(kinds, " ") != want {
		t.Errorf("events = %v, want %s", kinds, want)
	}
	if len(items) != 1 || items[0].ID != "p1" || items[0].Name != "Milk" {
		t.Errorf("items = %+v, want p1 named Milk", items)
	}
}
