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
		name    string
		value   string
		wantOn  bool
		wantErr string
	}{
		{"refits by default", "", true, ""},
		{"takes a duration", "30m", true, ""},
		{"can be switched off", "off", false, ""},
		{"rejects what is not a duration", "soon", false, `PLAZA_RECOMMEND_REFIT "soon": want a positive duration`},
		{"rejects a negative duration", "-1h", false, `PLAZA_RECOMMEND_REFIT "-1h"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "PLAZA_RECOMMEND_REFIT" {
					return tt.value
				}
				return ""
			}
			r, err := newRefitter(recommend.New(recommend.DefaultConfig()), events.NewMemoryStore(events.MemoryConfig{}),
				recommend.NewMemoryParamStore(), getenv, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || (r != nil) != tt.wantOn {
				t.Errorf("refitter = %v, err = %v; want on=%v", r, err, tt.wantOn)
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
