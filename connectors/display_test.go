package connectors

import (
	"testing"
	"time"
)

func TestContractAtLeast(t *testing.T) {
	for _, tc := range []struct {
		v, min string
		want   bool
	}{
		{"1.3", "1.2", true}, {"1.2", "1.2", true}, {"1.1", "1.2", false}, {"", "1.2", false}, {"", "1.1", true},
		{"1.10", "1.2", true}, {"2.0", "1.3", true}, {"garbage", "1.1", false},
	} {
		if got := ContractAtLeast(tc.v, tc.min); got != tc.want {
			t.Errorf("ContractAtLeast(%q, %q) = %v", tc.v, tc.min, got)
		}
	}
}

func TestOpenAt(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	day := func(d string, o, c string) OpeningHours { return OpeningHours{Day: d, Opens: o, Closes: c} }
	// 2026-12-04 is a Friday.
	at := func(hh, mm int) time.Time { return time.Date(2026, 12, 4, hh, mm, 0, 0, shanghai) }
	for _, tc := range []struct {
		name  string
		hours []OpeningHours
		t     time.Time
		want  bool
	}{
		{"inside the day's period", []OpeningHours{day("FRIDAY", "08:00", "22:00")}, at(21, 59), true},
		{"at closing", []OpeningHours{day("FRIDAY", "08:00", "22:00")}, at(22, 0), false},
		{"another day's period", []OpeningHours{day("THURSDAY", "08:00", "22:00")}, at(12, 0), false},
		{"all day", []OpeningHours{day("FRIDAY", "00:00", "24:00")}, at(23, 59), true},
		{"past midnight from the day before", []OpeningHours{day("THURSDAY", "18:00", "02:00")}, at(1, 30), true},
		{"read in the city's zone, not the caller's", []OpeningHours{day("FRIDAY", "08:00", "22:00")}, time.Date(2026, 12, 4, 1, 0, 0, 0, time.UTC), true},
		{"a malformed period never opens", []OpeningHours{day("FRIDAY", "8am", "22:00")}, at(12, 0), false},
	} {
		if got := OpenAt(tc.hours, tc.t, shanghai); got != tc.want {
			t.Errorf("%s: OpenAt = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestOpeningHoursValidate(t *testing.T) {
	for _, h := range []OpeningHours{{"FRIDAY", "08:00", "24:01"}, {"Friday", "08:00", "22:00"}, {"FRIDAY", "8:00", "22:00"}, {"FRIDAY", "08:60", "22:00"},
		{"FRIDAY", "+8:00", "22:00"}, {"FRIDAY", " 8:00", "22:00"}, {"FRIDAY", "08:00", "22:-1"}, {"FRIDAY", "08:00", "2a:00"}, {"FRIDAY", "25:00", "22:00"}} {
		if h.Validate() == nil {
			t.Errorf("%+v validated", h)
		}
	}
	if err := (OpeningHours{"SUNDAY", "00:00", "24:00"}).Validate(); err != nil {
		t.Error(err)
	}
	for in, want := range map[string]int{"00:00": 0, "08:05": 485, "23:59": 1439, "24:00": 1440} {
		if got, err := ClockMinutes(in); err != nil || got != want {
			t.Errorf("ClockMinutes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

func TestStatusLists(t *testing.T) {
	if (GroceryOrder{Status: StatusOutForDelivery}).Validate() != nil || (GroceryOrder{Status: "SHIPPED"}).Validate() == nil {
		t.Error("order statuses")
	}
	if (Consultation{Status: StatusConfirmed}).Validate() == nil {
		t.Error("a consultation is PENDING or ANSWERED, never CONFIRMED")
	}
	if Validate(Product{}) != nil {
		t.Error("a product has no status to check")
	}
}
