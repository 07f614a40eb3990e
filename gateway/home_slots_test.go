package gateway

import (
	"context"
	"testing"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/gid"
)

func TestFreeSlotsFilter(t *testing.T) {
	ctx := context.Background()
	med, err := demo.NewMedical(connectors.Descriptor{ID: "mediquick", Vertical: connectors.VerticalMedical})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := connectors.NewRegistry(med)
	if err != nil {
		t.Fatal(err)
	}
	g := New(reg)
	// Book every free slot of d-0001, as a busy week would.
	slots, err := med.AppointmentSlots(ctx, []string{"d-0001"})
	if err != nil || slots[0].Err != nil {
		t.Fatalf("slots: %v %v", err, slots)
	}
	booked := 0
	for i, s := range slots[0].Value {
		if !s.Available {
			continue
		}
		if _, err := med.BookAppointment(ctx, connectors.BookAppointmentInput{
			UserID: demo.UserID(1 + i%50), DoctorID: "d-0001", SlotID: s.ID, Reason: "check-up"}); err != nil {
			t.Fatalf("book %s: %v", s.ID, err)
		}
		booked++
	}
	if booked == 0 {
		t.Fatal("d-0001 had no free slot to begin with")
	}
	full := Hit{Kind: gid.Doctor, Provider: "mediquick", ID: "d-0001"}
	open := Hit{Kind: gid.Doctor, Provider: "mediquick", ID: "d-0002"}
	lawyer := Hit{Kind: gid.Lawyer, Provider: "lexassist", ID: "l-0001"}
	free := freeSlots(ctx, g.NewLoaders(), []Hit{full, open, lawyer})
	tests := []struct {
		name string
		hit  Hit
		want bool
	}{
		{"a doctor with every slot booked is left out", full, false},
		{"a doctor with a free slot stays", open, true},
		{"kinds without slots stay", lawyer, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := free(tt.hit); got != tt.want {
				t.Fatalf("free(%s) = %v, want %v", tt.hit.ID, got, tt.want)
			}
		})
	}
}
